package tool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/regfile"
)

const (
	readLimit   = 2000
	readMaxLine = 2000
	// readMaxBytes bounds one Read's output to about 25k tokens, Claude
	// Code's limit; past it Read shows what fits and says how to go on
	// rather than refusing the file.
	readMaxBytes = 100_000
)

type readTool struct{}

// NewRead returns Claude Code's Read tool: a text file with line numbers,
// a window of it for a large file.
func NewRead() Tool { return readTool{} }

func (readTool) Def() llm.ToolDef {
	return llm.ToolDef{
		Name:        "Read",
		Description: describe("Read"),
		Schema: json.RawMessage(`{
			"type": "object",
			"properties": {
				"file_path": {"type": "string", "description": "The absolute path to the file to read"},
				"offset": {"type": "integer", "description": "The line number to start reading from. Only provide if the file is too large to read at once"},
				"limit": {"type": "integer", "description": "The number of lines to read. Only provide if the file is too large to read at once."}
			},
			"required": ["file_path"],
			"additionalProperties": false
		}`),
	}
}

func (readTool) ReadOnly() bool { return true }

func (t readTool) Run(ctx context.Context, env *Env, input json.RawMessage) (Result, error) {
	p, err := t.Prepare(env, input)
	return runPrepared(ctx, p, err)
}

// Prepare decodes a Read call and resolves the file it reads.
func (readTool) Prepare(env *Env, input json.RawMessage) (Prepared, error) {
	var args struct {
		FilePath string `json:"file_path"`
		Offset   int    `json:"offset"`
		Limit    *int   `json:"limit"`
	}
	if err := decodeArgs(input, &args, "file_path"); err != nil {
		return Prepared{}, err
	}
	path, key, err := filePath(env, args.FilePath)
	if err != nil {
		return Prepared{}, err
	}
	offset, limit := max(args.Offset, 1), readLimit
	if args.Offset < 0 {
		return Prepared{}, errors.New("offset must be a line number, 1 or greater")
	}
	if args.Limit != nil {
		if *args.Limit <= 0 {
			return Prepared{}, errors.New("limit must be a number of lines, 1 or greater")
		}
		limit = *args.Limit
	}
	return Prepared{
		Access: policy.Call{Kind: policy.Read, Dir: workDir(env), Reads: []string{policyPath(env, key)}, LexicalReads: []string{path}},
		Run: func(ctx context.Context) (Result, error) {
			return readLines(ctx, env, path, key, offset, limit)
		},
	}, nil
}

// readLines runs a Read call: lines from offset on, at most limit, of the
// file named path to the model and key on disk.
func readLines(ctx context.Context, env *Env, path, key string, offset, limit int) (Result, error) {
	v, err := readView(ctx, key, viewOptions{
		offset: offset, limit: limit,
		maxLine: readMaxLine, lineMark: "… [line truncated]",
		maxBytes: readMaxBytes,
	})
	if res, err := viewError(env, path, err, "Use Glob, or ls with Bash, to list it."); res != nil || err != nil {
		return *res, err
	}
	env.Reads.RecordHash(key, v.hash)

	name := displayPath(env, path)
	switch {
	case v.total == 0:
		return Result{Content: "Warning: the file exists but the contents are empty.", Summary: "read " + name + " (empty)"}, nil
	case offset > v.total:
		return Result{
			Content: fmt.Sprintf("Warning: the file exists but is shorter than the provided offset (%d). The file has %d lines.", offset, v.total),
			Summary: fmt.Sprintf("read %s (%d lines, offset past the end)", name, v.total),
		}, nil
	}
	if res, ok := reread(ctx, env, key, fmt.Sprintf("Read %d %d", offset, limit), v); ok {
		res.Summary = fmt.Sprintf("read %s (%s)", name, res.Summary)
		return res, nil
	}
	var b strings.Builder
	for i, line := range v.lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%6d\t%s", v.first+i, line)
	}
	if note := v.encodingNote(); note != "" {
		b.WriteString("\n\n" + note)
	}
	summary := fmt.Sprintf("read %s (%d %s)", name, v.total, plural(v.total, "line"))
	if note := v.moreNote(); note != "" || v.first > 1 {
		first, last := v.shown()
		summary = fmt.Sprintf("read %s lines %d-%d of %d", name, first, last, v.total)
		if note != "" {
			b.WriteString("\n\n" + note)
		}
	}
	return Result{Content: b.String(), Capped: true, Summary: summary}, nil
}

// viewError turns an error from readView into what a reading tool
// returns: nil and nil for none, an error Result for what the model can
// act on (dirHint tells it what to use on a directory), or a Go error.
func viewError(env *Env, path string, err error, dirHint string) (*Result, error) {
	if err == nil {
		return nil, nil
	}
	var bin *binaryError
	var nr *regfile.NotRegularError
	var res Result
	switch {
	case errors.Is(err, errIsDir):
		res = Errorf("%s is a directory, not a file. %s", path, dirHint)
	case errors.As(err, &nr):
		res = Errorf("Cannot read %s: it is %s, not a regular file, and reading it could block or never end. Only regular files can be read.", path, regfile.Describe(nr.Mode))
	case errors.As(err, &bin):
		res = Errorf("Cannot read %s: it is a binary file (%s). Only text files can be read; inspect it with a shell command such as `file` or `xxd`.", path, bin.kind)
	default:
		r := fileError(env, path, err)
		if r == nil {
			return &Result{}, fmt.Errorf("read %s: %w", path, err)
		}
		res = *r
	}
	return &res, nil
}
