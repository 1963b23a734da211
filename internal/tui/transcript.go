package tui

// transcript is the list of cells and the window onto it. It renders only
// the cells it shows, walking from where the window is: from the end when
// it follows the output, else from its top line. No operation costs more
// than the cells it walks past, so a long session costs a frame what a
// short one does.
type transcript struct {
	cells []*cell
	scrollPos
	// seen is how many cells there were when the user scrolled up; the
	// cells after them are "new".
	seen int
}

func newTranscript() *transcript { return &transcript{scrollPos: scrollPos{follow: true}} }

// add appends c, giving it the next id.
func (t *transcript) add(c *cell) *cell {
	c.id = len(t.cells)
	t.cells = append(t.cells, c)
	return c
}

// cell is cell i, its content loaded. Every access to a cell's content
// by index goes through it: a cell far out of view may be dropped from
// memory, and cell reloads it.
func (t *transcript) cell(i int) *cell { return t.cells[i] }

// rows is how many screen lines cell i takes at width.
func (t *transcript) rows(i, width int) int { return t.cells[i].rows(width) }

// unseen is how many cells arrived since the user scrolled up.
func (t *transcript) unseen() int {
	if t.follow {
		return 0
	}
	return len(t.cells) - t.seen
}

// view is the height lines the window shows at width, from cells[from:]
// only (the cells before from are in the native scrollback already, in
// inline mode). Fewer lines than height come back when there are not as
// many.
func (t *transcript) view(from, width, height int) []string {
	if height <= 0 {
		return nil
	}
	if !t.follow && t.topCell >= from {
		var out []string
		for i, skip := t.topCell, t.topLine; i < len(t.cells) && len(out) < height; i, skip = i+1, 0 {
			out = append(out, t.cell(i).slice(width, skip, skip+height-len(out))...)
		}
		if len(out) >= height {
			return out[:height]
		}
		// The end came into view: the window follows again.
		t.follow = true
	}
	return t.tail(from, width, height)
}

// tail is the last height lines of cells[from:].
func (t *transcript) tail(from, width, height int) []string {
	var rev [][]string
	n := 0
	for i := len(t.cells) - 1; i >= from && n < height; i-- {
		c := t.cell(i)
		rows := c.rows(width)
		// Of a long cell, only the rows that fit.
		first := max(rows-(height-n), 0)
		rev = append(rev, c.slice(width, first, rows))
		n += rows - first
	}
	out := make([]string, 0, min(n, height))
	for i := len(rev) - 1; i >= 0; i-- {
		out = append(out, rev[i]...)
	}
	return out[max(len(out)-height, 0):]
}

// top returns the window's first line, for a window of height lines at
// width.
func (t *transcript) top(from, width, height int) (cell, line int) {
	return t.first(len(t.cells), from, height, t.rowsAt(width))
}

// scroll moves the window by delta lines (up when negative) in a window
// of height lines at width, stopping at either end; at the end, the
// window follows the output again.
func (t *transcript) scroll(delta, from, width, height int) {
	if t.follow {
		t.seen = len(t.cells)
	}
	t.move(delta, len(t.cells), from, height, t.rowsAt(width))
}

// rowsAt is rows at width, for scrollPos.
func (t *transcript) rowsAt(width int) func(int) int {
	return func(i int) int { return t.rows(i, width) }
}

// home scrolls to the first line of cells[from:]; end follows the output.
func (t *transcript) home(from int) {
	if t.follow {
		t.seen = len(t.cells)
	}
	t.follow, t.topCell, t.topLine = false, from, 0
}

func (t *transcript) end() { t.follow = true }
