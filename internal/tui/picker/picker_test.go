package picker

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

func key(s string) tea.KeyPressMsg {
	switch s {
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "ctrl+f":
		return tea.KeyPressMsg{Code: 'f', Mod: tea.ModCtrl}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

func sessions() Options {
	return Options{
		ID:    "resume",
		Title: "Resume a session",
		Items: []Item{
			{Title: "fix the flaky test in cmd/lathe", Detail: "now · 1.2k tokens · $0.01", Mark: "current", Disabled: "it is this session"},
			{Title: "add a --json flag to lathe sessions", Detail: "3 min ago · 12.3k tokens · $0.04"},
			{Title: "explain internal/\x1b]0;pwned\x07fuzzy", Detail: "yesterday · 800 tokens · $0.00", Disabled: "in use by another lathe process"},
			{Title: "write the README's quickstart section, with a capture of a whole session from tmux", Detail: "5 days ago · 120.5k tokens · $1.20"},
		},
		Actions: []Action{{Key: "enter", Name: "resume", Help: "resume"}, {Key: "ctrl+f", Name: "fork", Help: "fork"}},
		Width:   80, Height: 10,
	}
}

// chosen runs the command a key returned, which must be a Chosen.
func run(t *testing.T, cmd tea.Cmd) tea.Msg {
	t.Helper()
	if cmd == nil {
		return nil
	}
	return cmd()
}

func TestFilterAndChoose(t *testing.T) {
	m := New(sessions())
	for _, k := range []string{"j", "s", "o", "n"} {
		m, _ = m.Update(key(k))
	}
	if i, ok := m.Selected(); !ok || i != 1 || len(m.matches) != 1 {
		t.Fatalf("json selects item %d (%v) of %d matches, want item 1 alone", i, ok, len(m.matches))
	}
	m, cmd := m.Update(key("ctrl+f"))
	if got := run(t, cmd); got != (Chosen{ID: "resume", Index: 1, Action: "fork"}) {
		t.Errorf("Ctrl+F = %#v, want a fork of item 1", got)
	}
	m, cmd = m.Update(key("enter"))
	if got := run(t, cmd); got != (Chosen{ID: "resume", Index: 1, Action: "resume"}) {
		t.Errorf("Enter = %#v, want a resume of item 1", got)
	}
	// Backspace widens the filter again; case does not matter.
	for range 4 {
		m, _ = m.Update(key("backspace"))
	}
	m, _ = m.Update(key("S"))
	m, _ = m.Update(key("E"))
	if got := []int{m.matches[0].index, m.matches[1].index, m.matches[2].index}; len(m.matches) != 3 || got[0] != 1 || got[1] != 3 || got[2] != 0 {
		t.Errorf("SE matches %+v, want items 1 and 3 (one run each) before item 0 (two)", m.matches)
	}
	// Esc clears the filter first, then cancels.
	m, cmd = m.Update(key("esc"))
	if m.Query() != "" || cmd != nil || len(m.matches) != 4 {
		t.Errorf("first Esc: query %q, %d matches, cmd %v", m.Query(), len(m.matches), cmd != nil)
	}
	_, cmd = m.Update(key("esc"))
	if got := run(t, cmd); got != (Cancelled{ID: "resume"}) {
		t.Errorf("second Esc = %#v, want Cancelled", got)
	}
}

func TestDisabledRefused(t *testing.T) {
	m := New(sessions())
	m, cmd := m.Update(key("enter"))
	if cmd != nil {
		t.Fatalf("Enter on the current session chose it: %#v", cmd())
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "Cannot resume this one: it is this session") {
		t.Errorf("the refusal is not shown:\n%s", v)
	}
	m, _ = m.Update(key("down"))
	m, _ = m.Update(key("down"))
	if _, cmd := m.Update(key("ctrl+f")); cmd != nil {
		t.Error("Ctrl+F forked a session in use")
	}
	// A filter matching nothing chooses nothing.
	m, _ = m.Update(key("z"))
	m, _ = m.Update(key("z"))
	if _, cmd := m.Update(key("enter")); cmd != nil {
		t.Error("Enter chose with nothing matching")
	}
}

func TestScrollAndPage(t *testing.T) {
	o := Options{Title: "Many", Width: 40, Height: 8}
	for i := range 30 {
		o.Items = append(o.Items, Item{Title: fmt.Sprintf("item %02d", i)})
	}
	m := New(o)
	m, _ = m.Update(key("pgdown"))
	if i, _ := m.Selected(); i != 4 {
		t.Errorf("PgDn selects %d, want 4 (a page of 4 rows)", i)
	}
	m, _ = m.Update(key("end"))
	view := ansi.Strip(m.View())
	lines := strings.Split(view, "\n")
	if i, _ := m.Selected(); i != 29 || len(lines) != 8 || !strings.Contains(view, "› item 29") || !strings.Contains(view, "30/30") {
		t.Errorf("End: selected %d, view of %d lines:\n%s", i, len(lines), view)
	}
	m, _ = m.Update(key("down"))
	if i, _ := m.Selected(); i != 29 {
		t.Errorf("Down at the end moved to %d", i)
	}
}

func TestViewFitsAndIsSanitised(t *testing.T) {
	for _, w := range []int{10, 30, 80, 160} {
		o := sessions()
		o.Width = w
		view := New(o).View()
		if strings.Contains(view, "pwned\x07") || strings.Contains(view, "\x1b]0") {
			t.Errorf("width %d: a title's escape sequence reached the view", w)
		}
		for _, line := range strings.Split(view, "\n") {
			if ansi.StringWidth(line) > w {
				t.Errorf("width %d: line %q is %d wide", w, ansi.Strip(line), ansi.StringWidth(line))
			}
		}
	}
}

// TestGolden pins the frame at 80 and 160 columns, unfiltered and
// filtered: the current session marked and faint, the one in use with
// its reason, the details at the right edge, the keys in the footer.
func TestGolden(t *testing.T) {
	for _, w := range []int{80, 160} {
		for _, q := range []string{"", "rdme"} {
			t.Run(fmt.Sprintf("%d%s", w, strings.TrimRight("-"+q, "-")), func(t *testing.T) {
				o := sessions()
				o.Width = w
				m := New(o)
				for _, r := range q {
					m, _ = m.Update(key(string(r)))
				}
				golden.RequireEqual(t, m.View())
			})
		}
	}
}

// harness runs a picker as a program and quits on its answer.
type harness struct {
	m      Model
	answer tea.Msg
}

func (h harness) Init() tea.Cmd { return nil }

func (h harness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg.(type) {
	case Chosen, Cancelled:
		h.answer = msg
		return h, tea.Quit
	}
	var cmd tea.Cmd
	h.m, cmd = h.m.Update(msg)
	return h, cmd
}

func (h harness) View() tea.View { return tea.NewView(h.m.View()) }

// TestTeaFilter types a filter into a running picker and chooses: the
// item the filter leaves is the one chosen.
func TestTeaFilter(t *testing.T) {
	tm := teatest.NewTestModel(t, harness{m: New(sessions())}, teatest.WithInitialTermSize(80, 24))
	tm.Type("quick")
	tm.Send(key("enter"))
	final := tm.FinalModel(t, teatest.WithFinalTimeout(30*time.Second)).(harness)
	if final.answer != (Chosen{ID: "resume", Index: 3, Action: "resume"}) {
		t.Fatalf("answer = %#v, want item 3 resumed", final.answer)
	}
}
