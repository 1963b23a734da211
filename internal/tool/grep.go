package tool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	"github.com/lathe-dev/lathe/internal/grep"
	"github.com/lathe-dev/lathe/internal/llm"
)

const (
	// grepHeadLimit is Grep's default cap on output lines or entries.
	grepHeadLimit = 250
	// grepMaxLine cuts long matching lines, such as minified code.
	grepMaxLine = 500
)

// ripgrep is the rg executable on PATH, or "" to search with the Go
// engine; both give the same results.
var ripgrep = sync.OnceValue(func() string {
	p, _ := exec.LookPath("rg")
	return p
})

type grepTool struct {
	// rg finds ripgrep; tests replace it to choose the engine.
	rg func() string
}

// NewGrep returns Claude Code's Grep tool: search file contents with a
// regular expression.
func NewGrep() Tool { return grepTool{rg: ripgrep} }

func (grepTool) Def() llm.ToolDef {
	return llm.ToolDef{
		Name:        "Grep",
		Description: describe("Grep"),
		Schema: json.RawMessage(`{
			"type": "object",
			"properties": {
				"pattern": {"type": "string", "description": "Regular expression to search for"},
				"path": {"type": "string", "description": "File or directory to search (default: workspace root)"},
				"glob": {"type": "string", "description": "Glob filter, e.g. \"*.js\" or \"*.{ts,tsx}\""},
				"type": {"type": "string", "description": "File type, e.g. go, js, py"},
				"output_mode": {"type": "string", "enum": ["content", "files_with_matches", "count"]},
				"-i": {"type": "boolean", "description": "Ignore case"},
				"-n": {"type": "boolean", "description": "Line numbers in content mode (default true)"},
				"-A": {"type": "integer", "description": "Lines after each match"},
				"-B": {"type": "integer", "description": "Lines before each match"},
				"-C": {"type": "integer", "description": "Lines around each match"},
				"multiline": {"type": "boolean"},
				"head_limit": {"type": "integer", "description": "Default 250; 0 for no limit"},
				"offset": {"type": "integer", "description": "Lines or entries to skip"}
			},
			"required": ["pattern"],
			"additionalProperties": false
		}`),
	}
}

func (grepTool) ReadOnly() bool { return true }

// Prepare names the path the call searches, for the policy.
func (t grepTool) Prepare(env *Env, input json.RawMessage) (Prepared, error) {
	return prepareSearch(env, input, "path", t.Run)
}

func (t grepTool) Run(ctx context.Context, env *Env, input json.RawMessage) (Result, error) {
	var args struct {
		Pattern    string `json:"pattern"`
		Path       string `json:"path"`
		Glob       string `json:"glob"`
		Type       string `json:"type"`
		OutputMode string `json:"output_mode"`
		IgnoreCase bool   `json:"-i"`
		LineNums   *bool  `json:"-n"`
		After      *int   `json:"-A"`
		Before     *int   `json:"-B"`
		Context    *int   `json:"-C"`
		Multiline  bool   `json:"multiline"`
		HeadLimit  *int   `json:"head_limit"`
		Offset     int    `json:"offset"`
	}
	if err := decodeArgs(input, &args, "pattern"); err != nil {
		return Errorf("%v", err), nil
	}
	mode := args.OutputMode
	switch mode {
	case "":
		mode = "files_with_matches"
	case "content", "files_with_matches", "count":
	default:
		return Errorf(`output_mode must be "content", "files_with_matches" or "count", not %q`, mode), nil
	}
	before, after := ptrOr(args.Before, 0), ptrOr(args.After, 0)
	if args.Context != nil {
		before, after = *args.Context, *args.Context
	}
	limit := ptrOr(args.HeadLimit, grepHeadLimit)
	for _, n := range []struct {
		name string
		v    int
	}{{"-A", after}, {"-B", before}, {"head_limit", limit}, {"offset", args.Offset}} {
		if n.v < 0 {
			return Errorf("%s must not be negative", n.name), nil
		}
	}
	path := workDir(env)
	if args.Path != "" {
		p, err := resolvePath(env, "path", args.Path)
		if err != nil {
			return Errorf("%v", err), nil
		}
		path = p
	}
	fi, err := os.Stat(path)
	if err != nil {
		return Errorf("Path does not exist: %s. Note: your current working directory is %s.", path, workDir(env)), nil
	}

	files, err := grep.Search(ctx, grep.Options{
		Pattern:    args.Pattern,
		Path:       path,
		Globs:      splitGlobs(args.Glob),
		Type:       args.Type,
		IgnoreCase: args.IgnoreCase,
		Multiline:  args.Multiline,
		Lines:      mode == "content",
		Before:     before,
		After:      after,
		RG:         t.rg(),
		Exec:       env.executor(),
	})
	var inErr *grep.InputError
	if errors.As(err, &inErr) {
		return Errorf("%s", inErr.Msg), nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("grep %q in %s: %w", args.Pattern, path, err)
	}

	switch mode {
	case "content":
		lines := contentLines(env, files, !fi.IsDir(), ptrOr(args.LineNums, true), before > 0 || after > 0)
		if len(lines) == 0 {
			return Result{Content: "No matches found", Summary: "0 matches"}, nil
		}
		return Result{Content: page(lines, args.Offset, limit), Summary: fmt.Sprintf("%d lines", len(lines))}, nil
	case "count":
		if len(files) == 0 {
			return Result{Content: "No matches found", Summary: "0 matches"}, nil
		}
		entries := make([]string, len(files))
		total := 0
		for i, f := range files {
			entries[i] = displayPath(env, f.Path) + ":" + strconv.Itoa(f.Matches)
			total += f.Matches
		}
		footer := fmt.Sprintf("\n\nFound %d total %s across %d %s.", total, plural(total, "occurrence"), len(files), plural(len(files), "file"))
		return Result{Content: page(entries, args.Offset, limit) + footer, Summary: fmt.Sprintf("%d matches in %d files", total, len(files))}, nil
	}
	if len(files) == 0 {
		return Result{Content: "No files found", Summary: "0 files"}, nil
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.Path
	}
	sortNewestFirst(paths)
	for i, p := range paths {
		paths[i] = displayPath(env, p)
	}
	header := fmt.Sprintf("Found %d %s\n", len(paths), plural(len(paths), "file"))
	return Result{Content: header + page(paths, args.Offset, limit), Summary: fmt.Sprintf("%d files", len(paths))}, nil
}

// contentLines renders matching lines as ripgrep prints them:
// "path:N:text" for a match, "path-N-text" for context, with "--" between
// groups that are not adjacent. The path is left out when a single file
// was searched, and the number when lineNums is off.
func contentLines(env *Env, files []grep.File, single, lineNums, context bool) []string {
	var out []string
	for _, f := range files {
		prefix := ""
		if !single {
			prefix = displayPath(env, f.Path)
		}
		prev := -1
		for _, l := range f.Lines {
			if context && len(out) > 0 && l.Number != prev+1 {
				out = append(out, "--")
			}
			prev = l.Number
			sep := "-"
			if l.Match {
				sep = ":"
			}
			var b strings.Builder
			if prefix != "" {
				b.WriteString(prefix + sep)
			}
			if lineNums {
				b.WriteString(strconv.Itoa(l.Number) + sep)
			}
			b.WriteString(cleanLine(l.Text, l.Number))
			out = append(out, b.String())
		}
	}
	return out
}

// cleanLine shows a line as Read does, without the carriage return of a
// CRLF line or the byte-order mark of a first line, and cut if long.
func cleanLine(text string, number int) string {
	text = strings.TrimSuffix(text, "\r")
	if number == 1 {
		text = strings.TrimPrefix(text, "\uFEFF")
	}
	return cutLine([]byte(text), len(text), grepMaxLine, "… [line truncated]")
}

// page returns entries from offset, at most limit of them (all when limit
// is 0), and a note on how to see the rest.
func page(entries []string, offset, limit int) string {
	start := min(offset, len(entries))
	end := len(entries)
	if limit > 0 {
		end = min(end, start+limit)
	}
	s := strings.Join(entries[start:end], "\n")
	if end < len(entries) {
		s += fmt.Sprintf("\n\n(Showing %d-%d of %d. Use offset=%d to see more.)", start+1, end, len(entries), end)
	}
	return s
}

// splitGlobs splits Grep's glob argument as Claude Code does: on spaces,
// and on commas outside brace alternatives.
func splitGlobs(s string) []string {
	var globs []string
	for _, g := range strings.Fields(s) {
		if strings.Contains(g, "{") && strings.Contains(g, "}") {
			globs = append(globs, g)
			continue
		}
		for _, part := range strings.Split(g, ",") {
			if part != "" {
				globs = append(globs, part)
			}
		}
	}
	return globs
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func ptrOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
