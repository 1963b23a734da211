package policy

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDecide(t *testing.T) {
	tests := []struct {
		name string
		mode Mode
		call Call
		want Verdict
	}{
		{"plan allows reads", Plan, Call{Tool: "Read", Kind: Read}, Allow},
		{"plan denies edits", Plan, Call{Tool: "Edit", Kind: Edit, Writes: []string{"/w/a.go"}}, Deny},
		{"plan denies commands", Plan, Call{Tool: "Bash", Kind: Exec}, Deny},
		{"acceptEdits allows edits in workspace", AcceptEdits, Call{Tool: "Edit", Kind: Edit, Writes: []string{"/w/sub/a.go"}}, Allow},
		{"acceptEdits asks for edits outside", AcceptEdits, Call{Tool: "Write", Kind: Edit, Writes: []string{"/etc/passwd"}}, Ask},
		{"acceptEdits asks for sibling with shared prefix", AcceptEdits, Call{Tool: "Write", Kind: Edit, Writes: []string{"/wx/a"}}, Ask},
		{"acceptEdits asks for parent escape", AcceptEdits, Call{Tool: "apply_patch", Kind: Edit, Writes: []string{"/w/../a"}}, Ask},
		{"acceptEdits asks for commands", AcceptEdits, Call{Tool: "Bash", Kind: Exec}, Ask},
		{"bypass allows commands", BypassPermissions, Call{Tool: "shell", Kind: Exec}, Allow},
		{"bypass allows edits anywhere", BypassPermissions, Call{Tool: "Write", Kind: Edit, Writes: []string{"/etc/x"}}, Allow},
		{"acceptEdits asks for .lathe", AcceptEdits, Call{Tool: "Write", Kind: Edit, Writes: []string{"/w/.lathe/config.toml"}}, Ask},
		{"acceptEdits asks for nested .lathe", AcceptEdits, Call{Tool: "Edit", Kind: Edit, Writes: []string{"/w/sub/.lathe/x"}}, Ask},
		{"acceptEdits asks for .git/config", AcceptEdits, Call{Tool: "Edit", Kind: Edit, Writes: []string{"/w/.git/config"}}, Ask},
		{"acceptEdits asks for .GIT/Config", AcceptEdits, Call{Tool: "Edit", Kind: Edit, Writes: []string{"/w/.GIT/Config"}}, Ask},
		{"acceptEdits asks for .Lathe", AcceptEdits, Call{Tool: "Write", Kind: Edit, Writes: []string{"/w/.Lathe/config.toml"}}, Ask},
		{"acceptEdits asks for a .git file", AcceptEdits, Call{Tool: "Write", Kind: Edit, Writes: []string{"/w/wt/.git"}}, Ask},
		{"acceptEdits asks for worktree config", AcceptEdits, Call{Tool: "Write", Kind: Edit, Writes: []string{"/w/.git/worktrees/x/config.worktree"}}, Ask},
		{"acceptEdits asks among several paths", AcceptEdits, Call{Tool: "apply_patch", Kind: Edit, Writes: []string{"/w/a.go", "/w/.lathe/config.toml"}}, Ask},
		{"acceptEdits asks for a git hook", AcceptEdits, Call{Tool: "Write", Kind: Edit, Writes: []string{"/w/.git/hooks/pre-commit"}}, Ask},
		{"acceptEdits asks for a submodule's config", AcceptEdits, Call{Tool: "Edit", Kind: Edit, Writes: []string{"/w/.git/modules/lib/config"}}, Ask},
		{"acceptEdits asks for a submodule's hook", AcceptEdits, Call{Tool: "Write", Kind: Edit, Writes: []string{"/w/.git/modules/a/modules/b/hooks/post-checkout"}}, Ask},
		{"acceptEdits allows other .git files", AcceptEdits, Call{Tool: "Write", Kind: Edit, Writes: []string{"/w/.git/info/exclude"}}, Allow},
		{"acceptEdits allows lookalikes", AcceptEdits, Call{Tool: "Write", Kind: Edit, Writes: []string{"/w/.lathe.md", "/w/git/config", "/w/.gitconfig"}}, Allow},
		{"plan denies .lathe", Plan, Call{Tool: "Write", Kind: Edit, Writes: []string{"/w/.lathe/config.toml"}}, Deny},
		{"bypass allows .lathe", BypassPermissions, Call{Tool: "Write", Kind: Edit, Writes: []string{"/w/.lathe/config.toml"}}, Allow},
		{"bypass allows .git/config", BypassPermissions, Call{Tool: "Edit", Kind: Edit, Writes: []string{"/w/.git/config"}}, Allow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Policy{Mode: tt.mode, Workspace: "/w"}
			d := p.Decide(t.Context(), &tt.call)
			if d.Verdict != tt.want {
				t.Fatalf("Decide(%+v) = %v (%s), want %v", tt.call, d.Verdict, d.Reason, tt.want)
			}
			if d.Verdict != Allow && d.Reason == "" {
				t.Errorf("a refusal must say why")
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	for _, s := range []string{"plan", "default", "acceptEdits", "auto", "bypassPermissions"} {
		if _, err := ParseMode(s); err != nil {
			t.Errorf("ParseMode(%q): %v", s, err)
		}
	}
	if _, err := ParseMode("yolo"); err == nil {
		t.Error("ParseMode(yolo) succeeded")
	}
}

// TestDecideResolvesLinks checks that a link into .lathe/ does not hide it,
// whether it names the directory or a file that does not exist yet.
func TestDecideResolvesLinks(t *testing.T) {
	w := t.TempDir()
	if err := os.Mkdir(filepath.Join(w, ".lathe"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(".lathe", filepath.Join(w, "settings")); err != nil {
		t.Fatal(err)
	}
	p := &Policy{Mode: AcceptEdits, Workspace: w}
	d := p.Decide(t.Context(), &Call{Tool: "Write", Kind: Edit, Writes: []string{filepath.Join(w, "settings", "config.toml")}})
	if d.Verdict != Ask {
		t.Errorf("a write through a link into .lathe got %v, want Ask", d.Verdict)
	}
}

func TestModeWider(t *testing.T) {
	modes := []Mode{Plan, Default, AcceptEdits, Auto, BypassPermissions}
	for i, m := range modes {
		for j, o := range modes {
			if got := m.Wider(o); got != (i > j) {
				t.Errorf("%s.Wider(%s) = %v", m, o, got)
			}
		}
	}
}

// A command is parsed for the rules that will look into it; one that does
// not parse is kept as written with no script, and the modes decide all
// commands alike. No rule or file decides yet, and every call runs under
// the one profile there is.
func TestDecideCommand(t *testing.T) {
	p := Policy{Mode: AcceptEdits, Workspace: "/w"}
	for _, cmd := range []string{"go test ./... && git status", "echo 'unterminated"} {
		c := Call{Tool: "Bash", Kind: Exec, Dir: "/w", Command: cmd, Script: ParseCommand(cmd)}
		d := p.Decide(t.Context(), &c)
		if d.Verdict != Ask || d.Rule != "" || d.Source != "" || d.Profile.HideEnv != nil {
			t.Errorf("Decide(%q) = %+v, want Ask from the mode alone", cmd, d)
		}
	}
	if f := ParseCommand("go test ./... && git status"); f == nil || len(f.Stmts) != 1 {
		t.Errorf("ParseCommand = %v, want one statement", f)
	}
	if f := ParseCommand("echo 'unterminated"); f != nil {
		t.Errorf("ParseCommand(unterminated) = %v, want nil", f)
	}
}
