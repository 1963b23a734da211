package tui

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/checkpoint"
	"github.com/lathe-dev/lathe/internal/llm"
)

// rewindStub is a session with prompts to rewind to, whose prompts run
// until they are interrupted.
type rewindStub struct {
	stub
	points []app.RewindPoint
}

func (r rewindStub) SessionID() string { return "20261208T010000-aaaaaa" }

func (r rewindStub) RewindPoints(context.Context) ([]app.RewindPoint, error) {
	return r.points, nil
}

func (rewindStub) Prompt(ctx context.Context, _ string, _ ...llm.Part) app.Result {
	<-ctx.Done()
	return app.Result{}
}

func testPoints() []app.RewindPoint {
	return []app.RewindPoint{
		{Prompt: "now the tests", Messages: 4, Step: 3, Changes: []checkpoint.Change{{Path: "a_test.go", Kind: checkpoint.Delete}}},
		{Prompt: "fix the parser", Messages: 0, Step: 1, Changes: []checkpoint.Change{{Path: "a.go", Kind: checkpoint.Update}, {Path: "a_test.go", Kind: checkpoint.Delete}}},
	}
}

// probe runs the model and hands the test each frame it draws, as text:
// the terminal's output is a diff of frames, in which a line that
// changed only in part is not whole.
type probe struct {
	*model
	frames chan string
}

func (p probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := p.model.Update(msg)
	select {
	case p.frames <- ansi.Strip(p.model.View().Content):
	default:
		// A test reads the frames it waits for; the rest may go.
	}
	return p, cmd
}

type stubUI struct {
	tm     *teatest.TestModel
	frames chan string
}

func runStub(t *testing.T, s Session, opts Options) stubUI {
	t.Helper()
	p := probe{model: newModel(context.Background(), s, newFeed(), opts), frames: make(chan string, 1000)}
	return stubUI{teatest.NewTestModel(t, p, teatest.WithInitialTermSize(100, 30)), p.frames}
}

// wait waits for a frame holding every one of want.
func (u stubUI) wait(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	last := ""
	for {
		select {
		case f := <-u.frames:
			last = f
			if !slices.ContainsFunc(want, func(w string) bool { return !strings.Contains(f, w) }) {
				return
			}
		case <-deadline:
			t.Fatalf("no frame holds %q; the last:\n%s", want, last)
		}
	}
}

func (u stubUI) final(t *testing.T) *model {
	t.Helper()
	return u.tm.FinalModel(t, teatest.WithFinalTimeout(30*time.Second)).(probe).model
}

// TestEscEscRewinds checks that Esc Esc on an empty composer opens the
// rewind picker, newest prompt first, and that choosing a prompt and
// "code and conversation" ends the UI asking for exactly that rewind.
func TestEscEscRewinds(t *testing.T) {
	tm := runStub(t, rewindStub{points: testPoints()}, Options{})
	tm.tm.Send(key("esc"))
	tm.wait(t, "Press Esc again to rewind.")
	tm.tm.Send(key("esc"))
	tm.wait(t, "Rewind to before a prompt", "now the tests", "restores 1 file", "fix the parser", "restores 2 files")
	tm.tm.Send(tea.KeyPressMsg{Code: tea.KeyDown})
	tm.tm.Send(key("enter"))
	tm.wait(t, "Rewind to before: fix the parser", "Restore code and conversation", "Restore code only")
	tm.tm.Send(key("enter"))
	m := tm.final(t)
	want := Next{Kind: Rewind, Session: "20261208T010000-aaaaaa", Point: testPoints()[1], Code: true, Conversation: true}
	if m.next.Kind != want.Kind || m.next.Session != want.Session || m.next.Point.Prompt != "fix the parser" || m.next.Point.Step != 1 || !m.next.Code || !m.next.Conversation {
		t.Errorf("next = %+v, want %+v", m.next, want)
	}
}

// TestEscOnTextDoesNotRewind checks that Esc with text in the composer,
// or an Esc after another key, does not open rewind.
func TestEscOnTextDoesNotRewind(t *testing.T) {
	tm := runStub(t, rewindStub{points: testPoints()}, Options{})
	tm.tm.Type("draft")
	tm.tm.Send(key("esc"))
	tm.tm.Send(key("esc"))
	tm.tm.Type("!")
	tm.wait(t, "draft!")
	tm.tm.Send(key("ctrl+c"))
	tm.tm.Send(key("ctrl+c"))
	if m := tm.final(t); m.picker != nil || m.next.Kind != Quit {
		t.Errorf("Esc Esc on a draft opened a picker (%v) or asked for %+v", m.picker != nil, m.next)
	}
}

// TestEscEscAfterInterrupt checks that while a prompt runs, Esc
// interrupts it and a second Esc opens rewind once the run has ended.
func TestEscEscAfterInterrupt(t *testing.T) {
	tm := runStub(t, rewindStub{points: testPoints()}, Options{Prompt: "long task"})
	tm.wait(t, "working")
	tm.tm.Send(key("esc"))
	tm.tm.Send(key("esc"))
	tm.wait(t, "Rewind to before a prompt", "fix the parser")
	// Esc closes the picker; the UI goes on.
	tm.tm.Send(key("esc"))
	tm.wait(t, "Ask Lathe to do something")
	tm.tm.Send(key("ctrl+c"))
	tm.tm.Send(key("ctrl+c"))
	m := tm.final(t)
	if m.picker != nil || m.running() || m.next.Kind != Quit {
		t.Errorf("after Esc in the picker: picker %v, running %v, next %+v", m.picker != nil, m.running(), m.next)
	}
}

// fakeSessions lists fixed sessions.
type fakeSessions []SessionInfo

func (f fakeSessions) List() ([]SessionInfo, error) { return f, nil }

// TestResumePicker checks the /resume picker: the current session marked
// and refused, one in use refused with the reason, a filtered one
// resumed with Enter, forked with Ctrl+F.
func TestResumePicker(t *testing.T) {
	now := time.Now()
	list := fakeSessions{
		{ID: "20261208T010000-aaaaaa", Title: "this one", Updated: now, Tokens: 900},
		{ID: "20261207T090000-bbbbbb", Title: "busy elsewhere", Updated: now.Add(-3 * time.Minute), InUse: true},
		{ID: "20261201T090000-cccccc", Title: "the parser fix", Updated: now.Add(-7 * 24 * time.Hour), Tokens: 12_345, Cost: 0.25},
	}
	for _, tc := range []struct {
		key  tea.KeyPressMsg
		kind NextKind
	}{{key("enter"), Resume}, {tea.KeyPressMsg{Code: 'f', Mod: tea.ModCtrl}, Fork}} {
		tm := runStub(t, rewindStub{}, Options{Sessions: list})
		tm.tm.Type("/resume")
		tm.tm.Send(key("enter"))
		tm.wait(t, "(current) this one", "it is this session", "busy elsewhere", "3 mins ago", "in use by another lathe process", "the parser fix", "7 days ago · 12.3k tokens · $0.25")
		tm.tm.Send(key("enter"))
		tm.wait(t, "Cannot resume this one: it is this session")
		tm.tm.Type("busy")
		tm.tm.Send(key("enter"))
		tm.wait(t, "Cannot resume this one: in use by another lathe process")
		for range 4 {
			tm.tm.Send(tea.KeyPressMsg{Code: tea.KeyBackspace})
		}
		tm.tm.Type("parser")
		tm.tm.Send(tc.key)
		m := tm.final(t)
		if m.next.Kind != tc.kind || m.next.Session != "20261201T090000-cccccc" {
			t.Errorf("%v: next = %+v, want session cccccc", tc.kind, m.next)
		}
	}
}

// TestSwitchWaitsForTheRun checks that /clear while a prompt runs is
// refused with what to do, and the run goes on.
func TestSwitchWaitsForTheRun(t *testing.T) {
	tm := runStub(t, rewindStub{}, Options{Prompt: "long task"})
	tm.wait(t, "working")
	tm.tm.Type("/clear")
	tm.tm.Send(key("enter"))
	tm.wait(t, "/clear waits for the running prompt: press Esc to interrupt it")
	tm.tm.Send(key("ctrl+c"))
	tm.tm.Send(key("ctrl+c"))
	if m := tm.final(t); m.next.Kind != Quit {
		t.Errorf("/clear while running asked for %+v", m.next)
	}
}

func TestAge(t *testing.T) {
	now := time.Date(2026, 12, 8, 15, 0, 0, 0, time.Local)
	for _, tc := range []struct {
		ago  time.Duration
		want string
	}{
		{10 * time.Second, "just now"}, {time.Minute, "1 min ago"}, {3 * time.Minute, "3 mins ago"},
		{90 * time.Minute, "1 hour ago"}, {5 * time.Hour, "5 hours ago"}, {26 * time.Hour, "yesterday"},
		{50 * time.Hour, "2 days ago"}, {60 * 24 * time.Hour, "9 Oct 2026"},
		// Under a day is counted in hours, across midnight too.
		{20 * time.Hour, "20 hours ago"},
	} {
		if got := age(now, now.Add(-tc.ago)); got != tc.want {
			t.Errorf("age of %v = %q, want %q", tc.ago, got, tc.want)
		}
	}
	early := time.Date(2026, 12, 8, 1, 30, 0, 0, time.Local)
	if got := age(early, early.Add(-26*time.Hour)); got != "2 days ago" {
		t.Errorf("26 hours before 01:30 = %q, want 2 days ago (the day before yesterday)", got)
	}
}
