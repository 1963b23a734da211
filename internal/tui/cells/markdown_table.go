package cells

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
	east "github.com/yuin/goldmark/extension/ast"
)

// table renders a GitHub table: columns separated by " │ ", the header
// row underlined, each cell wrapped in its column. Columns get their
// natural width while the table fits; past that, the widest give up
// columns first.
func (r renderer) table(t *east.Table, src []byte, width int) []string {
	var rows [][][]run
	header := 0
	for row := t.FirstChild(); row != nil; row = row.NextSibling() {
		if _, ok := row.(*east.TableHeader); ok {
			header++
		}
		var cells [][]run
		for c := row.FirstChild(); c != nil; c = c.NextSibling() {
			cells = append(cells, r.inline(c, src, 0))
		}
		rows = append(rows, cells)
	}
	cols := len(t.Alignments)
	for _, row := range rows {
		cols = max(cols, len(row))
	}
	if cols == 0 {
		return nil
	}
	const sep = 3 // " │ "
	avail := width - sep*(cols-1)
	if avail < cols {
		// Too narrow for columns: one row a paragraph, cells joined.
		var out []string
		for _, row := range rows {
			var runs []run
			for i, c := range row {
				if i > 0 {
					runs = append(runs, run{" │ ", attrURL})
				}
				runs = append(runs, c...)
			}
			out = append(out, r.wrap(runs, width)...)
		}
		return out
	}
	widths := make([]int, cols)
	for _, row := range rows {
		for i, c := range row {
			w := 0
			for _, l := range splitBreaks(c) {
				lw := 0
				for _, x := range l {
					lw += ansi.StringWidth(x.text)
				}
				w = max(w, lw)
			}
			widths[i] = max(widths[i], w, 1)
		}
	}
	for total(widths) > avail {
		widest := 0
		for i, w := range widths {
			if w > widths[widest] {
				widest = i
			}
		}
		widths[widest]--
	}
	bar := r.st.paint(r.st.Dim, "│")
	var out []string
	for ri, row := range rows {
		cells := make([][]string, cols)
		height := 1
		for i := range cols {
			if i < len(row) {
				cells[i] = r.wrap(row[i], widths[i])
			}
			height = max(height, len(cells[i]))
		}
		for li := range height {
			var b strings.Builder
			for i := range cols {
				if i > 0 {
					b.WriteString(" " + bar + " ")
				}
				var c string
				if li < len(cells[i]) {
					c = cells[i][li]
				}
				b.WriteString(align(c, widths[i], alignment(t, i)))
			}
			out = append(out, strings.TrimRight(b.String(), " "))
		}
		if ri == header-1 {
			var b strings.Builder
			for i, w := range widths {
				if i > 0 {
					b.WriteString("─┼─")
				}
				b.WriteString(strings.Repeat("─", w))
			}
			out = append(out, r.st.paint(r.st.Dim, b.String()))
		}
	}
	return out
}

func total(ws []int) int {
	n := 0
	for _, w := range ws {
		n += w
	}
	return n
}

func alignment(t *east.Table, col int) east.Alignment {
	if col < len(t.Alignments) {
		return t.Alignments[col]
	}
	return east.AlignNone
}

// align pads s, which is no wider than width, to width as a says.
func align(s string, width int, a east.Alignment) string {
	pad := max(width-ansi.StringWidth(s), 0)
	switch a {
	case east.AlignRight:
		return strings.Repeat(" ", pad) + s
	case east.AlignCenter:
		return strings.Repeat(" ", pad/2) + s + strings.Repeat(" ", pad-pad/2)
	}
	return s + strings.Repeat(" ", pad)
}
