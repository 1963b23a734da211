package tool

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"strings"
	"syscall"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/regfile"
	"github.com/lathe-dev/lathe/internal/textfile"
)

// newFileMode is the mode of a file the model creates, less the umask.
const newFileMode = 0o666

type writeTool struct{}

// NewWrite returns Claude Code's Write tool: create a file or replace all
// of it.
func NewWrite() Tool { return writeTool{} }

func (writeTool) Def() llm.ToolDef {
	return llm.ToolDef{
		Name:        "Write",
		Description: describe("Write"),
		Schema: json.RawMessage(`{
			"type": "object",
			"properties": {
				"file_path": {"type": "string", "description": "The absolute path to the file to write (must be absolute, not relative)"},
				"content": {"type": "string", "description": "The content to write to the file"}
			},
			"required": ["file_path", "content"],
			"additionalProperties": false
		}`),
	}
}

func (writeTool) ReadOnly() bool { return false }

func (t writeTool) Run(ctx context.Context, env *Env, input json.RawMessage) (Result, error) {
	p, err := t.Prepare(env, input)
	return runPrepared(ctx, p, err)
}

// Prepare decodes a Write call and resolves the file it writes.
func (writeTool) Prepare(env *Env, input json.RawMessage) (Prepared, error) {
	var args struct {
		FilePath string `json:"file_path"`
		Content  string `json:"content"`
	}
	if err := decodeArgs(input, &args, "file_path", "content"); err != nil {
		return Prepared{}, err
	}
	path, key, err := filePath(env, args.FilePath)
	if err != nil {
		return Prepared{}, err
	}
	return Prepared{
		Access: policy.Call{Kind: policy.Edit, Dir: workDir(env), Writes: []string{policyPath(env, key)}, LexicalWrites: []string{path}},
		Run: func(ctx context.Context) (Result, error) {
			return writeFile(ctx, env, path, key, args.Content)
		},
	}, nil
}

// writeFile runs a Write call: it replaces the file named path to the
// model and key on disk with content.
func writeFile(ctx context.Context, env *Env, path, key, content string) (Result, error) {
	old, err := readExisting(env, path, key)
	if err != nil {
		return errorResult(err)
	}
	text, format := content, textfile.Format{}
	if old != nil {
		if msg := checkFresh(env, key, old.data); msg != "" {
			return Errorf("%s", msg), nil
		}
		// An existing text file keeps its encoding: its BOM, its CRLF
		// endings when all its lines end so, and Latin-1.
		text, format = strings.TrimPrefix(text, "\uFEFF"), textfile.Replacing(old.data)
		if format.CRLF {
			text = strings.ReplaceAll(text, "\r\n", "\n")
		}
	}
	res, err := writeText(ctx, env, path, key, format, func(w io.Writer) error {
		_, err := io.WriteString(w, text)
		return err
	})
	if err != nil || res.IsError {
		return res, err
	}

	name := displayPath(env, path)
	lines := countLines(content)
	if old == nil {
		return Result{
			Content: "File created successfully at: " + path,
			Summary: fmt.Sprintf("created %s (%d %s)", name, lines, plural(lines, "line")),
			Changes: []event.FileChange{{Path: path, Kind: event.ChangeAdd}},
		}, nil
	}
	return Result{
		Content: fmt.Sprintf("The file %s has been updated successfully.", path),
		Summary: fmt.Sprintf("wrote %s (%d %s)", name, lines, plural(lines, "line")),
		Changes: []event.FileChange{{Path: path, Kind: event.ChangeUpdate}},
	}, nil
}

// writeText replaces the file at path, whose canonical name is key, with
// the LF text that write writes, encoded in format, that of the file it
// replaces, and records it as seen. The text is written as it comes,
// never held whole. The caller words the Result.
func writeText(ctx context.Context, env *Env, path, key string, format textfile.Format, write func(io.Writer) error) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	h := hashWriter{Hash: sha256.New()}
	// Writing to the canonical path replaces a symlink's target rather
	// than the link. A cancelled call stops writing, and the file is left
	// as it was.
	err := textfile.WriteAtomicFunc(key, newFileMode, func(w io.Writer) error {
		enc, err := format.Writer(io.MultiWriter(w, &h))
		if err != nil {
			return err
		}
		return write(ctxWriter{ctx, enc})
	})
	if err != nil {
		return writeError(path, err)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	env.Reads.Wrote(key, sum)
	return Result{}, nil
}

// ctxWriter fails once ctx is done, so that writing a large file stops
// when its call is cancelled.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

func (c ctxWriter) WriteString(s string) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return io.WriteString(c.w, s)
}

// hashWriter is a hash that takes strings without converting them whole,
// so that io.WriteString, through an io.MultiWriter, copies nothing.
type hashWriter struct {
	hash.Hash
	buf [4 << 10]byte
}

func (h *hashWriter) WriteString(s string) (int, error) {
	for n := 0; n < len(s); {
		k := copy(h.buf[:], s[n:])
		h.Hash.Write(h.buf[:k])
		n += k
	}
	return len(s), nil
}

// existing is a file as it is before a change: its bytes, their format,
// and body, the bytes after the BOM.
type existing struct {
	data   []byte
	body   []byte
	format textfile.Format
}

// readExisting reads the file a Write or Edit is about to replace, named
// path to the model and key on disk, or the one a symbolic link at key
// leads to. It returns nil and no error when there is no such file. It
// opens only a regular file, and loads one of at most textfile.MaxSize.
func readExisting(env *Env, path, key string) (*existing, error) {
	target, fi, err := textfile.Target(key)
	if err == nil && fi == nil {
		return nil, nil
	}
	var data []byte
	if err == nil {
		data, err = regfile.ReadFile(target, textfile.MaxSize)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		if r, ok := writeRefusal(path, err); ok {
			return nil, modelError(r)
		}
		if r := fileError(env, path, err); r != nil {
			return nil, modelError(*r)
		}
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	format, body := textfile.Detect(data)
	return &existing{data: data, body: body, format: format}, nil
}

// writeRefusal words for the model why a file cannot be changed, if err
// says so.
func writeRefusal(path string, err error) (Result, bool) {
	var (
		nr  *regfile.NotRegularError
		big *regfile.TooLargeError
		ref *textfile.RefusalError
		enc *textfile.UnencodableError
	)
	switch {
	case errors.As(err, &nr) && nr.Mode.IsDir():
		return Errorf("%s is a directory, not a file.", path), true
	case errors.As(err, &nr):
		return Errorf("Cannot write %s: it is %s, not a regular file; only regular files can be edited.", path, regfile.Describe(nr.Mode)), true
	case errors.As(err, &big):
		return Errorf("Cannot edit %s: it is %s, more than the %s that Edit and Write load. Change a file this large with a command instead.", path, regfile.FormatSize(big.Size), regfile.FormatSize(big.Limit)), true
	case errors.As(err, &ref):
		return Errorf("Cannot write %s: it %s", path, ref.Why), true
	case errors.As(err, &enc):
		return Errorf("Cannot write %s: %v", path, enc), true
	}
	return Result{}, false
}

// modelError carries an error Result through a function that returns an
// error, to be unwrapped by errorResult.
type modelError Result

func (e modelError) Error() string { return e.Content }

// errorResult returns err as the Run methods do: as a Result when it is
// for the model, as a Go error otherwise.
func errorResult(err error) (Result, error) {
	var me modelError
	if errors.As(err, &me) {
		return Result(me), nil
	}
	return Result{}, err
}

// writeError words a failed write: the model can act on a path it may not
// write or that cannot name a file; anything else, such as a full disk,
// is the harness's.
func writeError(path string, err error) (Result, error) {
	if r, ok := writeRefusal(path, err); ok {
		return r, nil
	}
	for _, errno := range []error{fs.ErrPermission, fs.ErrExist, syscall.EROFS, syscall.ENOTDIR, syscall.EISDIR, syscall.ENAMETOOLONG} {
		if errors.Is(err, errno) {
			return Errorf("Cannot write %s: %v", path, err), nil
		}
	}
	return Result{}, fmt.Errorf("write %s: %w", path, err)
}

// countLines counts the lines of text, a last line without "\n" included.
func countLines(text string) int {
	n := strings.Count(text, "\n")
	if text != "" && !strings.HasSuffix(text, "\n") {
		n++
	}
	return n
}
