package checkpoint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/lathe-dev/lathe/internal/regfile"
)

// watcher tells a Store which paths of the workspace changed since the
// last snapshot, so that the snapshot re-reads those alone instead of
// every file's status (the lstat of 10,000 files alone takes longer than
// a snapshot may). It is an inotify instance with a watch on every
// directory of the workspace but .git, nested repositories and the state
// directory.
//
// It runs no goroutine: inotify queues an event before the system call
// that changed the file returns, so reading the queue dry when a snapshot
// starts sees every change made before it. What inotify cannot report
// makes the snapshot a full one: a full queue, a directory moved (its
// watches would name the old path), a .gitignore changed, too many paths
// at once. Some changes are not reported at all: writes through a shared
// memory mapping, writes through a hard link in a directory outside the
// workspace, changes another machine makes on a network file system, and
// changes to ignore files outside the workspace (.git/info/exclude,
// core.excludesFile). A full snapshot sees them: every Store starts with
// one, and takes one again at least every fullEvery.
//
// Concurrency: the Store's mutex guards it.
type watcher struct {
	fd   int
	root string            // the workspace, absolute
	skip func(string) bool // whether a directory (relative, slash-separated) is not the workspace's
	dirs map[int32]string  // the directory of each watch, relative ("" is the root)
	buf  []byte
}

// maxWatches bounds the directories a workspace may have for a watcher;
// one with more gets full snapshots, as without a watcher.
const maxWatches = 8192

// maxChanged bounds the paths an incremental snapshot passes to git; past
// it a full snapshot is as fast.
const maxChanged = 512

const watchMask = unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_CREATE | unix.IN_DELETE |
	unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF |
	unix.IN_DONT_FOLLOW | unix.IN_ONLYDIR | unix.IN_EXCL_UNLINK

// newWatcher watches root's directories. It fails, and the Store takes
// full snapshots, where inotify is unavailable, its per-user limits are
// reached, or the workspace has too many directories.
func newWatcher(root string, skip func(string) bool) (*watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, inotifyError("inotify_init1", err)
	}
	w := &watcher{fd: fd, root: root, skip: skip, dirs: map[int32]string{}, buf: make([]byte, 64<<10)}
	if err := w.addTree(""); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

// addTree watches dir and every directory under it. A watch is added
// before its directory is read, so that a directory made in it meanwhile
// is either read or reported. It fails when the watches would be too
// many, or cannot be added for another reason than the directory going
// away.
func (w *watcher) addTree(dir string) error {
	if w.skip(dir) {
		return nil
	}
	abs := filepath.Join(w.root, filepath.FromSlash(dir))
	if dir != "" {
		// A nested repository is recorded as its commit, which a full
		// snapshot reads; its files are not the workspace's.
		if _, err := os.Lstat(filepath.Join(abs, ".git")); err == nil {
			return nil
		}
	}
	wd, err := unix.InotifyAddWatch(w.fd, abs, watchMask)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return nil // gone already: its parent's watch reported that
	}
	if err != nil {
		return inotifyError("watch "+abs, err)
	}
	w.dirs[int32(wd)] = dir
	if len(w.dirs) > maxWatches {
		return fmt.Errorf("the workspace has more than %d directories", maxWatches)
	}
	entries, err := os.ReadDir(abs)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := w.addTree(path.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// inotifyError names the per-user inotify limit that err, from op, may
// have hit, and how to raise it.
func inotifyError(op string, err error) error {
	var name string
	switch {
	case errors.Is(err, unix.EMFILE):
		name = "max_user_instances"
	case errors.Is(err, unix.ENOSPC):
		name = "max_user_watches"
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
	is := ""
	if b, rerr := regfile.ReadFile("/proc/sys/fs/inotify/"+name, 64); rerr == nil {
		is = " is " + strings.TrimSpace(string(b))
	}
	return fmt.Errorf("%s: %w (the per-user limit fs.inotify.%s%s; raise it with sysctl)", op, err, name, is)
}

// changes reads the queue dry and returns the paths, relative and
// slash-separated, that changed since it last did, and the directories
// made since (each new one watched already, so that what is made in it
// later is reported). full reports that the paths cannot be trusted: the
// next snapshot must read everything, and, with rewatch, the watcher
// must be made again.
func (w *watcher) changes() (paths map[string]bool, full, rewatch bool) {
	paths = map[string]bool{}
	var made []string
	for {
		n, err := unix.Read(w.fd, w.buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			break
		}
		if err != nil || n <= 0 {
			return nil, true, true
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&w.buf[off]))
			name := ""
			if ev.Len > 0 {
				b := w.buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
				name = strings.TrimRight(string(b), "\x00")
			}
			off += unix.SizeofInotifyEvent + int(ev.Len)
			mask := ev.Mask
			switch {
			case mask&unix.IN_Q_OVERFLOW != 0:
				full = true
				continue
			case mask&unix.IN_IGNORED != 0:
				delete(w.dirs, ev.Wd)
				continue
			}
			dir, ok := w.dirs[ev.Wd]
			if !ok {
				continue // a watch removed since
			}
			isDir := mask&unix.IN_ISDIR != 0
			switch {
			case mask&(unix.IN_MOVE_SELF|unix.IN_DELETE_SELF) != 0 && dir == "":
				// The workspace itself went or moved.
				return nil, true, true
			case name == "":
				continue // the directory's own events; its parent reports it
			case isDir && mask&unix.IN_MOVED_FROM != 0:
				// Its watches, and those under it, name the old path.
				return nil, true, true
			}
			p := path.Join(dir, name)
			if w.skip(p) {
				continue
			}
			if name == ".gitignore" {
				full = true
			}
			paths[p] = true
			if isDir && mask&(unix.IN_CREATE|unix.IN_MOVED_TO) != 0 {
				made = append(made, p)
			}
		}
	}
	for _, d := range made {
		// Making the watcher again says why, if it fails too.
		if w.addTree(d) != nil {
			return nil, true, true
		}
	}
	if len(paths) > maxChanged {
		full = true
	}
	return paths, full, false
}

func (w *watcher) close() {
	if w != nil {
		unix.Close(w.fd)
	}
}
