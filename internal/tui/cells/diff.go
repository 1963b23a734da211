package cells

import (
	"fmt"
	"strconv"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"
	"github.com/charmbracelet/x/ansi"
)

// SplitWidth is the terminal width from which [Diff.Render] shows a diff
// side by side, old on the left and new on the right.
const SplitWidth = 140

// diffRowsPerLine is how many rows one long line of a diff wraps to at
// most; the rest is cut, so a minified file cannot fill the screen.
const diffRowsPerLine = 4

// Op is what a line of a diff does.
type Op int

const (
	Context Op = iota
	Added
	Deleted
)

// DiffLine is one line of a hunk, without its line ending. Text is as the
// file holds it; rendering cleans it.
type DiffLine struct {
	Op   Op
	Text string
}

// Hunk is a run of changed lines with the context around them.
type Hunk struct {
	// OldStart and NewStart number the hunk's first line in the old and
	// the new file, from 1. They are 0 when unknown, as for an
	// apply_patch chunk, which finds its lines by context: the hunk is
	// then shown without line numbers.
	OldStart, NewStart int
	// Header is shown above the hunk when set: an apply_patch chunk's
	// @@ anchor, usually the function the change is in.
	Header string
	Lines  []DiffLine
}

// Diff is the change a call made to one file.
type Diff struct {
	// Path is the file's name as shown, usually relative to the working
	// directory.
	Path  string
	Hunks []Hunk
}

// NewDiff returns the diff between the texts old and new of the file
// path, with three lines of context. firstLine is the number of old's
// first line in the file (1 for a whole file; an edit's fragment starts
// further down), or 0 when it is not known.
func NewDiff(path, old, new string, firstLine int) Diff {
	// A fragment that does not end a line is compared as if it did, so
	// that text put after its last line shows as an added line rather
	// than as that line deleted and added again.
	d := Diff{Path: path}
	if old == "" {
		// A new file: every line is added, no diff to compute.
		h := Hunk{Lines: make([]DiffLine, 0, strings.Count(new, "\n")+1)}
		if firstLine > 0 {
			h.OldStart, h.NewStart = firstLine, firstLine
		}
		for l := range strings.Lines(new) {
			h.Lines = append(h.Lines, DiffLine{Op: Added, Text: strings.TrimSuffix(l, "\n")})
		}
		if len(h.Lines) > 0 {
			d.Hunks = []Hunk{h}
		}
		return d
	}
	if !strings.HasSuffix(old, "\n") && !strings.HasSuffix(new, "\n") {
		old, new = old+"\n", new+"\n"
	}
	u, err := udiff.ToUnifiedDiff("", "", old, udiff.Lines(old, new), udiff.DefaultContextLines)
	if err != nil {
		// ToUnifiedDiff fails only on edits that do not fit the text,
		// which udiff.Lines of that same text never makes.
		panic("cells: " + err.Error())
	}
	for _, h := range u.Hunks {
		hunk := Hunk{}
		if firstLine > 0 {
			hunk.OldStart, hunk.NewStart = h.FromLine+firstLine-1, h.ToLine+firstLine-1
		}
		for _, l := range h.Lines {
			op := Context
			switch l.Kind {
			case udiff.Insert:
				op = Added
			case udiff.Delete:
				op = Deleted
			}
			hunk.Lines = append(hunk.Lines, DiffLine{Op: op, Text: strings.TrimSuffix(l.Content, "\n")})
		}
		d.Hunks = append(d.Hunks, hunk)
	}
	return d
}

// Stat counts the diff's added and deleted lines.
func (d Diff) Stat() (added, deleted int) {
	for _, h := range d.Hunks {
		for _, l := range h.Lines {
			switch l.Op {
			case Added:
				added++
			case Deleted:
				deleted++
			}
		}
	}
	return added, deleted
}

// lines counts the diff's lines.
func (d Diff) lines() int {
	n := 0
	for _, h := range d.Hunks {
		n += len(h.Lines)
	}
	return n
}

// head is the diff cut after its first n lines.
func (d Diff) head(n int) Diff {
	out := Diff{Path: d.Path}
	for _, h := range d.Hunks {
		if n <= 0 {
			break
		}
		if len(h.Lines) > n {
			h.Lines = h.Lines[:n]
		}
		n -= len(h.Lines)
		out.Hunks = append(out.Hunks, h)
	}
	return out
}

// Render shows the diff at width columns: side by side from [SplitWidth]
// on, else unified. Each line is numbered in the old file, the new file or
// both, where the numbers are known; a long line wraps to a few rows and
// is cut after them. The result has no final newline.
func (d Diff) Render(width int, st Styles) string {
	if width >= SplitWidth {
		return d.Split(width, st)
	}
	return d.Unified(width, st)
}

// cut cuts rows to width when the terminal is too narrow for even the
// line numbers and one column of text, which is all wrapping keeps to.
func cut(rows []string, width, least int) string {
	if width < least {
		for i, r := range rows {
			rows[i] = ansi.Truncate(r, max(width, 0), "")
		}
	}
	return strings.Join(rows, "\n")
}

// numWidth is how many digits the diff's largest line number has, or 0
// when no hunk is numbered.
func (d Diff) numWidth() int {
	top := 0
	for _, h := range d.Hunks {
		if h.OldStart == 0 {
			continue
		}
		o, n := h.OldStart, h.NewStart
		for _, l := range h.Lines {
			switch l.Op {
			case Context:
				o++
				n++
			case Added:
				n++
			case Deleted:
				o++
			}
		}
		top = max(top, o-1, n-1)
	}
	if top == 0 {
		return 0
	}
	return len(strconv.Itoa(top))
}

// side is one half of a diff row: a line number, or 0 for none, and the
// line.
type side struct {
	num  int
	line DiffLine
	ok   bool // false for the blank half of a row
}

// number formats n in w columns, blank for 0.
func number(n, w int) string {
	if w == 0 {
		return ""
	}
	if n == 0 {
		return strings.Repeat(" ", w) + " "
	}
	return fmt.Sprintf("%*d ", w, n)
}

var signs = [...]string{Context: " ", Added: "+", Deleted: "-"}

func (s Styles) lineStyle(op Op, text string) string {
	switch op {
	case Added:
		return s.paint(s.Added, text)
	case Deleted:
		return s.paint(s.Deleted, text)
	}
	return text
}

// hunkHead appends the rows that come before hunk i: a marker for the
// lines skipped since the hunk before, and the hunk's header.
func (d Diff) hunkHead(rows []string, i, width int, st Styles) []string {
	if i > 0 {
		rows = append(rows, st.paint(st.Dim, "⋯"))
	}
	if h := d.Hunks[i].Header; h != "" {
		rows = append(rows, st.paint(st.Header, fit(oneLine(clean("@@ "+h)), width)))
	}
	return rows
}

// Unified renders the diff with one column of lines: old and new line
// numbers, the sign and the text.
func (d Diff) Unified(width int, st Styles) string {
	nw := d.numWidth()
	var rows []string
	for i, h := range d.Hunks {
		rows = d.hunkHead(rows, i, width, st)
		o, n := h.OldStart, h.NewStart
		for _, l := range h.Lines {
			var on, nn int
			switch l.Op {
			case Context:
				on, nn = o, n
			case Added:
				nn = n
			case Deleted:
				on = o
			}
			if h.OldStart != 0 {
				o, n = advance(l.Op, o, n)
			}
			gutter := number(on, nw) + number(nn, nw)
			text := width - len(gutter) - 2
			for j, r := range wrap(oneRow(l.Text), max(text, 1), diffRowsPerLine) {
				sign := signs[l.Op]
				if j > 0 {
					sign = " "
					gutter = strings.Repeat(" ", len(gutter))
				}
				rows = append(rows, st.paint(st.Dim, gutter)+st.lineStyle(l.Op, sign+" "+r))
			}
		}
	}
	return cut(rows, width, len(number(1, nw))*2+3)
}

// advance moves the old and new line counters past a line of kind op.
func advance(op Op, o, n int) (int, int) {
	switch op {
	case Added:
		return o, n + 1
	case Deleted:
		return o + 1, n
	}
	return o + 1, n + 1
}

// oneRow cleans a diff line for display: a line holds no newline, and a
// carriage return (a CRLF file's) is not shown.
func oneRow(s string) string {
	return strings.ReplaceAll(clean(strings.TrimSuffix(s, "\r")), "\n", " ")
}

// Split renders the diff side by side: the old lines on the left, the new
// ones on the right, a run of deletions beside the additions that replace
// it.
func (d Diff) Split(width int, st Styles) string {
	nw := d.numWidth()
	left := (width - 1) / 2
	right := width - 1 - left
	var rows []string
	for i, h := range d.Hunks {
		rows = d.hunkHead(rows, i, width, st)
		o, n := h.OldStart, h.NewStart
		num := func(v int) int {
			if h.OldStart == 0 {
				return 0
			}
			return v
		}
		var dels, adds []side
		flush := func() {
			for k := range max(len(dels), len(adds)) {
				var l, r side
				if k < len(dels) {
					l = dels[k]
				}
				if k < len(adds) {
					r = adds[k]
				}
				rows = appendSplit(rows, l, r, nw, left, right, st)
			}
			dels, adds = dels[:0], adds[:0]
		}
		for _, l := range h.Lines {
			switch l.Op {
			case Context:
				flush()
				rows = appendSplit(rows, side{num(o), l, true}, side{num(n), l, true}, nw, left, right, st)
			case Deleted:
				if len(adds) > 0 {
					flush()
				}
				dels = append(dels, side{num(o), l, true})
			case Added:
				adds = append(adds, side{num(n), l, true})
			}
			o, n = advance(l.Op, o, n)
		}
		flush()
	}
	return cut(rows, width, 2*(len(number(1, nw))+3)+1)
}

// appendSplit appends the rows of one side-by-side line pair: each half
// wraps on its own, and the pair takes as many rows as the taller half.
func appendSplit(rows []string, l, r side, nw, left, right int, st Styles) []string {
	half := func(s side, width int) []string {
		if !s.ok {
			return nil
		}
		gutter := number(s.num, nw)
		var out []string
		for j, row := range wrap(oneRow(s.line.Text), max(width-len(gutter)-2, 1), diffRowsPerLine) {
			sign := signs[s.line.Op]
			if j > 0 {
				sign, gutter = " ", strings.Repeat(" ", len(gutter))
			}
			text := sign + " " + row
			out = append(out, st.paint(st.Dim, gutter)+st.lineStyle(s.line.Op, text)+strings.Repeat(" ", max(0, width-len(gutter)-displayWidth(text))))
		}
		return out
	}
	lr, rr := half(l, left), half(r, right)
	blank := strings.Repeat(" ", left)
	sep := st.paint(st.Dim, "│")
	for k := range max(len(lr), len(rr)) {
		a, b := blank, ""
		if k < len(lr) {
			a = lr[k]
		}
		if k < len(rr) {
			b = rr[k]
		}
		rows = append(rows, strings.TrimRight(a+sep+b, " "))
	}
	return rows
}
