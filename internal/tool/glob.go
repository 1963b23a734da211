package tool

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/lathe-dev/lathe/internal/ignore"
	"github.com/lathe-dev/lathe/internal/llm"
)

// globLimit is how many paths Glob lists, as Claude Code's does.
const globLimit = 100

type globTool struct{}

// NewGlob returns Claude Code's Glob tool: find files by a glob pattern,
// newest first.
func NewGlob() Tool { return globTool{} }

func (globTool) Def() llm.ToolDef {
	return llm.ToolDef{
		Name:        "Glob",
		Description: describe("Glob"),
		Schema: json.RawMessage(`{
			"type": "object",
			"properties": {
				"pattern": {"type": "string", "description": "The glob pattern to match files against"},
				"path": {"type": "string", "description": "The directory to search in. Defaults to the workspace root."}
			},
			"required": ["pattern"],
			"additionalProperties": false
		}`),
	}
}

func (globTool) ReadOnly() bool { return true }

// Prepare names the path the call searches, for the policy.
func (t globTool) Prepare(env *Env, input json.RawMessage) (Prepared, error) {
	return prepareSearch(env, input, "path", t.Run)
}

func (globTool) Run(ctx context.Context, env *Env, input json.RawMessage) (Result, error) {
	var args struct {
		Pattern string `json:"pattern"`
		Path    string `json:"path"`
	}
	if err := decodeArgs(input, &args, "pattern"); err != nil {
		return Errorf("%v", err), nil
	}
	root := workDir(env)
	if args.Path != "" {
		p, err := resolvePath(env, "path", args.Path)
		if err != nil {
			return Errorf("%v", err), nil
		}
		root = p
	}
	pattern := strings.TrimPrefix(args.Pattern, "./")
	if filepath.IsAbs(pattern) {
		// An absolute pattern names its own directory.
		root, pattern = doublestar.SplitPattern(filepath.ToSlash(pattern))
	}
	if pattern == "" || !doublestar.ValidatePattern(pattern) {
		return Errorf("Invalid glob pattern: %q", args.Pattern), nil
	}
	if res := checkDir(env, root); res != nil {
		return *res, nil
	}
	found, err := globNewestFirst(ctx, root, pattern)
	if err != nil {
		return Result{}, fmt.Errorf("glob %s in %s: %w", pattern, root, err)
	}
	if len(found) == 0 {
		return Result{Content: "No files found", Summary: "0 files"}, nil
	}
	var b strings.Builder
	for i, p := range found[:min(len(found), globLimit)] {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(displayPath(env, p))
	}
	if len(found) > globLimit {
		b.WriteString("\n(Results are truncated. Consider using a more specific path or pattern.)")
	}
	return Result{Content: b.String(), Summary: fmt.Sprintf("%d files", len(found))}, nil
}

// checkDir returns an error Result unless p is a directory.
func checkDir(env *Env, p string) *Result {
	fi, err := os.Stat(p)
	var res Result
	switch {
	case errors.Is(err, fs.ErrNotExist):
		res = Errorf("Path does not exist: %s. Note: your current working directory is %s.", p, workDir(env))
	case err != nil:
		res = Errorf("Cannot access %s: %v", p, err)
	case !fi.IsDir():
		res = Errorf("Path is not a directory: %s", p)
	default:
		return nil
	}
	return &res
}

// globNewestFirst lists the files under root whose paths relative to it
// match pattern, newest first, then by path (as sortNewestFirst). The
// stat of every match costs as much as the walk: each runs in the walk,
// on every CPU, relative to the directory being listed.
func globNewestFirst(ctx context.Context, root, pattern string) ([]string, error) {
	suffix := literalSuffix(pattern)
	var (
		mu  sync.Mutex
		all []stamped
	)
	err := ignore.WalkParallel(ctx, root, ignore.Options{}, func(e *ignore.Entry) error {
		if e.IsDir() || !strings.HasSuffix(e.Rel, suffix) || !doublestar.MatchUnvalidated(pattern, e.Rel) {
			return nil
		}
		// A file that vanished since it was listed sorts last.
		mtime, _ := e.ModTime()
		mu.Lock()
		all = append(all, stamped{e.Path, mtime})
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return byNewest(all), nil
}

// sortNewestFirst orders paths by modification time, newest first, then
// by path, so that what was just worked on comes first.
func sortNewestFirst(paths []string) {
	st := newStamper()
	for _, p := range paths {
		st.add(p)
	}
	copy(paths, st.newestFirst())
}

// stampBatch is how many paths a stat worker is handed at once.
const stampBatch = 64

// stamper stats paths on every CPU as they are added, for their
// modification times: one stat per path is most of the time of a Glob or
// a files_with_matches Grep of a large tree.
type stamper struct {
	batches chan []string
	batch   []string
	// by holds what each worker stamped.
	by [][]stamped
	wg sync.WaitGroup
}

type stamped struct {
	path  string
	mtime int64
}

func newStamper() *stamper {
	workers := runtime.GOMAXPROCS(0)
	st := &stamper{batches: make(chan []string, workers), by: make([][]stamped, workers)}
	for w := range workers {
		st.wg.Go(func() {
			for batch := range st.batches {
				for _, p := range batch {
					// A file that vanished since it was found sorts last.
					var mtime int64
					if fi, err := os.Stat(p); err == nil {
						mtime = fi.ModTime().UnixNano()
					}
					st.by[w] = append(st.by[w], stamped{p, mtime})
				}
			}
		})
	}
	return st
}

func (st *stamper) add(path string) {
	st.batch = append(st.batch, path)
	if len(st.batch) == stampBatch {
		st.batches <- st.batch
		st.batch = nil
	}
}

// newestFirst waits for the stats and returns the paths added, newest
// first, then by path. It must be called once, to end the workers.
func (st *stamper) newestFirst() []string {
	if len(st.batch) > 0 {
		st.batches <- st.batch
	}
	close(st.batches)
	st.wg.Wait()
	return byNewest(slices.Concat(st.by...))
}

// byNewest sorts all newest first, then by path, and returns the paths.
func byNewest(all []stamped) []string {
	slices.SortFunc(all, func(a, b stamped) int {
		return cmp.Or(cmp.Compare(b.mtime, a.mtime), strings.Compare(a.path, b.path))
	})
	paths := make([]string, len(all))
	for i, s := range all {
		paths[i] = s.path
	}
	return paths
}

// literalSuffix returns the literal text that ends a valid glob pattern,
// which every path it matches ends with, so that most others are turned
// away without running the matcher.
func literalSuffix(pattern string) string {
	i := strings.LastIndexAny(pattern, `*?[]{}\`)
	return pattern[i+1:]
}
