// Package textfile reads and writes text files the way an editor should:
// writes are atomic (a temporary file renamed over the target, so a crash
// never leaves a half-written file), keep the file's identity (mode,
// owner, hard links), and keep its encoding: byte-order mark, CRLF line
// endings, and a legacy 8-bit encoding byte for byte.
package textfile

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Format is how a file's text is encoded on disk.
type Format struct {
	// BOM is set when the file starts with a UTF-8 byte-order mark.
	BOM bool
	// CRLF is set when every line ending in the file is CRLF. A file with
	// mixed endings is left as it is: its CRs stay in the decoded text.
	CRLF bool
	// Latin1 is set for text that is not UTF-8, which is taken to be
	// ISO 8859-1: every byte is a character, so that any such file
	// decodes and encodes back byte for byte.
	Latin1 bool
}

// Detect returns the format of a file's bytes b and the bytes after its
// BOM, without decoding them. The caller has ruled out binary content:
// any text that is not UTF-8 is taken for Latin-1.
func Detect(b []byte) (Format, []byte) {
	var f Format
	if bytes.HasPrefix(b, utf8BOM) {
		f.BOM = true
		b = b[len(utf8BOM):]
	}
	crlf := bytes.Count(b, []byte("\r\n"))
	f.CRLF = crlf > 0 && crlf == bytes.Count(b, []byte("\n"))
	f.Latin1 = !f.BOM && !utf8.Valid(b)
	return f, b
}

// Replacing returns the format in which text replacing a file of bytes b
// is written: b's own, as Detect finds it, except that binary content has
// no text encoding to keep (its bytes that are not UTF-8 are not Latin-1),
// so that the text replacing it is written as it is, in UTF-8.
func Replacing(b []byte) Format {
	if _, binary := Binary(b[:min(len(b), SampleSize)]); binary {
		return Format{}
	}
	f, _ := Detect(b)
	return f
}

// Decode strips the BOM, turns Latin-1 into UTF-8 and, for a file whose
// line endings are all CRLF, turns them into LF, so that callers work on
// plain UTF-8 LF text. Encode with the returned Format restores the
// original bytes.
func Decode(b []byte) (string, Format) {
	f, b := Detect(b)
	text := string(b)
	if f.Latin1 {
		text = Latin1(b)
	}
	if f.CRLF {
		text = strings.ReplaceAll(text, "\r\n", "\n")
	}
	return text, f
}

// ToLF turns every "\r\n" in b into "\n" in place, as
// bytes.ReplaceAll(b, "\r\n", "\n") would into a copy, and returns b
// shortened: a file of megabytes is decoded without a second copy of it.
func ToLF(b []byte) []byte {
	w := bytes.Index(b, crlf)
	if w < 0 {
		return b
	}
	for r := w; r < len(b); {
		i := bytes.Index(b[r:], crlf)
		if i < 0 {
			w += copy(b[w:], b[r:])
			break
		}
		w += copy(b[w:], b[r:r+i])
		b[w] = '\n'
		w++
		r += i + len(crlf)
	}
	return b[:w]
}

// Latin1 decodes ISO 8859-1 text into UTF-8: each byte is the character
// of the same number.
func Latin1(b []byte) string {
	var s strings.Builder
	s.Grow(len(b) + len(b)/8)
	for _, c := range b {
		s.WriteRune(rune(c))
	}
	return s.String()
}

// UnencodableError reports text with a character that the file's
// encoding cannot represent.
type UnencodableError struct {
	Rune rune
}

func (e *UnencodableError) Error() string {
	return fmt.Sprintf("the text has %q (U+%04X), which the file's encoding, Latin-1 (ISO 8859-1), cannot represent; use only characters up to U+00FF", e.Rune, e.Rune)
}

// Encode turns LF text back into the bytes of a file of format f. It
// fails with an *UnencodableError only for a Latin-1 file.
func (f Format) Encode(text string) ([]byte, error) {
	var b bytes.Buffer
	w, err := f.Writer(&b)
	if err == nil {
		_, err = io.WriteString(w, text)
	}
	if err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Writer returns a writer that encodes the LF text written to it onto w
// as Encode does, without holding the text: it writes the BOM of f at
// once, and then turns each "\n" into "\r\n" if f is CRLF and UTF-8
// into Latin-1 if f is Latin-1, where each write must hold whole
// characters.
func (f Format) Writer(w io.Writer) (io.Writer, error) {
	if f.BOM {
		if _, err := w.Write(utf8BOM); err != nil {
			return nil, err
		}
	}
	if f.Latin1 {
		w = latin1Writer{w}
	}
	if f.CRLF {
		return crlfWriter{w}, nil
	}
	return w, nil
}

type latin1Writer struct{ w io.Writer }

func (l latin1Writer) Write(p []byte) (int, error) {
	return l.WriteString(string(p))
}

func (l latin1Writer) WriteString(s string) (int, error) {
	var buf [4 << 10]byte
	n, k := 0, 0
	for i, r := range s {
		if r > 0xFF { // invalid UTF-8 too, as U+FFFD
			if _, err := l.w.Write(buf[:k]); err != nil {
				return n, err
			}
			return i, &UnencodableError{Rune: r}
		}
		buf[k] = byte(r)
		k++
		if k == len(buf) {
			if _, err := l.w.Write(buf[:k]); err != nil {
				return n, err
			}
			n, k = i+utf8.RuneLen(r), 0
		}
	}
	if _, err := l.w.Write(buf[:k]); err != nil {
		return n, err
	}
	return len(s), nil
}

type crlfWriter struct{ w io.Writer }

var crlf = []byte("\r\n")

func (c crlfWriter) WriteString(s string) (int, error) {
	n := 0
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			m, err := io.WriteString(c.w, s)
			return n + m, err
		}
		if _, err := io.WriteString(c.w, s[:i]); err != nil {
			return n, err
		}
		if _, err := c.w.Write(crlf); err != nil {
			return n, err
		}
		n += i + 1
		s = s[i+1:]
	}
	return n, nil
}

func (c crlfWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			m, err := c.w.Write(p)
			return n + m, err
		}
		if _, err := c.w.Write(p[:i]); err != nil {
			return n, err
		}
		if _, err := c.w.Write(crlf); err != nil {
			return n, err
		}
		n += i + 1
		p = p[i+1:]
	}
	return n, nil
}
