package agent

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/lathe-dev/lathe/internal/compact"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
)

// warnings returns the warning events the run emitted.
func (h *harness) warnings() []event.Event {
	var out []event.Event
	for _, e := range h.events {
		if e.Type == event.Warning {
			out = append(out, e)
		}
	}
	return out
}

// A response that opens with the provider's compaction ends the
// conversation before it: the history becomes that response and what
// follows, recorded as a native boundary whose ledger still holds the
// original request, and the block goes back first, unchanged.
func TestNativeCompactionReplacesTheHistory(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"expect": {"native_compaction": true}, "reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo one"}}]}},
	  {"expect": {"native_compaction": true}, "reply": {"compaction": "SUMMARY: one ran", "tool_calls": [{"name": "Bash", "input": {"command": "echo two"}}],
	   "usage": {"input_tokens": 700, "output_tokens": 30}}},
	  {"expect": {"native_compaction": true, "compacted": "SUMMARY: one ran", "tool_results": [{"call": 0, "contains": ["two"]}]}, "reply": {"text": "done"}}]}`)
	h.cfg.Window = 200_000
	h.cfg.Compaction = CompactionConfig{Budget: 60_000, Native: true}
	a := New(h.cfg)
	o := a.Send(context.Background(), "fix the parser")
	if o.Kind != event.Success || o.Answer != "done" {
		t.Fatalf("outcome = %v %q (%v)", o.Kind, o.Answer, o.Err)
	}
	h.check()
	starts, ends := h.compactions()
	if len(starts) != 1 || len(ends) != 1 || starts[0].Reason != compact.Native || ends[0].TokensAfter != 730 {
		t.Fatalf("compaction events = %+v, %+v", starts, ends)
	}
	if msgs := a.History().Messages(); len(msgs) != 3 || !compact.IsNative(msgs[0]) {
		t.Fatalf("history after native compaction = %+v", msgs)
	}
	if len(h.warnings()) != 0 {
		t.Errorf("warnings = %+v", h.warnings())
	}
	// What the compaction cost, which the API counts apart, comes as a
	// usage event between its events and adds to the run's usage.
	var between []llm.Usage
	in := false
	for _, e := range h.events {
		switch e.Type {
		case event.CompactionStart:
			in = true
		case event.CompactionEnd:
			in = false
		case event.Usage:
			if in {
				between = append(between, *e.Usage)
			}
		}
	}
	if len(between) != 1 || between[0].Input == 0 || between[0].Output == 0 {
		t.Errorf("usage events of the compaction = %+v", between)
	}
	var turns llm.Usage
	for _, e := range h.events {
		if e.Type == event.Usage {
			turns = turns.Add(*e.Usage)
		}
	}
	if o.Usage != turns || o.Usage.Input <= 700 {
		t.Errorf("outcome usage %+v, usage events add up to %+v", o.Usage, turns)
	}
	reqs := h.server.Requests()
	if len(reqs) != 3 || reqs[0].Header.Get("anthropic-beta") != "compact-2026-01-12" {
		t.Errorf("requests %d, beta header %q", len(reqs), reqs[0].Header.Values("anthropic-beta"))
	}

	tr := h.transcript()
	if tr.Compactions != 1 || len(tr.Messages) != 3 || !compact.IsNative(tr.Messages[0]) {
		t.Fatalf("transcript: %d compactions, %d messages: %+v", tr.Compactions, len(tr.Messages), tr.Messages)
	}
	p := tr.Messages[0].Parts[0]
	if p.Kind != llm.PartCompaction || p.Text != "SUMMARY: one ran" || p.Origin != "anthropic" || len(p.Opaque) == 0 {
		t.Errorf("compaction part = %+v", p)
	}
	if got := tr.Ledger.Requests; len(got) != 1 || got[0] != "fix the parser" {
		t.Errorf("ledger requests = %q", got)
	}
}

// A 400 to a request that asks for native compaction sends it again at
// once without, says so once, and no later request asks again; the
// history is as if nothing had happened.
func TestNativeCompactionFallsBackOnRejection(t *testing.T) {
	for _, status := range []int{400, 404} {
		h := newHarness(t, `{"steps": [
		  {"expect": {"native_compaction": true}, "fault": {"status": `+strconv.Itoa(status)+`}},
		  {"expect": {"native_compaction": false}, "reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo one"}}]}},
		  {"expect": {"native_compaction": false, "tool_results": [{"call": 0, "contains": ["one"]}]}, "reply": {"text": "done"}}]}`)
		h.cfg.Window = 200_000
		h.cfg.Compaction = CompactionConfig{Budget: 60_000, Native: true}
		o := h.run(context.Background(), "fix the parser")
		if o.Kind != event.Success || o.Turns != 2 {
			t.Fatalf("%d: outcome = %v, %d turns (%v)", status, o.Kind, o.Turns, o.Err)
		}
		h.check()
		if w := h.warnings(); len(w) != 1 || w[0].Error == "" {
			t.Errorf("%d: warnings = %+v", status, w)
		}
	}
}

// Other errors are no rejection of native compaction: a 429 is retried
// by the retrying provider, and a "too long" answer compacts locally.
func TestNativeCompactionKeepsOtherErrors(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"expect": {"native_compaction": true}, "fault": {"status": 401}}]}`)
	h.cfg.Window = 200_000
	h.cfg.Compaction = CompactionConfig{Budget: 60_000, Native: true}
	o := h.run(context.Background(), "fix the parser")
	if o.Kind != event.ProviderError || len(h.warnings()) != 0 {
		t.Fatalf("outcome = %v (%v), warnings %+v", o.Kind, o.Err, h.warnings())
	}
	h.check()
}

// With native compaction on, the harness leaves the trigger to the
// provider and compacts by itself only near the limit; once the provider
// rejected it, at its own trigger again.
func TestNativeCompactionLeavesTheTrigger(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo one"}}], "usage": {"input_tokens": 8200, "output_tokens": 50}}},
	  {"expect": {"native_compaction": true}, "reply": {"text": "done"}}]}`)
	h.cfg.Window = 20_000
	h.cfg.Compaction = CompactionConfig{Budget: 8_000, Native: true}
	o := h.run(context.Background(), "fix the parser")
	if o.Kind != event.Success {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
	h.check()
	if starts, _ := h.compactions(); len(starts) != 0 {
		t.Errorf("the harness compacted under the limit: %+v", starts)
	}

	h = newHarness(t, `{"steps": [
	  {"expect": {"native_compaction": true}, "fault": {"status": 400}},
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo one"}}], "usage": {"input_tokens": 8200, "output_tokens": 50}}},
	  {"expect": {"native_compaction": false, "user_contains": ["about to be compacted"]}, "reply": {"text": `+goodSummary+`}},
	  {"expect": {"native_compaction": false, "user_contains": ["[This session was compacted"]}, "reply": {"text": "done"}}]}`)
	h.cfg.Window = 20_000
	h.cfg.Compaction = CompactionConfig{Budget: 8_000, Native: true}
	if o := h.run(context.Background(), "fix the parser"); o.Kind != event.Success {
		t.Fatalf("outcome after the fallback = %v (%v)", o.Kind, o.Err)
	}
	h.check()
	if starts, _ := h.compactions(); len(starts) != 1 || starts[0].Reason != compact.Auto {
		t.Errorf("compactions after the fallback = %+v", starts)
	}
}

// The agents of a session share the provider's refusal: once one was
// refused, another (a subagent) asks no more, and says nothing.
func TestNativeCompactionRefusalIsShared(t *testing.T) {
	var refused atomic.Bool
	parent := newHarness(t, `{"steps": [
	  {"expect": {"native_compaction": true}, "fault": {"status": 400}},
	  {"expect": {"native_compaction": false}, "reply": {"text": "done"}}]}`)
	parent.cfg.Compaction = CompactionConfig{Budget: 60_000, Native: true, NativeRejected: &refused}
	if o := parent.run(context.Background(), "fix the parser"); o.Kind != event.Success || len(parent.warnings()) != 1 {
		t.Fatalf("parent: outcome %v (%v), warnings %+v", o.Kind, o.Err, parent.warnings())
	}
	parent.check()
	child := newHarness(t, `{"steps": [
	  {"expect": {"native_compaction": false}, "reply": {"text": "found it"}}]}`)
	child.cfg.Compaction = CompactionConfig{Budget: 60_000, Native: true, NativeRejected: &refused}
	if o := child.run(context.Background(), "find the parser"); o.Kind != event.Success || len(child.warnings()) != 0 {
		t.Fatalf("child: outcome %v (%v), warnings %+v", o.Kind, o.Err, child.warnings())
	}
	child.check()
}
