package config

import (
	"path/filepath"
	"reflect"
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

// A project may make the guard stricter, never looser: a cloned
// repository must not turn off the check of what it tells the model to
// install, trust its own packages or point the check at its own
// registry.
func TestProjectPackageGuard(t *testing.T) {
	const user = "[package_guard]\nmin_age_days = 7\nmin_downloads = 100\nallow = [\"pypi:requests\", \"npm:lodash\"]\n"
	for _, tt := range []struct {
		name, project string
		want          PackageGuard
		err           string
	}{
		{name: "stricter", project: "[package_guard]\nrequire_allowlist = true\nmin_age_days = 30\nmin_downloads = 1000\nallow = [\"npm:lodash\"]\ntimeout = \"1s\"\n",
			want: PackageGuard{Enabled: true, Config: pkgguard.Config{Allow: []string{"npm:lodash"}, RequireAllowlist: true, MinAgeDays: 30, MinDownloads: 1000, Timeout: time.Second}}},
		{name: "turn off", project: "[package_guard]\nenabled = false\n",
			err: `~/repo/.lathe/config.toml:2:11: package_guard.enabled: a project file may make the package guard stricter but not turn it off; set it in your own config (~/.config/lathe/config.toml)`},
		{name: "lower the age", project: "[package_guard]\nmin_age_days = 1\n",
			err: `~/repo/.lathe/config.toml:2:16: package_guard.min_age_days: a project file may make the package guard stricter but not lower the minimum age (from 7 to 1); set it in your own config (~/.config/lathe/config.toml)`},
		{name: "lower the downloads", project: "[package_guard]\nmin_downloads = 0\n",
			err: `~/repo/.lathe/config.toml:2:17: package_guard.min_downloads: a project file may make the package guard stricter but not lower the minimum downloads (from 100 to 0); set it in your own config (~/.config/lathe/config.toml)`},
		{name: "trust more", project: "[package_guard]\nallow = [\"pypi:requests\", \"pypi:evil\"]\n",
			err: `~/repo/.lathe/config.toml:2:10: package_guard.allow: a project file may make the package guard stricter but not trust more packages ("pypi:evil"); set it in your own config (~/.config/lathe/config.toml)`},
		{name: "own registry", project: "[package_guard.registries]\npypi = \"https://evil.example/pypi\"\n",
			err: `~/repo/.lathe/config.toml:2:8: package_guard.registries.pypi: may only be set in the user config, so that a repository cannot choose the registry that vouches for the packages it installs`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			home := env(t)
			write(t, filepath.Join(home, ".config", "lathe", "config.toml"), user)
			repo := filepath.Join(home, "repo")
			write(t, filepath.Join(repo, ".git", "HEAD"), "")
			write(t, filepath.Join(repo, ".lathe", "config.toml"), tt.project)
			c, err := Load(repo)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Errorf("error:\n%v\nwant:\n%s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.PackageGuard, tt.want) {
				t.Errorf("package guard %+v,\nwant %+v", c.PackageGuard, tt.want)
			}
		})
	}
}
