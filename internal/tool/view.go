package tool

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"

	"github.com/lathe-dev/lathe/internal/regfile"
	"github.com/lathe-dev/lathe/internal/textfile"
)

// view is a window of lines of a text file, as Read and read_file show
// it: without line breaks, carriage returns or byte-order mark.
type view struct {
	// lines are the lines kept, the first being line number first.
	lines []string
	first int
	// total counts the file's lines.
	total int
	// capped is set when the window stopped early at viewOptions.maxBytes.
	capped bool
	// hash is the SHA-256 of the whole file, for the read tracker.
	hash [sha256.Size]byte
	// latin1 is set when the file is not UTF-8, and its lines were
	// decoded as Latin-1, which is how Edit reads such a file.
	latin1 bool
}

type viewOptions struct {
	// offset is the first line to keep (1-based), limit how many.
	offset, limit int
	// maxLine cuts longer lines to that many bytes (at a character
	// boundary) and then adds lineMark, if any.
	maxLine  int
	lineMark string
	// maxBytes, if positive, stops keeping lines once they add up to
	// that many bytes.
	maxBytes int
}

var utf8BOM = []byte("\uFEFF")

// errIsDir and binaryError are returned by readView for files it will not
// show, as is a *regfile.NotRegularError; the tools word them in their own
// dialect.
var errIsDir = errors.New("is a directory")

type binaryError struct{ kind string }

func (e *binaryError) Error() string { return "binary file (" + e.kind + ")" }

// readView streams the file at path once: it hashes all of it and counts
// its lines, but holds only the lines it keeps, so a huge file costs no
// more memory than the window shown, and a line of any length no more
// than the part shown. CRLF line endings and a UTF-8 BOM are hidden, and
// a file that is not UTF-8 is decoded as Latin-1, as Edit does when it
// matches text. Only a regular file is opened.
func readView(ctx context.Context, path string, o viewOptions) (view, error) {
	f, _, err := regfile.Open(path)
	var nr *regfile.NotRegularError
	if errors.As(err, &nr) && nr.Mode.IsDir() {
		return view{}, errIsDir
	}
	if err != nil {
		return view{}, err
	}
	defer f.Close()
	h := sha256.New()
	var check utf8Check
	r := bufio.NewReaderSize(io.TeeReader(ctxReader{ctx, f}, io.MultiWriter(h, &check)), 64<<10)
	// A read error here comes back from eachLine.
	sample, _ := r.Peek(textfile.SampleSize)
	if kind, ok := textfile.Binary(sample); ok {
		return view{}, &binaryError{kind: kind}
	}
	v := view{first: o.offset}
	kept := 0
	bom := false
	// Whether the file is Latin-1 is known only at its end, as it is
	// for Edit: the kept lines that would read otherwise are kept raw
	// until then.
	type rawLine struct {
		i    int
		head []byte
		size int
	}
	var raws []rawLine
	err = eachLine(r, o.maxLine+utf8.UTFMax, func(head []byte, size int) error {
		v.total++
		if v.total == 1 && bytes.HasPrefix(head, utf8BOM) {
			head, size, bom = head[len(utf8BOM):], size-len(utf8BOM), true
		}
		if v.total < o.offset || len(v.lines) >= o.limit || v.capped {
			return nil
		}
		line := cutLine(head, size, o.maxLine, o.lineMark)
		// Each line costs its text and about 8 bytes of line number.
		if o.maxBytes > 0 && kept+len(line)+8 > o.maxBytes && len(v.lines) > 0 {
			v.capped = true
			return nil
		}
		kept += len(line) + 8
		if slices.ContainsFunc(head, func(b byte) bool { return b >= utf8.RuneSelf }) {
			raws = append(raws, rawLine{len(v.lines), bytes.Clone(head), size})
		}
		v.lines = append(v.lines, line)
		return nil
	})
	if err != nil {
		return view{}, err
	}
	if v.latin1 = !bom && !check.valid(); v.latin1 {
		for _, raw := range raws {
			line := textfile.Latin1(raw.head[:min(len(raw.head), o.maxLine)])
			if raw.size > o.maxLine {
				line += o.lineMark
			}
			v.lines[raw.i] = line
		}
	}
	copy(v.hash[:], h.Sum(nil))
	return v, nil
}

// utf8Check is a writer that learns whether all that is written to it is
// UTF-8, holding only a character cut between two writes.
type utf8Check struct {
	invalid bool
	cut     [utf8.UTFMax]byte
	n       int // bytes of the cut character in cut
}

func (c *utf8Check) Write(p []byte) (int, error) {
	n := len(p)
	if c.invalid {
		return n, nil
	}
	if c.n > 0 {
		k := copy(c.cut[c.n:], p)
		buf := c.cut[:c.n+k]
		if !utf8.FullRune(buf) { // then all of p went into buf
			c.n += k
			return n, nil
		}
		r, size := utf8.DecodeRune(buf)
		if r == utf8.RuneError && size == 1 {
			c.invalid = true
			return n, nil
		}
		p, c.n = p[size-c.n:], 0
	}
	tail := 0
	for i := len(p) - 1; i >= 0 && i > len(p)-utf8.UTFMax; i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				tail = len(p) - i
			}
			break
		}
	}
	if !utf8.Valid(p[:len(p)-tail]) {
		c.invalid = true
		return n, nil
	}
	c.n = copy(c.cut[:], p[len(p)-tail:])
	return n, nil
}

// valid reports whether everything written was UTF-8, ending with a whole
// character.
func (c *utf8Check) valid() bool { return !c.invalid && c.n == 0 }

// ctxReader fails once ctx is done, so that reading a huge file stops
// when its call is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// cutLine returns head, the start of a line of size bytes, cut to max
// bytes at a character boundary and marked when it was cut.
func cutLine(head []byte, size, max int, mark string) string {
	if size <= max {
		return string(head)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(head[cut]) {
		cut--
	}
	return string(head[:cut]) + mark
}

// eachLine calls fn for each line of r with at most the first max bytes
// of the line, without its "\n" or "\r\n", and the line's full size
// without them. A line of any length costs at most max bytes of memory.
func eachLine(r *bufio.Reader, max int, fn func(head []byte, size int) error) error {
	var head []byte
	size := 0
	var prev byte // the byte before the current chunk, for "\r\n"
	for {
		chunk, err := r.ReadSlice('\n')
		if room := max - len(head); room > 0 {
			head = append(head, chunk[:min(room, len(chunk))]...)
		}
		size += len(chunk)
		if err == bufio.ErrBufferFull {
			prev = chunk[len(chunk)-1]
			continue
		}
		if err != nil && err != io.EOF {
			return err
		}
		if size > 0 {
			end := size
			if err == nil { // the line ends with "\n"
				end--
				if (len(chunk) >= 2 && chunk[len(chunk)-2] == '\r') || (len(chunk) == 1 && prev == '\r') {
					end--
				}
			}
			if ferr := fn(head[:min(len(head), end)], end); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		head, size, prev = head[:0], 0, 0
	}
}

// shown returns the numbers of the first and last lines kept.
func (v view) shown() (first, last int) {
	return v.first, v.first + len(v.lines) - 1
}

// moreNote tells the model how to read on when the window did not reach
// the end of the file, or returns "".
func (v view) moreNote() string {
	first, last := v.shown()
	if len(v.lines) == 0 || last >= v.total {
		return ""
	}
	reason := ""
	if v.capped {
		reason = "; output size limit reached"
	}
	return fmt.Sprintf("(Showing lines %d-%d of %d%s. To read more, use offset=%d.)", first, last, v.total, reason, last+1)
}

// encodingNote tells the model that lines shown were not UTF-8, or
// returns "".
func (v view) encodingNote() string {
	if !v.latin1 {
		return ""
	}
	return "(This file is not UTF-8: it is shown decoded as Latin-1 (ISO 8859-1). Edits keep its encoding byte for byte, so new text may use only characters up to U+00FF.)"
}
