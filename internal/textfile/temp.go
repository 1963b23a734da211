package textfile

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/lathe-dev/lathe/internal/regfile"
)

// A write's temporary file is named .NAME.lathe-NNNN beside the file
// NAME it replaces, and is locked (flock) from its creation until it has
// been renamed or removed. A temporary file that is not locked was left by
// a write that was interrupted, and can be removed: a lock dies with the
// process that holds it, however it ends.

// tempPrefix returns the start of the names of base's temporary files.
func tempPrefix(base string) string { return "." + base + ".lathe-" }

// isTempOf reports whether name is a temporary file of base: its prefix
// followed by the digits that os.CreateTemp puts for "*". The backups
// that a patch makes of a file it deletes (.NAME.lathe-deleted-NNNN) and
// the new content of a failed overwrite (.NAME.lathe-unsaved-NNNN) are
// not, so they are never removed as stale.
func isTempOf(name, base string) bool {
	digits, ok := strings.CutPrefix(name, tempPrefix(base))
	return ok && digits != "" && strings.Trim(digits, "0123456789") == ""
}

// createTemp creates and locks a new temporary file for base in dir. A
// temporary file is open to removal between its creation and its lock, so
// it is checked to be still in place once locked, and made anew if not.
func createTemp(dir, base string) (*os.File, error) {
	for range 3 {
		f, err := os.CreateTemp(dir, tempPrefix(base)+"*")
		if err != nil {
			return nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			os.Remove(f.Name())
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		if same(f, f.Name()) {
			record(f.Name())
			return f, nil
		}
		f.Close()
	}
	return nil, fmt.Errorf("create a temporary file for %s in %s: removed by another process each time", base, dir)
}

// same reports whether the open file f is still the file at path.
func same(f *os.File, path string) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	pfi, err := os.Lstat(path)
	return err == nil && os.SameFile(fi, pfi)
}

// removeStale removes the temporary files of base in dir that no write
// holds, so that an interrupted write leaves nothing behind once the file
// is written again.
func removeStale(dir, base string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	for _, name := range names {
		if isTempOf(name, base) {
			removeIfStale(filepath.Join(dir, name))
		}
	}
}

// removeIfStale removes the temporary file at path unless a write holds
// its lock, and reports whether it is gone. Failures leave the file for a
// later attempt: a stale file costs only space.
func removeIfStale(path string) bool {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	if err != nil {
		return false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return false
	}
	if !same(f, path) {
		return true
	}
	if err := os.Remove(path); err != nil {
		return false
	}
	unrecord(path)
	return true
}

// journal is the directory where the temporary files of writes in progress
// are recorded, one small file each, or "" for none; see UseJournal.
var journal atomic.Pointer[string]

// UseJournal records, from now on, the temporary file of each write in
// progress in the directory dir, so that a later start can find the ones
// that a crash or kill left behind without searching the tree for them.
// It removes at once the temporary files recorded there that lie under
// workspace and that no write holds any more, and returns their paths.
// The journal costs one small file per write in progress; a record of a
// temporary file that is gone is dropped, whatever its workspace.
func UseJournal(dir, workspace string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("journal of writes: %w", err)
	}
	journal.Store(&dir)
	// Writes go to files by their real paths.
	if real, err := filepath.EvalSymlinks(workspace); err == nil {
		workspace = real
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("journal of writes: %w", err)
	}
	var removed []string
	for _, e := range entries {
		rec := filepath.Join(dir, e.Name())
		b, err := regfile.ReadFile(rec, 4<<10)
		if err != nil {
			continue
		}
		tmp := string(b)
		_, statErr := os.Lstat(tmp)
		switch {
		case !filepath.IsAbs(tmp) || !isTempOf(filepath.Base(tmp), tempBase(tmp)):
			// Not a record of ours: what it names is left alone.
			os.Remove(rec)
		case errors.Is(statErr, fs.ErrNotExist):
			os.Remove(rec)
		case within(workspace, tmp) && removeIfStale(tmp):
			removed = append(removed, tmp)
			os.Remove(rec)
		}
	}
	return removed, nil
}

// tempBase returns the NAME of a temporary file's path, .NAME.lathe-NNNN.
func tempBase(tmp string) string {
	name := strings.TrimPrefix(filepath.Base(tmp), ".")
	if i := strings.LastIndex(name, ".lathe-"); i >= 0 {
		return name[:i]
	}
	return ""
}

func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// recordName is the name of the journal's record of the temporary file tmp.
func recordName(tmp string) string {
	sum := sha256.Sum256([]byte(tmp))
	return hex.EncodeToString(sum[:16])
}

// record notes the temporary file tmp in the journal. A record that cannot
// be written costs only the cleanup at the next start, so it is not an
// error for the write.
func record(tmp string) {
	if dir := journal.Load(); dir != nil {
		os.WriteFile(filepath.Join(*dir, recordName(tmp)), []byte(tmp), 0o600)
	}
}

// unrecord drops the journal's record of the temporary file tmp.
func unrecord(tmp string) {
	if dir := journal.Load(); dir != nil {
		os.Remove(filepath.Join(*dir, recordName(tmp)))
	}
}
