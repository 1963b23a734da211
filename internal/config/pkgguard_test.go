package config

import (
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/lathe-dev/lathe/internal/pkgguard"
)

func TestPackageGuardKeys(t *testing.T) {
	home := env(t)
	write(t, filepath.Join(home, ".config", "lathe", "config.toml"), `
[package_guard]
enabled = true
allow = ["pypi:requests", "npm:@types/**"]
require_allowlist = true
min_age_days = 14
min_downloads = 500
timeout = "3s"

[package_guard.registries]
pypi = "https://pypi.example/pypi"
npm = "http://127.0.0.1:4873"
`)
	c, err := Load(home)
	if err != nil {
		t.Fatal(err)
	}
	want := PackageGuard{Enabled: true, Config: pkgguard.Config{
		Registries:       map[pkgguard.Registry]string{pkgguard.PyPI: "https://pypi.example/pypi", pkgguard.Npm: "http://127.0.0.1:4873"},
		Allow:            []string{"pypi:requests", "npm:@types/**"},
		RequireAllowlist: true, MinAgeDays: 14, MinDownloads: 500, Timeout: 3 * time.Second,
	}}
	user := filepath.Join(home, ".config", "lathe", "config.toml")
	want.Sources = map[string]string{"enabled": user, "allow": user, "require_allowlist": user, "min_age_days": user, "min_downloads": user}
	if !reflect.DeepEqual(c.PackageGuard, want) {
		t.Errorf("package guard %+v,\nwant %+v", c.PackageGuard, want)
	}
	if !defaults().PackageGuard.Enabled {
		t.Error("the package guard is off by default")
	}
}

func TestPackageGuardErrors(t *testing.T) {
	for _, tt := range []struct{ name, doc, want string }{
		{"unknown registry", "[package_guard.registries]\npip = \"https://x\"\n",
			`~/.config/lathe/config.toml:2:1: unknown key "package_guard.registries.pip"`},
		{"unknown key", "[package_guard]\nmin_age = 3\n",
			`~/.config/lathe/config.toml:2:1: unknown key "package_guard.min_age"`},
		{"not a URL", "[package_guard.registries]\ngo = \"proxy.golang.org\"\n",
			`~/.config/lathe/config.toml:2:6: package_guard.registries.go: want an http or https URL, not "proxy.golang.org"`},
		{"bad allow entry", "[package_guard]\nallow = [\"requests\", \"pip:requests\"]\n",
			`~/.config/lathe/config.toml:2:10: package_guard.allow: allow entry "pip:requests": unknown registry "pip" (want pypi, npm, go, crates or rubygems)`},
		{"negative age", "[package_guard]\nmin_age_days = -1\n",
			`~/.config/lathe/config.toml:2:16: package_guard.min_age_days: must not be negative`},
		{"timeout too long", "[package_guard]\ntimeout = \"1h\"\n",
			`~/.config/lathe/config.toml:2:11: package_guard.timeout: duration "1h" exceeds the maximum of 2m`},
		{"enabled not a bool", "[package_guard]\nenabled = \"no\"\n",
			`~/.config/lathe/config.toml:2:11: package_guard.enabled: want true or false, not a TOML string`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			home := env(t)
			write(t, filepath.Join(home, ".config", "lathe", "config.toml"), tt.doc)
			if _, err := Load(home); err == nil || err.Error() != tt.want {
				t.Errorf("error:\n%v\nwant:\n%s", err, tt.want)
			}
		})
	}
}

// A project may make the guard stricter. What loosens it — turning it
// off, lowering a minimum, trusting more packages, pointing it at a
// registry of the repository's choosing — takes effect only in a
// trusted workspace, as every other widening does: untrusted, it is
// listed in Trust.Ignored and the user's guard applies as it was.
func TestProjectPackageGuard(t *testing.T) {
	const user = "[package_guard]\nmin_age_days = 7\nmin_downloads = 100\nallow = [\"pypi:requests\", \"npm:lodash\"]\n"
	userGuard := PackageGuard{Enabled: true, Config: pkgguard.Config{Allow: []string{"pypi:requests", "npm:lodash"}, MinAgeDays: 7, MinDownloads: 100}}
	loosened := func(f func(*PackageGuard)) PackageGuard {
		g := userGuard
		g.Allow = slices.Clone(g.Allow)
		f(&g)
		return g
	}
	for _, tt := range []struct {
		name, project string
		// trusted is the guard in a trusted workspace; widened what the
		// project loosens, which an untrusted one ignores, keeping what
		// it tightens: untrusted, when that is not the user's guard.
		trusted   PackageGuard
		widened   []string
		untrusted *PackageGuard
	}{
		{name: "stricter", project: "[package_guard]\nrequire_allowlist = true\nmin_age_days = 30\nmin_downloads = 1000\nallow = [\"npm:lodash\"]\ntimeout = \"1s\"\n",
			trusted: PackageGuard{Enabled: true, Config: pkgguard.Config{Allow: []string{"npm:lodash"}, RequireAllowlist: true, MinAgeDays: 30, MinDownloads: 1000, Timeout: time.Second}}},
		{name: "turn off", project: "[package_guard]\nenabled = false\n",
			trusted: loosened(func(g *PackageGuard) { g.Enabled = false }),
			widened: []string{"package_guard.enabled = false"}},
		{name: "lower the age", project: "[package_guard]\nmin_age_days = 1\n",
			trusted: loosened(func(g *PackageGuard) { g.MinAgeDays = 1 }),
			widened: []string{"package_guard.min_age_days = 1 (lower than 7)"}},
		{name: "lower the downloads", project: "[package_guard]\nmin_downloads = 0\n",
			trusted: loosened(func(g *PackageGuard) { g.MinDownloads = 0 }),
			widened: []string{"package_guard.min_downloads = 0 (lower than 100)"}},
		{name: "trust more", project: "[package_guard]\nallow = [\"pypi:requests\", \"pypi:evil\", \"npm:evil\"]\n",
			trusted:   loosened(func(g *PackageGuard) { g.Allow = []string{"pypi:requests", "pypi:evil", "npm:evil"} }),
			widened:   []string{`package_guard.allow entry "pypi:evil"`, `package_guard.allow entry "npm:evil"`},
			untrusted: ptr(loosened(func(g *PackageGuard) { g.Allow = []string{"pypi:requests"} }))},
		// Another widening ignored keeps the guard's tightening too.
		{name: "allow rule and a stricter guard", project: "[permissions]\nallow = [\"Bash(make)\"]\n[package_guard]\nmin_age_days = 30\n",
			trusted:   loosened(func(g *PackageGuard) { g.MinAgeDays = 30 }),
			widened:   []string{"allow rule Bash(make)"},
			untrusted: ptr(loosened(func(g *PackageGuard) { g.MinAgeDays = 30 }))},
		{name: "loosen and tighten", project: "[package_guard]\nenabled = false\nmin_age_days = 30\nrequire_allowlist = true\n",
			trusted:   loosened(func(g *PackageGuard) { g.Enabled, g.MinAgeDays, g.RequireAllowlist = false, 30, true }),
			widened:   []string{"package_guard.enabled = false"},
			untrusted: ptr(loosened(func(g *PackageGuard) { g.MinAgeDays, g.RequireAllowlist = 30, true }))},
		{name: "own registry", project: "[package_guard.registries]\npypi = \"https://evil.example/pypi\"\n",
			trusted: loosened(func(g *PackageGuard) {
				g.Registries = map[pkgguard.Registry]string{pkgguard.PyPI: "https://evil.example/pypi"}
			}),
			widened: []string{`package_guard.registries.pypi = "https://evil.example/pypi" (the registry that vouches for packages)`}},
		{name: "the allowlist dropped", project: "[package_guard]\nrequire_allowlist = false\n",
			trusted: loosened(func(*PackageGuard) {})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			home := env(t)
			write(t, filepath.Join(home, ".config", "lathe", "config.toml"), user)
			repo := filepath.Join(home, "repo")
			write(t, filepath.Join(repo, ".git", "HEAD"), "")
			proj := filepath.Join(repo, ".lathe", "config.toml")
			write(t, proj, tt.project)
			var want []Widening
			for _, w := range tt.widened {
				want = append(want, Widening{File: proj, What: w})
			}

			c, err := Load(repo)
			if err != nil {
				t.Fatal(err)
			}
			untrusted := tt.trusted
			switch {
			case tt.untrusted != nil:
				untrusted = *tt.untrusted
			case len(tt.widened) > 0:
				untrusted = userGuard
			}
			if !reflect.DeepEqual(settings(c.PackageGuard), untrusted) {
				t.Errorf("untrusted: package guard %+v,\nwant %+v", c.PackageGuard, untrusted)
			}
			if !slices.Equal(c.Trust.Ignored, want) || len(c.Trust.Granted) > 0 {
				t.Errorf("untrusted: ignored %+v, granted %+v; want ignored %+v", c.Trust.Ignored, c.Trust.Granted, want)
			}

			if c, err = Load(repo, WithTrustedWorkspace()); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(settings(c.PackageGuard), tt.trusted) {
				t.Errorf("trusted: package guard %+v,\nwant %+v", c.PackageGuard, tt.trusted)
			}
			if !slices.Equal(c.Trust.Granted, want) || len(c.Trust.Ignored) > 0 {
				t.Errorf("trusted: granted %+v, ignored %+v; want granted %+v", c.Trust.Granted, c.Trust.Ignored, want)
			}
		})
	}
}

// settings is g without its sources, which TestPackageGuardSources pins.
func settings(g PackageGuard) PackageGuard {
	g.Sources = nil
	return g
}

// Each setting that decides names the file it came from, the layer
// that set it last; one an untrusted workspace's file loosened names
// the file whose value applies.
func TestPackageGuardSources(t *testing.T) {
	home := env(t)
	user := filepath.Join(home, ".config", "lathe", "config.toml")
	write(t, user, "[package_guard]\nmin_age_days = 7\nmin_downloads = 10\n")
	repo := filepath.Join(home, "repo")
	write(t, filepath.Join(repo, ".git", "HEAD"), "")
	proj := filepath.Join(repo, ".lathe", "config.toml")
	write(t, proj, "[package_guard]\nmin_age_days = 1\nmin_downloads = 100\nrequire_allowlist = true\n")
	for _, tc := range []struct {
		trusted bool
		want    map[string]string
	}{
		{false, map[string]string{"min_age_days": user, "min_downloads": proj, "require_allowlist": proj}},
		{true, map[string]string{"min_age_days": proj, "min_downloads": proj, "require_allowlist": proj}},
	} {
		var opts []Option
		if tc.trusted {
			opts = append(opts, WithTrustedWorkspace())
		}
		c, err := Load(repo, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(c.PackageGuard.Sources, tc.want) {
			t.Errorf("trusted %v: sources %v, want %v", tc.trusted, c.PackageGuard.Sources, tc.want)
		}
	}
}

// Each project file is judged against what the layers below it set: a
// local file that loosens the user's guard less than the shared project
// file did still loosens it, and is ignored too in an untrusted
// workspace.
func TestProjectPackageGuardLayers(t *testing.T) {
	home := env(t)
	write(t, filepath.Join(home, ".config", "lathe", "config.toml"), "[package_guard]\nmin_age_days = 7\n")
	repo := filepath.Join(home, "repo")
	write(t, filepath.Join(repo, ".git", "HEAD"), "")
	shared, local := filepath.Join(repo, ".lathe", "config.toml"), filepath.Join(repo, ".lathe", "config.local.toml")
	write(t, shared, "[package_guard]\nmin_age_days = 3\n")
	write(t, local, "[package_guard]\nmin_age_days = 5\n")
	c, err := Load(repo)
	if err != nil {
		t.Fatal(err)
	}
	want := []Widening{{shared, "package_guard.min_age_days = 3 (lower than 7)"}, {local, "package_guard.min_age_days = 5 (lower than 7)"}}
	if c.PackageGuard.MinAgeDays != 7 || !slices.Equal(c.Trust.Ignored, want) {
		t.Errorf("untrusted: min age %d, ignored %+v; want 7, ignored %+v", c.PackageGuard.MinAgeDays, c.Trust.Ignored, want)
	}
	if c, err = Load(repo, WithTrustedWorkspace()); err != nil {
		t.Fatal(err)
	}
	if c.PackageGuard.MinAgeDays != 5 || !slices.Equal(c.Trust.Granted, want[:1]) {
		t.Errorf("trusted: min age %d, granted %+v; want 5, granted %+v", c.PackageGuard.MinAgeDays, c.Trust.Granted, want[:1])
	}
}

func ptr[T any](v T) *T { return &v }
