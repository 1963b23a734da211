// Package checkpoint snapshots a workspace before each mutating step of a
// session and restores any earlier snapshot: the engine of `lathe rewind`.
//
// A snapshot is a git tree of the workspace's files: tracked and
// untracked alike, every file git would not ignore, with its content
// (binary too), its executable bit, and symbolic links as links. Files
// that are gone are simply absent from the tree. The tree is kept alive by
// the private ref refs/lathe/SESSION/STEP, which points at the tree itself
// rather than at a commit, so that no snapshot shows up in `git log
// --all`, a graph view or a branch list, while `git gc` keeps it.
//
// A snapshot is taken with git plumbing only, and never touches the
// user's index, HEAD, stash, config, working tree or any ref outside
// refs/lathe: `git add -A` runs on a private index file of the session's
// (GIT_INDEX_FILE, under the state directory), then `git write-tree` and
// `git update-ref`. The private index is kept between snapshots, so git's
// stat cache re-reads only the files that changed since the last one; it
// starts as a copy of the user's index, which makes the first snapshot
// cheap too and keeps tracked files that an ignore rule matches.
//
// Even so, `git add -A` reads the status of every file, which on 10,000
// files takes longer than a snapshot may. So on Linux a Store watches the
// workspace's directories with inotify from its first snapshot on (no
// goroutine: the queue is read when a snapshot starts), and later
// snapshots hand git only the paths that changed: `git ls-files` sorts
// out which of them git would add (tracked, or untracked and not
// ignored), `git update-index` adds them, and write-tree runs only if it
// added anything; a snapshot with nothing changed is the last one's tree
// again. Whatever the watcher cannot vouch for (see watcher) makes a
// snapshot a full `git add -A` again.
//
// Where the snapshot lives depends on the workspace:
//   - In a git work tree (a repository's main one, a linked worktree, or a
//     submodule's), the snapshot's objects and refs go into that
//     repository, as `git stash` would put them.
//   - In a subdirectory of a work tree, only the subdirectory is
//     snapshotted and restored: the tree is the subdirectory's (`git
//     write-tree --prefix`), and the rest of the work tree is left alone,
//     while the ignore files above the subdirectory still apply.
//   - In a directory that is in no git work tree, a private bare
//     repository under the state directory, one per directory, is the
//     object store, with the directory as its work tree. Ignore rules
//     are git's own: the .gitignore files in the directory and its
//     subdirectories, and the user's core.excludesFile. Its attributes
//     turn off every conversion, so files are stored byte for byte.
//
// Only what git records is restored: content, the executable bit and
// links; other permission bits come from the umask, as in a checkout.
// Changes to files the user's index marks assume-unchanged are not seen.
//
// internal/app uses it so, for the agent's checkpoint step and for
// `lathe rewind`:
//
//	store, err := checkpoint.Open(ctx, workspace, filepath.Join(stateHome, "checkpoints"), sessionID, executor)
//	// before each edit, write, patch, and shell command not known to be read-only:
//	id, err := store.Snapshot(ctx, step)
//	// lathe rewind SESSION --to STEP [--dry-run]:
//	snaps, err := store.List(ctx)                  // find STEP's ID
//	changes, err := store.Restore(ctx, id, dryRun) // what it would change, or changed
//
// The git commands write into the repository's object store and refs
// (or the state directory's private store) and into the state
// directory, so a sandbox profile given through ctx must let them.
//
// Submodules and nested repositories are recorded as their commit, not
// their files, and rewinding leaves them alone. In a repository, content
// goes through the repository's own attributes both ways, as `git stash`
// does: a clean filter (Git LFS) stores what it produces and the smudge
// filter gives the file back, and end-of-line normalisation (`text`,
// `eol`) applies. The state directory is never snapshotted, even inside
// the workspace.
package checkpoint

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lathe-dev/lathe/internal/regfile"
	"github.com/lathe-dev/lathe/internal/sandbox"
)

// ID names a snapshot: the object name of its tree.
type ID string

// Snapshot is one snapshot of a session: the workspace as it was before
// step Step ran.
type Snapshot struct {
	Step int
	ID   ID
}

// Kind is what restoring does to one path.
type Kind int

// The kinds of [Change].
const (
	// Add creates a file that is gone or was never there.
	Add Kind = iota + 1
	// Update rewrites a file whose content or type (file or symbolic link)
	// differs.
	Update
	// Delete removes a file the snapshot does not have.
	Delete
	// Mode changes only a file's executable bit.
	Mode
)

func (k Kind) String() string {
	switch k {
	case Add:
		return "add"
	case Update:
		return "update"
	case Delete:
		return "delete"
	case Mode:
		return "mode"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Change is what restoring does, or did, to one path.
type Change struct {
	Kind Kind
	// Path is slash-separated and relative to the workspace.
	Path string
	// OldMode and NewMode are the path's git modes before and after:
	// 0o100644 a file, 0o100755 an executable, 0o120000 a symbolic link,
	// 0 none.
	OldMode, NewMode uint32
}

func (c Change) String() string {
	if c.Kind == Mode {
		return fmt.Sprintf("mode %s %o -> %o", c.Path, c.OldMode, c.NewMode)
	}
	return c.Kind.String() + " " + c.Path
}

// Store takes and restores the snapshots of one session in one
// workspace.
//
// Its methods may be called concurrently; they run one at a time, as
// they share the session's private index. Stores of different sessions
// may work on the same workspace at once: git writes objects and refs
// atomically. Only one Store may be open for a session at a time (a
// second one's git commands fail on the index lock), and Open removes a
// lock a crashed one left. A cancelled context stops the running git
// command (with SIGTERM, so that it removes its locks) and the method
// returns the context's error; a Restore stopped midway has applied only
// the changes it reports.
//
// Close releases the Store's watcher, an inotify instance of the
// process's (there are few: 128 per user by default); a Store should be
// closed when it is done with. A Store that cannot have one takes full
// snapshots, and says so to the function given [WithWarn].
//
// A snapshot sees the files as they are while `git add` reads them: the
// workspace should be quiet (no command running in it) while a snapshot
// is taken, and while Restore writes.
type Store struct {
	git     *git
	session string
	index   string // the private index file
	scratch string // the index Restore checks files out of
	prefix  string // the workspace's path in its work tree, "" or "a/b/"
	exclude string // a pathspec leaving out the state directory, or ""
	inside  string // the state directory relative to the workspace, if in it
	private bool

	mu sync.Mutex
	// watch reports what changed since the last snapshot (nil: unknown,
	// read everything); unwatched says it could not be set up.
	watch     *watcher
	unwatched bool
	// warn is told, once, why the workspace cannot be watched.
	warn   func(error)
	warned bool
	// last is the tree of the last snapshot, and stale says the private
	// index may not hold what the watcher reported since (a snapshot
	// failed after reading the watcher), so the next must read everything.
	last  ID
	stale bool
	// lastFull is when the last full snapshot was taken.
	lastFull time.Time
}

// fullEvery bounds how long a Store goes on trusting its watcher: what
// inotify cannot report (see watcher) is in a snapshot at most this
// late.
const fullEvery = 5 * time.Minute

// sessionName is what a session ID may look like: one component of a
// ref name, no lock file, no hidden file.
var sessionName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// Option configures a Store.
type Option func(*Store)

// WithWarn has warn told, once per Store, that its workspace cannot be
// watched and why — inotify's per-user limit of instances or watches
// reached, a workspace with too many directories — so that snapshots,
// still complete, read every file's status and are slower. warn is
// called from the goroutine taking a snapshot, with the Store locked: it
// must not call the Store.
func WithWarn(warn func(error)) Option { return func(s *Store) { s.warn = warn } }

// Open returns the Store of session's snapshots of the workspace dir.
// stateDir is a directory Lathe keeps for checkpoints across sessions;
// Open creates it if need be. Every git command runs through ex, in dir.
// It fails with an error wrapping [ErrNoGit] when git is not installed.
func Open(ctx context.Context, dir, stateDir, session string, ex sandbox.Executor, opts ...Option) (*Store, error) {
	if !sessionName.MatchString(session) || strings.Contains(session, "..") || strings.HasSuffix(session, ".lock") {
		return nil, fmt.Errorf("checkpoint: session ID %q cannot name a ref", session)
	}
	gitPath, err := exec.LookPath("git")
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w: %v", ErrNoGit, err)
	}
	dir, err = realDir(dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: workspace: %w", err)
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	stateDir, err = realDir(stateDir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: state directory: %w", err)
	}
	sessDir := filepath.Join(stateDir, "sessions", session)
	if err := os.MkdirAll(sessDir, 0o700); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	s := &Store{
		git:     &git{exec: ex, path: gitPath, dir: dir, env: baseEnv()},
		session: session,
		index:   filepath.Join(sessDir, "index"),
		scratch: filepath.Join(sessDir, "restore-index"),
	}
	for _, o := range opts {
		o(s)
	}
	if rel, err := filepath.Rel(dir, stateDir); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		s.exclude = ":(exclude,literal)" + filepath.ToSlash(rel)
		s.inside = filepath.ToSlash(rel)
	}
	s.stale = true

	userIndex, err := s.locate(ctx, dir, stateDir)
	if err != nil {
		return nil, err
	}
	// A Store of this session that crashed (or was killed) mid-command
	// left its lock; only one Store of a session is open at a time.
	for _, f := range []string{s.index, s.scratch} {
		if err := os.Remove(f + ".lock"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("checkpoint: %w", err)
		}
	}
	if userIndex == "" {
		return s, nil
	}
	seeded, err := seed(s.index, userIndex)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if seeded && s.prefix != "" {
		// Only the workspace's part of the user's index is the
		// workspace's: the rest would make every index write slower, and
		// a conflict outside the workspace would stop write-tree.
		env := []string{"GIT_INDEX_FILE=" + s.index}
		if _, err := s.git.run(ctx, nil, env, "rm", "--cached", "-r", "-q", "--ignore-unmatch", "--", ":(top)", ":(top,exclude,literal)"+s.prefix); err != nil {
			os.Remove(s.index)
			return nil, fmt.Errorf("checkpoint: %w", err)
		}
	}
	return s, nil
}

// locate finds the repository dir belongs to, or makes the private one,
// and sets the git environment accordingly. It returns the user's index
// file, if there is one to start from.
func (s *Store) locate(ctx context.Context, dir, stateDir string) (string, error) {
	out, err := s.git.run(ctx, nil, nil, "rev-parse", "--absolute-git-dir", "--show-toplevel", "--show-prefix")
	var gerr *gitError
	switch {
	case err == nil:
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if len(lines) != 3 {
			return "", fmt.Errorf("checkpoint: git rev-parse: unexpected output %q", out)
		}
		gitDir, top := lines[0], lines[1]
		s.prefix = lines[2]
		s.git.env = append(s.git.env, "GIT_DIR="+gitDir, "GIT_WORK_TREE="+top)
		return filepath.Join(gitDir, "index"), nil
	case errors.As(err, &gerr) && (strings.Contains(gerr.stderr, "not a git repository") || strings.Contains(gerr.stderr, "dubious ownership")):
		// As for Lathe's configuration, a .git owned by someone else
		// marks no repository: the directory gets a private one.
	default:
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	s.private = true
	sum := sha256.Sum256([]byte(dir))
	gitDir := filepath.Join(stateDir, "stores", hex.EncodeToString(sum[:16]))
	if err := s.initStore(ctx, gitDir); err != nil {
		return "", fmt.Errorf("checkpoint: private store for %s: %w", dir, err)
	}
	s.git.env = append(s.git.env, "GIT_DIR="+gitDir, "GIT_WORK_TREE="+dir)
	return "", nil
}

// rawAttributes makes a private store keep files byte for byte, whatever
// .gitattributes files the directory has.
const rawAttributes = "* -text -eol -filter -ident -working-tree-encoding\n"

// initStore makes the bare repository gitDir unless it exists. It is made
// under a temporary name and renamed, so that two sessions starting in
// the same directory never see half of one.
func (s *Store) initStore(ctx context.Context, gitDir string) error {
	if _, err := os.Stat(gitDir); err == nil {
		return nil
	}
	parent := filepath.Dir(gitDir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, filepath.Base(gitDir)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// No template: nothing of the user's init.templateDir, no sample hooks.
	if _, err := s.git.run(ctx, nil, nil, "init", "--quiet", "--bare", "--template=", tmp); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(tmp, "info"), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "info", "attributes"), []byte(rawAttributes), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, gitDir); err != nil {
		if _, serr := os.Stat(gitDir); serr == nil {
			return nil // another session made it first
		}
		return err
	}
	return nil
}

// seed copies the user's index to the private index if there is no
// private index yet, so that the first snapshot starts from git's stat
// cache and keeps tracked files an ignore rule matches. The user's index
// is only read. It reports whether it copied.
func seed(private, user string) (bool, error) {
	if _, err := os.Lstat(private); err == nil {
		return false, nil
	}
	src, _, err := regfile.Open(user)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil // a repository without commits nor staged files
	}
	if err != nil {
		return false, fmt.Errorf("read the repository's index: %w", err)
	}
	defer src.Close()
	tmp, err := os.CreateTemp(filepath.Dir(private), "index.seed-")
	if err != nil {
		return false, err
	}
	_, err = io.Copy(tmp, src)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), private)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return false, fmt.Errorf("copy the repository's index: %w", err)
	}
	return true, nil
}

func realDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%s is %s, not a directory", dir, regfile.Describe(fi.Mode()))
	}
	return real, nil
}

// Private reports whether the snapshots live in a private store under the
// state directory, the workspace being in no git work tree.
func (s *Store) Private() bool { return s.private }

func (s *Store) refPrefix() string { return "refs/lathe/" + s.session + "/" }

// Snapshot records the workspace as it is now as the snapshot of step,
// the state before step runs, and returns its ID. It takes one to four
// git commands (see the package documentation). A step may be
// snapshotted once; a second Snapshot of it fails.
func (s *Store) Snapshot(ctx context.Context, step int) (ID, error) {
	if step < 0 {
		return "", fmt.Errorf("checkpoint: negative step %d", step)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tree, err := s.tree(ctx)
	if err != nil {
		return "", err
	}
	ref := s.refPrefix() + strconv.Itoa(step)
	// The empty old value makes update-ref refuse a ref that exists.
	if _, err := s.git.run(ctx, nil, nil, "update-ref", "-m", "lathe checkpoint", ref, string(tree), ""); err != nil {
		return "", fmt.Errorf("checkpoint: step %d: %w", step, err)
	}
	return tree, nil
}

// tree adds the workspace to the private index and writes its tree.
// Where the watcher can tell what changed since the last snapshot, only
// those paths are added, and a snapshot with nothing changed is the last
// one's tree again; otherwise `git add --all` reads every file's status.
func (s *Store) tree(ctx context.Context) (ID, error) {
	changed, full := s.changes()
	full = full || s.stale || s.last == "" || time.Since(s.lastFull) > fullEvery
	s.stale = true // until this snapshot has added everything reported
	start := time.Now()
	id, err := s.writeTree(ctx, changed, full)
	if err != nil {
		return "", err
	}
	s.last, s.stale = id, false
	if full {
		s.lastFull = start
	}
	return id, nil
}

// changes returns the paths changed since the last snapshot, or full
// when they are not known. The first call starts the watcher, before the
// full snapshot that it then asks for, so that what changes while that
// snapshot reads the files is reported to the next.
func (s *Store) changes() (changed map[string]bool, full bool) {
	if s.watch == nil {
		if !s.unwatched {
			s.startWatch()
		}
		return nil, true
	}
	changed, full, rewatch := s.watch.changes()
	if rewatch {
		s.watch.close()
		s.startWatch()
	}
	return changed, full
}

// startWatch makes the watcher. Where it cannot, every snapshot is a
// full one from then on, which is complete, and the Store says why once:
// a workspace that is slow to snapshot, unexplained, would look like a
// fault of Lathe's.
func (s *Store) startWatch() {
	w, err := newWatcher(s.git.dir, s.skip)
	s.watch, s.unwatched = w, w == nil
	if err != nil && s.warn != nil && !s.warned {
		s.warned = true
		s.warn(fmt.Errorf("checkpoint: cannot watch the workspace for changes, so each snapshot reads every file (complete, but slower): %w", err))
	}
}

// skip reports whether a workspace-relative directory is none of the
// workspace's files: git's own, or the state directory.
func (s *Store) skip(rel string) bool {
	return path.Base(rel) == ".git" || s.inside != "" && (rel == s.inside || strings.HasPrefix(rel, s.inside+"/"))
}

// Close stops the Store's watcher. A closed Store still works, reading
// every file's status at each snapshot.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watch.close()
	s.watch, s.unwatched = nil, true
	return nil
}

// writeTree writes the tree of the workspace: all of it (full), or the
// last snapshot's with the paths changed since.
func (s *Store) writeTree(ctx context.Context, changed map[string]bool, full bool) (ID, error) {
	env := []string{"GIT_INDEX_FILE=" + s.index}
	if !full {
		staged, err := s.stage(ctx, changed)
		switch {
		case err != nil:
			return "", err
		case staged == nil:
			full = true
		case staged.Len() == 0:
			return s.last, nil
		default:
			if _, err := s.git.run(ctx, staged, env, "update-index", "--add", "--remove", "--replace", "-z", "--stdin"); err != nil {
				return "", fmt.Errorf("checkpoint: %w", err)
			}
		}
	}
	if full {
		args := []string{"add", "--all", "--", "."}
		if s.exclude != "" {
			args = append(args, s.exclude)
		}
		if _, err := s.git.run(ctx, nil, env, args...); err != nil {
			return "", fmt.Errorf("checkpoint: %w", err)
		}
	}
	// Every object the index names is there (git add and update-index
	// wrote them, or the user's index named them): --missing-ok spares
	// write-tree looking each one of a changed directory up, and a
	// partial clone a fetch.
	args := []string{"write-tree", "--missing-ok"}
	if s.prefix != "" {
		args = append(args, "--prefix="+s.prefix)
	}
	out, err := s.git.run(ctx, nil, env, args...)
	var gerr *gitError
	if s.prefix != "" && errors.As(err, &gerr) && strings.Contains(gerr.stderr, "not found") {
		// The index has nothing under the workspace: it is empty.
		out, err = s.git.run(ctx, strings.NewReader(""), nil, "mktree")
	}
	if err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	return ID(line(out)), nil
}

// stage returns the paths among changed, and under those of them that
// are directories, that `git add --all` would add, update or remove: the
// ones in the private index and the untracked ones git does not ignore,
// NUL-terminated for update-index. It returns nil, for a full snapshot,
// where update-index would not do what `git add --all` does: for a
// nested repository, which is recorded as its commit, and for a file of
// the index that is a directory now.
func (s *Store) stage(ctx context.Context, changed map[string]bool) (*bytes.Buffer, error) {
	if len(changed) == 0 {
		return &bytes.Buffer{}, nil
	}
	args := []string{"ls-files", "-z", "--cached", "--others", "--exclude-standard", "--"}
	for _, p := range slices.Sorted(maps.Keys(changed)) {
		args = append(args, ":(literal)"+p)
	}
	if s.exclude != "" {
		args = append(args, s.exclude)
	}
	out, err := s.git.run(ctx, nil, []string{"GIT_INDEX_FILE=" + s.index}, args...)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	for p := range strings.SplitSeq(string(out), "\x00") {
		if p == "" {
			continue
		}
		if strings.HasSuffix(p, "/") {
			return nil, nil
		}
		if fi, err := os.Lstat(filepath.Join(s.git.dir, filepath.FromSlash(p))); err == nil && fi.IsDir() {
			return nil, nil
		}
	}
	return bytes.NewBuffer(out), nil
}

// List returns the session's snapshots, in step order.
func (s *Store) List(ctx context.Context) ([]Snapshot, error) {
	out, err := s.git.run(ctx, nil, nil, "for-each-ref", "--format=%(refname)%00%(objectname)", s.refPrefix())
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	var snaps []Snapshot
	for _, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		if l == "" {
			continue
		}
		ref, obj, ok := strings.Cut(l, "\x00")
		step, err := strconv.Atoi(strings.TrimPrefix(ref, s.refPrefix()))
		if !ok || err != nil || step < 0 {
			continue // not one of ours: refs/lathe/SESSION/x
		}
		snaps = append(snaps, Snapshot{Step: step, ID: ID(obj)})
	}
	slices.SortFunc(snaps, func(a, b Snapshot) int { return a.Step - b.Step })
	return snaps, nil
}

// objectName is what an ID looks like: SHA-1 or SHA-256 in hex.
var objectName = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// Restore makes the workspace's files those of snapshot id, and returns
// what it changed, in path order. With dryRun it changes nothing and
// returns what it would change. Ignored files are left alone, and so
// are the user's index and HEAD (`git status` afterwards shows the
// restored files as changes, as it would have at the snapshot). Restore
// does not snapshot the state it replaces: a caller that wants the rewind
// undoable calls Snapshot first.
func (s *Store) Restore(ctx context.Context, id ID, dryRun bool) ([]Change, error) {
	if !objectName.MatchString(string(id)) {
		return nil, fmt.Errorf("checkpoint: %q is no snapshot ID", id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, err := s.tree(ctx)
	if err != nil {
		return nil, err
	}
	out, err := s.git.run(ctx, nil, nil, "diff-tree", "-r", "-z", "--no-renames", string(cur), string(id))
	if err != nil {
		return nil, fmt.Errorf("checkpoint: restore %s: %w", id, err)
	}
	changes, err := parseRaw(out)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: restore %s: git diff-tree: %w", id, err)
	}
	slices.SortStableFunc(changes, byPath)
	if dryRun || len(changes) == 0 {
		return changes, nil
	}
	return s.apply(ctx, id, changes)
}

// apply makes changes, which take the workspace to tree id: deletions
// first, so that a directory can take a deleted file's place and the
// other way round, then every other change checked out of id by git,
// which writes modes, symbolic links and leading directories as
// checkout does.
func (s *Store) apply(ctx context.Context, id ID, changes []Change) ([]Change, error) {
	var done []Change
	var checkout bytes.Buffer
	emptied := map[string]bool{}
	for _, c := range changes {
		if c.Kind != Delete {
			checkout.WriteString(c.Path)
			checkout.WriteByte(0)
			continue
		}
		err := os.Remove(filepath.Join(s.git.dir, filepath.FromSlash(c.Path)))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return done, fmt.Errorf("checkpoint: restore %s: %w", id, err)
		}
		done = append(done, c)
		emptied[path.Dir(c.Path)] = true
	}
	// git keeps no directories, so one that the deletions left empty goes
	// too, as it would in a checkout, and a file can take its place.
	for dir := range emptied {
		for ; dir != "."; dir = path.Dir(dir) {
			if os.Remove(filepath.Join(s.git.dir, filepath.FromSlash(dir))) != nil {
				break
			}
		}
	}
	if checkout.Len() > 0 {
		env := []string{"GIT_INDEX_FILE=" + s.scratch}
		defer os.Remove(s.scratch)
		args := []string{"read-tree"}
		if s.prefix != "" {
			args = append(args, "--prefix="+s.prefix)
		}
		if _, err := s.git.run(ctx, nil, env, append(args, string(id))...); err != nil {
			return done, fmt.Errorf("checkpoint: restore %s: %w", id, err)
		}
		if _, err := s.git.run(ctx, &checkout, env, "checkout-index", "--force", "-z", "--stdin"); err != nil {
			return done, fmt.Errorf("checkpoint: restore %s: %w", id, err)
		}
		for _, c := range changes {
			if c.Kind != Delete {
				done = append(done, c)
			}
		}
		slices.SortStableFunc(done, byPath)
	}
	return done, nil
}

func byPath(a, b Change) int { return strings.Compare(a.Path, b.Path) }

// parseRaw parses `git diff-tree -r -z` output: for each path,
// ":OLDMODE NEWMODE OLDOBJ NEWOBJ STATUS\0PATH\0".
func parseRaw(out []byte) ([]Change, error) {
	var changes []Change
	fields := strings.Split(string(out), "\x00")
	for i := 0; i+1 < len(fields); i += 2 {
		meta, p := fields[i], fields[i+1]
		f := strings.Fields(strings.TrimPrefix(meta, ":"))
		if len(f) != 5 {
			return nil, fmt.Errorf("unexpected record %q", meta)
		}
		oldMode, err1 := strconv.ParseUint(f[0], 8, 32)
		newMode, err2 := strconv.ParseUint(f[1], 8, 32)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("unexpected record %q: %w", meta, err)
		}
		if oldMode == gitlink || newMode == gitlink {
			continue // a submodule: its files are not ours to rewind
		}
		c := Change{Path: p, OldMode: uint32(oldMode), NewMode: uint32(newMode)}
		switch {
		case oldMode == 0:
			c.Kind = Add
		case newMode == 0:
			c.Kind = Delete
		case f[2] == f[3]:
			c.Kind = Mode
		default:
			c.Kind = Update
		}
		changes = append(changes, c)
	}
	return changes, nil
}

// gitlink is the mode of a submodule's entry.
const gitlink = 0o160000
