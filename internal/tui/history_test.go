package tui

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/event"
)

// historyStub is a resumed session whose log holds history, and fails
// to read back after it with err.
type historyStub struct {
	stub
	history []event.Event
	err     error
}

func (s historyStub) History() ([]event.Event, error) { return s.history, s.err }

// TestResumeShowsHistory checks that a resumed or forked session shows
// its earlier prompt, answer and tool call, in order, before the notice
// that it goes on; and that a log read back only in part shows what it
// could and says why the rest is missing.
func TestResumeShowsHistory(t *testing.T) {
	history := []event.Event{
		{Type: app.Prompt, Text: "list the files"},
		{Type: event.Thinking, Text: "a listing is needed"},
		{Type: event.Text, Text: "Listing **them**."},
		{Type: event.ToolStart, CallID: "c1", Name: "Bash", Input: json.RawMessage(`{"command":"ls -la"}`)},
		{Type: event.ToolEnd, CallID: "c1", Name: "Bash", Output: "a.txt\n"},
		{Type: event.Text, Text: "There is a.txt."},
	}
	for _, tc := range []struct {
		name  string
		start event.Event
		err   error
		want  []string
	}{
		{"resumed", event.Event{Type: event.SessionStart, SessionID: "s1", Resumed: true}, nil,
			[]string{"› list the files", "∴ Thinking…", "Listing", "Bash ls -la ✓", "There is a.txt.", "Resumed session s1: its conversation goes on here."}},
		{"forked", event.Event{Type: event.SessionStart, SessionID: "s2", ForkedFrom: "s1"}, nil,
			[]string{"› list the files", "Bash ls -la", "Session s2, forked from s1: its conversation goes on here."}},
		{"unreadable", event.Event{Type: event.SessionStart, SessionID: "s1", Resumed: true}, errors.New("read session log x: input/output error"),
			[]string{"› list the files", "There is a.txt.", "Resumed session s1: its earlier messages are not all shown: read session log x: input/output error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newModel(context.Background(), historyStub{history: history, err: tc.err}, newFeed(), Options{})
			m.Update(tea.WindowSizeMsg{Width: 100, Height: 40})
			m.apply([]event.Event{tc.start})
			frame := m.View().Content
			at := 0
			for _, w := range tc.want {
				i := strings.Index(frame[at:], w)
				if i < 0 {
					t.Fatalf("frame lacks %q after byte %d:\n%s", w, at, frame)
				}
				at += i + len(w)
			}
			if strings.Contains(frame, "not shown)") {
				t.Errorf("frame still says the history is not shown:\n%s", frame)
			}
		})
	}
}

// TestFreshSessionReadsNoHistory checks that a session neither resumed
// nor forked does not read its log back.
func TestFreshSessionReadsNoHistory(t *testing.T) {
	m := newModel(context.Background(), historyStub{history: []event.Event{{Type: app.Prompt, Text: "old prompt"}}}, newFeed(), Options{})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 20})
	m.apply([]event.Event{{Type: event.SessionStart, SessionID: "s3"}})
	if frame := m.View().Content; strings.Contains(frame, "old prompt") {
		t.Errorf("a fresh session shows history:\n%s", frame)
	}
}
