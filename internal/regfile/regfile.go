// Package regfile opens the files Lathe reads — configuration, project
// instructions, session logs and the targets of the file tools — so that
// none of them can hang it or exhaust its memory.
//
// A path may name a FIFO (opening it for reading blocks until a writer
// comes), a device such as /dev/zero (endless) or /dev/tty (steals the
// user's keystrokes), a socket, or a symlink to one of those. Open refuses
// every file that is not regular before opening it for reading, and checks
// again on the descriptor it opened, so that a file swapped in between is
// caught too. ReadFile also caps the size it will load.
package regfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// NotRegularError reports a path that exists but is not a regular file.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a regular file", e.Path, Describe(e.Mode))
}

// TooLargeError reports a file larger than the caller accepts.
type TooLargeError struct {
	Path  string
	Size  int64
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is too large: %s, more than the limit of %s", e.Path, FormatSize(e.Size), FormatSize(e.Limit))
}

// Describe names the type of a file mode for an error message: "a
// directory", "a FIFO (named pipe)", "a character device", and so on.
func Describe(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO (named pipe)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "a special file"
}

// Check returns the file's information if path, after following symlinks,
// is a regular file, and a *NotRegularError if it is anything else. It
// opens nothing.
func Check(path string) (fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &NotRegularError{Path: path, Mode: fi.Mode()}
	}
	return fi, nil
}

// Open opens path for reading if it is a regular file. It stats the path
// first and opens nothing else; it then opens without blocking and without
// taking a controlling terminal, and checks the descriptor, so that a
// FIFO or device put in the file's place in between is refused too.
func Open(path string) (*os.File, fs.FileInfo, error) {
	return OpenFile(path, os.O_RDONLY)
}

// OpenFile is Open with other flags, such as os.O_RDWR|os.O_APPEND for a
// log that is read and then appended to. It creates nothing.
func OpenFile(path string, flag int) (*os.File, fs.FileInfo, error) {
	if _, err := Check(path); err != nil {
		return nil, nil, err
	}
	return open(path, flag)
}

// OpenListed is Open for a file that a directory listing reported with
// type typ (fs.DirEntry.Type), which stands in for Open's stat of the
// path: a search that opens thousands of files saves a system call on
// each. Anything but a regular file is refused unopened, and the
// descriptor is checked as Open checks it.
func OpenListed(path string, typ fs.FileMode) (*os.File, fs.FileInfo, error) {
	if !typ.IsRegular() {
		return nil, nil, &NotRegularError{Path: path, Mode: typ}
	}
	return open(path, os.O_RDONLY)
}

func open(path string, flag int) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, flag&^os.O_CREATE|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, &NotRegularError{Path: path, Mode: fi.Mode()}
	}
	return f, fi, nil
}

// ReadFile reads the whole of the regular file path, refusing a file of
// more than limit bytes with a *TooLargeError. The limit is checked on
// the bytes read, not only the size reported, so a file that grows while
// it is read is refused too rather than loaded whole.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, fi, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Size() > limit {
		return nil, &TooLargeError{Path: path, Size: fi.Size(), Limit: limit}
	}
	// One buffer of the size the file reports, and room to see that it
	// has grown: io.ReadAll starts small and grows by copying, which for
	// a 5 MiB file allocates twice its size. A file that reports no size,
	// such as one under /proc, grows the buffer as it is read.
	var buf bytes.Buffer
	buf.Grow(int(fi.Size()) + bytes.MinRead)
	if _, err := buf.ReadFrom(io.LimitReader(f, limit+1)); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	b := buf.Bytes()
	if int64(len(b)) > limit {
		return nil, &TooLargeError{Path: path, Size: int64(len(b)), Limit: limit}
	}
	return b, nil
}

// IsNotRegular reports whether err is or wraps a *NotRegularError.
func IsNotRegular(err error) bool {
	var nr *NotRegularError
	return errors.As(err, &nr)
}

// FormatSize prints a byte count for people: 512 B, 3.1 KiB, 48.0 MiB.
func FormatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
