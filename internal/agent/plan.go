package agent

import (
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/tool"
)

// Phase is what a plan-mode run continues with once the model submits its
// plan and the user has approved it beforehand (--then MODE): the tools
// and the policy of that mode.
type Phase struct {
	// Mode names the permission mode, for the plan.submitted event.
	Mode   string
	Tools  []tool.Tool
	Policy Decider
}

// toolset is the tools offered to the model and the policy that decides
// their calls. It is fixed for the length of a response's calls and
// replaced whole, between responses, when an approved plan moves the run
// into its next phase.
type toolset struct {
	byName map[string]tool.Tool
	defs   []llm.ToolDef
	policy Decider
}

func newToolset(tools []tool.Tool, policy Decider) *toolset {
	s := &toolset{byName: make(map[string]tool.Tool, len(tools)), policy: policy}
	for _, t := range tools {
		d := t.Def()
		s.byName[d.Name] = t
		s.defs = append(s.defs, d)
	}
	return s
}

// notePlan keeps the plan a call submitted, for planned. Calls of one
// response may run concurrently, so which one counts is decided there, in
// call order.
func (a *Agent) notePlan(callID, plan string) {
	a.emitMu.Lock()
	defer a.emitMu.Unlock()
	if a.plans == nil {
		a.plans = make(map[string]string)
	}
	a.plans[callID] = plan
}

// planned acts on the plan the last of calls to submit one submitted, once
// all of them are done: it is the run's answer, and planned reports that
// the run ends, unless Config.Execute says what comes next, which it
// switches to. The model sees the new tools from its next request on.
func (a *Agent) planned(calls []llm.Part, out *Outcome) bool {
	a.emitMu.Lock()
	plans := a.plans
	a.plans = nil
	a.emitMu.Unlock()
	var call llm.Part
	plan := ""
	for _, c := range calls {
		if p, ok := plans[c.CallID]; ok {
			call, plan = c, p
		}
	}
	if plan == "" {
		return false
	}
	next := a.cfg.Execute
	e := event.Event{Type: event.PlanSubmitted, CallID: call.CallID, Name: call.Name, Text: plan}
	if next == nil {
		a.emit(e)
		out.Kind, out.Answer = event.Success, plan
		return true
	}
	e.PermissionMode = next.Mode
	a.emit(e)
	a.set.Store(newToolset(next.Tools, next.Policy))
	a.cfg.Execute = nil
	return false
}
