package palette

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/lathe-dev/lathe/internal/slash"
)

func testSet() *slash.Set {
	return slash.NewSet([]slash.Command{
		{Name: "review", ArgumentHint: "[files]", Description: "Review the diff\x1b]0;pwned\x07 carefully", Namespace: "team"},
		{Name: "commit-push", Description: "Commit and push"},
	})
}

func key(s string) tea.KeyPressMsg {
	switch s {
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "ctrl+n":
		return tea.KeyPressMsg{Code: 'n', Mod: tea.ModCtrl}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

func TestOpenOnlyForAPartialName(t *testing.T) {
	m := New(testSet())
	for _, tc := range []struct {
		line string
		open bool
	}{
		{"", false}, {"/", true}, {"/cmp", true}, {"/compact ", false}, {"/compact focus", false},
		{"hello /compact", false}, {"/usr/bin", false}, {"/zzz", false}, {"/a\nb", false},
	} {
		if got := m.SetQuery(tc.line).Open(); got != tc.open {
			t.Errorf("SetQuery(%q).Open() = %v, want %v", tc.line, got, tc.open)
		}
	}
}

func TestKeys(t *testing.T) {
	m := New(testSet()).SetQuery("/c")
	if c, _ := m.Selected(); c.Name != "cost" {
		t.Fatalf("selected %q first, want cost", c.Name)
	}
	var handled bool
	m, _, handled = m.Update(key("down"))
	if c, _ := m.Selected(); !handled || c.Name != "clear" {
		t.Fatalf("after down: %q, handled %v", c.Name, handled)
	}
	m, _, _ = m.Update(key("up"))
	m, _, _ = m.Update(key("up")) // wraps to the last
	if c, _ := m.Selected(); c.Name != m.matches[len(m.matches)-1].Command.Name {
		t.Errorf("up from the first selects %q, want the last", c.Name)
	}
	m, _, _ = m.Update(key("ctrl+n"))
	if line, ok := m.Complete(); !ok || line != "/cost " {
		t.Errorf("Complete = %q, %v", line, ok)
	}
	_, cmd, handled := m.Update(key("enter"))
	if !handled || cmd == nil {
		t.Fatal("enter not handled")
	}
	if ch, ok := cmd().(Chosen); !ok || ch.Command.Name != "cost" {
		t.Errorf("enter chose %+v", cmd())
	}
	if _, _, handled := m.Update(key("x")); handled {
		t.Error("a printable key was the palette's")
	}
	// Esc dismisses until the query changes.
	m, _, _ = m.Update(key("esc"))
	if m.Open() || m.View() != "" {
		t.Error("open after esc")
	}
	if m.SetQuery("/c").Open() {
		t.Error("the same query reopened it")
	}
	if !m.SetQuery("/co").Open() {
		t.Error("a new query did not reopen it")
	}
	// Typing resets the selection to the best match.
	m = m.SetQuery("/co")
	m, _, _ = m.Update(key("down"))
	if c, _ := m.SetQuery("/cmpct").Selected(); c.Name != "compact" {
		t.Errorf("cmpct selects %q", c.Name)
	}
}

func TestScroll(t *testing.T) {
	m := New(testSet()).SetWidth(60).SetQuery("/")
	for range MaxRows + 2 {
		m, _, _ = m.Update(key("down"))
	}
	view := ansi.Strip(m.View())
	lines := strings.Split(view, "\n")
	if len(lines) != MaxRows+1 || !strings.Contains(view, "› /"+m.matches[MaxRows+2].Name) || !strings.HasSuffix(view, "11/16") {
		t.Errorf("scrolled view:\n%s", view)
	}
}

func TestViewFitsAndIsSanitised(t *testing.T) {
	for _, w := range []int{20, 40, 80} {
		view := New(testSet()).SetWidth(w).SetQuery("/").View()
		if strings.Contains(view, "pwned\x07") || strings.Contains(view, "\x1b]0") {
			t.Errorf("width %d: a description's escape sequence reached the view", w)
		}
		for _, line := range strings.Split(view, "\n") {
			if ansi.StringWidth(line) > w {
				t.Errorf("width %d: line %q is %d wide", w, ansi.Strip(line), ansi.StringWidth(line))
			}
		}
	}
}

// TestGoldenPalette pins the palette's frame: names with the matched
// characters bold, hints, descriptions faint, the selection reversed.
func TestGoldenPalette(t *testing.T) {
	for _, tc := range []struct{ name, query string }{
		{"all", "/"},
		{"cmpct", "/cmpct"},
		{"re", "/re"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden.RequireEqual(t, New(testSet()).SetWidth(80).SetQuery(tc.query).View())
		})
	}
}

// harness types into a line, as the composer does, and quits on a
// choice.
type harness struct {
	m      Model
	line   string
	chosen *Chosen
}

func (h harness) Init() tea.Cmd { return nil }

func (h harness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if c, ok := msg.(Chosen); ok {
		h.chosen = &c
		return h, tea.Quit
	}
	var cmd tea.Cmd
	var handled bool
	if h.m, cmd, handled = h.m.Update(msg); handled {
		return h, cmd
	}
	if k, ok := msg.(tea.KeyPressMsg); ok && k.Text != "" {
		h.line += k.Text
		h.m = h.m.SetQuery(h.line)
	}
	return h, nil
}

func (h harness) View() tea.View { return tea.NewView(h.m.View()) }

// TestTeaFuzzyChoose drives the palette through a program: typing
// "/cmpct" and Enter chooses /compact.
func TestTeaFuzzyChoose(t *testing.T) {
	tm := teatest.NewTestModel(t, harness{m: New(testSet()).SetWidth(80)}, teatest.WithInitialTermSize(80, 24))
	tm.Type("/cmpct")
	tm.Send(key("enter"))
	final := tm.FinalModel(t, teatest.WithFinalTimeout(30*time.Second)).(harness)
	if final.chosen == nil || final.chosen.Command.Name != slash.Compact {
		t.Fatalf("chosen = %+v", final.chosen)
	}
}

// TestGoldenHelp pins /help's list: built-ins, then custom commands with
// their files.
func TestGoldenHelp(t *testing.T) {
	set := slash.NewSet([]slash.Command{
		{Name: "review", ArgumentHint: "[files]", Description: "Review the diff", Source: "/ws/.lathe/commands/review.md"},
		{Name: "deploy", Description: "Deploy\nsecond line", Source: "/home/u/.claude/commands/deploy\x1b.md"},
	})
	out := Help(set, 80)
	for _, line := range strings.Split(out, "\n") {
		if ansi.StringWidth(line) > 80 {
			t.Errorf("line %q is %d wide", ansi.Strip(line), ansi.StringWidth(line))
		}
	}
	if strings.Contains(out, "deploy\x1b") {
		t.Error("a file name's escape reached the view")
	}
	golden.RequireEqual(t, out)
}
