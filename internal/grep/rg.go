package grep

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/lathe-dev/lathe/internal/regfile"
	"github.com/lathe-dev/lathe/internal/sandbox"
)

// errNoRG means ripgrep could not be started, so the Go engine runs.
var errNoRG = errors.New("ripgrep could not be started")

// rgFlags make ripgrep behave like the Go engine: every file that is not
// ignored, hidden ones included, with no user configuration, no global
// gitignore, no BOM sniffing (so UTF-16 files are binary, as they are to
// the Go engine) and no memory maps (which would check only the start of
// a file for NUL bytes).
var rgFlags = []string{
	"--no-config", "--no-mmap", "--hidden", "--no-ignore-global",
	"--no-messages", "--encoding", "none",
}

// searchRG runs ripgrep and reads its output. wholeText says whether
// ripgrep will use its multiline searcher, which counts matches rather
// than lines.
func searchRG(ctx context.Context, o Options, isDir, wholeText bool) ([]File, error) {
	args := append([]string(nil), rgFlags...)
	// Without lines, ripgrep's own counts are all that is needed, and far
	// less output than JSON with every matching line in it. In a directory
	// --count drops a file in which ripgrep meets a NUL byte, as the JSON's
	// binary_offset does; --files-with-matches would not, since it stops
	// at the first match. A file named as the path is searched past its
	// NUL bytes and counted, which only the JSON tells apart. --null ends
	// each name with a NUL, which no name can contain.
	counts := !o.Lines && isDir
	switch {
	case !counts:
		args = append(args, "--json")
	case wholeText:
		args = append(args, "--count-matches", "--null", "--with-filename")
	default:
		args = append(args, "--count", "--null", "--with-filename")
	}
	if o.IgnoreCase {
		args = append(args, "--ignore-case")
	}
	if o.Multiline {
		args = append(args, "--multiline", "--multiline-dotall")
	}
	if wholeText {
		args = append(args, "--max-filesize", strconv.Itoa(maxMultilineFile))
	}
	if o.Lines && o.Before > 0 {
		args = append(args, "--before-context", strconv.Itoa(o.Before))
	}
	if o.Lines && o.After > 0 {
		args = append(args, "--after-context", strconv.Itoa(o.After))
	}
	if o.Type != "" {
		// Our own table rather than ripgrep's, which varies by version.
		globs, _ := typeGlobs(o.Type)
		for _, g := range globs {
			args = append(args, "--type-add", "lathe:"+g)
		}
		args = append(args, "--type", "lathe")
	}
	for _, g := range o.Globs {
		args = append(args, "--glob", g)
	}
	args = append(args, "--glob", "!.git", "--regexp", o.Pattern, "--", o.Path)

	cmd := exec.CommandContext(ctx, o.RG, args...)
	cmd.SysProcAttr = rgProcAttr()
	if isDir {
		// ripgrep anchors globs to its working directory.
		cmd.Dir = o.Path
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("run ripgrep: %w", err)
	}
	ex := o.Exec
	if ex == nil {
		ex = sandbox.NewHost(sandbox.Profile{})
	}
	// CommandContext still kills ripgrep when ctx is done, and its
	// parent-death signal when Lathe dies: the executor keeps both.
	if err := ex.Start(ctx, cmd); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %v", errNoRG, err)
	}
	var files []File
	var decodeErr error
	if counts {
		files, decodeErr = decodeRGCounts(stdout)
	} else {
		files, decodeErr = decodeRG(stdout, o.Lines, wholeText)
	}
	if decodeErr != nil {
		// Drain so that ripgrep is not blocked writing when we wait for it.
		_, _ = io.Copy(io.Discard, stdout)
	}
	waitErr := cmd.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if decodeErr != nil {
		return nil, fmt.Errorf("read ripgrep output: %w", decodeErr)
	}
	var exit *exec.ExitError
	switch {
	case waitErr == nil:
	case errors.As(waitErr, &exit) && exit.ExitCode() == 1:
		// No match.
	case errors.As(waitErr, &exit) && exit.ExitCode() == 2 && stderr.Len() == 0:
		// Some files could not be read; --no-messages kept quiet about them
		// and the Go engine skips them too.
	case errors.As(waitErr, &exit) && exit.ExitCode() == 2:
		// A pattern that Go's regexp accepts but Rust's does not.
		return nil, inputErrorf("ripgrep: %s", strings.TrimSpace(stderr.String()))
	default:
		return nil, fmt.Errorf("ripgrep: %w: %s", waitErr, strings.TrimSpace(stderr.String()))
	}
	return files, nil
}

// rgMessage is one line of `rg --json` output.
type rgMessage struct {
	Type string `json:"type"`
	Data struct {
		Path         rgText            `json:"path"`
		Lines        rgText            `json:"lines"`
		LineNumber   int               `json:"line_number"`
		Submatches   []json.RawMessage `json:"submatches"`
		BinaryOffset *int64            `json:"binary_offset"`
	} `json:"data"`
}

// rgText is text that ripgrep sends as a string when it is valid UTF-8
// and as base64 bytes otherwise.
type rgText struct {
	Text  *string `json:"text"`
	Bytes []byte  `json:"bytes"`
}

func (t rgText) String() string {
	if t.Text != nil {
		return *t.Text
	}
	return string(t.Bytes)
}

// maxRGMessage bounds the memory one line of ripgrep's output takes
// when lines are matched one by one: a longer message is a match or
// context in a huge line, and only its start and end are kept, which
// hold all that is needed (see skim). In multiline mode files are at
// most maxMultilineFile, and so are their messages, give or take escapes.
const maxRGMessage = 1 << 20

// rgLine is one line of ripgrep's output, or the start of a long one
// and what follows its "line_number" key.
type rgLine struct {
	head []byte
	long bool
	// carry is the end of what was read, searched for the key along
	// with the next read; num is what follows the key, once found.
	carry, num []byte
	found      bool
}

// lineNumberKey cannot occur inside a JSON string, where its quotes
// would be escaped, so the first one is the message's.
var lineNumberKey = []byte(`"line_number":`)

// read reads the next line into l, keeping at most limit bytes of its
// start. It returns io.EOF at the end.
func (l *rgLine) read(br *bufio.Reader, limit int) error {
	l.head, l.carry, l.num, l.long, l.found = l.head[:0], l.carry[:0], l.num[:0], false, false
	for {
		chunk, err := br.ReadSlice('\n')
		n := min(limit-len(l.head), len(chunk))
		l.head = append(l.head, chunk[:n]...)
		if rest := chunk[n:]; len(rest) > 0 {
			if !l.long {
				// The key may straddle the end of the head.
				l.carry = append(l.carry, l.head[len(l.head)-min(len(l.head), len(lineNumberKey)-1):]...)
				l.long = true
			}
			l.scan(rest)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(l.head) > 0 {
			return nil
		}
		return err
	}
}

// scan looks for lineNumberKey in the part of a long line past its head.
func (l *rgLine) scan(b []byte) {
	const numLen = 20
	if l.found {
		l.num = append(l.num, b[:min(len(b), numLen-len(l.num))]...)
		return
	}
	l.carry = append(l.carry, b...)
	if i := bytes.Index(l.carry, lineNumberKey); i >= 0 {
		l.found = true
		rest := l.carry[i+len(lineNumberKey):]
		l.num = append(l.num, rest[:min(len(rest), numLen)]...)
		return
	}
	keep := min(len(l.carry), len(lineNumberKey)-1)
	l.carry = append(l.carry[:0], l.carry[len(l.carry)-keep:]...)
}

// decodeRGCounts reads the output of rg --count --null: each file's name,
// a NUL byte, and its count in decimal on the rest of the line.
func decodeRGCounts(r io.Reader) ([]File, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var files []File
	for {
		name, err := br.ReadBytes(0)
		if err == io.EOF {
			if len(name) == 0 {
				return files, nil
			}
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, fmt.Errorf("file name without its count: %w", err)
		}
		line, err := br.ReadSlice('\n')
		if err != nil {
			return nil, fmt.Errorf("count of %q: %w", name[:len(name)-1], err)
		}
		n, err := strconv.Atoi(string(line[:len(line)-1]))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("count of %q: %q is not a count", name[:len(name)-1], line)
		}
		files = append(files, File{Path: string(name[:len(name)-1]), Matches: n})
	}
}

var rgMatchPrefix = []byte(`{"type":"match"`)

// decodeRG reads the output of rg --json.
func decodeRG(r io.Reader, lines, wholeText bool) ([]File, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	limit := maxRGMessage
	if wholeText {
		limit = math.MaxInt
	}
	var files []File
	var cur File
	var l rgLine
	for {
		if err := l.read(br, limit); err == io.EOF {
			return files, nil
		} else if err != nil {
			return nil, err
		}
		// Counting, a match is all the message says: no need to parse
		// the line it carries.
		if !lines && !wholeText && bytes.HasPrefix(l.head, rgMatchPrefix) {
			cur.Matches++
			continue
		}
		if l.long {
			line, match, err := skim(&l)
			if err != nil {
				return nil, err
			}
			if match {
				cur.Matches++
			}
			cur.Lines = append(cur.Lines, line)
			continue
		}
		var m rgMessage
		if err := json.Unmarshal(l.head, &m); err != nil {
			return nil, err
		}
		switch m.Type {
		case "begin":
			cur = File{Path: m.Data.Path.String()}
		case "match", "context":
			match := m.Type == "match"
			if match && wholeText {
				cur.Matches += len(m.Data.Submatches)
			} else if match {
				cur.Matches++
			}
			if !lines {
				continue
			}
			text := strings.TrimSuffix(m.Data.Lines.String(), "\n")
			for i, line := range strings.Split(text, "\n") {
				if len(line) > MaxLineText {
					line = strings.Clone(line[:MaxLineText]) // not to keep the rest
				}
				cur.Lines = append(cur.Lines, Line{Number: m.Data.LineNumber + i, Text: line, Match: match})
			}
		case "end":
			// ripgrep stops at the first NUL byte but reports what it
			// matched before it; the Go engine skips such files whole.
			if m.Data.BinaryOffset == nil && cur.Matches > 0 {
				files = append(files, cur)
			}
			cur = File{}
		}
	}
}

// skim reads the one line of a match or context message too long to
// parse whole: the first MaxLineText bytes of the line, at the start of
// the message, and its number, which follows.
func skim(l *rgLine) (Line, bool, error) {
	head := l.head
	var match bool
	switch {
	case bytes.HasPrefix(head, rgMatchPrefix):
		match = true
	case bytes.HasPrefix(head, []byte(`{"type":"context"`)):
	default:
		return Line{}, false, fmt.Errorf("ripgrep output line of more than %s: %.80s", regfile.FormatSize(maxRGMessage), head)
	}
	var text []byte
	var err error
	// No string before "lines" can hold these bytes: its quotes would
	// be escaped.
	if _, s, ok := bytes.Cut(head, []byte(`"lines":{"text":"`)); ok {
		text, err = unquotePrefix(s, MaxLineText)
	} else if _, s, ok := bytes.Cut(head, []byte(`"lines":{"bytes":"`)); ok {
		s = s[:min(len(s), base64.StdEncoding.EncodedLen(MaxLineText))]
		text = make([]byte, base64.StdEncoding.DecodedLen(len(s)))
		var n int
		n, err = base64.StdEncoding.Decode(text, s[:len(s)/4*4])
		text = text[:n]
	} else {
		err = errors.New("no lines")
	}
	digits := l.num
	if _, after, ok := bytes.Cut(head, lineNumberKey); ok {
		digits = after
	} else if !l.found {
		err = cmp.Or(err, errors.New("no line_number"))
	}
	if err != nil {
		return Line{}, false, fmt.Errorf("ripgrep output: long message: %w", err)
	}
	n := 0
	for len(digits) > 0 && '0' <= digits[0] && digits[0] <= '9' {
		n = 10*n + int(digits[0]-'0')
		digits = digits[1:]
	}
	text = bytes.TrimSuffix(text[:min(len(text), MaxLineText)], []byte("\n"))
	return Line{Number: n, Text: string(text), Match: match}, match, nil
}

// unquotePrefix decodes the start of a JSON string, s without its opening
// quote, up to limit bytes or the closing quote.
func unquotePrefix(s []byte, limit int) ([]byte, error) {
	var out []byte
	for len(s) > 0 && len(out) < limit && s[0] != '"' {
		if s[0] != '\\' {
			out = append(out, s[0])
			s = s[1:]
			continue
		}
		if len(s) < 2 {
			break
		}
		switch c := s[1]; c {
		case 'u':
			if len(s) < 6 {
				return out, nil
			}
			r, err := strconv.ParseUint(string(s[2:6]), 16, 32)
			if err != nil {
				return nil, fmt.Errorf("bad escape %q", s[:6])
			}
			s = s[6:]
			if utf16.IsSurrogate(rune(r)) && len(s) >= 6 && s[0] == '\\' && s[1] == 'u' {
				if r2, err := strconv.ParseUint(string(s[2:6]), 16, 32); err == nil {
					out = utf8.AppendRune(out, utf16.DecodeRune(rune(r), rune(r2)))
					s = s[6:]
					continue
				}
			}
			out = utf8.AppendRune(out, rune(r))
			continue
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		default:
			out = append(out, c)
		}
		s = s[2:]
	}
	return out, nil
}
