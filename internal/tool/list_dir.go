package tool

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/lathe-dev/lathe/internal/ignore"
	"github.com/lathe-dev/lathe/internal/llm"
)

// listDirMaxName is where Codex's list_dir cuts an entry name, in bytes.
const listDirMaxName = 500

type listDirTool struct{}

// NewListDir returns Codex's list_dir tool: a directory tree to a given
// depth, one entry per line.
func NewListDir() Tool { return listDirTool{} }

func (listDirTool) Def() llm.ToolDef {
	return llm.ToolDef{
		Name:        "list_dir",
		Description: describe("list_dir"),
		Schema: json.RawMessage(`{
			"type": "object",
			"properties": {
				"dir_path": {"type": "string", "description": "Absolute path to the directory to list."},
				"offset": {"type": "number", "description": "The entry number to start listing from. Must be 1 or greater."},
				"limit": {"type": "number", "description": "The maximum number of entries to return."},
				"depth": {"type": "number", "description": "The maximum directory depth to traverse. Must be 1 or greater."}
			},
			"required": ["dir_path"],
			"additionalProperties": false
		}`),
	}
}

func (listDirTool) ReadOnly() bool { return true }

// Prepare names the path the call searches, for the policy.
func (t listDirTool) Prepare(env *Env, input json.RawMessage) (Prepared, error) {
	return prepareSearch(env, input, "dir_path", t.Run)
}

func (listDirTool) Run(ctx context.Context, env *Env, input json.RawMessage) (Result, error) {
	var args struct {
		DirPath string `json:"dir_path"`
		Offset  *int   `json:"offset"`
		Limit   *int   `json:"limit"`
		Depth   *int   `json:"depth"`
	}
	if err := decodeArgs(input, &args, "dir_path"); err != nil {
		return Errorf("%v", err), nil
	}
	offset, limit, depth := ptrOr(args.Offset, 1), ptrOr(args.Limit, 25), ptrOr(args.Depth, 2)
	switch {
	case offset < 1:
		return Errorf("offset must be a 1-indexed entry number"), nil
	case limit < 1:
		return Errorf("limit must be greater than zero"), nil
	case depth < 1:
		return Errorf("depth must be greater than zero"), nil
	}
	dir, err := resolvePath(env, "dir_path", args.DirPath)
	if err != nil {
		return Errorf("%v", err), nil
	}
	if res := checkDir(env, dir); res != nil {
		return Errorf("failed to read directory: %s", res.Content), nil
	}

	type entry struct{ rel, line string }
	var entries []entry
	err = ignore.Walk(ctx, dir, ignore.Options{MaxDepth: depth}, func(_, rel string, d fs.DirEntry) error {
		name := cutName(d.Name())
		switch t := d.Type(); {
		case t&fs.ModeSymlink != 0:
			name += "@"
		case t.IsDir():
			name += "/"
		case !t.IsRegular():
			name += "?"
		}
		indent := strings.Repeat("  ", strings.Count(rel, "/"))
		entries = append(entries, entry{rel: cutName(rel), line: indent + quotePath(name)})
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("list %s: %w", dir, err)
	}
	// Codex sorts by the whole relative path, so children follow their
	// directory.
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.rel, b.rel) })

	lines := []string{"Absolute path: " + dir}
	if len(entries) > 0 {
		if offset > len(entries) {
			return Errorf("offset exceeds directory entry count"), nil
		}
		end := min(len(entries), offset-1+limit)
		for _, e := range entries[offset-1 : end] {
			lines = append(lines, e.line)
		}
		if end < len(entries) {
			lines = append(lines, fmt.Sprintf("More than %d entries found", end-offset+1))
		}
	}
	return Result{Content: strings.Join(lines, "\n"), Summary: fmt.Sprintf("%d entries", len(entries))}, nil
}

// cutName cuts a name to listDirMaxName bytes at a character boundary.
func cutName(s string) string {
	if len(s) <= listDirMaxName {
		return s
	}
	return cutLine([]byte(s), len(s), listDirMaxName, "")
}
