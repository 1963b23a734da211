package cells

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/lathe-dev/lathe/internal/termsafe"
)

// tabWidth is how many columns a tab stop is apart in tool output and
// diffs. Expanding tabs before measuring keeps a line's width the same on
// every terminal, whatever its own tab stops are.
const tabWidth = 4

// ellipsis marks text cut to fit.
const ellipsis = "…"

// clean returns text from the model or a tool fit to be measured and
// shown: escape sequences removed, other controls but newline replaced,
// tabs expanded.
func clean(s string) string {
	return expandTabs(termsafe.String(s))
}

// expandTabs replaces each tab of s by spaces up to the next tab stop,
// counting columns by display width.
func expandTabs(s string) string {
	if !strings.Contains(s, "\t") {
		return s
	}
	var b strings.Builder
	col := 0
	for _, line := range strings.SplitAfter(s, "\n") {
		col = 0
		for {
			i := strings.IndexByte(line, '\t')
			if i < 0 {
				b.WriteString(line)
				break
			}
			b.WriteString(line[:i])
			col += ansi.StringWidth(line[:i])
			n := tabWidth - col%tabWidth
			b.WriteString(strings.Repeat(" ", n))
			col += n
			line = line[i+1:]
		}
	}
	return b.String()
}

// oneLine returns the first line of clean text s, marked as cut when
// there was more.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i]) + " " + ellipsis
	}
	return s
}

// fit cuts clean single-line text s to at most width columns, ending it
// with an ellipsis when it was cut.
func fit(s string, width int) string {
	if width <= 0 {
		return ""
	}
	return ansi.Truncate(s, width, ellipsis)
}

// wrap breaks clean single-line text s into rows of at most width
// columns, at most maxRows of them: the last row of a line that needs more
// ends in an ellipsis. Breaking is by columns, not words, so that code
// keeps its shape and the result depends only on s and width.
func wrap(s string, width, maxRows int) []string {
	if width <= 0 {
		return []string{""}
	}
	if ansi.StringWidth(s) <= width {
		return []string{s}
	}
	rows := strings.Split(ansi.Hardwrap(s, width, true), "\n")
	if len(rows) > maxRows {
		rows = rows[:maxRows]
		rows[maxRows-1] = ansi.Truncate(rows[maxRows-1], width-1, "") + ellipsis
	}
	return rows
}

// displayWidth is the number of columns clean text s takes.
func displayWidth(s string) int { return ansi.StringWidth(s) }
