// Package picker is a list to choose one item from, drawn in the bottom
// area of the UI in place of the composer: typing filters the items by
// fuzzy subsequence (internal/fuzzy), Up and Down (PgUp, PgDn, Home,
// End) move, Enter or another action key chooses, Esc cancels. The
// sessions of /resume and the prompts of /rewind are chosen with it.
package picker

import (
	"slices"
	"strconv"
	"strings"
	"unicode"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/lathe-dev/lathe/internal/fuzzy"
	"github.com/lathe-dev/lathe/internal/termsafe"
)

// Item is one line of the list. Its text comes from anywhere (a session
// log, a prompt): the picker shows its control characters, never obeys
// them.
type Item struct {
	// Title is what the filter matches and the line shows first.
	Title string
	// Detail follows the title, faint: an age, a count.
	Detail string
	// Mark is shown before the title, such as "current".
	Mark string
	// Disabled, when not empty, is why the item cannot be chosen; the
	// picker says so when it is.
	Disabled string
}

// Action is a key that chooses the selected item, such as Enter to
// resume and Ctrl+F to fork; its Name is what [Chosen] carries back.
type Action struct {
	Key  string // as tea.KeyPressMsg.String() spells it: "enter", "ctrl+f"
	Name string
	Help string // the footer's word for it: "resume"
}

// Options are a picker's contents.
type Options struct {
	// ID tells the owner which picker a [Chosen] or [Cancelled] is of.
	ID    string
	Title string
	Items []Item
	// Actions are the keys that choose; without any, Enter chooses as
	// "choose".
	Actions []Action
	// Empty is what the picker says when there are no items at all.
	Empty string
	// Width and Height bound the view; Height counts every line.
	Width, Height int
}

// Chosen is the message of an item chosen: its index in Options.Items
// and the name of the action that chose it.
type Chosen struct {
	ID     string
	Index  int
	Action string
}

// Cancelled is the message of a picker closed with Esc.
type Cancelled struct{ ID string }

// Model is the picker's state; use [New].
type Model struct {
	opts Options
	// titles are the items' titles as shown: on one line, sanitised.
	titles []string
	query  string
	// matches are indexes into opts.Items, best first, with where the
	// query's characters are in each title.
	matches []match
	sel     int
	top     int
	// note says why the last choice was refused.
	note string
}

type match struct {
	index, runs int
	pos         []int
}

// New returns a picker over o's items, the first selected.
func New(o Options) Model {
	if len(o.Actions) == 0 {
		o.Actions = []Action{{Key: "enter", Name: "choose", Help: "choose"}}
	}
	o.Width, o.Height = max(o.Width, 10), max(o.Height, 4)
	m := Model{opts: o}
	for _, it := range o.Items {
		m.titles = append(m.titles, oneLine(termsafe.String(it.Title)))
	}
	m.filter()
	return m
}

// SetSize sets the size the picker renders in.
func (m Model) SetSize(width, height int) Model {
	m.opts.Width, m.opts.Height = max(width, 10), max(height, 4)
	m.scrollToSel()
	return m
}

// ID is the picker's Options.ID.
func (m Model) ID() string { return m.opts.ID }

// Query is the filter typed so far.
func (m Model) Query() string { return m.query }

// Selected returns the index in Options.Items of the selected item;
// false when no item matches the filter.
func (m Model) Selected() (int, bool) {
	if len(m.matches) == 0 {
		return 0, false
	}
	return m.matches[m.sel].index, true
}

// filter matches the query against the titles, case aside: fewest runs
// of adjacent characters first, then in the items' order.
func (m *Model) filter() {
	q := strings.ToLower(m.query)
	m.matches = nil
	for i, t := range m.titles {
		if pos, runs, ok := fuzzy.Match(strings.ToLower(t), q); ok {
			m.matches = append(m.matches, match{index: i, runs: runs, pos: pos})
		}
	}
	slices.SortStableFunc(m.matches, func(a, b match) int { return a.runs - b.runs })
	m.sel, m.top = 0, 0
}

// rows is how many items the view shows at once: the height less the
// title, the filter line, the position line and the footer.
func (m Model) rows() int { return max(m.opts.Height-4, 1) }

// Update handles a key. It returns a [Chosen] or [Cancelled] command when
// the picker is done; the owner closes it then.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.PasteMsg:
		m.setQuery(m.query + oneLine(msg.Content))
		return m, nil
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	return m, nil
}

func (m Model) key(k tea.KeyPressMsg) (Model, tea.Cmd) {
	s := k.String()
	for _, a := range m.opts.Actions {
		if s != a.Key {
			continue
		}
		i, ok := m.Selected()
		if !ok {
			m.note = "Nothing matches " + strconv.Quote(m.query) + "."
			return m, nil
		}
		if why := m.opts.Items[i].Disabled; why != "" {
			m.note = "Cannot " + a.Help + " this one: " + why
			return m, nil
		}
		chosen := Chosen{ID: m.opts.ID, Index: i, Action: a.Name}
		return m, func() tea.Msg { return chosen }
	}
	m.note = ""
	switch s {
	case "esc":
		if m.query != "" {
			m.setQuery("")
			return m, nil
		}
		id := m.opts.ID
		return m, func() tea.Msg { return Cancelled{ID: id} }
	case "up", "ctrl+p":
		m.move(-1)
	case "down", "ctrl+n":
		m.move(1)
	case "pgup":
		m.move(-m.rows())
	case "pgdown":
		m.move(m.rows())
	case "home":
		m.move(-len(m.matches))
	case "end":
		m.move(len(m.matches))
	case "backspace", "ctrl+h":
		if r := []rune(m.query); len(r) > 0 {
			m.setQuery(string(r[:len(r)-1]))
		}
	case "ctrl+u":
		m.setQuery("")
	default:
		if k.Text != "" && !strings.ContainsFunc(k.Text, unicode.IsControl) {
			m.setQuery(m.query + k.Text)
		}
	}
	return m, nil
}

func (m *Model) setQuery(q string) {
	if q != m.query {
		m.query = q
		m.filter()
	}
}

// move moves the selection by delta, stopping at the ends.
func (m *Model) move(delta int) {
	if len(m.matches) == 0 {
		return
	}
	m.sel = min(max(m.sel+delta, 0), len(m.matches)-1)
	m.scrollToSel()
}

func (m *Model) scrollToSel() {
	switch rows := m.rows(); {
	case m.sel < m.top:
		m.top = m.sel
	case m.sel >= m.top+rows:
		m.top = m.sel - rows + 1
	}
}

var (
	titleStyle    = lipgloss.NewStyle().Bold(true)
	selectedStyle = lipgloss.NewStyle().Reverse(true)
	matchStyle    = lipgloss.NewStyle().Bold(true)
	faintStyle    = lipgloss.NewStyle().Faint(true)
)

// View renders the picker: its title, the filter, the items in view, the
// position or the refusal, and the keys. Every line fits the width.
func (m Model) View() string {
	w := m.opts.Width
	fit := func(s string) string { return ansi.Truncate(s, w, "…") }
	lines := []string{fit(titleStyle.Render(termsafe.String(m.opts.Title)))}
	if m.query == "" {
		lines = append(lines, fit(faintStyle.Render("  type to filter")))
	} else {
		lines = append(lines, fit("  filter: "+termsafe.String(m.query)))
	}
	switch {
	case len(m.opts.Items) == 0:
		lines = append(lines, fit("  "+termsafe.String(m.opts.Empty)))
	case len(m.matches) == 0:
		lines = append(lines, fit(faintStyle.Render("  nothing matches")))
	}
	end := min(m.top+m.rows(), len(m.matches))
	for i := m.top; i < end; i++ {
		lines = append(lines, m.row(m.matches[i], i == m.sel))
	}
	switch {
	case m.note != "":
		lines = append(lines, fit(termsafe.String(m.note)))
	case len(m.matches) > m.rows():
		lines = append(lines, fit(faintStyle.Render("  "+strconv.Itoa(m.sel+1)+"/"+strconv.Itoa(len(m.matches)))))
	}
	return strings.Join(append(lines, fit(faintStyle.Render(m.footer()))), "\n")
}

func (m Model) footer() string {
	parts := []string{"↑↓ move", "PgUp/PgDn page"}
	for _, a := range m.opts.Actions {
		parts = append(parts, keyName(a.Key)+" "+a.Help)
	}
	return strings.Join(append(parts, "Esc cancel"), " · ")
}

// keyName spells a key as people read it: "ctrl+f" is Ctrl+F.
func keyName(k string) string {
	var out []string
	for p := range strings.SplitSeq(k, "+") {
		if len(p) == 1 {
			out = append(out, strings.ToUpper(p))
			continue
		}
		out = append(out, strings.ToUpper(p[:1])+p[1:])
	}
	return strings.Join(out, "+")
}

// row renders one item: the marker, the mark, the title with the
// query's characters bold, and the detail, faint, at the right edge when
// there is room.
func (m Model) row(mt match, selected bool) string {
	it, title := m.opts.Items[mt.index], m.titles[mt.index]
	// The positions are in the lower-cased title, which is the shown
	// one's offsets only when lower-casing kept every length.
	if len(strings.ToLower(title)) == len(title) {
		title = fuzzy.Highlight(title, mt.pos, func(run string) string { return matchStyle.Render(run) })
	}
	marker := "  "
	if selected {
		marker = "› "
	}
	head := marker
	if it.Mark != "" {
		head += "(" + termsafe.String(it.Mark) + ") "
	}
	detail := oneLine(termsafe.String(it.Detail))
	if it.Disabled != "" {
		detail = strings.TrimSpace(detail + " · " + oneLine(termsafe.String(it.Disabled)))
	}
	w := m.opts.Width
	left := head + title
	room := w - ansi.StringWidth(detail) - 2
	var line string
	switch {
	case detail == "":
		line = ansi.Truncate(left, w, "…")
	case room >= ansi.StringWidth(head)+12:
		left = ansi.Truncate(left, room, "…")
		line = left + strings.Repeat(" ", w-ansi.StringWidth(left)-ansi.StringWidth(detail)) + faintStyle.Render(detail)
	default:
		line = ansi.Truncate(left+"  "+faintStyle.Render(detail), w, "…")
	}
	if selected {
		return selectedStyle.Render(ansi.Strip(line))
	}
	if it.Disabled != "" || it.Mark != "" {
		return faintStyle.Render(ansi.Strip(line))
	}
	return line
}

// oneLine puts s on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
