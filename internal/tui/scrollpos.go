package tui

// scrollPos is where a window onto a list of cells is: on the last lines
// when it follows the output, else from its first line, line topLine of
// cell topCell. The normal view and the pager keep one each; they differ
// only in how many rows a cell takes (the pager shows every cell
// expanded), which their methods pass in as rows. n is the number of
// cells, from the first the window may show.
type scrollPos struct {
	follow           bool
	topCell, topLine int
}

// first is the window's first line, for a window of height lines.
func (p *scrollPos) first(n, from, height int, rows func(int) int) (cell, line int) {
	if !p.follow {
		return p.topCell, p.topLine
	}
	count := 0
	for i := n - 1; i >= from; i-- {
		r := rows(i)
		if count+r >= height {
			return i, count + r - height
		}
		count += r
	}
	return from, 0
}

// move moves the window by delta lines (up when negative), stopping at
// either end; a window that reaches the end follows it again.
func (p *scrollPos) move(delta, n, from, height int, rows func(int) int) {
	c, l := p.first(n, from, height, rows)
	if delta < 0 {
		for delta < 0 && (c > from || l > 0) {
			if l == 0 {
				c--
				l = rows(c)
			}
			step := min(-delta, l)
			l -= step
			delta += step
		}
	} else {
		for delta > 0 && c < n {
			r := rows(c)
			step := min(delta, r-l)
			l += step
			delta -= step
			if l >= r {
				c, l = c+1, 0
			}
		}
	}
	p.follow, p.topCell, p.topLine = false, c, l
	if p.showsEnd(n, height, rows) {
		p.follow = true
	}
}

// showsEnd reports whether the window, scrolled, shows the last line.
func (p *scrollPos) showsEnd(n, height int, rows func(int) int) bool {
	count := 0
	for i, skip := p.topCell, p.topLine; i < n; i, skip = i+1, 0 {
		count += rows(i) - skip
		if count > height {
			return false
		}
	}
	return true
}
