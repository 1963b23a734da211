package tool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/policy"
)

// readFileMaxLine is where Codex's read_file cuts a line, in bytes.
const readFileMaxLine = 500

type readFileTool struct{}

// NewReadFile returns Codex's read_file tool: a slice of a text file,
// each line prefixed "L<number>: ".
func NewReadFile() Tool { return readFileTool{} }

func (readFileTool) Def() llm.ToolDef {
	return llm.ToolDef{
		Name:        "read_file",
		Description: describe("read_file"),
		Schema: json.RawMessage(`{
			"type": "object",
			"properties": {
				"file_path": {"type": "string", "description": "Absolute path to the file"},
				"offset": {"type": "number", "description": "The line number to start reading from. Must be 1 or greater."},
				"limit": {"type": "number", "description": "The maximum number of lines to return."}
			},
			"required": ["file_path"],
			"additionalProperties": false
		}`),
	}
}

func (readFileTool) ReadOnly() bool { return true }

func (t readFileTool) Run(ctx context.Context, env *Env, input json.RawMessage) (Result, error) {
	p, err := t.Prepare(env, input)
	return runPrepared(ctx, p, err)
}

// Prepare decodes a read_file call and resolves the file it reads.
func (readFileTool) Prepare(env *Env, input json.RawMessage) (Prepared, error) {
	var args struct {
		FilePath string `json:"file_path"`
		Offset   *int   `json:"offset"`
		Limit    *int   `json:"limit"`
	}
	if err := decodeArgs(input, &args, "file_path"); err != nil {
		return Prepared{}, err
	}
	offset, limit := ptrOr(args.Offset, 1), ptrOr(args.Limit, readLimit)
	if offset < 1 {
		return Prepared{}, errors.New("offset must be a 1-indexed line number")
	}
	if limit < 1 {
		return Prepared{}, errors.New("limit must be greater than zero")
	}
	path, key, err := filePath(env, args.FilePath)
	if err != nil {
		return Prepared{}, err
	}
	return Prepared{
		Access: policy.Call{Kind: policy.Read, Dir: workDir(env), Reads: []string{policyPath(env, key)}, LexicalReads: []string{path}},
		Run: func(ctx context.Context) (Result, error) {
			return readFileLines(ctx, env, path, key, offset, limit)
		},
	}, nil
}

// readFileLines runs a read_file call: lines from offset on, at most
// limit, of the file named path to the model and key on disk.
func readFileLines(ctx context.Context, env *Env, path, key string, offset, limit int) (Result, error) {
	// Pages are as large as Read's: 2000 lines of 500 bytes would be
	// a quarter of a million tokens.
	v, err := readView(ctx, key, viewOptions{offset: offset, limit: limit, maxLine: readFileMaxLine, maxBytes: readMaxBytes})
	if res, err := viewError(env, path, err, "Use list_dir to list it."); res != nil || err != nil {
		return *res, err
	}
	env.Reads.RecordHash(key, v.hash)
	name := displayPath(env, path)
	switch {
	case v.total == 0:
		return Result{Content: "The file is empty.", Summary: "read " + name + " (empty)"}, nil
	case offset > v.total:
		return Errorf("offset exceeds file length"), nil
	}
	if res, ok := reread(ctx, env, key, fmt.Sprintf("read_file %d %d", offset, limit), v); ok {
		res.Summary = fmt.Sprintf("read %s (%s)", name, res.Summary)
		return res, nil
	}
	var b strings.Builder
	for i, line := range v.lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "L%d: %s", v.first+i, line)
	}
	if note := v.encodingNote(); note != "" {
		b.WriteString("\n" + note)
	}
	if v.capped {
		b.WriteString("\n" + v.moreNote())
	}
	first, last := v.shown()
	return Result{Content: b.String(), Capped: true, Summary: fmt.Sprintf("read %s lines %d-%d of %d", name, first, last, v.total)}, nil
}
