package composer

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/lathe-dev/lathe/internal/slash"
	"github.com/lathe-dev/lathe/internal/tui/palette"
)

// harness runs a composer as a program's model, as the core embeds it,
// and quits with the first thing it sends.
type harness struct {
	c    Model
	sent tea.Msg
}

func (h harness) Init() tea.Cmd { return nil }

func (h harness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg.(type) {
	case Submitted, palette.Chosen:
		h.sent = msg
		return h, tea.Quit
	}
	var cmd tea.Cmd
	h.c, cmd = h.c.Update(msg)
	return h, cmd
}

func (h harness) View() tea.View { return tea.NewView(h.c.View()) }

// run drives a composer with msgs (strings are typed, key names in
// angle brackets pressed) and returns what it sent.
func run(t *testing.T, c Model, msgs ...any) tea.Msg {
	t.Helper()
	tm := teatest.NewTestModel(t, harness{c: c}, teatest.WithInitialTermSize(80, 24))
	for _, m := range msgs {
		switch m := m.(type) {
		case string:
			if k, ok := strings.CutPrefix(m, "<"); ok {
				tm.Send(press(strings.TrimSuffix(k, ">")))
			} else {
				tm.Type(m)
			}
		case tea.Msg:
			tm.Send(m)
		}
	}
	final := tm.FinalModel(t, teatest.WithFinalTimeout(30*time.Second)).(harness)
	return final.sent
}

func TestTeaPasteChip(t *testing.T) {
	long := strings.Repeat("line of pasted text\n", 100)
	got := run(t, New(Options{}), "see ", tea.PasteMsg{Content: long}, " please", "<enter>")
	if s, ok := got.(Submitted); !ok || s.Text != "see "+long+" please" {
		t.Fatalf("sent %T %.60q", got, got)
	}
}

func TestTeaHistory(t *testing.T) {
	h, _ := OpenHistory("")
	h.Add("go test ./...")
	h.Add("fix the parser")
	got := run(t, New(Options{History: h}), "<up>", "<up>", "<enter>")
	if s, ok := got.(Submitted); !ok || s.Text != "go test ./..." {
		t.Fatalf("sent %#v", got)
	}
	got = run(t, New(Options{History: h}), "<ctrl+r>", "parser", "<enter>", " now", "<enter>")
	if s, ok := got.(Submitted); !ok || s.Text != "fix the parser now" {
		t.Fatalf("sent %#v", got)
	}
}

func TestTeaPaletteFuzzy(t *testing.T) {
	got := run(t, New(Options{}), "/cmpct", "<enter>")
	if c, ok := got.(palette.Chosen); !ok || c.Command.Name != slash.Compact {
		t.Fatalf("sent %#v", got)
	}
	got = run(t, New(Options{}), "/cmp", "<tab>", "keep the API notes", "<enter>")
	if c, ok := got.(palette.Chosen); !ok || c.Command.Name != slash.Compact || c.Args != "keep the API notes" {
		t.Fatalf("sent %#v", got)
	}
}

func TestTeaAtCompletion(t *testing.T) {
	ix := indexReady{ix: NewIndex([]string{"README.md", "internal/", "internal/tui/", "internal/tui/composer/composer.go"})}
	got := run(t, New(Options{}), ix, "explain @compgo", "<tab>", "<enter>")
	if s, ok := got.(Submitted); !ok || s.Text != "explain @internal/tui/composer/composer.go " {
		t.Fatalf("sent %#v", got)
	}
}
