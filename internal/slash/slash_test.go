package slash

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func names(ms []Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}

func TestBuiltinsAreTheIssuesList(t *testing.T) {
	want := []string{"help", "clear", "compact", "recap", "model", "mode", "permissions", "cost", "status", "resume", "rewind", "todo", "init", "quit"}
	var got []string
	for _, c := range Builtins() {
		got = append(got, c.Name)
		if !c.Builtin || c.Description == "" || c.Source != "" || c.Body != "" {
			t.Errorf("/%s: %+v, want a built-in with a description", c.Name, c)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("builtins = %v, want %v", got, want)
	}
}

func TestMatch(t *testing.T) {
	s := NewSet([]Command{{Name: "commit-push", Description: "custom"}, {Name: "review"}})
	for _, tc := range []struct {
		query string
		want  []string // the first matches, in order
		none  bool
	}{
		{query: "/cmpct", want: []string{"compact"}},
		{query: "cmpct", want: []string{"compact"}},
		{query: "CMPCT", want: []string{"compact"}},
		// Prefix matches first, shortest first; then subsequence ones.
		{query: "c", want: []string{"cost", "clear", "compact", "commit-push", "recap"}},
		{query: "co", want: []string{"cost", "compact", "commit-push"}},
		{query: "re", want: []string{"recap", "resume", "rewind", "review"}},
		// An alias matches, and is the name shown.
		{query: "exi", want: []string{"exit"}},
		// Fewer runs rank above more: "mod" is a prefix of model and
		// mode; "md" is a run-split subsequence of both.
		{query: "mod", want: []string{"mode", "model"}},
		{query: "xyz", none: true},
		{query: "", want: []string{"help", "clear", "compact"}},
	} {
		got := names(s.Match(tc.query))
		if tc.none {
			if len(got) != 0 {
				t.Errorf("Match(%q) = %v, want none", tc.query, got)
			}
			continue
		}
		if len(got) < len(tc.want) || !slices.Equal(got[:len(tc.want)], tc.want) {
			t.Errorf("Match(%q) = %v, want it to start %v", tc.query, got, tc.want)
		}
	}
	m := s.Match("cmpct")[0]
	if !slices.Equal(m.Positions, []int{0, 2, 3, 5, 6}) {
		t.Errorf("positions of cmpct in compact = %v", m.Positions)
	}
	// The tightest placement is chosen: "tus" in "status" is the run at
	// its end, not t, then u and s further on.
	if m := s.Match("tus")[0]; m.Name != "status" || !slices.Equal(m.Positions, []int{3, 4, 5}) {
		t.Errorf("tus = %+v", m)
	}
}

func TestParseAndResolve(t *testing.T) {
	for _, tc := range []struct {
		line, name, args string
		ok               bool
	}{
		{line: "/compact keep the API notes", name: "compact", args: "keep the API notes", ok: true},
		{line: "  /help", name: "help", ok: true},
		{line: "/model\topus ", name: "model", args: "opus", ok: true},
		{line: "/fix-issue 123\nmore", name: "fix-issue", args: "123\nmore", ok: true},
		{line: "/", ok: false},
		{line: "/usr/bin/env is broken", ok: false},
		{line: "fix /compact", ok: false},
	} {
		name, args, ok := Parse(tc.line)
		if name != tc.name || args != tc.args || ok != tc.ok {
			t.Errorf("Parse(%q) = %q, %q, %v; want %q, %q, %v", tc.line, name, args, ok, tc.name, tc.args, tc.ok)
		}
	}
	s := NewSet(nil)
	if c, args, ok, err := s.Resolve("/EXIT now"); err != nil || !ok || c.Name != Quit || args != "now" {
		t.Errorf("Resolve(/EXIT now) = %v, %q, %v, %v", c.Name, args, ok, err)
	}
	_, _, ok, err := s.Resolve("/cmpact")
	var ue *UnknownError
	if !ok || !errors.As(err, &ue) || ue.Suggestion != "compact" || !strings.Contains(err.Error(), "did you mean /compact") {
		t.Errorf("Resolve(/cmpact) = %v, %v", ok, err)
	}
	if _, _, _, err := s.Resolve("/zzz"); err == nil || !strings.Contains(err.Error(), "/help lists them") {
		t.Errorf("Resolve(/zzz) = %v", err)
	}
	if _, _, ok, err := s.Resolve("plain prompt"); ok || err != nil {
		t.Errorf("plain prompt resolved: %v, %v", ok, err)
	}
}

func TestExpand(t *testing.T) {
	for _, tc := range []struct {
		body, args, want string
	}{
		{body: "Fix issue $ARGUMENTS now.", args: "#123 quickly", want: "Fix issue #123 quickly now."},
		{body: "Review PR $1 with priority $2 (by $3).", args: `456 "very high"`, want: "Review PR 456 with priority very high (by )."},
		{body: "Costs $5 and $ARGUMENTS; $10 stays", args: "x", want: "Costs  and x; $10 stays"},
		{body: "Explain the code.", args: "internal/x.go", want: "Explain the code.\n\nARGUMENTS: internal/x.go"},
		{body: "Explain the code.", args: "", want: "Explain the code."},
		{body: "", args: "just this", want: "ARGUMENTS: just this"},
		{body: "price in $ and $", args: "", want: "price in $ and $"},
	} {
		if got := (Command{Body: tc.body}).Expand(tc.args); got != tc.want {
			t.Errorf("Expand(%q, %q) = %q, want %q", tc.body, tc.args, got, tc.want)
		}
	}
	if got := Words(` a  'b c' "d'e" f"g h`); !slices.Equal(got, []string{"a", "b c", "d'e", "fg h"}) {
		t.Errorf("Words = %q", got)
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoad(t *testing.T) {
	home, ws := t.TempDir(), t.TempDir()
	claude := filepath.Join(ws, ".claude", "commands")
	lathe := filepath.Join(ws, ".lathe", "commands")
	user := filepath.Join(home, ".claude", "commands")
	write(t, filepath.Join(user, "review.md"), "Review the user's way.\n")
	write(t, filepath.Join(claude, "review.md"), "---\ndescription: Review the diff\nargument-hint: [files]\nallowed-tools: Bash(git diff:*), Bash(git log:*), Read\nmodel: sonnet\n---\nReview $ARGUMENTS.\n")
	write(t, filepath.Join(claude, "frontend", "component.md"), "# Make a component\n\nMake $1.\n")
	write(t, filepath.Join(claude, "notes.txt"), "not a command")
	write(t, filepath.Join(lathe, "deploy.md"), "---\ndescription: Deploy: carefully\ndisable-model-invocation: true\n---\nDeploy.\n")
	// Bad ones: each names its file and key, and the others still load.
	write(t, filepath.Join(claude, "badtype.md"), "---\ndescription: [a, b]\n---\nx\n")
	write(t, filepath.Join(claude, "badkey.md"), "---\ndescripton: typo\n---\nx\n")
	write(t, filepath.Join(claude, "badrule.md"), "---\nallowed-tools:\n  - Bash(git diff:*)\n  - Bash(:*)\n---\nx\n")
	write(t, filepath.Join(claude, "badyaml.md"), "---\nmodel: [unclosed\n---\nx\n")
	write(t, filepath.Join(claude, "unclosed.md"), "---\ndescription: x\n")
	write(t, filepath.Join(lathe, "compact.md"), "Shadow a built-in.\n")
	write(t, filepath.Join(lathe, "bad name.md"), "x\n")
	write(t, filepath.Join(lathe, "frontend", "deploy.md"), "Second deploy in one tree.\n")

	cmds, problems := Load(Dirs(home, "", "", ws)...)
	got := map[string]Command{}
	var order []string
	for _, c := range cmds {
		got[c.Name] = c
		order = append(order, c.Name)
	}
	if !slices.Equal(order, []string{"review", "component", "deploy"}) {
		t.Errorf("loaded %v", order)
	}
	r := got["review"]
	if r.Source != filepath.Join(claude, "review.md") || r.Description != "Review the diff" || r.ArgumentHint != "[files]" || r.Model != "sonnet" || r.Body != "Review $ARGUMENTS." {
		t.Errorf("review = %+v", r)
	}
	var rules []string
	for _, rule := range r.AllowedTools {
		rules = append(rules, rule.Text)
	}
	if !slices.Equal(rules, []string{"Bash(git diff:*)", "Bash(git log:*)", "Read"}) {
		t.Errorf("allowed-tools = %q", rules)
	}
	if c := got["component"]; c.Namespace != "frontend" || c.Description != "Make a component" || c.Expand("Button") != "# Make a component\n\nMake Button." {
		t.Errorf("component = %+v", c)
	}
	if d := got["deploy"]; d.Description != "Deploy: carefully" || d.Source != filepath.Join(lathe, "deploy.md") {
		t.Errorf("deploy = %+v", d)
	}

	want := map[string]string{ // file -> what its error says
		"badtype.md":  `key "description": line 2: want a string`,
		"badkey.md":   `key "descripton": line 2: unknown key`,
		"badrule.md":  `key "allowed-tools": line 2: permission rule "Bash(:*)"`,
		"badyaml.md":  `key "model": line 2: invalid YAML`,
		"unclosed.md": `no closing "---"`,
		"compact.md":  "/compact is a built-in command",
		"bad name.md": `"bad name" is not a command name`,
		"deploy.md":   "/deploy is already defined in " + lathe,
	}
	if len(problems) != len(want) {
		t.Errorf("%d problems, want %d: %v", len(problems), len(want), problems)
	}
	for _, p := range problems {
		var fe *FileError
		if !errors.As(p, &fe) {
			t.Errorf("problem %v is not a *FileError", p)
			continue
		}
		w, ok := want[filepath.Base(fe.File)]
		if !ok || !strings.Contains(p.Error(), w) || !strings.Contains(p.Error(), fe.File) {
			t.Errorf("problem %q, want it to name its file and say %q", p, w)
		}
	}

	for _, c := range cmds {
		if c.Builtin {
			t.Errorf("custom /%s is marked built-in", c.Name)
		}
	}
	s := NewSet(cmds)
	if c, _, _, _ := s.Resolve("/compact"); !c.Builtin {
		t.Error("/compact in a set is not built-in")
	}
	if c, args, _, err := s.Resolve("/review internal/x.go"); err != nil || c.Expand(args) != "Review internal/x.go." {
		t.Errorf("resolve review: %v, %v", c.Expand(args), err)
	}
	if m := s.Match("rvw"); len(m) == 0 || m[0].Name != "review" {
		t.Errorf("Match(rvw) = %v", names(m))
	}
}

func TestLoadMissingDir(t *testing.T) {
	cmds, problems := Load(filepath.Join(t.TempDir(), "nope"))
	if len(cmds) != 0 || len(problems) != 0 {
		t.Errorf("missing dir: %v, %v", cmds, problems)
	}
}
