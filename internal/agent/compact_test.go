package agent

import (
	"context"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/compact"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
)

// A summary in the sections the prompt asks for, as a JSON string.
const goodSummary = `"## Goal\nfix the parser\n## Done\n- read it\n## In progress\nediting\n## Next action\nrun the tests\n## Decisions and failed approaches\n-\n## Open questions\n-"`

// compactions returns the compaction events the run emitted.
func (h *harness) compactions() (starts, ends []event.Event) {
	for _, e := range h.events {
		switch e.Type {
		case event.CompactionStart:
			starts = append(starts, e)
		case event.CompactionEnd:
			ends = append(ends, e)
		}
	}
	return starts, ends
}

// At the trigger the agent asks for a summary in a fork of the request
// it was about to send, and sends the ledger, the summary and the last
// step instead; the transcript resumes from the boundary.
func TestCompactionAtTheTrigger(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo one"}}], "usage": {"input_tokens": 8200, "output_tokens": 50}}},
	  {"expect": {"extends_previous": true, "user_contains": ["about to be compacted", "## Next action", "<request n=1>\nfix the parser; do not touch main.go\n</request>"],
	              "tool_results": [{"call": 0, "contains": ["one"]}]},
	   "reply": {"text": `+goodSummary+`}},
	  {"expect": {"user_contains": ["[This session was compacted", "run the tests", "fix the parser; do not touch main.go", "- passed: `+"`echo one`"+`"]},
	   "reply": {"text": "done", "usage": {"input_tokens": 900, "output_tokens": 5}}}]}`)
	h.cfg.Window = 10_000
	o := h.run(context.Background(), "fix the parser; do not touch main.go")
	if o.Kind != event.Success || o.Answer != "done" {
		t.Fatalf("outcome = %v %q (%v)", o.Kind, o.Answer, o.Err)
	}
	h.check()
	if o.Turns != 2 {
		t.Errorf("turns = %d; the summary is no turn", o.Turns)
	}
	starts, ends := h.compactions()
	if len(starts) != 1 || len(ends) != 1 {
		t.Fatalf("compaction events: %d starts, %d ends", len(starts), len(ends))
	}
	if starts[0].Reason != compact.Auto || starts[0].TokensBefore < 8250 || ends[0].TokensAfter >= ends[0].TokensBefore || ends[0].LedgerOnly {
		t.Errorf("compaction events = %+v, %+v", starts[0], ends[0])
	}

	tr := h.transcript()
	if tr.Compactions != 1 || tr.Covered != 3 || len(tr.Messages) != 4 {
		t.Fatalf("transcript: %d compactions, covered %d, %d messages", tr.Compactions, tr.Covered, len(tr.Messages))
	}
	if first := tr.Messages[0].Text(); !strings.HasPrefix(first, compact.Header) || !strings.Contains(first, "run the tests") {
		t.Errorf("first message = %q", first)
	}
	if tr.Messages[3].Text() != "done" {
		t.Errorf("last message = %+v", tr.Messages[3])
	}
	if got := tr.Ledger.Requests; len(got) != 1 || got[0] != "fix the parser; do not touch main.go" {
		t.Errorf("ledger requests = %q", got)
	}
	if got := tr.Ledger.Constraints; len(got) != 1 {
		t.Errorf("ledger constraints = %q", got)
	}
	// The summary request's usage is the run's too.
	if o.Usage.TotalInput() <= 8200+900 || tr.Usage.TotalInput() != o.Usage.TotalInput() {
		t.Errorf("usage = %+v", o.Usage)
	}
}

// A model that calls a tool instead of summarising is asked once more;
// a second reply that is no summary leaves the ledger alone, and the
// original request is still there.
func TestCompactionFallsBackToTheLedger(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo one"}}], "usage": {"input_tokens": 8200, "output_tokens": 50}}},
	  {"expect": {"user_contains": ["about to be compacted"]}, "reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo sneaky"}}]}},
	  {"expect": {"new_conversation": true, "user_contains": ["previous reply was not a summary"]}, "reply": {"text": "I will keep going."}},
	  {"expect": {"user_contains": ["No summary could be made", "THE ORIGINAL TASK"]}, "reply": {"text": "done", "usage": {"input_tokens": 900, "output_tokens": 5}}}]}`)
	h.cfg.Window = 10_000
	o := h.run(context.Background(), "THE ORIGINAL TASK")
	if o.Kind != event.Success {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
	h.check()
	_, ends := h.compactions()
	if len(ends) != 1 || !ends[0].LedgerOnly || !strings.Contains(ends[0].Error, "not a summary") {
		t.Errorf("compaction.end = %+v", ends)
	}
}

// A provider's "too long" compacts and sends the request once more,
// even with no window known; a second one ends the run at the limit.
func TestReactiveCompaction(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo one"}}]}},
	  {"fault": {"context_window": true}},
	  {"expect": {"user_contains": ["about to be compacted"]}, "reply": {"text": `+goodSummary+`}},
	  {"expect": {"user_contains": ["[This session was compacted"]}, "reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo two"}}]}},
	  {"fault": {"context_window": true}},
	  {"expect": {"user_contains": ["about to be compacted"]}, "reply": {"text": `+goodSummary+`}},
	  {"fault": {"context_window": true}}]}`)
	o := h.run(context.Background(), "go")
	h.check()
	if o.Kind != event.ContextWindow {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
	starts, _ := h.compactions()
	if len(starts) != 2 || starts[0].Reason != compact.Reactive {
		t.Errorf("compaction.start = %+v", starts)
	}
}

// The circuit breaker: a context that refills to the trigger within one
// step of compacting stops the run at the limit.
func TestCompactionRefillStops(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo one"}}], "usage": {"input_tokens": 8200, "output_tokens": 50}}},
	  {"reply": {"text": `+goodSummary+`}},
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo two"}}], "usage": {"input_tokens": 8300, "output_tokens": 50}}}]}`)
	h.cfg.Window = 10_000
	o := h.run(context.Background(), "go")
	h.check()
	if o.Kind != event.ContextWindow || !strings.Contains(o.Err.Error(), "refilled") {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
}

// The circuit breaker: three compactions in a row without a summary
// stop the run at the limit.
func TestCompactionFailuresStop(t *testing.T) {
	big := `{"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo big"}}], "usage": {"input_tokens": 8200, "output_tokens": 50}}}`
	small := `{"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo small"}}], "usage": {"input_tokens": 1000, "output_tokens": 50}}}`
	bad := `{"reply": {"text": "no"}}`
	h := newHarness(t, `{"steps": [`+strings.Join([]string{big, bad, bad, small, big, bad, bad, small, big, bad, bad}, ",")+`]}`)
	h.cfg.Window = 10_000
	o := h.run(context.Background(), "go")
	h.check()
	if o.Kind != event.ContextWindow || !strings.Contains(o.Err.Error(), "3 compactions in a row") {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
	if _, ends := h.compactions(); len(ends) != 3 {
		t.Errorf("%d compactions", len(ends))
	}
}

// A resumed compacted session keeps its ledger: the request compacted
// away is in the next compaction's ledger, and a manual compaction
// passes the user's focus on.
func TestCompactionLedgerAcrossResume(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Write", "input": {"file_path": "a.txt", "content": "x"}}], "usage": {"input_tokens": 8200, "output_tokens": 50}}},
	  {"reply": {"text": `+goodSummary+`}},
	  {"reply": {"text": "first done", "usage": {"input_tokens": 900, "output_tokens": 5}}},
	  {"expect": {"extends_previous": true, "user_contains": ["FIRST TASK", "SECOND TASK", "- a.txt", "keep in particular: the parser"]}, "reply": {"text": `+goodSummary+`}}]}`)
	h.cfg.Window = 10_000
	if o := h.run(context.Background(), "FIRST TASK"); o.Kind != event.Success {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
	h.log.Close()
	log, tr, err := h.store.Open(h.log.ID())
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	h.cfg.Recorder = log
	h.cfg.History = llm.NewHistory(append(tr.Messages, llm.Message{Role: llm.RoleUser, Parts: []llm.Part{{Kind: llm.PartText, Text: "SECOND TASK"}}})...)
	h.cfg.Compaction = CompactionConfig{Ledger: tr.Ledger, Covered: tr.Covered}
	o := New(h.cfg).Compact(context.Background(), "the parser")
	if o.Kind != event.Success {
		t.Fatalf("compact outcome = %v (%v)", o.Kind, o.Err)
	}
	h.check()
	starts, _ := h.compactions()
	if len(starts) != 2 || starts[1].Reason != compact.Manual {
		t.Errorf("compaction.start = %+v", starts)
	}
}

// With automatic compaction off the trigger compacts nothing, but a
// provider's "too long" still does.
func TestCompactionOff(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo one"}}], "usage": {"input_tokens": 9000, "output_tokens": 50}}},
	  {"fault": {"context_window": true}},
	  {"expect": {"user_contains": ["about to be compacted"]}, "reply": {"text": `+goodSummary+`}},
	  {"reply": {"text": "done", "usage": {"input_tokens": 900, "output_tokens": 5}}}]}`)
	h.cfg.Window = 10_000
	h.cfg.Compaction.Off = true
	o := h.run(context.Background(), "go")
	h.check()
	if o.Kind != event.Success {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
	if starts, _ := h.compactions(); len(starts) != 1 || starts[0].Reason != compact.Reactive {
		t.Errorf("compaction.start = %+v", starts)
	}
}
