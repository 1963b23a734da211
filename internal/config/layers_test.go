package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/policy"
)

// ruleList formats rules as "TEXT @ SOURCE" for comparisons.
func ruleList(rules []policy.Rule) []string {
	var out []string
	for _, r := range rules {
		out = append(out, r.Text+" @ "+r.Source)
	}
	return out
}

// managedEnv points the managed policy at a file of the test's.
func managedEnv(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "managed.toml")
	write(t, path, content)
	t.Setenv(ManagedEnv, path)
	return path
}

// TestPermissionLayers checks that rules come from every layer, each with
// the file or flag it came from, lowest layer first, Claude Code's JSON
// settings included.
func TestPermissionLayers(t *testing.T) {
	home := env(t)
	t.Setenv(ManagedEnv, "")
	userCC := filepath.Join(home, ".claude", "settings.json")
	write(t, userCC, `{"model": "opus", "permissions": {"allow": ["Bash(make)"], "deny": ["Read(~/.aws/**)"]}, "hooks": {}}`)
	user := filepath.Join(home, ".config", "lathe", "config.toml")
	write(t, user, "[permissions]\nallow = [\"Bash(go test:*)\"]\n")
	repo := filepath.Join(home, "repo")
	write(t, filepath.Join(repo, ".git", "HEAD"), "")
	projCC := filepath.Join(repo, ".claude", "settings.json")
	write(t, projCC, `{"permissions": {"ask": ["Bash(git push:*)"]}}`)
	proj := filepath.Join(repo, ".lathe", "config.toml")
	write(t, proj, "[permissions]\ndeny = [\"Bash(rm:*)\"]\n")
	localCC := filepath.Join(repo, ".claude", "settings.local.json")
	write(t, localCC, `{"permissions": {"deny": ["WebFetch"]}}`)
	local := filepath.Join(repo, ".lathe", "config.local.toml")
	write(t, local, "[permissions]\nask = [\"Edit(docs/**)\"]\n")
	settingsTOML := filepath.Join(home, "extra.toml")
	write(t, settingsTOML, "[permissions]\nallow = [\"Bash(npm test)\"]\n")
	settingsJSON := filepath.Join(home, "extra.json")
	write(t, settingsJSON, "\n  {\"permissions\": {\"allow\": [\"Bash(npm run lint)\"], \"deny\": [\"Bash(curl:*)\"]}}")
	managed := managedEnv(t, "[permissions]\ndeny = [\"Bash(sudo:*)\"]\n")

	c, err := Load(repo, WithSettings(settingsTOML, settingsJSON), WithRules([]string{"Bash(ls)"}, []string{"Bash(git push --force)"}))
	if err != nil {
		t.Fatal(err)
	}
	wantAllow := []string{"Bash(make) @ " + userCC, "Bash(go test:*) @ " + user, "Bash(npm test) @ " + settingsTOML, "Bash(npm run lint) @ " + settingsJSON, "Bash(ls) @ " + AllowFlag}
	wantAsk := []string{"Bash(git push:*) @ " + projCC, "Edit(docs/**) @ " + local}
	wantDeny := []string{"Read(~/.aws/**) @ " + userCC, "Bash(rm:*) @ " + proj, "WebFetch @ " + localCC, "Bash(curl:*) @ " + settingsJSON, "Bash(git push --force) @ " + DenyFlag, "Bash(sudo:*) @ " + managed}
	for _, l := range []struct {
		name      string
		got, want []string
	}{{"allow", ruleList(c.Rules.Allow), wantAllow}, {"ask", ruleList(c.Rules.Ask), wantAsk}, {"deny", ruleList(c.Rules.Deny), wantDeny}} {
		if !slices.Equal(l.got, l.want) {
			t.Errorf("%s rules:\n%s\nwant:\n%s", l.name, strings.Join(l.got, "\n"), strings.Join(l.want, "\n"))
		}
	}
	if !slices.Equal(c.Trust.Files, []string{projCC, proj, localCC, local}) {
		t.Errorf("project files %q", c.Trust.Files)
	}
	if !slices.Equal(c.Managed.Files, []string{managed}) {
		t.Errorf("managed files %q", c.Managed.Files)
	}
}

// TestPermissionErrors checks that a malformed settings file or rule
// stops Lathe with an error naming the file, the place and the rule.
func TestPermissionErrors(t *testing.T) {
	tests := []struct {
		name, file, content string
		opts                func(path string) []Option
		want                string
	}{
		{name: "bad rule in TOML", file: ".config/lathe/config.toml", content: "[permissions]\nallow = [\n  \"Bash(ls)\",\n  \"Bash(ls\",\n]\n",
			want: `~/.config/lathe/config.toml:4:3: permissions.allow: permission rule "Bash(ls":`},
		{name: "bad rule in Claude JSON", file: ".claude/settings.json", content: "{\"permissions\": {\n \"deny\": [\"Bash(\"]}}",
			want: `~/.claude/settings.json:2:11: permissions.deny: permission rule "Bash(":`},
		{name: "malformed JSON", file: ".claude/settings.json", content: "{\"permissions\": {\"allow\": [\"Bash(ls)\",]}}",
			want: `~/.claude/settings.json:1:40: invalid JSON`},
		{name: "JSON of the wrong type", file: ".claude/settings.json", content: `{"permissions": {"allow": "Bash(ls)"}}`,
			want: `~/.claude/settings.json:1:37: permissions.allow: want an array of strings, not a JSON string`},
		{name: "unknown mode in JSON", file: ".claude/settings.json", content: `{"permissions": {"defaultMode": "yolo"}}`,
			want: `~/.claude/settings.json: permissions.defaultMode: unknown permission mode "yolo"`},
		{name: "rules not an array", file: ".config/lathe/config.toml", content: "[permissions]\ndeny = \"Bash\"\n",
			want: `~/.config/lathe/config.toml:2:8: permissions.deny: want an array, not a TOML string`},
		{name: "unknown permissions key", file: ".config/lathe/config.toml", content: "[permissions]\nalow = []\n",
			want: `~/.config/lathe/config.toml:2:1: unknown key "permissions.alow"`},
		{name: "a ceiling outside the managed policy", file: ".config/lathe/config.toml", content: "[permissions]\nmax_mode = \"plan\"\n",
			want: `~/.config/lathe/config.toml:2:12: permissions.max_mode: may only be set in a managed policy`},
		{name: "bad --settings rule", file: "s.json", content: `{"permissions": {"ask": ["Edit(src/**"]}}`,
			opts: func(p string) []Option { return []Option{WithSettings(p)} },
			want: `~/s.json:1:26: permissions.ask: permission rule "Edit(src/**":`},
		{name: "missing --settings file", file: "other", content: "",
			opts: func(p string) []Option { return []Option{WithSettings(filepath.Join(filepath.Dir(p), "nope.toml"))} },
			want: `--settings /`},
		{name: "bad --allow rule", file: "other", content: "",
			opts: func(string) []Option { return []Option{WithRules([]string{"Bash(npm"}, nil)} },
			want: `--allow: permission rule "Bash(npm":`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := env(t)
			t.Setenv(ManagedEnv, "")
			path := filepath.Join(home, tt.file)
			write(t, path, tt.content)
			var opts []Option
			if tt.opts != nil {
				opts = tt.opts(path)
			}
			_, err := Load(home, opts...)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error:\n%v\nwant it to start:\n%s", err, tt.want)
			}
		})
	}
}

// TestManagedPolicy checks that the managed policy's rules always apply,
// that its mode and ceiling bind every layer, and that one that cannot be
// read stops Lathe.
func TestManagedPolicy(t *testing.T) {
	t.Run("ceiling", func(t *testing.T) {
		home := env(t)
		managed := managedEnv(t, "[permissions]\ndisable_bypass_permissions = true\n")
		c, err := Load(home)
		if err != nil {
			t.Fatal(err)
		}
		if c.Managed.MaxMode != policy.Auto || c.Managed.MaxSource != managed {
			t.Errorf("ceiling %q from %q, want auto from the managed file", c.Managed.MaxMode, c.Managed.MaxSource)
		}
		if err := c.Managed.Allows(policy.BypassPermissions, "--permission-mode bypassPermissions"); err == nil || !strings.Contains(err.Error(), managed) {
			t.Errorf("Allows(bypassPermissions) = %v, want an error naming %s", err, managed)
		}
		if err := c.Managed.Allows(policy.AcceptEdits, "--permission-mode acceptEdits"); err != nil {
			t.Errorf("Allows(acceptEdits) = %v", err)
		}
		if got := c.Managed.Clamp(policy.BypassPermissions); got != policy.Auto {
			t.Errorf("Clamp(bypass) = %s", got)
		}
		write(t, filepath.Join(home, ".config", "lathe", "config.toml"), `permission_mode = "bypassPermissions"`)
		_, err = Load(home)
		if err == nil || !strings.Contains(err.Error(), "~/.config/lathe/config.toml: permission_mode: bypassPermissions is wider than the managed policy") {
			t.Errorf("a user mode above the ceiling: %v", err)
		}
	})
	t.Run("mode", func(t *testing.T) {
		home := env(t)
		write(t, filepath.Join(home, ".config", "lathe", "config.toml"), `permission_mode = "bypassPermissions"`)
		managedEnv(t, "permission_mode = \"plan\"\n[permissions]\nask = [\"Bash\"]\n")
		c, err := Load(home)
		if err != nil {
			t.Fatal(err)
		}
		if c.PermissionMode != policy.Plan || c.Managed.Mode != policy.Plan {
			t.Errorf("mode %s, managed %s, want plan", c.PermissionMode, c.Managed.Mode)
		}
		if err := c.Managed.Allows(policy.AcceptEdits, "--permission-mode acceptEdits"); err == nil {
			t.Error("a flag may choose another mode than the managed one")
		}
	})
	t.Run("managed keys only", func(t *testing.T) {
		home := env(t)
		managedEnv(t, "model = \"x\"\n")
		if _, err := Load(home); err == nil || !strings.Contains(err.Error(), "model: a managed policy sets only permission_mode and [permissions]") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		home := env(t)
		dir := t.TempDir()
		// A directory where the file should be cannot be read, even as root.
		t.Setenv(ManagedEnv, dir)
		if _, err := Load(home); err == nil || !strings.Contains(err.Error(), "managed policy "+dir+" cannot be read") {
			t.Errorf("error %v, want a refusal to run without the managed policy", err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		home := env(t)
		t.Setenv(ManagedEnv, filepath.Join(t.TempDir(), "none.toml"))
		if _, err := Load(home); err != nil {
			t.Errorf("no managed policy: %v", err)
		}
	})
}

// TestWorkspaceTrust checks that a project's allow rules and wider mode
// apply only once the user trusted its configuration as it is, while its
// deny and ask rules apply always.
func TestWorkspaceTrust(t *testing.T) {
	home := env(t)
	t.Setenv(ManagedEnv, "")
	repo := filepath.Join(home, "repo")
	write(t, filepath.Join(repo, ".git", "HEAD"), "")
	proj := filepath.Join(repo, ".lathe", "config.toml")
	write(t, proj, "permission_mode = \"bypassPermissions\"\n[permissions]\nallow = [\"Bash(npm test)\"]\ndeny = [\"Bash(rm:*)\"]\n")
	cc := filepath.Join(repo, ".claude", "settings.json")
	write(t, cc, `{"permissions": {"allow": ["Bash(make)"], "ask": ["Bash(git push)"]}}`)

	load := func(opts ...Option) *Config {
		t.Helper()
		c, err := Load(repo, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := load()
	if c.Trust.Trusted || len(c.Rules.Allow) != 0 || c.PermissionMode != "" {
		t.Errorf("untrusted: trusted %v, allow %q, mode %q; want nothing widened", c.Trust.Trusted, ruleList(c.Rules.Allow), c.PermissionMode)
	}
	if len(c.Rules.Deny) != 1 || len(c.Rules.Ask) != 1 {
		t.Errorf("untrusted: deny %q, ask %q; want the project's applied", ruleList(c.Rules.Deny), ruleList(c.Rules.Ask))
	}
	want := []Widening{{cc, "allow rule Bash(make)"}, {proj, `permission_mode = "bypassPermissions" (wider than auto)`}, {proj, "allow rule Bash(npm test)"}}
	if !slices.Equal(c.Trust.Ignored, want) {
		t.Errorf("ignored %+v, want %+v", c.Trust.Ignored, want)
	}

	// --trust-workspace trusts it for one run, without remembering.
	if c := load(WithTrustedWorkspace()); !c.Trust.Trusted || c.Trust.Remembered || len(c.Rules.Allow) != 2 || c.PermissionMode != policy.BypassPermissions {
		t.Errorf("forced trust: %+v, allow %q, mode %s", c.Trust, ruleList(c.Rules.Allow), c.PermissionMode)
	} else if !slices.Equal(c.Trust.Granted, want) {
		t.Errorf("granted %+v", c.Trust.Granted)
	}
	if c := load(); c.Trust.Trusted {
		t.Error("--trust-workspace was remembered")
	}

	// lathe trust remembers it.
	if err := c.Trust.Remember(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(TrustFile()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("trust file: %v, %v", fi, err)
	}
	if c := load(); !c.Trust.Trusted || len(c.Rules.Allow) != 2 || len(c.Trust.Ignored) != 0 {
		t.Errorf("remembered trust: %+v, allow %q", c.Trust, ruleList(c.Rules.Allow))
	}
	// A changed file needs trusting again, and so does a new one.
	write(t, proj, "[permissions]\nallow = [\"Bash(npm test)\", \"Bash(curl:*)\"]\n")
	if c := load(); c.Trust.Trusted || len(c.Rules.Allow) != 0 {
		t.Errorf("changed file still trusted: allow %q", ruleList(c.Rules.Allow))
	}
	c = load()
	if err := c.Trust.Remember(); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(repo, ".lathe", LocalFile), "[permissions]\nallow = [\"Bash(x)\"]\n")
	if c := load(); c.Trust.Trusted {
		t.Error("a new project file is trusted")
	}
	// Trust belongs to the directory: another checkout is not trusted.
	other := filepath.Join(home, "other")
	if err := os.Rename(repo, other); err != nil {
		t.Fatal(err)
	}
	if c, err := Load(other); err != nil || c.Trust.Trusted {
		t.Errorf("a moved workspace is trusted (%v)", err)
	}
}

// TestNeverMatch checks the warning for rules that can never decide.
func TestNeverMatch(t *testing.T) {
	home := env(t)
	t.Setenv(ManagedEnv, "")
	write(t, filepath.Join(home, ".config", "lathe", "config.toml"), "[permissions]\nallow = [\"Bash(npm test)\", \"Bash(ls)\"]\nask = [\"Bash(ls)\"]\ndeny = [\"Bassh(rm)\"]\n")
	c, err := Load(home, WithRules(nil, []string{"Bash(npm test)"}))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"deny rule Bassh(rm) (~/.config/lathe/config.toml) can never match: no tool is named Bassh",
		"allow rule Bash(npm test) (~/.config/lathe/config.toml) can never match: the deny rule Bash(npm test) (--deny flag) decides first",
		"allow rule Bash(ls) (~/.config/lathe/config.toml) can never match: the ask rule Bash(ls) (~/.config/lathe/config.toml) decides first",
	}
	if !slices.Equal(c.Warnings, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(c.Warnings, "\n"), strings.Join(want, "\n"))
	}
}

// TestProjectCannotShareCaches checks that a project may not trade the
// user's private sandbox caches for the shared ones unless trusted.
func TestProjectCannotShareCaches(t *testing.T) {
	home := env(t)
	t.Setenv(ManagedEnv, "")
	write(t, filepath.Join(home, ".config", "lathe", "config.toml"), "[sandbox]\nisolate_caches = true\n")
	repo := filepath.Join(home, "repo")
	write(t, filepath.Join(repo, ".git", "HEAD"), "")
	proj := filepath.Join(repo, ".lathe", "config.toml")
	write(t, proj, "[sandbox]\nisolate_caches = false\n")
	c, err := Load(repo)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Sandbox.IsolateCaches || len(c.Trust.Ignored) != 1 || !strings.HasPrefix(c.Trust.Ignored[0].What, "sandbox.isolate_caches = false") {
		t.Errorf("isolate_caches %v, ignored %+v", c.Sandbox.IsolateCaches, c.Trust.Ignored)
	}
	if c, err = Load(repo, WithTrustedWorkspace()); err != nil || c.Sandbox.IsolateCaches {
		t.Errorf("trusted: isolate_caches %v (%v)", c.Sandbox.IsolateCaches, err)
	}
	// Turning isolation on is narrowing, and needs no trust.
	write(t, filepath.Join(home, ".config", "lathe", "config.toml"), "")
	write(t, proj, "[sandbox]\nisolate_caches = true\n")
	if c, err = Load(repo); err != nil || !c.Sandbox.IsolateCaches || len(c.Trust.Ignored) != 0 {
		t.Errorf("narrowing: isolate_caches %v, ignored %+v (%v)", c.Sandbox.IsolateCaches, c.Trust.Ignored, err)
	}
}
