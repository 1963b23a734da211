package sandbox

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/lathe-dev/lathe/internal/secret"
)

// dotenvs knows the dotenv files (secret.DenyName) of one workspace, so
// that each command's plan covers them without reading the whole tree:
// a walk when the workspace is first confined, then an inotify instance
// with a watch on each of its directories but those skipDir names.
//
// It runs no goroutine: inotify queues an event before the system call
// that made the file returns, so reading the queue dry as a plan is made
// sees every file made before it. Events only add candidates; each plan
// keeps those that are regular files still (following links, as the
// mount over them will), so a file deleted, or a directory moved away
// with watches naming its old path, costs nothing but a stat. A new
// directory is watched, then read, so that a file made in it meanwhile
// is either read or reported. What inotify cannot follow — a full queue,
// the workspace itself moved, more directories than maxEnvWatches, no
// inotify at all — makes every plan walk the tree again instead, until
// the Sandbox closes: slow, never blind.
//
// Concurrency: the Sandbox's envMu guards it.
type dotenvs struct {
	root  string // the workspace, real and absolute
	fd    int    // -1 without a watcher: every plan walks
	dirs  map[int32]string
	found map[string]bool // candidates, absolute
	buf   []byte
}

// skipDir reports whether a directory of this name is left out: git's
// own, and node_modules, whose tens of thousands of directories hold
// packages' files, not the user's secrets, and would otherwise make every
// command walk the tree.
func skipDir(name string) bool { return name == ".git" || name == "node_modules" }

// maxEnvWatches bounds the directories of a workspace that are watched;
// a larger one is walked for each command instead.
const maxEnvWatches = 8192

const envWatchMask = unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF |
	unix.IN_DONT_FOLLOW | unix.IN_ONLYDIR | unix.IN_EXCL_UNLINK

// newDotenvs walks root and watches it.
func newDotenvs(root string) *dotenvs {
	d := &dotenvs{root: root, fd: -1}
	d.rewatch()
	return d
}

// rewatch drops the watcher, if any, and makes a new one with a fresh
// walk; it leaves d without one where inotify cannot follow the tree.
func (d *dotenvs) rewatch() {
	d.close()
	d.found, d.dirs = map[string]bool{}, map[int32]string{}
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return
	}
	d.fd = fd
	if d.buf == nil {
		d.buf = make([]byte, 64<<10)
	}
	if !d.addTree(d.root) {
		d.close()
	}
}

func (d *dotenvs) close() {
	if d.fd >= 0 {
		unix.Close(d.fd)
		d.fd = -1
	}
}

// addTree watches dir and the directories under it, and notes the
// dotenv files it finds. It reports false when the watches would be too
// many or cannot be added for another reason than a directory going.
func (d *dotenvs) addTree(dir string) bool {
	wd, err := unix.InotifyAddWatch(d.fd, dir, envWatchMask)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return true // gone already
	}
	if err != nil {
		return false
	}
	// A directory moved within the workspace keeps its watch, which now
	// names its new path.
	d.dirs[int32(wd)] = dir
	if len(d.dirs) > maxEnvWatches {
		return false
	}
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		switch {
		case e.IsDir() && !skipDir(e.Name()):
			if !d.addTree(path) {
				return false
			}
		case !e.IsDir() && secret.DenyName(e.Name()):
			d.found[path] = true
		}
	}
	return true
}

// files returns the dotenv files under the workspace now, regular files
// all, each to be covered.
func (d *dotenvs) files() []string {
	if d.fd >= 0 && !d.drain() {
		d.rewatch()
	}
	if d.fd < 0 {
		return walkDotenvs(d.root)
	}
	var files []string
	for path := range d.found {
		if info, err := os.Stat(path); err == nil && info.Mode().IsRegular() {
			files = append(files, path)
		} else {
			delete(d.found, path)
		}
	}
	return files
}

// drain reads the queue dry, noting what it reports; false means the
// watcher cannot be trusted any more.
func (d *dotenvs) drain() bool {
	var made []string
	for {
		n, err := unix.Read(d.fd, d.buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			break
		}
		if err != nil || n <= 0 {
			return false
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&d.buf[off]))
			name := ""
			if ev.Len > 0 {
				b := d.buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
				name = strings.TrimRight(string(b), "\x00")
			}
			off += unix.SizeofInotifyEvent + int(ev.Len)
			switch {
			case ev.Mask&unix.IN_Q_OVERFLOW != 0:
				return false
			case ev.Mask&unix.IN_IGNORED != 0:
				delete(d.dirs, ev.Wd)
				continue
			}
			dir, ok := d.dirs[ev.Wd]
			switch {
			case !ok:
			case ev.Mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF) != 0:
				if dir == d.root {
					return false
				}
			case name == "":
			case ev.Mask&unix.IN_ISDIR != 0:
				if !skipDir(name) {
					made = append(made, filepath.Join(dir, name))
				}
			case secret.DenyName(name):
				d.found[filepath.Join(dir, name)] = true
			}
		}
	}
	for _, dir := range made {
		if !d.addTree(dir) {
			return false
		}
	}
	return true
}

// walkDotenvs returns the dotenv files under root that are regular
// files, following links, but for those under the directories skipDir
// names.
func walkDotenvs(root string) []string {
	var files []string
	_ = filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		switch {
		case err != nil:
			// An unreadable directory is unreadable in the sandbox too.
			return nil
		case e.IsDir() && skipDir(e.Name()) && path != root:
			return filepath.SkipDir
		case e.IsDir():
		case secret.DenyName(e.Name()):
			if info, err := os.Stat(path); err == nil && info.Mode().IsRegular() {
				files = append(files, path)
			}
		}
		return nil
	})
	return files
}

// dotenvFiles returns the dotenv files of the workspace ws, real and
// absolute, watching it from the first call on.
func (s *Sandbox) dotenvFiles(ws string) []string {
	s.envMu.Lock()
	defer s.envMu.Unlock()
	d := s.envs[ws]
	if d == nil {
		if s.envs == nil {
			s.envs = map[string]*dotenvs{}
		}
		d = newDotenvs(ws)
		s.envs[ws] = d
	}
	return d.files()
}

// closeDotenvs drops the watchers.
func (s *Sandbox) closeDotenvs() {
	s.envMu.Lock()
	defer s.envMu.Unlock()
	for _, d := range s.envs {
		d.close()
	}
	s.envs = nil
}
