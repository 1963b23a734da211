// Package termsafe neutralises terminal control sequences in text that
// Lathe did not write itself: command output, file contents, model text.
// Such text must never drive the user's terminal (set its title, clear or
// switch the screen, move the cursor, write the clipboard with OSC 52), nor
// reach the model as noise. One set of rules serves both: [Clean] for
// output shown to the model or printed as text, [Quote] for one-line
// listings that must show what the text holds, and [EscapeJSON] for JSON
// written where a terminal may read it.
package termsafe

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

const esc = 0x1b

var replacement = []byte(string(utf8.RuneError))

// String is Clean for a complete text: escape sequences removed, control
// characters other than newline and tab replaced.
func String(s string) string {
	text, _ := Clean([]byte(s), true)
	return text
}

// Clean turns raw terminal output into text fit for a model transcript or
// a terminal: escape sequences (colours, cursor moves, titles, hyperlinks)
// are removed, "\r\n" becomes "\n", a line redrawn with "\r" (a progress
// bar) keeps only its last non-empty version, and control characters other
// than "\n" and "\t" (C1 ones included) and invalid UTF-8 become U+FFFD.
//
// Unless final is set, an escape sequence or UTF-8 sequence cut off by the
// end of b is not consumed but returned as rest, to be prefixed to the
// output that follows.
func Clean(b []byte, final bool) (text string, rest []byte) {
	out := make([]byte, 0, len(b))
	lineStart := 0
	// redraw is set after a "\r" that did not end the line: the next
	// visible text replaces the line so far.
	redraw := false
	put := func(p []byte) {
		if redraw {
			out = out[:lineStart]
			redraw = false
		}
		out = append(out, p...)
	}
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == esc:
			n := escapeLen(b[i:])
			if n == 0 {
				if !final {
					return string(out), b[i:]
				}
				n = len(b) - i
			}
			i += n
		case c == '\n':
			out = append(out, '\n')
			lineStart, redraw = len(out), false
			i++
		case c == '\r':
			if i+1 == len(b) && !final {
				return string(out), b[i:]
			}
			if i+1 < len(b) && b[i+1] == '\n' {
				i++
				continue
			}
			redraw = true
			i++
		case c == '\t' || (c >= 0x20 && c < 0x7f):
			put(b[i : i+1])
			i++
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n <= 1 && !final && !utf8.FullRune(b[i:]) {
				return string(out), b[i:]
			}
			if r == utf8.RuneError || r < 0x20 || (r >= 0x7f && r < 0xa0) {
				put(replacement)
			} else {
				put(b[i : i+n])
			}
			i += n
		}
	}
	return string(out), nil
}

// escapeLen returns the length of the escape sequence at the start of b,
// which begins with ESC, or 0 if b ends before the sequence does. A
// malformed sequence is cut short where it goes wrong, so that what follows
// is kept as text.
func escapeLen(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '[': // CSI: parameter and intermediate bytes, then a final byte.
		for i := 2; i < len(b); i++ {
			switch c := b[i]; {
			case c >= 0x40 && c <= 0x7e:
				return i + 1
			case c < 0x20 || c > 0x7e:
				return i
			}
		}
	case ']', 'P', 'X', '^', '_': // OSC, DCS, SOS, PM, APC: strings.
		for i := 2; i < len(b); i++ {
			switch b[i] {
			case 0x07:
				return i + 1
			case esc:
				if i+1 == len(b) {
					return 0
				}
				if b[i+1] == '\\' {
					return i + 2
				}
				return i
			case '\n':
				// No terminal title or hyperlink spans lines; this is
				// binary noise, and must not swallow the rest of the output.
				return i
			}
		}
	default: // Intermediate bytes, then a final byte (ESC ( B, ESC 7, ...).
		for i := 1; i < len(b); i++ {
			switch c := b[i]; {
			case c >= 0x30 && c <= 0x7e:
				return i + 1
			case c < 0x20 || c > 0x2f:
				return i
			}
		}
	}
	return 0
}

// Quote returns s with every control character shown as an escape (\n,
// \x1b, \u009b) and each byte of invalid UTF-8 as \xNN, for listings that
// must show the user what a text holds rather than let it act.
func Quote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// EscapeJSON returns JSON text b with the C1 control characters
// (U+0080 to U+009F) written as \u escapes, and any invalid UTF-8 as
// \ufffd. encoding/json escapes C0 controls but writes C1 as is, and a
// terminal reading UTF-8 may take U+009B for CSI and U+009D for OSC. The
// JSON decodes to the same strings: only their spelling changes. Outside
// strings JSON is ASCII, so every such character is inside one.
func EscapeJSON(b []byte) []byte {
	out := b[:0:0]
	last := 0
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		var repl string
		switch {
		case r == utf8.RuneError && n <= 1:
			repl = `\ufffd`
		case r < 0xa0:
			repl = fmt.Sprintf(`\u%04x`, r)
		default:
			i += n
			continue
		}
		out = append(append(out, b[last:i]...), repl...)
		i += n
		last = i
	}
	if last == 0 {
		return b
	}
	return append(out, b[last:]...)
}
