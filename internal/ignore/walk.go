package ignore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/lathe-dev/lathe/internal/regfile"
)

// Options tune a walk.
type Options struct {
	// MaxDepth limits how deep the walk goes: 1 visits only the root's own
	// entries. Zero means no limit.
	MaxDepth int
	// Overrides, if set, are consulted before any ignore file.
	Overrides *Overrides
	// Select, if set, keeps only the files whose base name it accepts,
	// unless an override selected them (ripgrep's --type).
	Select func(name string) bool
}

// WalkFunc is called for each entry that is not ignored, in lexical order
// with parents before children. path is the entry's path under the root
// as given; rel is slash-separated and relative to the root. Returning
// fs.SkipDir skips the directory (or, from a file, the rest of its
// directory) and fs.SkipAll ends the walk, as in filepath.WalkDir; any
// other error stops the walk and is returned by Walk.
type WalkFunc func(path, rel string, d fs.DirEntry) error

// Walk visits the tree under the directory root, skipping what ripgrep
// would skip with --hidden: entries named .git, anything matched by a
// .gitignore or .git/info/exclude of the enclosing git repository, and
// anything matched by a .ignore or .rgignore, including those in the
// root's parent directories. Symbolic links are reported, not followed.
// Directories that cannot be read are skipped silently, as ripgrep does
// with --no-messages; only the root must be readable.
func Walk(ctx context.Context, root string, opts Options, fn WalkFunc) error {
	canon, err := canonical(root)
	if err != nil {
		return err
	}
	entries, err := readDir(root)
	if err != nil {
		return fmt.Errorf("walk %s: %w", root, err)
	}
	// Clean once, as filepath.Join would for every entry.
	root = filepath.Clean(root)
	w := newWalker(ctx, opts, fn)
	defer w.stop()
	stack := aboveLevels(canon)
	if lv := loadLevel(canon, entries); lv != nil {
		stack = append(stack, lv)
	}
	err = w.dir(root, "", canon, entries, stack, 1)
	if errors.Is(err, fs.SkipDir) || errors.Is(err, fs.SkipAll) {
		return nil
	}
	return err
}

type walker struct {
	ctx  context.Context
	opts Options
	fn   WalkFunc

	// Directories met are read ahead of the walk, which calls fn in
	// order, by readers taking the last one queued: queued children go
	// last child first, so the readers follow the walk's own depth-first
	// order. The walk reads a directory itself if no reader has taken it.
	mu      sync.Mutex
	more    sync.Cond // queue or ahead changed, or stopped
	queue   []*subdir
	ahead   int // directories read but not yet walked
	stopped bool
	readers sync.WaitGroup
}

// maxAhead bounds the directories read ahead and not yet walked, and so
// the memory their entries hold.
const maxAhead = 256

func newWalker(ctx context.Context, opts Options, fn WalkFunc) *walker {
	w := &walker{ctx: ctx, opts: opts, fn: fn}
	w.more.L = &w.mu
	for range runtime.GOMAXPROCS(0) {
		w.readers.Go(w.read)
	}
	return w
}

// read is a reader.
func (w *walker) read() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		for !w.stopped && (len(w.queue) == 0 || w.ahead >= maxAhead) {
			w.more.Wait()
		}
		if w.stopped {
			return
		}
		sd := w.queue[len(w.queue)-1]
		w.queue[len(w.queue)-1] = nil
		w.queue = w.queue[:len(w.queue)-1]
		if !sd.claimed.CompareAndSwap(false, true) {
			continue // the walk got there first
		}
		w.ahead++
		w.mu.Unlock()
		sd.read()
		sd.readAhead = true
		close(sd.done)
		w.mu.Lock()
	}
}

// stop ends the readers. Directories they are reading are finished with
// before it returns.
func (w *walker) stop() {
	w.mu.Lock()
	w.stopped = true
	w.more.Broadcast()
	w.mu.Unlock()
	w.readers.Wait()
}

// enqueue hands the subdirectories of one directory, in walk order, to
// the readers.
func (w *walker) enqueue(subs []*subdir) {
	if len(subs) == 0 {
		return
	}
	w.mu.Lock()
	for i := len(subs) - 1; i >= 0; i-- {
		w.queue = append(w.queue, subs[i])
	}
	w.more.Broadcast()
	w.mu.Unlock()
}

// wait returns when sd has been read, reading it unless a reader has.
func (w *walker) wait(sd *subdir) {
	if sd.claimed.CompareAndSwap(false, true) {
		sd.read()
		return
	}
	w.settle(sd)
}

// skip gives up a directory that will not be walked, if sd is one.
func (w *walker) skip(sd *subdir) {
	if sd != nil && !sd.claimed.CompareAndSwap(false, true) {
		w.settle(sd)
	}
}

// settle waits for a reader that took sd and counts it walked.
func (w *walker) settle(sd *subdir) {
	<-sd.done
	if sd.readAhead {
		w.mu.Lock()
		w.ahead--
		w.more.Signal()
		w.mu.Unlock()
	}
}

// subdir is a directory to descend into: its entries and ignore files.
type subdir struct {
	path, canon string
	// claimed is set by whoever reads the directory: a reader, which
	// then sets readAhead and closes done, or the walk.
	claimed   atomic.Bool
	readAhead bool
	done      chan struct{}
	entries   []fs.DirEntry
	err       error
	lv        *level
}

func (sd *subdir) read() {
	sd.entries, sd.err = readDir(sd.path)
	sd.lv = loadLevel(sd.canon, sd.entries)
}

// readDir is os.ReadDir by openDir: the entries of a directory, sorted
// by name.
func readDir(path string) ([]fs.DirEntry, error) {
	f, err := openDir(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, err
}

// dir visits the entries of one directory. path is the directory as the
// caller named it, canon its symlink-free absolute form for matching.
func (w *walker) dir(path, rel, canon string, entries []fs.DirEntry, stack []*level, depth int) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	type visit struct {
		d     fs.DirEntry
		path  string
		rel   string
		sub   *subdir // nil for a file, or a directory not descended into
		isDir bool
	}
	visits := make([]visit, 0, len(entries))
	var subs []*subdir
	for _, d := range entries {
		c, ok := w.opts.admit(stack, path, rel, canon, d)
		if !ok {
			continue
		}
		v := visit{d: d, path: c.path, rel: c.rel, isDir: c.isDir}
		if c.descend(w.opts, depth) {
			v.sub = &subdir{path: v.path, canon: c.canon, done: make(chan struct{})}
			subs = append(subs, v.sub)
		}
		visits = append(visits, v)
	}
	w.enqueue(subs)
	for i, v := range visits {
		err := w.fn(v.path, v.rel, v.d)
		if errors.Is(err, fs.SkipDir) {
			if v.isDir {
				w.skip(v.sub)
				continue
			}
			// As in filepath.WalkDir: skip the rest of this directory.
			for _, v := range visits[i+1:] {
				w.skip(v.sub)
			}
			return nil
		}
		if err != nil {
			return err
		}
		if v.sub == nil {
			continue
		}
		w.wait(v.sub)
		if v.sub.err != nil && len(v.sub.entries) == 0 {
			continue
		}
		childStack := stack
		if v.sub.lv != nil {
			childStack = append(stack[:len(stack):len(stack)], v.sub.lv)
		}
		if err := w.dir(v.path, v.rel, v.sub.canon, v.sub.entries, childStack, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// join is filepath.Join for a clean dir and a name read from it, which
// holds no separator and is neither "." nor "..": without cleaning the
// result again, which is a good part of a walk's own time.
func join(dir, name string) string {
	switch {
	case dir == ".":
		return name
	case os.IsPathSeparator(dir[len(dir)-1]):
		return dir + name
	}
	return dir + string(filepath.Separator) + name
}

// child is an entry of a directory being walked.
type child struct {
	path, rel string
	// canon is the entry's canonical path, set only where ignore files
	// may be matched against it or its children.
	canon string
	isDir bool
}

// admit names the entry d of the directory path (rel, canon), whose
// ignore files are stack, and reports whether a walk visits it. Both
// walks decide by it, so they skip the same entries.
func (o Options) admit(stack []*level, path, rel, canon string, d fs.DirEntry) (child, bool) {
	name := d.Name()
	if name == ".git" {
		return child{}, false
	}
	c := child{path: join(path, name), rel: name, isDir: d.IsDir()}
	if rel != "" {
		c.rel = rel + "/" + name
	}
	// The canonical path matters only to ignore files and to a
	// directory's own, which most files in most trees do not meet.
	if len(stack) > 0 || c.isDir {
		c.canon = join(canon, name)
	}
	return c, !o.ignored(stack, c.rel, c.canon, name, c.isDir)
}

// descend reports whether a walk lists c, met at depth.
func (c child) descend(o Options, depth int) bool {
	return c.isDir && (o.MaxDepth == 0 || depth < o.MaxDepth)
}

func (o Options) ignored(stack []*level, rel, canon, name string, isDir bool) bool {
	switch o.Overrides.Match(rel, isDir) {
	case Ignore:
		return true
	case Whitelist:
		return false
	}
	if matchLevels(stack, canon, isDir) == Ignore {
		return true
	}
	return !isDir && o.Select != nil && !o.Select(name)
}

// level is the ignore files of one directory.
type level struct {
	dir    string
	hasGit bool
	// In ripgrep's order of precedence: .rgignore, .ignore, .gitignore,
	// .git/info/exclude.
	rg, ig, gi, ex *Rules
}

// loadLevel reads the ignore files of dir, or returns nil when it has
// none and is not the top of a git repository. entries, when not nil, are
// dir's, and tell without a system call which of the files exist.
func loadLevel(dir string, entries []fs.DirEntry) *level {
	// Which of .rgignore, .ignore, .gitignore and .git may be there.
	has := [4]bool{true, true, true, true}
	if entries != nil {
		has = [4]bool{}
		for _, d := range entries {
			switch d.Name() {
			case ".rgignore":
				has[0] = true
			case ".ignore":
				has[1] = true
			case ".gitignore":
				has[2] = true
			case ".git":
				has[3] = true
			}
		}
	}
	lv := level{dir: dir}
	if has[0] {
		lv.rg = readRules(filepath.Join(dir, ".rgignore"))
	}
	if has[1] {
		lv.ig = readRules(filepath.Join(dir, ".ignore"))
	}
	if has[2] {
		lv.gi = readRules(filepath.Join(dir, ".gitignore"))
	}
	if has[3] {
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			lv.hasGit = true
			lv.ex = readRules(filepath.Join(dir, ".git", "info", "exclude"))
		}
	}
	if !lv.hasGit && lv.rg == nil && lv.ig == nil && lv.gi == nil {
		return nil
	}
	// A copy, so that only a directory with ignore files costs an
	// allocation.
	found := lv
	return &found
}

// maxIgnoreFile bounds the ignore files read; a larger one is skipped.
const maxIgnoreFile = 4 << 20

// readRules returns the rules of the file at path, or nil when it cannot
// be read: a missing ignore file is the normal case, and an unreadable
// one is skipped as ripgrep skips it. So is one that is not a regular
// file, which is never opened: a FIFO named .gitignore would block the
// walk.
func readRules(path string) *Rules {
	data, err := regfile.ReadFile(path, maxIgnoreFile)
	if err != nil {
		return nil
	}
	return ParseRules(data)
}

// matchLevels applies the ignore files of stack, outermost first, to the
// absolute path p, with ripgrep's precedence: each kind of file is asked
// from the innermost directory outwards and the first verdict counts;
// then .rgignore beats .ignore, which beats .gitignore, which beats
// .git/info/exclude. Git's files apply only inside a repository and stop
// at its top, so a parent repository's rules never reach into a nested
// one.
func matchLevels(stack []*level, p string, isDir bool) Match {
	anyGit := false
	for _, lv := range stack {
		anyGit = anyGit || lv.hasGit
	}
	var custom, ign, git, excl Match
	sawGit := false
	for i := len(stack) - 1; i >= 0; i-- {
		lv := stack[i]
		rel := relTo(lv.dir, p)
		if custom == None {
			custom = lv.rg.Match(rel, isDir)
		}
		if ign == None {
			ign = lv.ig.Match(rel, isDir)
		}
		if anyGit && !sawGit {
			if git == None {
				git = lv.gi.Match(rel, isDir)
			}
			if excl == None {
				excl = lv.ex.Match(rel, isDir)
			}
		}
		sawGit = sawGit || lv.hasGit
	}
	for _, m := range [...]Match{custom, ign, git, excl} {
		if m != None {
			return m
		}
	}
	return None
}

func relTo(dir, p string) string {
	rel := strings.TrimPrefix(p, dir)
	return filepath.ToSlash(strings.TrimPrefix(rel, string(filepath.Separator)))
}

// canonical returns root's symlink-free absolute form, against which
// ignore files are matched.
func canonical(root string) (string, error) {
	canon, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("walk %s: %w", root, err)
	}
	if real, err := filepath.EvalSymlinks(canon); err == nil {
		canon = real
	}
	return canon, nil
}

// aboveLevels returns the ignore files of the directories above canon,
// outermost first, which apply to a walk of canon.
func aboveLevels(canon string) []*level {
	var stack []*level
	dirs := ancestors(canon)
	for _, dir := range dirs[:len(dirs)-1] {
		if lv := loadLevel(dir, nil); lv != nil {
			stack = append(stack, lv)
		}
	}
	return stack
}

// ancestors returns dir and every directory above it, outermost first.
func ancestors(dir string) []string {
	var out []string
	for {
		out = append(out, dir)
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
