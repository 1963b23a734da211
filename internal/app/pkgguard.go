package app

import (
	"path/filepath"
	"time"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/config"
	"github.com/lathe-dev/lathe/internal/pkgguard"
)

// packageCacheTTL is how long the package guard's look-ups are kept on
// disk: a package that exists today will tomorrow, and a day bounds how
// long a package removed for malware stays vouched for.
const packageCacheTTL = 24 * time.Hour

// packageGuard returns what wraps the session's policy: the package
// guard, which checks the packages a command installs in their
// registries, unless the user turned it off. Its look-ups are cached in
// the state directory.
func packageGuard(g config.PackageGuard) (func(agent.Decider) agent.Decider, error) {
	if !g.Enabled {
		return func(d agent.Decider) agent.Decider { return d }, nil
	}
	var opts []pkgguard.Option
	if dir := config.StateDir(); dir != "" {
		opts = append(opts, pkgguard.WithCacheDir(filepath.Join(dir, "packages"), packageCacheTTL))
	}
	c, err := pkgguard.New(g.Config, opts...)
	if err != nil {
		return nil, UsageError{"package_guard: " + err.Error()}
	}
	return func(d agent.Decider) agent.Decider { return pkgguard.Wrap(d, c) }, nil
}
