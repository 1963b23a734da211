package instructions

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestLoadOrderAndFallback(t *testing.T) {
	tmp := t.TempDir()
	user := filepath.Join(tmp, "user")
	repo := filepath.Join(tmp, "repo")
	cwd := filepath.Join(repo, "a", "b")
	mkdir(t, filepath.Join(repo, ".git"))
	mkdir(t, cwd)
	write(t, filepath.Join(user, "AGENTS.md"), "Be terse.\n")
	// Above the repository: not read.
	write(t, filepath.Join(tmp, "AGENTS.md"), "outside\n")
	write(t, filepath.Join(repo, "AGENTS.md"), "\ufeffRoot rules.\r\nUse tabs.\r\n")
	write(t, filepath.Join(repo, "CLAUDE.md"), "shadowed by AGENTS.md\n")
	write(t, filepath.Join(repo, "a", "CLAUDE.md"), "\n\nClaude rules for a.\n\n")
	write(t, filepath.Join(cwd, "AGENTS.md"), "  \n")

	doc, err := Load(user, cwd)
	if err != nil {
		t.Fatal(err)
	}
	want := "# AGENTS.md (user instructions)\n\nBe terse.\n" +
		"\n# AGENTS.md (repo root)\n\nRoot rules.\nUse tabs.\n" +
		"\n# a/CLAUDE.md\n\nClaude rules for a.\n"
	if doc.Text != want {
		t.Errorf("Text =\n%q\nwant\n%q", doc.Text, want)
	}
	wantFiles := []string{
		filepath.Join(user, "AGENTS.md"),
		filepath.Join(repo, "AGENTS.md"),
		filepath.Join(repo, "a", "CLAUDE.md"),
	}
	if strings.Join(doc.Files, "\n") != strings.Join(wantFiles, "\n") || doc.Truncated {
		t.Errorf("Files = %q, Truncated = %v; want %q, false", doc.Files, doc.Truncated, wantFiles)
	}
}

func TestLoadOutsideRepo(t *testing.T) {
	tmp := t.TempDir()
	cwd := filepath.Join(tmp, "proj")
	write(t, filepath.Join(tmp, "AGENTS.md"), "parent\n")
	write(t, filepath.Join(cwd, "AGENTS.md"), "here\n")
	doc, err := Load("", cwd)
	if err != nil {
		t.Fatal(err)
	}
	if want := "# AGENTS.md (working directory)\n\nhere\n"; doc.Text != want {
		t.Errorf("Text = %q, want %q", doc.Text, want)
	}
}

func TestLoadNothing(t *testing.T) {
	tmp := t.TempDir()
	doc, err := Load(filepath.Join(tmp, "no-such-dir"), tmp)
	if err != nil || doc.Text != "" || len(doc.Files) != 0 {
		t.Errorf("Load = %+v, %v; want an empty Doc", doc, err)
	}
}

func TestLoadUnreadable(t *testing.T) {
	tmp := t.TempDir()
	path := filepath.Join(tmp, "AGENTS.md")
	mkdir(t, path)
	_, err := Load("", tmp)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v does not name %s", err, path)
	}
}

func TestTruncation(t *testing.T) {
	tmp := t.TempDir()
	repo := filepath.Join(tmp, "repo")
	cwd := filepath.Join(repo, "sub", "deeper")
	mkdir(t, filepath.Join(repo, ".git"))
	line := strings.Repeat("x", 99) + "\n"
	root := strings.Repeat(line, 200)  // 20,000 bytes
	sub := strings.Repeat(line, 200)   // cut
	deeper := strings.Repeat(line, 10) // left out
	write(t, filepath.Join(repo, "AGENTS.md"), root)
	write(t, filepath.Join(repo, "sub", "AGENTS.md"), sub)
	write(t, filepath.Join(cwd, "AGENTS.md"), deeper)

	doc, err := Load("", cwd)
	if err != nil {
		t.Fatal(err)
	}
	if !doc.Truncated {
		t.Error("Truncated not set")
	}
	if len(doc.Files) != 2 || doc.Files[1] != filepath.Join(repo, "sub", "AGENTS.md") {
		t.Errorf("Files = %q, want the root file and the cut one", doc.Files)
	}
	note := "\n[Instructions truncated at 32 KiB. Read sub/AGENTS.md, sub/deeper/AGENTS.md for the rest.]\n"
	body, ok := strings.CutSuffix(doc.Text, note)
	if !ok {
		t.Fatalf("Text does not end with the note %q:\n...%s", note, doc.Text[len(doc.Text)-200:])
	}
	if len(body) > MaxBytes || len(body) < MaxBytes-len(line) {
		t.Errorf("instructions are %d bytes, want at most %d and cut at the last whole line", len(body), MaxBytes)
	}
	if !strings.Contains(body, "# AGENTS.md (repo root)\n\n"+root) {
		t.Error("the root file is not whole")
	}
	if !strings.HasSuffix(body, line) {
		t.Error("the cut file does not end on a whole line")
	}
}

func TestCut(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"ab\ncd\nef", 7, "ab\ncd\n"},
		{"ab\ncd\nef", 5, "ab\n"},
		{"abcdef", 4, "abcd"},
		{"aé", 2, "a"},   // é is 2 bytes: cut inside it
		{"aé", 3, "aé"},  // cut right after it
		{"a€b", 3, "a"},  // € is 3 bytes
		{"a€b", 4, "a€"}, // whole
		{"€", 2, ""},
		{"x", 0, ""},
	}
	for _, tt := range tests {
		got := cut(tt.s, tt.n)
		if got != tt.want || !utf8.ValidString(got) {
			t.Errorf("cut(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

// A FIFO, a device or a huge file in place of AGENTS.md is refused with an
// error naming it, without opening it for reading: a FIFO would block the
// start until something wrote to it, and /dev/zero would never end.
func TestLoadRefusesSpecialAndHugeFiles(t *testing.T) {
	tests := []struct {
		name  string
		make  func(t *testing.T, path string)
		wants string
	}{
		{"fifo", func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "is a FIFO (named pipe), not a regular file"},
		{"link to /dev/zero", func(t *testing.T, path string) {
			if err := os.Symlink("/dev/zero", path); err != nil {
				t.Fatal(err)
			}
		}, "is a character device, not a regular file"},
		{"huge", func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, MaxFileSize+1); err != nil {
				t.Fatal(err)
			}
		}, "is too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			path := filepath.Join(tmp, "AGENTS.md")
			tt.make(t, path)
			_, err := Load("", tmp)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.wants) {
				t.Errorf("error = %v, want one naming %s that says %q", err, path, tt.wants)
			}
		})
	}
}
