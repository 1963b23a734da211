package ignore

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// openDir opens the directory at path for listing. os.Open would cost
// five more system calls a directory, most of a walk's: it tries to
// register the descriptor with the poller, which refuses a directory,
// and sets and clears O_NONBLOCK around that. O_DIRECTORY also means a
// FIFO put in a directory's place is refused, not opened and waited on.
func openDir(path string) (*os.File, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return os.NewFile(uintptr(fd), path), nil
	}
}

// ModTime returns the modification time, in nanoseconds since 1970, of
// the file e names, following a symbolic link as os.Stat does. It stats
// the name relative to the open directory, which costs the kernel less
// than resolving the whole path again and allocates nothing.
func (e *Entry) ModTime() (int64, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(int(e.dirfd), e.Name(), &st, 0); err != nil {
		return 0, fmt.Errorf("stat %s: %w", e.Path, err)
	}
	return st.Mtim.Nano(), nil
}
