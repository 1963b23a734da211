package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

// TestAddAllowRule checks that a rule is added to the file's allow list
// whatever the file holds, with the rest of it as it was.
func TestAddAllowRule(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"no file", "", "# Your own settings for this workspace, not shared: git ignores this file.\n" +
			"# Lathe adds the rules you approve with \"always\" here.\n[permissions]\nallow = [\"Bash(npm test)\"]\n"},
		{"other settings", "# mine\nmax_turns = 3 # three\n\n[shell]\ntimeout = \"1m\"",
			"# mine\nmax_turns = 3 # three\n\n[shell]\ntimeout = \"1m\"\n\n[permissions]\nallow = [\"Bash(npm test)\"]\n"},
		{"a table without allow", "[permissions]\ndeny = [\"Bash(rm:*)\"]\n\n[shell]\ntimeout = \"1m\"\n",
			"[permissions]\nallow = [\"Bash(npm test)\"]\ndeny = [\"Bash(rm:*)\"]\n\n[shell]\ntimeout = \"1m\"\n"},
		{"a header at the end", "[permissions]", "[permissions]\nallow = [\"Bash(npm test)\"]\n"},
		{"an allow list", "[permissions]\nallow = [\"Bash(ls)\"] # kept\n", "[permissions]\nallow = [\"Bash(ls)\", \"Bash(npm test)\"] # kept\n"},
		{"a long allow list", "[permissions]\nallow = [\n  \"Bash(ls)\", # one\n  # and\n]\n", "[permissions]\nallow = [\n  \"Bash(ls)\", \"Bash(npm test)\", # one\n  # and\n]\n"},
		{"an empty allow list", "[permissions]\nallow = [ ]\n", "[permissions]\nallow = [\"Bash(npm test)\" ]\n"},
		{"dotted keys", "permissions.allow = ['Bash(ls)']\n", "permissions.allow = ['Bash(ls)', \"Bash(npm test)\"]\n"},
		{"an inline table", "permissions = { allow = [\"Bash(ls)\"], deny = [] }\n", "permissions = { allow = [\"Bash(ls)\", \"Bash(npm test)\"], deny = [] }\n"},
		{"already there", "[permissions]\nallow = [\"Bash(npm test)\"]\n", "[permissions]\nallow = [\"Bash(npm test)\"]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := addAllowRule([]byte(tt.doc), "Bash(npm test)", localHeader)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
	// What Lathe cannot add safely is an error, never a broken file.
	for _, doc := range []string{"permissions.deny = []\n", "permissions = { deny = [] }\n", "[permissions\n", "permissions = 3\n"} {
		if got, err := addAllowRule([]byte(doc), "Bash(npm test)", localHeader); err == nil {
			t.Errorf("addAllowRule(%q) = %q, want an error", doc, got)
		}
	}
	// Quotes and backslashes survive.
	rule := `Bash(echo "a\b")`
	got, err := addAllowRule(nil, rule, localHeader)
	if err != nil {
		t.Fatal(err)
	}
	list, err := allowListOf(got)
	if err != nil || len(list) != 1 || list[0] != rule {
		t.Errorf("rule read back as %q (%v)", list, err)
	}
}

func allowListOf(doc []byte) ([]string, error) {
	var m map[string]any
	if err := toml.Unmarshal(doc, &m); err != nil {
		return nil, err
	}
	return allowList(m)
}

// TestAllowAlways checks that an "always" rule lands in the
// config.local.toml at the repository root, ignored by git, and that the
// trust of the workspace follows it.
func TestAllowAlways(t *testing.T) {
	home := env(t)
	t.Setenv(ManagedEnv, "")
	repo := filepath.Join(home, "repo")
	write(t, filepath.Join(repo, ".git", "HEAD"), "")
	sub := filepath.Join(repo, "sub")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := Load(sub)
	if err != nil {
		t.Fatal(err)
	}
	path, err := c.AllowAlways("Bash(npm test)")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(repo, ".lathe", LocalFile); path != want {
		t.Errorf("wrote %s, want %s", path, want)
	}
	if b, err := os.ReadFile(filepath.Join(repo, ".lathe", ".gitignore")); err != nil || string(b) != LocalFile+"\n" {
		t.Errorf(".gitignore: %q, %v", b, err)
	}
	// Nothing was ignored before, so the new rule is trusted and applies.
	c, err = Load(sub)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Trust.Trusted || len(c.Rules.Allow) != 1 || c.Rules.Allow[0].Text != "Bash(npm test)" || c.Rules.Allow[0].Source != path {
		t.Errorf("after always: trusted %v, allow %q", c.Trust.Trusted, ruleList(c.Rules.Allow))
	}
	if _, err := c.AllowAlways("Bash(make)"); err != nil {
		t.Fatal(err)
	}
	if c, err = Load(sub); err != nil || len(c.Rules.Allow) != 2 || !c.Trust.Trusted {
		t.Errorf("a second rule: %v, allow %q", err, ruleList(c.Rules.Allow))
	}

	// A workspace whose own widening is ignored stays untrusted: the
	// person approved one rule, not the repository's.
	write(t, filepath.Join(repo, ".lathe", "config.toml"), "[permissions]\nallow = [\"Bash(curl:*)\"]\n")
	c, err = Load(sub)
	if err != nil || len(c.Trust.Ignored) == 0 {
		t.Fatalf("%v, ignored %+v", err, c.Trust.Ignored)
	}
	if _, err := c.AllowAlways("Bash(go vet)"); err != nil {
		t.Fatal(err)
	}
	if c, err = Load(sub); err != nil || c.Trust.Trusted {
		t.Errorf("untrusted workspace trusted after always (%v)", err)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `"Bash(go vet)"`) {
		t.Errorf("rule not written:\n%s", b)
	}
}

// TestAllowAlwaysWorktree checks that a linked worktree's root, whose .git
// is a file, holds its rules, not the main checkout's.
func TestAllowAlwaysWorktree(t *testing.T) {
	home := env(t)
	t.Setenv(ManagedEnv, "")
	wt := filepath.Join(home, "wt")
	write(t, filepath.Join(wt, ".git"), "gitdir: /elsewhere/.git/worktrees/wt\n")
	write(t, filepath.Join(wt, "a", "b", "x"), "")
	c, err := Load(filepath.Join(wt, "a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	path, err := c.AllowAlways("Read(./x)")
	if err != nil || path != filepath.Join(wt, ".lathe", LocalFile) {
		t.Errorf("wrote %s (%v)", path, err)
	}
}

// TestAllowAlwaysUser checks that an "always, in every project" rule
// lands in the user's config.toml, which keeps what else it said, and
// that sessions in any workspace then apply it.
func TestAllowAlwaysUser(t *testing.T) {
	home := env(t)
	t.Setenv(ManagedEnv, "")
	user := filepath.Join(home, ".config", "lathe", "config.toml")
	if got := UserRulesFile(); got != user {
		t.Fatalf("UserRulesFile() = %s, want %s", got, user)
	}
	path, err := AllowAlwaysUser("Bash(go test:*)")
	if err != nil || path != user {
		t.Fatalf("AllowAlwaysUser = %s, %v", path, err)
	}
	b, err := os.ReadFile(user)
	if err != nil || !strings.HasPrefix(string(b), userHeader) {
		t.Errorf("new user file %q (%v), want it to start with its header", b, err)
	}
	// The user's own settings and comments stay.
	write(t, user, "# mine\nmax_turns = 7\n\n[permissions]\nallow = [\"Bash(ls)\"] # kept\n")
	if _, err := AllowAlwaysUser("Bash(make)", "Edit(docs/**)"); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(user)
	if want := "# mine\nmax_turns = 7\n\n[permissions]\nallow = [\"Bash(ls)\", \"Bash(make)\", \"Edit(docs/**)\"] # kept\n"; string(b) != want {
		t.Errorf("user file:\n%s\nwant:\n%s", b, want)
	}
	repo := filepath.Join(home, "elsewhere")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := Load(repo)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range c.Rules.Allow {
		got = append(got, r.Text)
	}
	if strings.Join(got, " ") != "Bash(ls) Bash(make) Edit(docs/**)" || c.Rules.Allow[1].Source != user {
		t.Errorf("allow %q", ruleList(c.Rules.Allow))
	}
	if c.LocalRulesFile() != filepath.Join(repo, ".lathe", LocalFile) {
		t.Errorf("LocalRulesFile() = %s", c.LocalRulesFile())
	}
	// A file Lathe cannot add to safely is left as it was.
	write(t, user, "permissions = 3\n")
	if _, err := AllowAlwaysUser("Bash(make)"); err == nil || !strings.Contains(err.Error(), "config.toml") {
		t.Errorf("AllowAlwaysUser on a bad file: %v, want an error naming it", err)
	}
	if b, _ := os.ReadFile(user); string(b) != "permissions = 3\n" {
		t.Errorf("bad file rewritten: %q", b)
	}
	t.Setenv("HOME", "")
	if _, err := AllowAlwaysUser("Bash(make)"); err == nil {
		t.Error("AllowAlwaysUser without a home: no error")
	}
}
