package textfile

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/lathe-dev/lathe/internal/regfile"
)

func mustWrite(t *testing.T, path, content string, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	// WriteFile's mode is subject to the umask.
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
}

func content(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWriteAtomicRefuses(t *testing.T) {
	tests := []struct {
		name string
		// make creates what is at path, in dir.
		make func(t *testing.T, dir, path string)
		want string
	}{
		{"read-only file", func(t *testing.T, _, path string) {
			mustWrite(t, path, "old", 0o444)
		}, "is read-only (mode -r--r--r--)"},
		{"dangling link", func(t *testing.T, _, path string) {
			if err := os.Symlink("nowhere.txt", path); err != nil {
				t.Fatal(err)
			}
		}, "is a symbolic link to nowhere.txt, which does not exist"},
		{"fifo", func(t *testing.T, _, path string) {
			if err := syscall.Mkfifo(path, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "is a FIFO (named pipe), not a regular file"},
		{"link to a device", func(t *testing.T, _, path string) {
			if err := os.Symlink("/dev/null", path); err != nil {
				t.Fatal(err)
			}
		}, "is a character device, not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f.txt")
			tt.make(t, dir, path)
			before, _ := os.Lstat(path)
			err := WriteAtomic(path, []byte("new"), 0o644)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			after, _ := os.Lstat(path)
			if !os.SameFile(before, after) || before.Mode() != after.Mode() {
				t.Errorf("file replaced: %v -> %v", before.Mode(), after.Mode())
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("files left behind: %v", entries)
			}
		})
	}
}

// Only root can make a file owned by someone else to test with; root
// keeps the owner and group of a file it replaces, and everyone else is
// refused, as the replacement would be theirs.
func TestWriteAtomicKeepsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown a file to another user")
	}
	path := filepath.Join(t.TempDir(), "f.txt")
	mustWrite(t, path, "old", 0o640)
	if err := os.Chown(path, 4321, 8765); err != nil {
		t.Fatal(err)
	}
	if err := WriteAtomic(path, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if st.Uid != 4321 || st.Gid != 8765 || fi.Mode().Perm() != 0o640 {
		t.Errorf("owner %d:%d mode %v, want 4321:8765 0640", st.Uid, st.Gid, fi.Mode().Perm())
	}
	if got := content(t, path); got != "new" {
		t.Errorf("content = %q", got)
	}
}

func TestCheckWritableOtherOwner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.txt")
	mustWrite(t, path, "old", 0o666)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := *fi.Sys().(*syscall.Stat_t)
	st.Uid = uint32(os.Geteuid() + 1)
	err = checkWritable(path, fi, &st)
	var ref *RefusalError
	if os.Geteuid() == 0 {
		if err != nil {
			t.Errorf("root is refused: %v", err)
		}
		return
	}
	if !errors.As(err, &ref) || !strings.Contains(err.Error(), "is owned by someone else") {
		t.Errorf("err = %v, want a refusal saying it is owned by someone else", err)
	}
}

func TestWriteAtomicKeepsHardLinks(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	twin := filepath.Join(dir, "twin.txt")
	mustWrite(t, path, "the old, longer content\n", 0o640)
	if err := os.Link(path, twin); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(path)
	if err := WriteAtomic(path, []byte("new\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(path)
	if !os.SameFile(before, after) || after.Mode().Perm() != 0o640 {
		t.Errorf("file replaced or mode changed: %v", after.Mode())
	}
	if got := content(t, twin); got != "new\n" {
		t.Errorf("twin = %q, want the new content", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestWriteAtomicRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	mustWrite(t, path, "old", 0o644)
	stale := filepath.Join(dir, ".f.txt.lathe-12345")
	mustWrite(t, stale, "half", 0o600)
	// A write in progress holds its temporary file's lock.
	busy, err := createTemp(dir, "f.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	// Neither another file's temporary file nor a patch's backup is this
	// file's.
	other := filepath.Join(dir, ".g.txt.lathe-777")
	backup := filepath.Join(dir, ".f.txt.lathe-deleted-888")
	mustWrite(t, other, "x", 0o600)
	mustWrite(t, backup, "x", 0o600)

	if err := WriteAtomic(path, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temporary file kept: %v", err)
	}
	for _, p := range []string{busy.Name(), other, backup} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
}

func TestUseJournal(t *testing.T) {
	t.Cleanup(func() { journal.Store(nil) })
	work, state := t.TempDir(), t.TempDir()
	sub := filepath.Join(work, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	jdir := filepath.Join(state, "writes")
	if _, err := UseJournal(jdir, work); err != nil {
		t.Fatal(err)
	}
	// An interrupted write leaves its temporary file and its record; a
	// write in progress holds its lock.
	stale, err := createTemp(sub, "f.txt")
	if err != nil {
		t.Fatal(err)
	}
	stale.Close()
	busy, err := createTemp(sub, "g.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	outside, err := createTemp(state, "h.txt")
	if err != nil {
		t.Fatal(err)
	}
	outside.Close()
	// A record of a temporary file that is gone is dropped, wherever it
	// was.
	mustWrite(t, filepath.Join(jdir, "gone"), filepath.Join(state, ".x.lathe-1"), 0o600)

	removed, err := UseJournal(jdir, work)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != stale.Name() {
		t.Errorf("removed %q, want only %s", removed, stale.Name())
	}
	for _, p := range []string{busy.Name(), outside.Name()} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
	if records, _ := os.ReadDir(jdir); len(records) != 2 {
		t.Errorf("records = %v, want those of the busy and the outside file", records)
	}
	// A completed write leaves no record.
	discard(busy)
	if err := WriteAtomic(filepath.Join(sub, "f.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if records, _ := os.ReadDir(jdir); len(records) != 1 {
		t.Errorf("records = %v, want only the outside file's", records)
	}
}

func TestTarget(t *testing.T) {
	// Target opens nothing; it reports what a write would replace.
	path := filepath.Join(t.TempDir(), "f.txt")
	mustWrite(t, path, "x", 0o644)
	target, fi, err := Target(path)
	if err != nil || target != path || fi.Size() != 1 {
		t.Errorf("Target = %s, %v, %v", target, fi, err)
	}
	if _, _, err := Target(filepath.Dir(path)); !regfile.IsNotRegular(err) {
		t.Errorf("Target of a directory: err = %v, want not regular", err)
	}
}

func TestLatin1Writer(t *testing.T) {
	f := Format{Latin1: true, CRLF: true}
	got, err := f.Encode("café\nÿ")
	if err != nil || string(got) != "caf\xe9\r\n\xff" {
		t.Errorf("Encode = %q, %v", got, err)
	}
	var ue *UnencodableError
	if _, err := f.Encode("a € sign"); !errors.As(err, &ue) || ue.Rune != '€' {
		t.Errorf("Encode of € = %v, want an UnencodableError", err)
	}
}

// TestWriteAtomicKeepsContentOfFailedOverwrite fills a small file system
// while a file with two links is overwritten in place. The file is then
// half written, and the error names the one whole copy of the new
// content, which must survive the next write of the file.
func TestWriteAtomicKeepsContentOfFailedOverwrite(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	path := filepath.Join(dir, "f.txt")
	mustWrite(t, path, strings.Repeat("old\n", 2<<10), 0o644)
	if err := os.Link(path, filepath.Join(dir, "twin.txt")); err != nil {
		t.Fatal(err)
	}
	// The temporary file fits; growing the file in place to its size does
	// not.
	data := strings.Repeat("new\n", 10<<10)
	err := WriteAtomic(path, []byte(data), 0o644)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("err = %v, want ENOSPC", err)
	}
	_, kept, ok := strings.Cut(err.Error(), "its new content is whole in ")
	if !ok {
		t.Fatalf("err = %v, names no copy of the new content", err)
	}
	if got := content(t, kept); got != data {
		t.Fatalf("%s holds %d bytes, not the new content", kept, len(got))
	}
	// Whether or not this write finds room, it must not take the copy for
	// a stale temporary file.
	WriteAtomic(path, []byte("again\n"), 0o644)
	if got := content(t, kept); got != data {
		t.Errorf("%s holds %d bytes after the next write, not the new content", kept, len(got))
	}
}
