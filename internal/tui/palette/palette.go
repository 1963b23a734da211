// Package palette is the "/" command palette: the commands of a
// [slash.Set] that match what is typed after the "/", best first, one of
// them selected. Its owner (the composer) feeds it the line being typed
// ([Model.SetQuery]) and the keys that move and choose while it is open;
// a choice goes back as a [Chosen] message.
package palette

import (
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/lathe-dev/lathe/internal/fuzzy"
	"github.com/lathe-dev/lathe/internal/slash"
	"github.com/lathe-dev/lathe/internal/termsafe"
)

// Chosen is the message of a command chosen in the palette, with the
// arguments typed after its name ("" when it was chosen from the list).
type Chosen struct {
	Command slash.Command
	Args    string
}

// MaxRows is how many commands the palette shows at once; the list
// scrolls to keep the selected one in view.
const MaxRows = 8

// Model is the palette's state. The zero Model is closed and matches
// nothing; use [New].
type Model struct {
	set     *slash.Set
	query   string
	matches []slash.Match
	sel     int
	top     int // the first match shown
	width   int
	// dismissed is set by Esc until the query changes.
	dismissed bool
}

// New returns a closed palette over set.
func New(set *slash.Set) Model {
	return Model{set: set, width: 80}
}

// SetWidth sets the width the palette renders at.
func (m Model) SetWidth(w int) Model {
	m.width = max(w, 1)
	return m
}

// SetQuery sets the line being typed. The palette is open while the line
// is a "/" followed by a partial command name: nothing before the "/",
// no blank after the name yet. A query that changes the matches selects
// the best one again.
func (m Model) SetQuery(line string) Model {
	q, isCmd := query(line)
	if !isCmd {
		m.query, m.matches, m.sel, m.top, m.dismissed = "", nil, 0, 0, false
		return m
	}
	if q == m.query && m.matches != nil {
		return m
	}
	m.query, m.dismissed = q, false
	m.matches = m.set.Match(q)
	m.sel, m.top = 0, 0
	return m
}

// query returns the partial command name of a line that is one.
func query(line string) (string, bool) {
	rest, ok := strings.CutPrefix(line, "/")
	if !ok || strings.ContainsAny(rest, " \t\n/") {
		return "", false
	}
	return rest, true
}

// Open says whether the palette is shown and takes the keys that move
// and choose: the line is a partial command name that matches something,
// and Esc has not dismissed it.
func (m Model) Open() bool {
	return m.set != nil && len(m.matches) > 0 && !m.dismissed
}

// Selected returns the selected command, if the palette is open.
func (m Model) Selected() (slash.Command, bool) {
	if !m.Open() {
		return slash.Command{}, false
	}
	return m.matches[m.sel].Command, true
}

// Complete returns the line that Tab makes of the selected command: its
// name and a blank, ready for arguments.
func (m Model) Complete() (string, bool) {
	c, ok := m.Selected()
	if !ok {
		return "", false
	}
	return "/" + c.Name + " ", true
}

// Update handles the keys of an open palette: Up and Down (Ctrl+P,
// Ctrl+N) move, Enter chooses ([Chosen]), Esc dismisses. handled says
// whether the key was the palette's; the owner handles those that were
// not, and Tab (see [Model.Complete]).
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd, bool) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok || !m.Open() {
		return m, nil, false
	}
	switch k.String() {
	case "up", "ctrl+p":
		m.sel = (m.sel - 1 + len(m.matches)) % len(m.matches)
	case "down", "ctrl+n":
		m.sel = (m.sel + 1) % len(m.matches)
	case "enter":
		chosen := Chosen{Command: m.matches[m.sel].Command}
		return m, func() tea.Msg { return chosen }, true
	case "esc":
		m.dismissed = true
		return m, nil, true
	default:
		return m, nil, false
	}
	switch {
	case m.sel < m.top:
		m.top = m.sel
	case m.sel >= m.top+MaxRows:
		m.top = m.sel - MaxRows + 1
	}
	return m, nil, true
}

var (
	selectedStyle = lipgloss.NewStyle().Reverse(true)
	matchStyle    = lipgloss.NewStyle().Bold(true)
	descStyle     = lipgloss.NewStyle().Faint(true)
)

// View renders the open palette, one line a command, or "" when it is
// closed. Every line fits the width.
func (m Model) View() string {
	if !m.Open() {
		return ""
	}
	end := min(m.top+MaxRows, len(m.matches))
	nameW := 0
	for _, mt := range m.matches[m.top:end] {
		nameW = max(nameW, ansi.StringWidth(label(mt)))
	}
	var b strings.Builder
	for i := m.top; i < end; i++ {
		if i > m.top {
			b.WriteByte('\n')
		}
		b.WriteString(m.row(m.matches[i], i == m.sel, nameW))
	}
	if more := len(m.matches) - end; more > 0 || m.top > 0 {
		b.WriteString("\n" + descStyle.Render(ansi.Truncate(position(m.sel+1, len(m.matches)), m.width, "…")))
	}
	return b.String()
}

func position(n, of int) string {
	return "  " + strconv.Itoa(n) + "/" + strconv.Itoa(of)
}

// label is the name column's plain text: "/name hint".
func label(mt slash.Match) string {
	s := "/" + mt.Name
	if h := mt.Command.ArgumentHint; h != "" {
		s += " " + termsafe.String(h)
	}
	return s
}

func (m Model) row(mt slash.Match, selected bool, nameW int) string {
	// The name with the query's characters in bold, a run at a time.
	var name strings.Builder
	name.WriteString("/" + fuzzy.Highlight(mt.Name, mt.Positions, func(run string) string { return matchStyle.Render(run) }))
	if h := mt.Command.ArgumentHint; h != "" {
		name.WriteString(" " + termsafe.String(h))
	}
	pad := strings.Repeat(" ", nameW-ansi.StringWidth(label(mt)))
	desc := oneLine(termsafe.String(mt.Command.Description))
	if ns := mt.Command.Namespace; ns != "" {
		desc += " (" + termsafe.String(ns) + ")"
	}
	marker := "  "
	if selected {
		marker = "› "
	}
	line := marker + name.String() + pad + "  " + descStyle.Render(desc)
	line = ansi.Truncate(line, m.width, "…")
	if selected {
		line = selectedStyle.Render(ansi.Strip(line))
	}
	return line
}

// oneLine keeps a description to its first line.
func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.ReplaceAll(s, "\t", " ")
}
