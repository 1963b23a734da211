package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lathe-dev/lathe/internal/secret"
)

// protectedNames are the paths, relative to the workspace, that stay
// read-only inside it: what would let a command run code outside the
// sandbox later (git hooks and config, shell start-up files) or widen
// its own permissions (Lathe's and Claude Code's project settings).
var protectedNames = []string{
	".git/hooks", ".git/config", ".lathe", ".claude",
	".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile",
	".zshrc", ".zshenv", ".zprofile", ".zlogin", ".zlogout",
}

// plan is what one confined process sees of the file system, the same
// for every backend. Every path is absolute and exists.
type plan struct {
	// writable are the directories it may write in, bound read-write
	// over a read-only rest.
	writable []string
	// readable are directories bound read-only where the fresh /tmp
	// would hide them: a read-only process's workspace.
	readable []string
	// readOnly are the protected paths inside writable ones, bound
	// read-only again.
	readOnly []string
	// hideDirs get an empty read-only tmpfs and hideFiles /dev/null over
	// them: the secret locations.
	hideDirs, hideFiles []string
	// sockets are the host's unix sockets it must not reach, each
	// covered by /dev/null.
	sockets []string
	// tmp is its private temporary directory, its TMPDIR; the shared
	// /tmp is an empty tmpfs.
	tmp string
	// env is what the plan adds to its environment.
	env []string
}

// ensureHooks makes the hooks directory of the workspace's .git when
// there is none, so that it can be bound read-only: a hook a command
// wrote there would run, unconfined, at the user's next commit. git init
// makes the directory anyway; a .git that is a file (a worktree, a
// submodule) names a git directory outside the workspace, which is
// read-only already.
func ensureHooks(ws string) error {
	git := filepath.Join(ws, ".git")
	if fi, err := os.Lstat(git); err != nil || !fi.IsDir() {
		return nil
	}
	if err := os.Mkdir(filepath.Join(git, "hooks"), 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("protect git hooks: %w", err)
	}
	return nil
}

// cacheDirs returns the user's language caches under home, given the
// environment: Go's build and module caches, npm's, pip's, cargo's.
func cacheDirs(home string, env []string) []string {
	get := func(name string) string {
		for _, kv := range slices.Backward(env) {
			if v, ok := strings.CutPrefix(kv, name+"="); ok {
				return v
			}
		}
		return ""
	}
	cache := get("XDG_CACHE_HOME")
	if cache == "" && home != "" {
		cache = filepath.Join(home, ".cache")
	}
	gopath := get("GOPATH")
	if i := strings.IndexByte(gopath, ':'); i >= 0 {
		gopath = gopath[:i]
	}
	if gopath == "" && home != "" {
		gopath = filepath.Join(home, "go")
	}
	var dirs []string
	add := func(dir, fallback string) {
		if dir == "" {
			dir = fallback
		}
		if dir != "" && filepath.IsAbs(dir) {
			dirs = append(dirs, dir)
		}
	}
	add(get("GOCACHE"), join(cache, "go-build"))
	add(get("GOMODCACHE"), join(gopath, "pkg/mod"))
	add(get("npm_config_cache"), join(home, ".npm"))
	add(get("PIP_CACHE_DIR"), join(cache, "pip"))
	add(get("CARGO_HOME"), join(home, ".cargo"))
	return dirs
}

func join(dir, rel string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, rel)
}

// isolatedCaches are the variables that point each language at a
// private cache under dir.
func isolatedCaches(dir string) []string {
	return []string{
		"GOCACHE=" + filepath.Join(dir, "go-build"),
		"GOMODCACHE=" + filepath.Join(dir, "go-mod"),
		"npm_config_cache=" + filepath.Join(dir, "npm"),
		"PIP_CACHE_DIR=" + filepath.Join(dir, "pip"),
		"CARGO_HOME=" + filepath.Join(dir, "cargo"),
	}
}

// absentProtected are the protected names that, where the workspace has
// none, get an empty directory of Lathe's for as long as the Sandbox
// lasts, bound read-only like the others: a command that could make
// .claude/settings.json would have its hooks run, unconfined, by the
// user's next Claude Code, and a malformed .lathe/config.toml would stop
// the next Lathe from starting.
var absentProtected = []string{".lathe", ".claude"}

// plan returns the plan of a process confined by p, whose environment
// is env, in the private temporary directory tmp.
func (s *Sandbox) plan(p Profile, tmp string, env []string) (plan, error) {
	home, isolate := s.home, s.isolate
	pl := plan{tmp: tmp, env: []string{"TMPDIR=" + tmp}}
	var ws string
	if p.Workspace != "" {
		var err error
		if ws, err = realDir(p.Workspace); err != nil {
			return plan{}, fmt.Errorf("workspace: %w", err)
		}
	}
	if p.Confine == ReadOnly && ws != "" {
		pl.readable = append(pl.readable, ws)
	}
	if p.Confine == WorkspaceWrite {
		pl.writable = append(pl.writable, ws)
		for _, root := range p.WritableRoots {
			dir, err := realDir(root)
			if err != nil {
				return plan{}, fmt.Errorf("writable root: %w", err)
			}
			pl.writable = append(pl.writable, dir)
		}
		if isolate {
			caches := filepath.Join(tmp, ".cache")
			if err := os.MkdirAll(caches, 0o700); err != nil {
				return plan{}, fmt.Errorf("private caches: %w", err)
			}
			pl.env = append(pl.env, isolatedCaches(caches)...)
		} else {
			for _, dir := range cacheDirs(home, env) {
				if d, err := realDir(dir); err == nil {
					pl.writable = append(pl.writable, d)
				}
			}
		}
		if err := ensureHooks(ws); err != nil {
			return plan{}, err
		}
		for _, name := range protectedNames {
			path := filepath.Join(ws, name)
			if _, err := os.Stat(path); err != nil {
				if !errors.Is(err, fs.ErrNotExist) || !slices.Contains(absentProtected, name) {
					continue
				}
				if err := s.placehold(path); err != nil {
					return plan{}, err
				}
			}
			pl.readOnly = append(pl.readOnly, path)
			// A directory holding a protected path is bound onto itself
			// too: a mount point cannot be renamed, so .git cannot be
			// moved aside for a writable copy of it to take its place.
			if parent := filepath.Dir(path); parent != ws && !slices.Contains(pl.writable, parent) {
				pl.writable = append(pl.writable, parent)
			}
		}
	}
	if ws != "" {
		for _, path := range s.dotenvFiles(ws) {
			// The mount over a link covers its target, which must be
			// there to be covered.
			real, err := filepath.EvalSymlinks(path)
			if err == nil && pl.visible(real) && !slices.Contains(pl.hideFiles, real) {
				pl.hideFiles = append(pl.hideFiles, real)
			}
		}
	}
	for _, path := range secret.Paths(home) {
		info, err := os.Stat(path)
		switch {
		case err != nil || !pl.visible(path):
		case info.IsDir():
			pl.hideDirs = append(pl.hideDirs, path)
		default:
			pl.hideFiles = append(pl.hideFiles, path)
		}
	}
	sockets, err := hostSockets()
	if err != nil {
		return plan{}, err
	}
	for _, s := range sockets {
		hidden := slices.ContainsFunc(pl.hideDirs, func(d string) bool { return within(s, d) })
		if pl.visible(s) && !pl.writableAt(s) && !hidden {
			pl.sockets = append(pl.sockets, s)
		}
	}
	return pl, nil
}

// visible reports whether a process under pl would see path, were the
// plan not to cover it: the fresh /tmp, /dev and /proc hide the host's,
// but for the writable directories mounted into them.
func (pl plan) visible(path string) bool {
	for _, dir := range []string{"/tmp", "/dev", "/proc"} {
		if within(path, dir) {
			return pl.boundAt(path)
		}
	}
	return true
}

// writableAt reports whether path is inside a writable directory of pl.
func (pl plan) writableAt(path string) bool {
	return within(path, pl.tmp) || slices.ContainsFunc(pl.writable, func(d string) bool { return within(path, d) })
}

// boundAt reports whether path is inside a directory pl mounts.
func (pl plan) boundAt(path string) bool {
	return pl.writableAt(path) || slices.ContainsFunc(pl.readable, func(d string) bool { return within(path, d) })
}

// hostSockets returns the paths of the unix sockets bound on this host,
// from /proc/net/unix, that are sockets still: a bound path stays listed
// after its file is removed.
func hostSockets() ([]string, error) {
	f, err := os.Open("/proc/net/unix")
	if err != nil {
		return nil, fmt.Errorf("list unix sockets: %w", err)
	}
	defer f.Close()
	var paths []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// Num RefCount Protocol Flags Type St Inode Path
		fields := strings.Fields(sc.Text())
		if len(fields) < 8 || !strings.HasPrefix(fields[7], "/") {
			continue
		}
		path := strings.Join(fields[7:], " ")
		if slices.Contains(paths, path) {
			continue
		}
		if info, err := os.Lstat(path); err == nil && info.Mode().Type() == fs.ModeSocket {
			paths = append(paths, path)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("list unix sockets: %w", err)
	}
	return paths, nil
}

// realDir returns dir with its symbolic links resolved, or an error if
// it is not a directory.
func realDir(dir string) (string, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	info, err := os.Stat(real)
	if err != nil {
		return "", err
	}
	if !info.IsDir() {
		return "", fmt.Errorf("%s is not a directory", dir)
	}
	return real, nil
}
