package ignore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"sync"
)

// Entry is an entry that WalkParallel visits: what Walk hands its
// WalkFunc, and the directory it was listed from, still open.
type Entry struct {
	fs.DirEntry
	// Path is the entry's path under the root as given; Rel is
	// slash-separated and relative to the root.
	Path, Rel string
	// dirfd is the descriptor of the directory being listed, open while
	// the ParallelFunc runs.
	dirfd uintptr
}

// ParallelFunc is called by WalkParallel for each entry that is not
// ignored. It is called concurrently, from up to GOMAXPROCS goroutines,
// in no order, except that a directory is visited before its entries; e
// must not be kept once it returns. Returning fs.SkipDir from a directory
// skips it, and from a file the entries of its directory not yet
// visited; fs.SkipAll ends the walk; any other error stops the walk and
// is returned by WalkParallel.
type ParallelFunc func(e *Entry) error

// WalkParallel visits what Walk visits, skipping the same entries, but
// lists directories and calls fn on every CPU at once, in no order, for
// callers that order the entries themselves or not at all. It returns
// when every call of fn has returned. A cancelled ctx stops it between
// directories, with ctx's error.
func WalkParallel(ctx context.Context, root string, opts Options, fn ParallelFunc) error {
	canon, err := canonical(root)
	if err != nil {
		return err
	}
	// Only the root must be readable, as with Walk.
	f, err := openDir(root)
	if err != nil {
		return fmt.Errorf("walk %s: %w", root, err)
	}
	entries, err := f.ReadDir(-1)
	if err != nil {
		f.Close()
		return fmt.Errorf("walk %s: %w", root, err)
	}
	w := &pwalker{ctx: ctx, opts: opts, fn: fn}
	w.more.L = &w.mu
	w.busy = 1
	w.finish(w.list(job{path: root, canon: canon, stack: aboveLevels(canon), depth: 1}, f, entries))
	f.Close()
	var workers sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		workers.Go(w.work)
	}
	workers.Wait()
	if errors.Is(w.err, fs.SkipAll) || errors.Is(w.err, fs.SkipDir) {
		return nil
	}
	return w.err
}

// pwalker is the state of one WalkParallel: directories still to list,
// taken by workers last first, which keeps the queue short.
type pwalker struct {
	ctx  context.Context
	opts Options
	fn   ParallelFunc

	mu   sync.Mutex
	more sync.Cond // jobs, busy or err changed
	jobs []job
	busy int   // jobs being listed
	err  error // the first error, which ends the walk
}

// job is a directory to list, whose entries are met at depth; stack is
// the ignore files above it, its own not yet among them.
type job struct {
	path, rel, canon string
	stack            []*level
	depth            int
}

// work is a worker: it lists directories until none is left and none is
// being listed, which could yield more, or the walk has failed.
func (w *pwalker) work() {
	w.mu.Lock()
	for {
		for w.err == nil && len(w.jobs) == 0 && w.busy > 0 {
			w.more.Wait()
		}
		if w.err != nil || len(w.jobs) == 0 {
			w.mu.Unlock()
			return
		}
		j := w.jobs[len(w.jobs)-1]
		w.jobs = w.jobs[:len(w.jobs)-1]
		w.busy++
		w.mu.Unlock()
		w.finish(w.run(j))
		w.mu.Lock()
	}
}

// finish records what one listing yielded: its subdirectories, or the
// error that ends the walk.
func (w *pwalker) finish(subs []job, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.busy--
	if err != nil && w.err == nil {
		w.err = err
	}
	w.jobs = append(w.jobs, subs...)
	w.more.Broadcast()
}

// run lists the directory of j. One that cannot be read is skipped, as
// Walk skips it.
func (w *pwalker) run(j job) ([]job, error) {
	f, err := openDir(j.path)
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil && len(entries) == 0 {
		return nil, nil
	}
	return w.list(j, f, entries)
}

// list visits entries, read from the open directory f of j, and returns
// the subdirectories to list.
func (w *pwalker) list(j job, f *os.File, entries []fs.DirEntry) (subs []job, err error) {
	if err := w.ctx.Err(); err != nil {
		return nil, err
	}
	stack := j.stack
	if lv := loadLevel(j.canon, entries); lv != nil {
		stack = append(stack[:len(stack):len(stack)], lv)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", j.path, err)
	}
	// The descriptor stays valid while Control runs, so fn runs in it.
	cerr := rc.Control(func(fd uintptr) {
		e := Entry{dirfd: fd}
		for _, d := range entries {
			c, ok := w.opts.admit(stack, j.path, j.rel, j.canon, d)
			if !ok {
				continue
			}
			e.DirEntry, e.Path, e.Rel = d, c.path, c.rel
			switch ferr := w.fn(&e); {
			case errors.Is(ferr, fs.SkipDir):
				if !c.isDir {
					return
				}
				continue
			case ferr != nil:
				err = ferr
				return
			}
			if c.descend(w.opts, j.depth) {
				subs = append(subs, job{path: c.path, rel: c.rel, canon: c.canon, stack: stack, depth: j.depth + 1})
			}
		}
	})
	if cerr != nil {
		return nil, fmt.Errorf("walk %s: %w", j.path, cerr)
	}
	return subs, err
}
