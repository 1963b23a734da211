package instructions

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadMemory(t *testing.T) {
	tmp := t.TempDir()
	user := filepath.Join(tmp, "user")
	repo := filepath.Join(tmp, "repo")
	cwd := filepath.Join(repo, "sub")
	mkdir(t, filepath.Join(repo, ".git"))
	mkdir(t, cwd)

	if doc, err := LoadMemory(user, cwd); err != nil || doc.Text != "" {
		t.Fatalf("no memory files: %q, %v", doc.Text, err)
	}
	write(t, filepath.Join(user, "memory.md"), "I prefer tabs.\n")
	write(t, filepath.Join(repo, ".lathe", "memory.md"), "\ufeffTests need -race.\r\n")
	doc, err := LoadMemory(user, cwd)
	if err != nil {
		t.Fatal(err)
	}
	userFile := filepath.Join(user, "memory.md")
	want := "# " + userFile + " (user memory)\n\nI prefer tabs.\n\n# .lathe/memory.md (project memory)\n\nTests need -race.\n"
	if doc.Text != want {
		t.Errorf("Text = %q\nwant %q", doc.Text, want)
	}
	if u, p := MemoryFiles(user, cwd); u != userFile || p != filepath.Join(repo, ".lathe", "memory.md") {
		t.Errorf("MemoryFiles = %s, %s", u, p)
	}
	// Outside a repository the project is the working directory.
	if _, p := MemoryFiles("", tmp); p != filepath.Join(tmp, ".lathe", "memory.md") {
		t.Errorf("outside a repository: %s", p)
	}
}

func TestLoadMemoryIsCapped(t *testing.T) {
	repo := t.TempDir()
	project := filepath.Join(repo, ".lathe", "memory.md")
	write(t, project, strings.Repeat("- a fact worth keeping\n", 1000))
	doc, err := LoadMemory("", repo)
	if err != nil {
		t.Fatal(err)
	}
	note := "\n[Memory truncated at 8 KiB. Read " + project + " for the rest.]\n"
	if !doc.Truncated || !strings.HasSuffix(doc.Text, note) || len(doc.Text) > MaxMemoryBytes+len(note) {
		t.Errorf("capped memory: %d bytes, truncated %v, ends %q", len(doc.Text), doc.Truncated, doc.Text[len(doc.Text)-80:])
	}
}

func TestLoadMemoryNamesAFileItCannotRead(t *testing.T) {
	repo := t.TempDir()
	// A directory where the file should be.
	mkdir(t, filepath.Join(repo, ".lathe", "memory.md"))
	_, err := LoadMemory("", repo)
	if err == nil || !strings.Contains(err.Error(), "load memory") || !strings.Contains(err.Error(), filepath.Join(".lathe", "memory.md")) {
		t.Errorf("err = %v; want one naming the file", err)
	}
}
