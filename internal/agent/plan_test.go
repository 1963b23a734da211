package agent

import (
	"context"
	"slices"
	"testing"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/tool"
)

// TestPlanEndsTheRun: in plan mode without a next phase, the plan the
// model submits is the answer, once the response's other calls have run,
// and no further request is made.
func TestPlanEndsTheRun(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"expect": {"tools": ["Read", "ExitPlanMode"]},
	   "reply": {"tool_calls": [
	    {"name": "ExitPlanMode", "input": {"plan": "1. Split a.go"}},
	    {"name": "Read", "input": {"file_path": "a.go"}}]}}]}`)
	h.write("a.go", "package a\n")
	h.cfg.Tools = tool.PlanSet(tool.DialectClaude, "")
	h.cfg.Policy = &policy.Policy{Mode: policy.Plan, Workspace: h.dir}
	o := h.run(context.Background(), "plan it")
	h.check()
	if o.Kind != event.Success || o.Answer != "1. Split a.go" || o.Err != nil {
		t.Fatalf("outcome = %v %q (%v)", o.Kind, o.Answer, o.Err)
	}
	var sub []event.Event
	for _, e := range h.events {
		if e.Type == event.PlanSubmitted {
			sub = append(sub, e)
		}
	}
	if len(sub) != 1 || sub[0].Text != "1. Split a.go" || sub[0].Name != "ExitPlanMode" || sub[0].PermissionMode != "" || sub[0].Turn != 1 {
		t.Errorf("plan.submitted events = %+v", sub)
	}
	// The transcript answers every call, the plan's included.
	tr := h.transcript()
	if n := len(tr.Messages); n != 3 || len(tr.Messages[2].Parts) != 2 {
		t.Fatalf("transcript has %d messages: %+v", n, tr.Messages)
	}
}

// TestPlanThenExecutes: with a next phase, an accepted plan switches the
// run to that phase's tools and policy from the next request on, and a
// rejected plan switches nothing.
func TestPlanThenExecutes(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "ExitPlanMode", "input": {"plan": "  "}}]}},
	  {"expect": {"tool_results": [{"call": 0, "is_error": true, "contains": ["plan is empty"]}]},
	   "reply": {"tool_calls": [{"name": "Write", "input": {"file_path": "x", "content": "too soon"}}]}},
	  {"expect": {"tool_results": [{"call": 0, "is_error": true, "contains": ["Unknown tool \"Write\""]}]},
	   "reply": {"tool_calls": [{"name": "ExitPlanMode", "input": {"plan": "1. Write x"}}]}},
	  {"expect": {"tools": ["Write", "Edit"], "tool_results": [{"call": 0, "is_error": false, "contains": ["approved", "acceptEdits"]}]},
	   "reply": {"tool_calls": [{"name": "Write", "input": {"file_path": "x", "content": "done"}}]}},
	  {"expect": {"tool_results": [{"call": 0, "is_error": false}]}, "reply": {"text": "Carried out."}}]}`)
	h.cfg.Tools = tool.PlanSet(tool.DialectClaude, "acceptEdits")
	h.cfg.Policy = &policy.Policy{Mode: policy.Plan, Workspace: h.dir}
	h.cfg.Execute = &Phase{Mode: "acceptEdits", Tools: tool.Set(tool.DialectClaude, false), Policy: &policy.Policy{Mode: policy.AcceptEdits, Workspace: h.dir}}
	a := New(h.cfg)
	o := a.Send(context.Background(), "plan it, then do it")
	h.check()
	if o.Kind != event.Success || o.Answer != "Carried out." {
		t.Fatalf("outcome = %v %q (%v)", o.Kind, o.Answer, o.Err)
	}
	if got := h.read("x"); got != "done" {
		t.Errorf("x = %q", got)
	}
	if names := a.ToolNames(); slices.Contains(names, "ExitPlanMode") || !slices.Contains(names, "Write") {
		t.Errorf("tools after the plan: %v", names)
	}
	for _, e := range h.events {
		if e.Type == event.PlanSubmitted && (e.PermissionMode != "acceptEdits" || e.Text != "1. Write x") {
			t.Errorf("plan.submitted = %+v", e)
		}
	}
}
