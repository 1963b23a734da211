package tui

import (
	"fmt"
	"os"
	"strings"
	"unicode"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/lathe-dev/lathe/internal/termsafe"
	"github.com/lathe-dev/lathe/internal/tui/composer"
)

// pager is transcript mode (Ctrl+O): the whole transcript with every tool
// call and thought expanded, in a window of its own, so that the normal
// view is where the person left it, follow state and all, when the pager
// closes. Like the normal view it renders only the cells it shows.
type pager struct {
	tr *transcript
	scrollPos

	// typing says the footer is the query line, holding query.
	typing bool
	query  []rune
	// pattern is the last search; hit, when hasHit, the match shown.
	pattern string
	hit     match
	hasHit  bool
	// notice is what the footer says until the next key.
	notice string
}

// match is a search hit: columns col to end (exclusive) of line line of
// cell cell, in the pager's rendering.
type match struct{ cell, line, col, end int }

// prow is a screen row of the pager: line line of cell cell.
type prow struct {
	cell, line int
	text       string
}

// openPager opens transcript mode where the normal view is: at the end
// when it follows, else at the first cell it shows.
func (m *model) openPager() {
	p := &pager{tr: m.tr, scrollPos: scrollPos{follow: m.tr.follow}}
	if !p.follow {
		p.topCell, _ = m.tr.top(m.from(), m.width, m.transcriptHeight())
	}
	m.pager = p
}

// pagerHeight is how many rows the pager's window has: all but the footer.
func (m *model) pagerHeight() int { return max(m.height-1, 1) }

// detailRows and detailSlice are a cell as the pager shows it: expanded.
func detailRows(c *cell, width int) int {
	if c.md != nil {
		return c.rows(width)
	}
	return len(c.linesAt(width, true))
}

func detailSlice(c *cell, width, from, to int) []string {
	if c.md != nil {
		return c.slice(width, from, to)
	}
	ls := c.linesAt(width, true)
	return ls[min(from, len(ls)):min(to, len(ls))]
}

func (p *pager) rows(i, width int) int { return detailRows(p.tr.cell(i), width) }

// top is the window's first line: from the end when it follows.
func (p *pager) top(width, height int) (cell, line int) {
	return p.first(len(p.tr.cells), 0, height, p.rowsAt(width))
}

// rowsAt is rows at width, for scrollPos.
func (p *pager) rowsAt(width int) func(int) int {
	return func(i int) int { return p.rows(i, width) }
}

// window is the rows the pager shows. Scrolled so far down that the end
// is in view, it follows the output again.
func (p *pager) window(width, height int) []prow {
	if !p.follow && p.atEnd(width, height) {
		p.follow = true
	}
	c, l := p.top(width, height)
	var out []prow
	for i := c; i < len(p.tr.cells) && len(out) < height; i, l = i+1, 0 {
		for j, s := range detailSlice(p.tr.cell(i), width, l, l+height-len(out)) {
			out = append(out, prow{cell: i, line: l + j, text: s})
		}
	}
	return out
}

// atEnd reports whether the window, scrolled, shows the last line.
func (p *pager) atEnd(width, height int) bool {
	return p.showsEnd(len(p.tr.cells), height, p.rowsAt(width))
}

// scroll moves the window by delta lines, up when negative, stopping at
// either end; at the end it follows the output again.
func (p *pager) scroll(delta, width, height int) {
	p.move(delta, len(p.tr.cells), 0, height, p.rowsAt(width))
}

// reveal scrolls so that line line of cell cell is in view: left where
// it is if it is, else at the top of the window.
func (p *pager) reveal(cell, line, width, height int) {
	for _, r := range p.window(width, height) {
		if r.cell == cell && r.line == line {
			return
		}
	}
	p.follow, p.topCell, p.topLine = false, cell, line
	if p.atEnd(width, height) {
		p.follow = true
	}
}

// matcher finds a query in the plain text of lines: ignoring case unless
// the query has an upper-case letter (smart case).
type matcher struct {
	q    []rune
	fold bool
}

func newMatcher(query string) matcher {
	m := matcher{q: []rune(query), fold: true}
	for _, r := range m.q {
		if unicode.IsUpper(r) {
			m.fold = false
		}
	}
	if m.fold {
		for i, r := range m.q {
			m.q[i] = unicode.ToLower(r)
		}
	}
	return m
}

// find returns the screen columns [start, end) of the matches in line,
// which may hold escape sequences: what is searched is what is seen.
func (mt matcher) find(line string) [][2]int {
	if len(mt.q) == 0 {
		return nil
	}
	rs := []rune(ansi.Strip(line))
	var out [][2]int
	col := 0
	for i := 0; i < len(rs); {
		if i+len(mt.q) <= len(rs) && mt.at(rs[i:]) {
			w := ansi.StringWidth(string(rs[i : i+len(mt.q)]))
			out = append(out, [2]int{col, col + w})
			col += w
			i += len(mt.q)
			continue
		}
		col += ansi.StringWidth(string(rs[i]))
		i++
	}
	return out
}

func (mt matcher) at(rs []rune) bool {
	for j, q := range mt.q {
		r := rs[j]
		if mt.fold {
			r = unicode.ToLower(r)
		}
		if r != q {
			return false
		}
	}
	return true
}

// search finds the match after from, or before it when backward, going
// round the transcript's ends once; wrapped says it went round. A search
// that starts at a window's top passes a from whose col is -1, so that
// the top line's matches count.
func (p *pager) search(mt matcher, from match, backward bool, width int) (hit match, wrapped, ok bool) {
	n := len(p.tr.cells)
	for k := 0; k <= n && n > 0; k++ {
		i := from.cell + k
		if backward {
			i = from.cell - k
		}
		if i < 0 || i >= n {
			wrapped = true
			i = (i%n + n) % n
		}
		c := p.tr.cell(i)
		ls := detailSlice(c, width, 0, detailRows(c, width))
		for jj := range ls {
			j := jj
			if backward {
				j = len(ls) - 1 - jj
			}
			ms := mt.find(ls[j])
			for mm := range ms {
				x := ms[mm]
				if backward {
					x = ms[len(ms)-1-mm]
				}
				q := match{cell: i, line: j, col: x[0], end: x[1]}
				beyond := after(q, from)
				if backward {
					beyond = after(from, q)
				}
				switch {
				case k == 0 && !beyond:
					continue
				case k == n && beyond:
					// Round the ends and past the start: no other match.
					return match{}, false, false
				}
				return q, wrapped, true
			}
		}
	}
	return match{}, false, false
}

// after reports whether a comes after b in the transcript.
func after(a, b match) bool {
	if a.cell != b.cell {
		return a.cell > b.cell
	}
	if a.line != b.line {
		return a.line > b.line
	}
	return a.col > b.col
}

// find runs a search for the pattern from the window's top (first) or
// from the match shown (n, N), and shows what it found.
func (m *model) find(first, backward bool) {
	p := m.pager
	if p.pattern == "" {
		p.notice = "no search yet: / to search"
		return
	}
	from := p.hit
	if first || !p.hasHit {
		c, l := p.top(m.width, m.pagerHeight())
		from = match{cell: c, line: l, col: -1}
		if backward {
			from.col = 1 << 30
		}
	}
	hit, wrapped, ok := p.search(newMatcher(p.pattern), from, backward, m.width)
	if !ok {
		p.hasHit = false
		p.notice = "no match for " + p.pattern
		return
	}
	p.hit, p.hasHit = hit, true
	switch {
	case wrapped && backward:
		p.notice = "search hit TOP, continuing at BOTTOM"
	case wrapped:
		p.notice = "search hit BOTTOM, continuing at TOP"
	}
	p.reveal(hit.cell, hit.line, m.width, m.pagerHeight())
}

// highlight marks the matches of mt in line: the current one, cur (end
// <= 0 for none), in reverse video, the others underlined. Neither needs
// colour, so NO_COLOR shows them too.
func highlight(line string, mt matcher, cur [2]int) string {
	ms := mt.find(line)
	if len(ms) == 0 {
		return line
	}
	plain := ansi.Strip(line)
	var b strings.Builder
	prev := 0
	for _, x := range ms {
		b.WriteString(ansi.Cut(line, prev, x[0]))
		on, off := "\x1b[4m", "\x1b[24m"
		if x == cur {
			on, off = "\x1b[7m", "\x1b[27m"
		}
		b.WriteString(on + ansi.Cut(plain, x[0], x[1]) + off)
		prev = x[1]
	}
	if prev < ansi.StringWidth(plain) {
		b.WriteString(ansi.TruncateLeft(line, prev, ""))
	}
	return b.String()
}

// pagerKeys is the footer's help when nothing else is to be said.
const pagerKeys = "Transcript · ↑↓ j/k PgUp/PgDn Space g/G scroll · / search, n/N next/prev · w write to scrollback · v open in $EDITOR · q back"

// pagerView is the pager's frame: its window and a footer.
func (m *model) pagerView() string {
	p := m.pager
	height := m.pagerHeight()
	rows := p.window(m.width, height)
	var mt matcher
	if p.pattern != "" {
		mt = newMatcher(p.pattern)
	}
	lines := make([]string, 0, height+1)
	for _, r := range rows {
		cur := [2]int{}
		if p.hasHit && p.hit.cell == r.cell && p.hit.line == r.line {
			cur = [2]int{p.hit.col, p.hit.end}
		}
		lines = append(lines, highlight(r.text, mt, cur))
	}
	for len(lines) < height {
		lines = append(lines, "")
	}
	return strings.Join(append(lines, m.pagerFooter()), "\n")
}

func (m *model) pagerFooter() string {
	p := m.pager
	var s string
	switch {
	case m.quitArmed:
		s = "Press Ctrl+C again to quit."
	case p.typing:
		s = "/" + termsafe.String(string(p.query)) + "█"
	case p.notice != "":
		s = p.notice
	default:
		s = pagerKeys
		if p.follow {
			s = "(END) " + s
		}
	}
	if len(m.approvals) > 0 && !p.typing {
		s = "An approval waits: q to answer · " + s
	}
	return ansi.Truncate(s, m.width, "…")
}

// pagerKey handles a key in transcript mode. Ctrl+C and Ctrl+Z do what
// they do everywhere; the other keys are the pager's.
func (m *model) pagerKey(k tea.KeyPressMsg) tea.Cmd {
	p := m.pager
	p.notice = ""
	if p.typing {
		m.queryKey(k)
		return nil
	}
	width, height := m.width, m.pagerHeight()
	switch k.String() {
	case "esc", "q", "ctrl+o":
		m.pager = nil
	case "j", "down", "enter", "ctrl+e":
		p.scroll(1, width, height)
	case "k", "up", "ctrl+y":
		p.scroll(-1, width, height)
	case "pgdown", "space", "f", "ctrl+f":
		p.scroll(height, width, height)
	case "pgup", "b", "ctrl+b":
		p.scroll(-height, width, height)
	case "d", "ctrl+d":
		p.scroll(height/2, width, height)
	case "u", "ctrl+u":
		p.scroll(-height/2, width, height)
	case "g", "home", "<":
		p.follow, p.topCell, p.topLine = false, 0, 0
	case "G", "end", ">":
		p.follow = true
	case "/":
		p.typing, p.query = true, nil
	case "n":
		m.find(false, false)
	case "N":
		m.find(false, true)
	case "w", "[":
		return m.writeAll()
	case "v", "e":
		return m.editTranscript()
	}
	return nil
}

// queryKey edits the query line: Enter searches (an empty query repeats
// the last search), Esc gives up.
func (m *model) queryKey(k tea.KeyPressMsg) {
	p := m.pager
	switch k.String() {
	case "enter":
		p.typing = false
		if len(p.query) > 0 {
			p.pattern = string(p.query)
		}
		m.find(true, false)
	case "esc", "ctrl+g":
		p.typing = false
	case "backspace", "ctrl+h":
		if len(p.query) == 0 {
			p.typing = false
			return
		}
		p.query = p.query[:len(p.query)-1]
	case "ctrl+u":
		p.query = nil
	default:
		if k.Text != "" {
			p.query = append(p.query, []rune(k.Text)...)
		}
	}
}

// pagerPaste adds pasted text to the query line, on one line.
func (m *model) pagerPaste(text string) {
	if p := m.pager; p.typing {
		p.query = append(p.query, []rune(strings.Join(strings.Fields(text), " "))...)
	}
}

// writtenMsg reports the end of a write to the scrollback: err, if it
// failed, and the cells it held, from the first, which count as printed
// again only once written.
type writtenMsg struct {
	err         error
	first, next int
}

// writeAll prints every finished cell not printed yet, expanded, to the
// terminal's native scrollback: the program gives the normal screen back
// while it prints, then takes the alternate screen again. They count as
// printed, so exit does not print them again; cells still running are
// printed at exit.
func (m *model) writeAll() tea.Cmd {
	p := m.pager
	if m.opts.Inline {
		p.notice = "inline, the transcript goes to the scrollback as each cell finishes"
		return nil
	}
	first := m.printed
	lines := m.takeFinished(true)
	written, left := m.printed-first, len(m.tr.cells)-m.printed
	switch {
	case written == 0 && left == 0:
		p.notice = "every cell is in the scrollback already"
	case written == 0:
		p.notice = fmt.Sprintf("%s still running: written to the scrollback when Lathe exits", plural(left, "cell"))
	default:
		p.notice = "wrote " + plural(written, "cell") + " to the scrollback"
		if left > 0 {
			p.notice += fmt.Sprintf("; %d more when Lathe exits", left)
		}
	}
	if written == 0 {
		return nil
	}
	next := m.printed
	return tea.Exec(&scrollbackExec{text: strings.Join(lines, "\n") + "\n"}, func(err error) tea.Msg {
		return writtenMsg{err: err, first: first, next: next}
	})
}

// written takes the end of a write: cells that failed to print are
// printed at exit, unless more were printed since.
func (m *model) written(msg writtenMsg) {
	if msg.err == nil {
		return
	}
	if m.printed == msg.next {
		m.printed = msg.first
	}
	m.pagerNotice("write to the scrollback: " + msg.err.Error())
}

func (m *model) pagerNotice(s string) {
	if m.pager != nil {
		m.pager.notice = s
	} else {
		m.errorf("%s", s)
	}
}

// transcriptEdited is the message of the editor on the transcript having
// exited.
type transcriptEdited struct {
	path string
	err  error
}

// editTranscript opens the transcript, expanded and as plain text, in
// the person's editor, from a private temporary file removed once the
// editor exits.
func (m *model) editTranscript() tea.Cmd {
	var b strings.Builder
	for i := range m.tr.cells {
		c := m.tr.cell(i)
		for _, l := range detailSlice(c, m.width, 0, detailRows(c, m.width)) {
			b.WriteString(strings.TrimRight(ansi.Strip(l), " "))
			b.WriteByte('\n')
		}
	}
	c, path, err := composer.EditCmd(b.String(), "lathe-transcript-*.txt")
	if err != nil {
		m.pagerNotice(err.Error())
		return nil
	}
	return tea.ExecProcess(c, func(err error) tea.Msg { return transcriptEdited{path: path, err: err} })
}

func (m *model) transcriptEdited(msg transcriptEdited) {
	if err := os.Remove(msg.path); err != nil && !os.IsNotExist(err) {
		m.pagerNotice("remove " + msg.path + ": " + err.Error())
	}
	if msg.err != nil {
		m.pagerNotice(fmt.Sprintf("editor %s: %v", composer.EditorCommand()[0], msg.err))
	}
}

// click toggles, in the normal view, the tool call or thought on the
// screen row y: the row is mapped to its cell through the transcript's
// window.
func (m *model) click(msg tea.MouseClickMsg) {
	height := m.transcriptHeight()
	if msg.Button != tea.MouseLeft || m.opts.Inline || m.dialog != nil || msg.Y < 0 || msg.Y >= height {
		return
	}
	i, line := m.tr.top(m.from(), m.width, height)
	for y := msg.Y; i < len(m.tr.cells); i, line = i+1, 0 {
		c := m.tr.cell(i)
		r := c.rows(m.width) - line
		if y >= r {
			y -= r
			continue
		}
		if (c.kind == toolCell || c.kind == thinkingCell) && !(c.gap && line+y == 0) {
			c.expanded = !c.expanded
		}
		return
	}
}
