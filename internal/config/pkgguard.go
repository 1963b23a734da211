package config

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/lathe-dev/lathe/internal/pkgguard"
)

// PackageGuard configures the check of the packages that install
// commands name (internal/pkgguard). Key "package_guard".
type PackageGuard struct {
	// Enabled turns the guard on. Default true.
	Enabled bool
	// Config is the guard's policy: keys "registries" (a table of base
	// URLs by registry), "allow", "require_allowlist", "min_age_days",
	// "min_downloads" and "timeout" (default 10s, at most
	// MaxPackageGuardTimeout).
	pkgguard.Config
}

// MaxPackageGuardTimeout bounds PackageGuard.Timeout: a command waits
// for its look-ups before it runs.
const MaxPackageGuardTimeout = 2 * time.Minute

type filePackageGuard struct {
	Enabled          *bool          `toml:"enabled"`
	Registries       fileRegistries `toml:"registries"`
	Allow            *[]string      `toml:"allow"`
	RequireAllowlist *bool          `toml:"require_allowlist"`
	MinAgeDays       *int64         `toml:"min_age_days"`
	MinDownloads     *int64         `toml:"min_downloads"`
	Timeout          *string        `toml:"timeout"`
}

// fileRegistries has a field for each of pkgguard.Registries, so that a
// misspelt registry is an unknown key.
type fileRegistries struct {
	PyPI         *string `toml:"pypi"`
	Npm          *string `toml:"npm"`
	NpmDownloads *string `toml:"npm_downloads"`
	Go           *string `toml:"go"`
	Crates       *string `toml:"crates"`
	RubyGems     *string `toml:"rubygems"`
}

func (r *fileRegistries) byRegistry() map[pkgguard.Registry]*string {
	return map[pkgguard.Registry]*string{
		pkgguard.PyPI: r.PyPI, pkgguard.Npm: r.Npm, pkgguard.NpmDownloads: r.NpmDownloads,
		pkgguard.Go: r.Go, pkgguard.Crates: r.Crates, pkgguard.RubyGems: r.RubyGems,
	}
}

// packageGuard applies f, this file's [package_guard], to g. The
// registries merge key by key; allow is replaced whole, as a list is one
// setting. Values are replaced, never changed in place, so that a copy
// of g taken before (grants) stays what it was. Sources records this
// file for each deciding key it sets.
func (l *layer) packageGuard(g *PackageGuard, f *filePackageGuard) {
	set := map[string]bool{"enabled": f.Enabled != nil, "allow": f.Allow != nil, "require_allowlist": f.RequireAllowlist != nil,
		"min_age_days": f.MinAgeDays != nil, "min_downloads": f.MinDownloads != nil}
	sources := maps.Clone(g.Sources)
	for key, ok := range set {
		if ok {
			if sources == nil {
				sources = map[string]string{}
			}
			sources[key] = l.source
		}
	}
	g.Sources = sources
	setTo(&g.Enabled, f.Enabled)
	setTo(&g.RequireAllowlist, f.RequireAllowlist)
	var minAge int
	l.count(&minAge, f.MinAgeDays, "package_guard", "min_age_days")
	if f.MinAgeDays != nil {
		g.MinAgeDays = minAge
	}
	var minDownloads int
	l.count(&minDownloads, f.MinDownloads, "package_guard", "min_downloads")
	if f.MinDownloads != nil {
		g.MinDownloads = int64(minDownloads)
	}
	l.duration(&g.Timeout, f.Timeout, MaxPackageGuardTimeout, "package_guard", "timeout")
	if f.Allow != nil {
		allow := []string{}
		for _, e := range *f.Allow {
			if _, err := pkgguard.ParseAllow(e); err != nil {
				l.fail(err.Error(), "package_guard", "allow")
				continue
			}
			allow = append(allow, e)
		}
		g.Allow = allow
	}
	regs := maps.Clone(g.Registries)
	for _, reg := range pkgguard.Registries {
		u := f.Registries.byRegistry()[reg]
		if u == nil {
			continue
		}
		if err := pkgguard.CheckURL(*u); err != nil {
			l.fail(err.Error(), "package_guard", "registries", string(reg))
			continue
		}
		if regs == nil {
			regs = map[pkgguard.Registry]string{}
		}
		regs[reg] = *u
	}
	g.Registries = regs
}

// guardWidened lists what after loosens in the package guard that
// before had, as the file sets it: what lets more packages through
// without asking.
func guardWidened(before, after PackageGuard) []string {
	var ws []string
	if before.Enabled && !after.Enabled {
		ws = append(ws, "package_guard.enabled = false")
	}
	if before.RequireAllowlist && !after.RequireAllowlist {
		ws = append(ws, "package_guard.require_allowlist = false")
	}
	if after.MinAgeDays < before.MinAgeDays {
		ws = append(ws, fmt.Sprintf("package_guard.min_age_days = %d (lower than %d)", after.MinAgeDays, before.MinAgeDays))
	}
	if after.MinDownloads < before.MinDownloads {
		ws = append(ws, fmt.Sprintf("package_guard.min_downloads = %d (lower than %d)", after.MinDownloads, before.MinDownloads))
	}
	for _, e := range after.Allow {
		if !slices.Contains(before.Allow, e) {
			ws = append(ws, fmt.Sprintf("package_guard.allow entry %q", e))
		}
	}
	for _, reg := range pkgguard.Registries {
		if u := after.Registries[reg]; u != before.Registries[reg] {
			ws = append(ws, fmt.Sprintf("package_guard.registries.%s = %q (the registry that vouches for packages)", string(reg), u))
		}
	}
	return ws
}

// stricterGuard is before with what after makes stricter, setting by
// setting, each with its source: the guard of an untrusted workspace
// whose file both loosens and tightens it.
func stricterGuard(before, after PackageGuard) PackageGuard {
	g := before
	g.Sources = maps.Clone(before.Sources)
	from := func(key string) {
		if f, ok := after.Sources[key]; ok {
			if g.Sources == nil {
				g.Sources = map[string]string{}
			}
			g.Sources[key] = f
		}
	}
	if after.Enabled && !before.Enabled {
		g.Enabled = true
		from("enabled")
	}
	if after.RequireAllowlist && !before.RequireAllowlist {
		g.RequireAllowlist = true
		from("require_allowlist")
	}
	if after.MinAgeDays > before.MinAgeDays {
		g.MinAgeDays = after.MinAgeDays
		from("min_age_days")
	}
	if after.MinDownloads > before.MinDownloads {
		g.MinDownloads = after.MinDownloads
		from("min_downloads")
	}
	// Fewer packages exempt is stricter: those of before that after
	// keeps.
	if allow := slices.DeleteFunc(slices.Clone(before.Allow), func(e string) bool { return !slices.Contains(after.Allow, e) }); len(allow) < len(before.Allow) {
		g.Allow = allow
		from("allow")
	}
	// The timeout widens nothing: how long a look-up may take.
	g.Timeout = after.Timeout
	return g
}
