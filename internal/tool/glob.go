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
	var found []string
	err := ignore.Walk(ctx, root, ignore.Options{}, func(path, rel string, d fs.DirEntry) error {
		if d.IsDir() {
			return nil
		}
		if ok, _ := doublestar.Match(pattern, rel); ok {
			found = append(found, path)
		}
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("glob %s in %s: %w", pattern, root, err)
	}
	if len(found) == 0 {
		return Result{Content: "No files found", Summary: "0 files"}, nil
	}
	sortNewestFirst(found)
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

// sortNewestFirst orders paths by modification time, newest first, then
// by name, so that what was just worked on comes first.
func sortNewestFirst(paths []string) {
	// The stats, one per path, are most of the time of a Glob of a large
	// tree: they run on every CPU.
	mtime := make([]int64, len(paths))
	workers := min(runtime.GOMAXPROCS(0), len(paths)/256+1)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(paths); i += workers {
				// A file that vanished since it was found sorts last.
				if fi, err := os.Stat(paths[i]); err == nil {
					mtime[i] = fi.ModTime().UnixNano()
				}
			}
		})
	}
	wg.Wait()
	order := make([]int, len(paths))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(mtime[b], mtime[a]), strings.Compare(paths[a], paths[b]))
	})
	sorted := make([]string, len(paths))
	for i, j := range order {
		sorted[i] = paths[j]
	}
	copy(paths, sorted)
}
