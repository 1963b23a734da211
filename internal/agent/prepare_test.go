package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/tool"
)

// boundProbe is a tool that prepares its calls: the call it decodes is
// bound into the Prepared's Run. Its own Run, which would decode the
// input again, must never be called by the agent.
type boundProbe struct{ t *testing.T }

func (boundProbe) Def() llm.ToolDef {
	return llm.ToolDef{Name: "Probe", Description: "test", Schema: json.RawMessage(`{"type":"object"}`)}
}
func (boundProbe) ReadOnly() bool { return false }
func (p boundProbe) Run(context.Context, *tool.Env, json.RawMessage) (tool.Result, error) {
	p.t.Error("the agent ran the call's input again instead of the prepared call")
	return tool.Result{}, errors.New("not prepared")
}
func (boundProbe) Prepare(_ *tool.Env, input json.RawMessage) (tool.Prepared, error) {
	var args struct{ N int }
	if err := json.Unmarshal(input, &args); err != nil {
		return tool.Prepared{}, fmt.Errorf("invalid tool arguments: %v", err)
	}
	return tool.Prepared{
		Access: policy.Call{Kind: policy.Edit, Writes: []string{fmt.Sprintf("/decided/%d", args.N)}},
		Run: func(context.Context) (tool.Result, error) {
			return tool.Result{Content: fmt.Sprintf("ran %d", args.N)}, nil
		},
	}, nil
}

// The policy decides the prepared call and the run step runs that very
// call; a call whose arguments do not decode is neither decided nor run,
// and the model gets the tool's own words for it, even in plan mode,
// where deciding it would have been a denial.
func TestPreparedCallIsWhatRuns(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [
	    {"name": "Probe", "input": {"n": 1}},
	    {"name": "Probe", "input": {"n": "one"}},
	    {"name": "Write", "input": {"file_path": 7, "content": "x"}}]}},
	  {"expect": {"tool_results": [
	    {"call": 0, "contains": ["ran 1"], "is_error": false},
	    {"call": 1, "contains": ["invalid tool arguments"], "is_error": true},
	    {"call": 2, "contains": ["invalid tool arguments", "\"file_path\""], "is_error": true}]},
	   "reply": {"text": "done"}}]}`)
	h.cfg.Tools = append(h.cfg.Tools, boundProbe{t})
	var decided []*policy.Call
	h.cfg.Policy = deciderFunc(func(ctx context.Context, c *policy.Call) policy.Decision {
		decided = append(decided, c)
		if c.Tool == "Probe" {
			return policy.Decision{Verdict: policy.Allow}
		}
		return (&policy.Policy{Mode: policy.Plan, Workspace: h.dir}).Decide(ctx, c)
	})
	o := h.run(t.Context(), "go")
	if o.Kind != event.Success {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
	h.check()
	if len(decided) != 1 || decided[0].Tool != "Probe" || !slices.Equal(decided[0].Writes, []string{"/decided/1"}) {
		t.Errorf("decided %+v, want only the Probe call writing /decided/1", decided)
	}
	if len(o.Denied) != 0 {
		t.Errorf("denied %+v, want none: invalid calls are not decided", o.Denied)
	}
}
