package composer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	home, state := t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("XDG_STATE_HOME", state)
	repo := t.TempDir()
	ws := filepath.Join(repo, "sub")
	if err := os.MkdirAll(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(home, ".claude", "commands", "mine.md"), []byte("My command.\n"))
	writeFile(t, filepath.Join(repo, ".claude", "commands", "root.md"), []byte("Root command.\n"))
	writeFile(t, filepath.Join(ws, ".lathe", "commands", "here.md"), []byte("---\ndescription: Here\n---\nHere $1.\n"))
	writeFile(t, filepath.Join(ws, ".lathe", "commands", "bad.md"), []byte("---\nmodel: [x\n---\n"))

	opts, problems := Load(ws)
	if len(problems) != 1 || !strings.Contains(problems[0].Error(), "bad.md") {
		t.Errorf("problems = %v", problems)
	}
	if opts.Root != ws {
		t.Errorf("root = %q", opts.Root)
	}
	for _, name := range []string{"mine", "root", "here", "compact"} {
		if _, ok := opts.Commands.Lookup(name); !ok {
			t.Errorf("no /%s", name)
		}
	}
	if err := opts.History.Add("remember me"); err != nil {
		t.Fatal(err)
	}
	again, problems := Load(ws)
	if len(problems) != 1 || again.History.Len() != 1 || again.History.At(1) != "remember me" {
		t.Errorf("history not kept: %d entries, %v", again.History.Len(), problems)
	}
	files, _ := filepath.Glob(filepath.Join(state, "lathe", "history", "*.jsonl"))
	if len(files) != 1 {
		t.Errorf("history files under the state dir: %v", files)
	}
	// Another workspace has its own.
	if other, _ := Load(repo); other.History.Len() != 0 {
		t.Errorf("the repository root shares the workspace's history")
	}
}
