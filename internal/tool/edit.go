package tool

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/textfile"
)

// snippetContext is how many lines around an edit its result shows, and
// snippetMax how many lines at most, so a large edit stays cheap.
const (
	snippetContext = 3
	snippetMax     = 30
)

type editTool struct{}

// NewEdit returns Claude Code's Edit tool: replace an exact, unique string
// in a file (or every occurrence of it).
func NewEdit() Tool { return editTool{} }

func (editTool) Def() llm.ToolDef {
	return llm.ToolDef{
		Name:        "Edit",
		Description: describe("Edit"),
		Schema: json.RawMessage(`{
			"type": "object",
			"properties": {
				"file_path": {"type": "string", "description": "The absolute path to the file to modify"},
				"old_string": {"type": "string", "description": "The text to replace"},
				"new_string": {"type": "string", "description": "The text to replace it with (must be different from old_string)"},
				"replace_all": {"type": "boolean", "default": false, "description": "Replace all occurrences of old_string (default false)"}
			},
			"required": ["file_path", "old_string", "new_string"],
			"additionalProperties": false
		}`),
	}
}

func (editTool) ReadOnly() bool { return false }

func (t editTool) Run(ctx context.Context, env *Env, input json.RawMessage) (Result, error) {
	p, err := t.Prepare(env, input)
	return runPrepared(ctx, p, err)
}

// editArgs are an Edit call's arguments.
type editArgs struct {
	FilePath   string `json:"file_path"`
	OldString  string `json:"old_string"`
	NewString  string `json:"new_string"`
	ReplaceAll bool   `json:"replace_all"`
}

// Prepare decodes an Edit call and resolves the file it writes.
func (editTool) Prepare(env *Env, input json.RawMessage) (Prepared, error) {
	var args editArgs
	if err := decodeArgs(input, &args, "file_path", "old_string", "new_string"); err != nil {
		return Prepared{}, err
	}
	path, key, err := filePath(env, args.FilePath)
	if err != nil {
		return Prepared{}, err
	}
	if args.OldString == args.NewString {
		return Prepared{}, modelError(Errorf("No changes to make: old_string and new_string are exactly the same."))
	}
	return Prepared{
		Access: policy.Call{Kind: policy.Edit, Dir: workDir(env), Writes: []string{policyPath(env, key)}, LexicalWrites: []string{path}},
		Run: func(ctx context.Context) (Result, error) {
			return editFile(ctx, env, path, key, args)
		},
	}, nil
}

// editFile runs an Edit call on the file named path to the model and key
// on disk.
func editFile(ctx context.Context, env *Env, path, key string, args editArgs) (Result, error) {
	old, err := readExisting(env, path, key)
	if err != nil {
		return errorResult(err)
	}
	name := displayPath(env, path)

	// An empty old_string creates a file, or fills an empty one.
	if args.OldString == "" {
		if old == nil {
			res, err := writeText(ctx, env, path, key, textfile.Format{}, func(w io.Writer) error {
				_, err := io.WriteString(w, args.NewString)
				return err
			})
			if err != nil || res.IsError {
				return res, err
			}
			res.Content = "File created successfully at: " + path
			res.Summary = fmt.Sprintf("created %s (+%d)", name, countLines(args.NewString))
			return res, nil
		}
		if len(bytes.TrimSpace(old.body)) != 0 {
			return Errorf("Cannot create new file - file already exists."), nil
		}
	}
	if old == nil {
		return Errorf("%s", msgNotExist(env)), nil
	}
	if _, binary := textfile.Binary(old.data[:min(len(old.data), textfile.SampleSize)]); binary {
		return Errorf("Cannot edit %s: it is a binary file.", path), nil
	}
	if msg := checkFresh(env, key, old.data); msg != "" {
		return Errorf("%s", msg), nil
	}

	// The file's text is matched with LF line endings, no BOM and, for a
	// Latin-1 file, decoded into UTF-8, as Read shows it; the strings are
	// normalised alike for a CRLF file. Only a CRLF or Latin-1 file is
	// decoded: otherwise the text is the file's own bytes, and the new
	// file is written from them and the new string without being put
	// together in memory. The format's writer encodes it back, so that
	// what the edit did not touch stays byte for byte as it was.
	oldStr, newStr := args.OldString, args.NewString
	text := old.body
	if old.format.Latin1 {
		text = []byte(textfile.Latin1(text))
	}
	if old.format.CRLF {
		oldStr = strings.ReplaceAll(oldStr, "\r\n", "\n")
		newStr = strings.ReplaceAll(newStr, "\r\n", "\n")
		text = textfile.ToLF(text) // the file's bytes are not used again
	}
	find := []byte(oldStr)
	var head, tail []byte // the text around the only replacement
	n := 1
	if oldStr != "" {
		n = bytes.Count(text, find)
		switch {
		case n == 0:
			return Errorf("String to replace not found in file.\nString: %s", args.OldString), nil
		case n > 1 && !args.ReplaceAll:
			return Errorf("Found %d matches of the string to replace, but replace_all is false. To replace all occurrences, set replace_all to true. To replace only one occurrence, please provide more context to uniquely identify the instance.\nString: %s", n, args.OldString), nil
		}
		at := bytes.Index(text, find)
		head, tail = text[:at], text[at+len(find):]
	}
	res, err := writeText(ctx, env, path, key, old.format, func(w io.Writer) error {
		if oldStr == "" { // a blank file being filled
			_, err := io.WriteString(w, newStr)
			return err
		}
		rest := text
		for {
			i := bytes.Index(rest, find)
			if i < 0 {
				_, err := w.Write(rest)
				return err
			}
			if _, err := w.Write(rest[:i]); err != nil {
				return err
			}
			if _, err := io.WriteString(w, newStr); err != nil {
				return err
			}
			rest = rest[i+len(find):]
		}
	})
	if err != nil || res.IsError {
		return res, err
	}
	res.Changes = []event.FileChange{{Path: path, Kind: event.ChangeUpdate}}
	res.Summary = fmt.Sprintf("edited %s (+%d -%d)", name, n*countLines(newStr), n*countLines(oldStr))
	if n > 1 {
		res.Content = fmt.Sprintf("The file %s has been updated. All %d occurrences of old_string were replaced with new_string.", path, n)
		return res, nil
	}
	res.Content = fmt.Sprintf("The file %s has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n%s", path, snippet(head, newStr, tail))
	return res, nil
}

// snippet numbers the lines around an edit, with a few lines of context,
// in Read's format: head is the text before the edit, mid what the edit
// put there and tail the text after it, all with LF line endings. Only
// the lines shown are copied and split, so a large file costs no memory.
func snippet(head []byte, mid string, tail []byte) string {
	first := bytes.Count(head, []byte("\n"))
	from := max(0, first-snippetContext)
	// The lines shown start at line from...
	start := bytes.LastIndexByte(head, '\n') + 1
	for range first - from {
		start = bytes.LastIndexByte(head[:start-1], '\n') + 1
	}
	// ...and end at most snippetContext lines after the edit's last.
	end := 0
	for range snippetContext + 1 {
		i := bytes.IndexByte(tail[end:], '\n')
		if i < 0 {
			end = len(tail)
			break
		}
		end += i + 1
	}
	text := string(head[start:]) + mid + string(tail[:end])
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	last := first - from + strings.Count(mid, "\n")
	to := min(len(lines)-1, last+snippetContext, snippetMax-1)
	var b strings.Builder
	for i := 0; i <= to; i++ {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%6d\t%s", from+i+1, lines[i])
	}
	return b.String()
}
