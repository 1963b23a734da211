package tool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/lathe-dev/lathe/internal/grep"
	"github.com/lathe-dev/lathe/internal/llm"
)

// grepFilesMaxLimit caps grep_files' limit, as Codex does.
const grepFilesMaxLimit = 2000

type grepFilesTool struct {
	// rg finds ripgrep; tests replace it to choose the engine.
	rg func() string
}

// NewGrepFiles returns Codex's grep_files tool: the files whose contents
// match a pattern, newest first.
func NewGrepFiles() Tool { return grepFilesTool{rg: ripgrep} }

func (grepFilesTool) Def() llm.ToolDef {
	return llm.ToolDef{
		Name:        "grep_files",
		Description: describe("grep_files"),
		Schema: json.RawMessage(`{
			"type": "object",
			"properties": {
				"pattern": {"type": "string", "description": "Regular expression pattern to search for."},
				"include": {"type": "string", "description": "Optional glob that limits which files are searched (e.g. \"*.rs\" or \"*.{ts,tsx}\")."},
				"path": {"type": "string", "description": "Directory or file path to search. Defaults to the session's working directory."},
				"limit": {"type": "number", "description": "Maximum number of file paths to return (defaults to 100)."}
			},
			"required": ["pattern"],
			"additionalProperties": false
		}`),
	}
}

func (grepFilesTool) ReadOnly() bool { return true }

// Prepare names the path the call searches, for the policy.
func (t grepFilesTool) Prepare(env *Env, input json.RawMessage) (Prepared, error) {
	return prepareSearch(env, input, "path", t.Run)
}

func (t grepFilesTool) Run(ctx context.Context, env *Env, input json.RawMessage) (Result, error) {
	var args struct {
		Pattern string `json:"pattern"`
		Include string `json:"include"`
		Path    string `json:"path"`
		Limit   *int   `json:"limit"`
	}
	if err := decodeArgs(input, &args, "pattern"); err != nil {
		return Errorf("%v", err), nil
	}
	pattern := strings.TrimSpace(args.Pattern)
	if pattern == "" {
		return Errorf("pattern must not be empty"), nil
	}
	limit := ptrOr(args.Limit, 100)
	if limit < 1 {
		return Errorf("limit must be greater than zero"), nil
	}
	limit = min(limit, grepFilesMaxLimit)
	path := workDir(env)
	if args.Path != "" {
		p, err := resolvePath(env, "path", args.Path)
		if err != nil {
			return Errorf("%v", err), nil
		}
		path = p
	}
	if _, err := os.Stat(path); err != nil {
		return Errorf("unable to access `%s`: %v", path, err), nil
	}
	var globs []string
	if include := strings.TrimSpace(args.Include); include != "" {
		globs = []string{include}
	}
	files, err := grep.Search(ctx, grep.Options{Pattern: pattern, Path: path, Globs: globs, RG: t.rg(), Exec: env.executor()})
	var inErr *grep.InputError
	if errors.As(err, &inErr) {
		return Errorf("%s", inErr.Msg), nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("grep_files %q in %s: %w", pattern, path, err)
	}
	if len(files) == 0 {
		return Result{Content: "No matches found.", Summary: "0 files"}, nil
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.Path
	}
	sortNewestFirst(paths)
	paths = paths[:min(len(paths), limit)]
	for i, p := range paths {
		paths[i] = quotePath(p)
	}
	return Result{Content: strings.Join(paths, "\n"), Summary: fmt.Sprintf("%d files", len(files))}, nil
}
