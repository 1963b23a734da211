package sandbox

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestDotenvsWithoutWatcher checks that a workspace inotify cannot
// follow is walked for each plan instead: nothing made in it is missed.
func TestDotenvsWithoutWatcher(t *testing.T) {
	root := t.TempDir()
	for _, rel := range []string{".env", "a/b/.env.test", ".env.example", ".git/.env", "node_modules/pkg/.env"} {
		path := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d := &dotenvs{root: root, fd: -1}
	got := d.files()
	slices.Sort(got)
	want := []string{filepath.Join(root, ".env"), filepath.Join(root, "a/b/.env.test")}
	if !slices.Equal(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
}

// TestDotenvsWatch checks the watcher's account: a file made in a
// directory made since, one moved in, and a directory moved within the
// workspace.
func TestDotenvsWatch(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "old/inner"), 0o755); err != nil {
		t.Fatal(err)
	}
	d := newDotenvs(root)
	defer d.close()
	if d.fd < 0 {
		t.Skip("no inotify here")
	}
	if got := d.files(); len(got) != 0 {
		t.Fatalf("files of an empty workspace = %q", got)
	}
	mustWrite := func(rel string) {
		t.Helper()
		path := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite("made/now/.env")
	outside := filepath.Join(t.TempDir(), "x")
	if err := os.WriteFile(outside, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(outside, filepath.Join(root, ".env.local")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(root, "old"), filepath.Join(root, "moved")); err != nil {
		t.Fatal(err)
	}
	mustWrite("moved/inner/.env.dev")
	got := d.files()
	slices.Sort(got)
	want := []string{filepath.Join(root, ".env.local"), filepath.Join(root, "made/now/.env"), filepath.Join(root, "moved/inner/.env.dev")}
	if !slices.Equal(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
}
