package agent

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/tool"
)

// spawner is a tool like Task: a call with {"ro": true} changes nothing,
// and its calls wait until n of them run at once; what each call spent
// comes back in its result.
type spawner struct {
	n       int
	mu      sync.Mutex
	arrived int
	all     chan struct{}
}

func (s *spawner) Def() llm.ToolDef {
	return llm.ToolDef{Name: "Spawn", Description: "test", Schema: json.RawMessage(`{"type":"object"}`)}
}
func (s *spawner) ReadOnly() bool { return false }
func (s *spawner) ReadOnlyCall(input json.RawMessage) bool {
	var in struct{ RO bool }
	return json.Unmarshal(input, &in) == nil && in.RO
}
func (s *spawner) Run(ctx context.Context, _ *tool.Env, _ json.RawMessage) (tool.Result, error) {
	s.mu.Lock()
	s.arrived++
	if s.arrived == s.n {
		close(s.all)
	}
	s.mu.Unlock()
	spend := &tool.Spend{Usage: llm.Usage{Input: 7, Output: 1}, CostUSD: 0.25, CostKnown: true,
		Denied: []event.DeniedCall{{CallID: "child-call", Name: "Bash", Reason: "nobody to ask"}}}
	select {
	case <-s.all:
		return tool.Result{Content: "together", Spend: spend}, nil
	case <-time.After(5 * time.Second):
		return tool.Result{Content: "alone", IsError: true, Spend: spend}, nil
	}
}

// Calls a tool says change nothing (CallReadOnly) run concurrently and
// are decided as reads, so plan mode allows them; its other calls are
// decided as commands. What the calls spent counts in the outcome.
func TestCallReadOnlyAndSpend(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Spawn", "input": {"ro": true}}, {"name": "Spawn", "input": {"ro": true}}, {"name": "Spawn", "input": {"ro": false}}],
	             "usage": {"input_tokens": 100, "output_tokens": 10}}},
	  {"expect": {"tool_results": [{"call": 0, "contains": ["together"]}, {"call": 1, "contains": ["together"]}, {"call": 2, "contains": ["not allowed in plan mode"]}]},
	   "reply": {"text": "ok", "usage": {"input_tokens": 200, "output_tokens": 20}}}]}`)
	h.cfg.Tools = append(h.cfg.Tools, &spawner{n: 2, all: make(chan struct{})})
	h.cfg.Policy = &policy.Policy{Mode: policy.Plan, Workspace: h.dir}
	h.cfg.Cost = func(u llm.Usage) (float64, bool) { return 1, true }
	o := h.run(context.Background(), "go")
	h.check()
	if o.Kind != event.Success {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
	if want := (llm.Usage{Input: 314, Output: 32}); o.Usage != want || o.CostUSD != 2.5 || !o.CostKnown {
		t.Errorf("usage %+v, cost %v (known %t); want %+v, 2.5: the responses' and both calls' spend", o.Usage, o.CostUSD, o.CostKnown, want)
	}
	var children int
	for _, d := range o.Denied {
		if d.CallID == "child-call" {
			children++
		}
	}
	if children != 2 || len(o.Denied) != 3 {
		t.Errorf("denied = %+v, want the plan-mode denial and each call's child's", o.Denied)
	}
}

// spentProbe is a tool that reports what its agent has spent when it
// runs, and spends a quarter itself, as a subagent's call does.
type spentProbe struct {
	a    *Agent
	seen []float64
}

func (p *spentProbe) Def() llm.ToolDef {
	return llm.ToolDef{Name: "Probe", Description: "test", Schema: json.RawMessage(`{"type":"object"}`)}
}
func (p *spentProbe) ReadOnly() bool { return true }
func (p *spentProbe) Run(context.Context, *tool.Env, json.RawMessage) (tool.Result, error) {
	p.seen = append(p.seen, p.a.Spent())
	return tool.Result{Content: "ok", Spend: &tool.Spend{CostUSD: 0.25, CostKnown: true}}, nil
}

// Spent is what the running Send has cost so far, subagents' returned
// spending included, so that a child is given what is left of the
// budget; a new Send starts from nothing.
func TestSpent(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Probe", "input": {}}]}},
	  {"reply": {"tool_calls": [{"name": "Probe", "input": {}}]}},
	  {"reply": {"text": "ok"}},
	  {"reply": {"tool_calls": [{"name": "Probe", "input": {}}]}},
	  {"reply": {"text": "ok"}}]}`)
	probe := &spentProbe{}
	h.cfg.Tools = append(h.cfg.Tools, probe)
	h.cfg.Cost = func(llm.Usage) (float64, bool) { return 1, true }
	a := New(h.cfg)
	probe.a = a
	for _, prompt := range []string{"go", "again"} {
		if o := a.Send(context.Background(), prompt); o.Kind != event.Success {
			t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
		}
	}
	h.check()
	// 1 response; 2 responses and a call's 0.25; then a new Send's 1 response.
	if want := []float64{1, 2.25, 1}; !slices.Equal(probe.seen, want) {
		t.Errorf("Spent during the calls = %v, want %v", probe.seen, want)
	}
	if got := a.Spent(); got != 1.25+1 {
		t.Errorf("Spent after the second Send = %v, want 2.25", got)
	}
}
