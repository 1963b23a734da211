package textfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/lathe-dev/lathe/internal/regfile"
)

// MaxSize is the largest file that the editing tools load whole to change
// it. Source files are far smaller; a larger file is refused with a
// *regfile.TooLargeError rather than held in memory.
const MaxSize = 64 << 20

// RefusalError reports a file that WriteAtomic will not replace, and why,
// worded for whoever asked for the write.
type RefusalError struct {
	Path string
	Why  string
}

func (e *RefusalError) Error() string { return e.Path + " " + e.Why }

// Target returns the file that a write to path changes: path itself, or
// for a symbolic link the file the link leads to, so that the link stays a
// link. It returns the target's information, or nil if there is no file
// there yet. A link that leads nowhere is a *RefusalError (writing through
// it would silently replace the link with a regular file), and a target
// that is not a regular file a *regfile.NotRegularError. It opens nothing.
func Target(path string) (string, fs.FileInfo, error) {
	lfi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	target := path
	if lfi.Mode()&fs.ModeSymlink != 0 {
		target, err = filepath.EvalSymlinks(path)
		if errors.Is(err, fs.ErrNotExist) {
			dest, _ := os.Readlink(path)
			return "", nil, &RefusalError{Path: path, Why: fmt.Sprintf("is a symbolic link to %s, which does not exist: write that path itself, or remove the link first", dest)}
		}
		if err != nil {
			return "", nil, err
		}
	}
	fi, err := regfile.Check(target)
	if err != nil {
		return "", nil, err
	}
	return target, fi, nil
}

// WriteAtomic replaces the file at path with data; see WriteAtomicFunc.
func WriteAtomic(path string, data []byte, perm fs.FileMode) error {
	return WriteAtomicFunc(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteAtomicFunc replaces the file at path with what write writes,
// buffered, so that it need not be held in memory whole. The file is
// replaced only if write succeeds, by renaming a temporary file over it,
// so that a crash never leaves it half written.
//
// A new file gets perm, less the umask; parent directories are created as
// needed. An existing file keeps its identity: its mode, owner and group,
// and, when it has several hard links, its inode, which is then
// overwritten in place once the new content is safely in the temporary
// file, so that every link sees the change. A file without write
// permission, or one whose owner or group the new file could not be given,
// is refused with a *RefusalError rather than replaced through its
// directory. When path is a symbolic link, the file it leads to is
// written; see Target.
//
// Temporary files that an interrupted write left beside the file are
// removed first.
func WriteAtomicFunc(path string, perm fs.FileMode, write func(io.Writer) error) error {
	path, fi, err := Target(path)
	if err != nil {
		return err
	}
	var st *syscall.Stat_t
	if fi != nil {
		st, _ = fi.Sys().(*syscall.Stat_t)
		if err := checkWritable(path, fi, st); err != nil {
			return err
		}
		perm = fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
	} else {
		perm &^= umask
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	removeStale(dir, filepath.Base(path))
	tmp, err := createTemp(dir, filepath.Base(path))
	if err != nil {
		return err
	}
	name := tmp.Name()
	// The temporary file is closed only once it has been renamed or
	// removed, so that its lock shows it in use until then.
	fail := func(err error) error {
		discard(tmp)
		return err
	}
	bw := bufio.NewWriterSize(tmp, 64<<10)
	if err := write(bw); err != nil {
		return fail(err)
	}
	if err := bw.Flush(); err != nil {
		return fail(err)
	}
	if st != nil && st.Nlink > 1 {
		return overwrite(path, tmp)
	}
	if st != nil {
		if err := keepOwner(path, tmp, st); err != nil {
			return fail(err)
		}
	}
	// CreateTemp makes the file 0600; chmod explicitly, after any chown,
	// which clears set-id bits, and so that the umask does not apply a
	// second time to an existing file's mode.
	if err := tmp.Chmod(perm); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := os.Rename(name, path); err != nil {
		return fail(err)
	}
	unrecord(name)
	return tmp.Close()
}

// discard removes the temporary file tmp and closes it.
func discard(tmp *os.File) {
	os.Remove(tmp.Name())
	unrecord(tmp.Name())
	tmp.Close()
}

// Writable returns the *RefusalError that WriteAtomic would return for
// the existing regular file path whose information is fi, or nil, so that
// a caller changing several files can check them all before writing any.
func Writable(path string, fi fs.FileInfo) error {
	st, _ := fi.Sys().(*syscall.Stat_t)
	return checkWritable(path, fi, st)
}

// checkWritable refuses a file that its mode marks read-only, and one
// owned by another user when the replacement could not be given to that
// user. Only root can give a file away, so root keeps the owner (see
// keepOwner) and everyone else is refused: the rename would otherwise
// hand the file to them.
func checkWritable(path string, fi fs.FileInfo, st *syscall.Stat_t) error {
	mode := fi.Mode().Perm()
	euid := os.Geteuid()
	readOnly := mode&0o222 == 0
	if st != nil && int(st.Uid) == euid {
		readOnly = mode&0o200 == 0
	}
	if readOnly {
		return &RefusalError{Path: path, Why: fmt.Sprintf("is read-only (mode %v): it was not changed; if it should be, make it writable first (chmod u+w)", mode)}
	}
	if st != nil && int(st.Uid) != euid && euid != 0 {
		return &RefusalError{Path: path, Why: fmt.Sprintf("is owned by someone else (uid %d): replacing it would make a copy owned by you (uid %d), so it was not changed", st.Uid, euid)}
	}
	return nil
}

// keepOwner gives tmp the owner and group of the file it replaces.
func keepOwner(path string, tmp *os.File, st *syscall.Stat_t) error {
	tfi, err := tmp.Stat()
	if err != nil {
		return err
	}
	tst, ok := tfi.Sys().(*syscall.Stat_t)
	if !ok || (tst.Uid == st.Uid && tst.Gid == st.Gid) {
		return nil
	}
	if err := tmp.Chown(int(st.Uid), int(st.Gid)); err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return &RefusalError{Path: path, Why: fmt.Sprintf("belongs to group %d, which you cannot give files to: replacing it would change its group, so it was not changed", st.Gid)}
		}
		return err
	}
	return nil
}

// overwrite copies the complete new content in tmp over the file at path,
// in place, for a file with several hard links, which a rename would
// split from its twins. While it copies, the file is half old and half
// new, and tmp holds the only whole copy of the new content: tmp first
// takes a name that no removal of stale temporary files touches, so that
// neither a failed copy nor a Lathe killed in the middle of one loses it.
func overwrite(path string, tmp *os.File) error {
	defer tmp.Close()
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		_, err = tmp.Seek(0, io.SeekStart)
	}
	var f *os.File
	if err == nil {
		f, err = os.OpenFile(path, os.O_WRONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	}
	if err != nil {
		discard(tmp)
		return err
	}
	// Nothing has changed yet: a file swapped for a FIFO or device in the
	// meantime is left alone.
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		discard(tmp)
		if err == nil {
			err = &regfile.NotRegularError{Path: path, Mode: fi.Mode()}
		}
		return err
	}
	kept, err := keep(path, tmp)
	if err != nil {
		f.Close()
		discard(tmp)
		return fmt.Errorf("overwrite %s in place: %w", path, err)
	}
	_, err = io.Copy(f, tmp)
	if err == nil {
		err = f.Truncate(size)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("overwrite %s in place: %w; its new content is whole in %s", path, err, kept)
	}
	os.Remove(kept)
	return nil
}

// keep renames the temporary file tmp of a write to path to a name that no
// later write takes for a stale temporary file to remove, and returns it.
func keep(path string, tmp *os.File) (string, error) {
	name := tmp.Name()
	digits := strings.TrimPrefix(filepath.Base(name), tempPrefix(filepath.Base(path)))
	kept := filepath.Join(filepath.Dir(name), tempPrefix(filepath.Base(path))+"unsaved-"+digits)
	if err := os.Rename(name, kept); err != nil {
		return "", err
	}
	unrecord(name)
	return kept, nil
}
