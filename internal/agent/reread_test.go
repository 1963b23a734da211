package agent

import (
	"context"
	"testing"

	"github.com/lathe-dev/lathe/internal/event"
)

// TestRereadKnowsTheTurnAndForgetsOnReplace: a read of a file the model
// was shown unchanged says at which turn; once the history is replaced,
// the same read shows the lines again.
func TestRereadKnowsTheTurnAndForgetsOnReplace(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Read", "input": {"file_path": "f.txt"}}]}},
	  {"expect": {"tool_results": [{"call": 0, "contains": ["     1\tone"]}]},
	   "reply": {"tool_calls": [{"name": "Read", "input": {"file_path": "f.txt"}}]}},
	  {"expect": {"tool_results": [{"call": 0, "contains": ["File unchanged since your last read of it at turn 1:"]}]},
	   "reply": {"text": "done"}},
	  {"reply": {"tool_calls": [{"name": "Read", "input": {"file_path": "f.txt"}}]}},
	  {"expect": {"tool_results": [{"call": 0, "contains": ["     1\tone"], "not_contains": ["unchanged"]}]},
	   "reply": {"text": "done"}}]}`)
	h.write("f.txt", "one\n")
	a := New(h.cfg)
	if o := a.Send(context.Background(), "read it twice"); o.Kind != event.Success {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
	if err := a.Replace(context.Background(), a.History()); err != nil {
		t.Fatal(err)
	}
	if o := a.Send(context.Background(), "read it again"); o.Kind != event.Success {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
	h.check()
}
