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

// TestRereadAfterCompaction: a compaction drops what the reads before it
// showed, so a read of an unchanged file shows its lines again, whether
// the harness or the provider compacted.
func TestRereadAfterCompaction(t *testing.T) {
	for _, native := range []bool{false, true} {
		summary, compaction := `{"expect": {"user_contains": ["about to be compacted"]}, "reply": {"text": `+goodSummary+`}},`, ""
		if native {
			summary, compaction = "", `"compaction": "SUMMARY: f.txt was read", `
		}
		h := newHarness(t, `{"steps": [
		  {"reply": {"tool_calls": [{"name": "Read", "input": {"file_path": "f.txt"}}]}},
		  {"reply": {`+compaction+`"tool_calls": [{"name": "Bash", "input": {"command": "echo two"}}], "usage": {"input_tokens": 8200, "output_tokens": 50}}},
		  `+summary+`
		  {"reply": {"tool_calls": [{"name": "Read", "input": {"file_path": "f.txt"}}]}},
		  {"expect": {"tool_results": [{"call": 0, "contains": ["     1\tone"], "not_contains": ["unchanged"]}]},
		   "reply": {"text": "done"}}]}`)
		h.write("f.txt", "one\n")
		h.cfg.Window = 10_000
		h.cfg.Compaction = CompactionConfig{Native: native}
		if o := h.run(context.Background(), "read it, then again"); o.Kind != event.Success {
			t.Fatalf("native %t: outcome = %v (%v)", native, o.Kind, o.Err)
		}
		h.check()
		if starts, _ := h.compactions(); len(starts) != 1 {
			t.Errorf("native %t: %d compactions", native, len(starts))
		}
	}
}
