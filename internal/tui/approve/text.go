package approve

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"github.com/lathe-dev/lathe/internal/termsafe"
)

// tabWidth is how far apart the tab stops are when a tab is expanded.
const tabWidth = 8

// glyph is one character of text the model or a tool wrote, as the
// dialog shows it: printable as it is, or written out as an escape.
type glyph struct {
	text  string
	width int
	// from and to are its bytes in the text.
	from, to int
}

// glyphLines splits s into lines of glyphs. A person approving a call
// must see what it holds, so control characters, invalid UTF-8 and
// invisible formatting characters (bidirectional overrides, zero-width
// spaces) are shown as escapes rather than left to act or hide; a tab is
// expanded to the next tab stop.
func glyphLines(s string) [][]glyph {
	lines := [][]glyph{nil}
	col := 0
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		g := glyph{from: i, to: i + n}
		switch {
		case r == '\n':
			lines = append(lines, nil)
			col = 0
			i += n
			continue
		case r == '\t':
			g.width = tabWidth - col%tabWidth
			g.text = strings.Repeat(" ", g.width)
		case r == utf8.RuneError && n <= 1, r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
			g.text = termsafe.Quote(s[i : i+n])
			g.width = len(g.text)
		case unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r):
			g.text = fmt.Sprintf(`\u%04x`, r)
			g.width = len(g.text)
		default:
			g.text = s[i : i+n]
			g.width = ansi.StringWidth(g.text)
		}
		lines[len(lines)-1] = append(lines[len(lines)-1], g)
		col += g.width
		i += n
	}
	return lines
}

// safeLine is s as one line of glyphs: what glyphLines shows, with a
// line break written as \n.
func safeLine(s string) string {
	var b strings.Builder
	for i, line := range glyphLines(s) {
		if i > 0 {
			b.WriteString(`\n`)
		}
		for _, g := range line {
			b.WriteString(g.text)
		}
	}
	return b.String()
}

// cut shortens s, already safe to show, to at most width columns,
// ending in "…" when it was longer.
func cut(s string, width int) string {
	if width <= 0 {
		return ""
	}
	return ansi.Truncate(s, width, "…")
}

// wrapWords breaks s, already safe to show, into lines of at most width
// columns, at spaces where it can.
func wrapWords(s string, width int) []string {
	if width <= 0 {
		return nil
	}
	return strings.Split(ansi.Wrap(s, width, " "), "\n")
}

// wrapHard breaks s, already safe to show, into lines of at most width
// columns, wherever it must.
func wrapHard(s string, width int) []string {
	if width <= 0 {
		return nil
	}
	return strings.Split(ansi.Hardwrap(s, width, true), "\n")
}
