package tui

import (
	"testing"

	"github.com/lathe-dev/lathe/internal/event"
)

// TestFeedMerges checks that a burst of deltas reaches the program as one
// event per stream, in order, and that one wake-up carries the burst.
func TestFeedMerges(t *testing.T) {
	f := newFeed()
	for _, e := range []event.Event{
		{Type: event.TextDelta, Text: "a"},
		{Type: event.TextDelta, Text: "b"},
		{Type: event.ToolStart, CallID: "1"},
		{Type: event.CommandOutput, CallID: "1", Text: "x"},
		{Type: event.CommandOutput, CallID: "1", Text: "y"},
		{Type: event.CommandOutput, CallID: "2", Text: "z"},
		{Type: event.TextDelta, Text: "c", AgentID: "sub"},
		{Type: event.TextDelta, Text: "d", AgentID: "sub"},
	} {
		f.add(e)
	}
	if msg := f.wait()(); msg != (feedReady{}) {
		t.Fatalf("wait returned %v", msg)
	}
	batch := f.take()
	want := []struct {
		typ  event.Type
		text string
	}{{event.TextDelta, "ab"}, {event.ToolStart, ""}, {event.CommandOutput, "xy"}, {event.CommandOutput, "z"}, {event.TextDelta, "cd"}}
	if len(batch) != len(want) {
		t.Fatalf("batch of %d events, want %d: %+v", len(batch), len(want), batch)
	}
	for i, w := range want {
		if batch[i].Type != w.typ || batch[i].Text != w.text {
			t.Errorf("event %d = %s %q, want %s %q", i, batch[i].Type, batch[i].Text, w.typ, w.text)
		}
	}
	f.close()
	if msg := f.wait()(); msg != nil {
		t.Errorf("wait on a closed, empty feed returned %v", msg)
	}
}
