package agent

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/sandbox"
	"github.com/lathe-dev/lathe/internal/shell"
	"github.com/lathe-dev/lathe/internal/tool"
)

// runCalls runs the tool calls of one response and returns their results
// in call order. Consecutive read-only calls run concurrently; a call that
// may change something runs alone, in order, so the model's sequence of
// edits and commands is what happens. Each result is recorded as soon as
// its batch completes. On cancellation the calls not yet run get an
// "interrupted" result, so the transcript stays a valid conversation.
func (a *Agent) runCalls(ctx context.Context, calls []llm.Part, out *Outcome) ([]llm.Part, error) {
	results := make([]llm.Part, len(calls))
	for start := 0; start < len(calls); {
		end := start + 1
		if a.readOnly(calls[start]) {
			for end < len(calls) && a.readOnly(calls[end]) {
				end++
			}
		}
		var wg sync.WaitGroup
		errs := make([]error, end-start)
		for i := start; i < end; i++ {
			wg.Go(func() {
				results[i], errs[i-start] = a.runCall(ctx, calls[i], out)
			})
		}
		wg.Wait()
		if end == len(calls) {
			a.addContextStatus(results)
		}
		for i := start; i < end; i++ {
			if err := a.cfg.Recorder.AppendToolResult(results[i]); err != nil {
				return results[:i], fmt.Errorf("record tool result: %w", err)
			}
		}
		for _, err := range errs {
			if err != nil {
				return a.interruptRest(ctx, results, end, calls)
			}
		}
		start = end
	}
	return results, nil
}

// interruptRest fills in and records results for the calls from i on,
// which were never run, and reports the interruption.
func (a *Agent) interruptRest(ctx context.Context, results []llm.Part, i int, calls []llm.Part) ([]llm.Part, error) {
	msg := "Interrupted by " + interrupter(ctx) + " before this call ran."
	for ; i < len(calls); i++ {
		a.emit(event.Event{Type: event.ToolStart, CallID: calls[i].CallID, Name: calls[i].Name, Input: calls[i].Input})
		a.emit(event.Event{Type: event.ToolEnd, CallID: calls[i].CallID, Name: calls[i].Name, Output: msg, IsError: true, Summary: "interrupted"})
		results[i] = resultPart(calls[i], msg, true)
		if err := a.cfg.Recorder.AppendToolResult(results[i]); err != nil {
			return results[:i], fmt.Errorf("record tool result: %w", err)
		}
	}
	return results, context.Canceled
}

func (a *Agent) readOnly(call llm.Part) bool {
	t, ok := a.set.Load().byName[call.Name]
	return ok && readOnlyCall(t, call.Input)
}

// runCall decides and runs one call. The error is non-nil only when the
// run was cancelled; the result then says the call was interrupted.
func (a *Agent) runCall(ctx context.Context, call llm.Part, out *Outcome) (llm.Part, error) {
	res, _ := a.bracket(ctx, call, false, func() (tool.Result, bool) {
		res, denied := a.execute(ctx, call, out)
		if res.Plan != "" && !res.IsError {
			a.notePlan(call.CallID, res.Plan)
		}
		a.spend(out, res.Spend)
		return res, denied
	})
	return resultPart(call, res.Content, res.IsError), ctx.Err()
}

// bracket runs a call with exec between its tool.start and its tool.end,
// and returns its result capped for the model; byUser marks a command the
// user ran. denied is exec's: the call was not allowed to run.
func (a *Agent) bracket(ctx context.Context, call llm.Part, byUser bool, exec func() (tool.Result, bool)) (res tool.Result, denied bool) {
	start := time.Now()
	a.emit(event.Event{Type: event.ToolStart, CallID: call.CallID, Name: call.Name, Input: call.Input, ByUser: byUser})
	res, denied = exec()
	// A call interrupted before it ran already says so.
	if ctx.Err() != nil && !denied && res.Summary != "interrupted" {
		res = tool.Result{Content: "Interrupted by " + interrupter(ctx) + "; the command was stopped.", IsError: true, Summary: "interrupted"}
	}
	res = a.cfg.Env.Cap(res)
	a.emit(event.Event{
		Type: event.ToolEnd, CallID: call.CallID, Name: call.Name,
		Output: res.Content, IsError: res.IsError, Denied: denied, Summary: res.Summary,
		DurationMS: time.Since(start).Milliseconds(), ExitCode: res.ExitCode, Changes: res.Changes,
		SavedOutput: res.Saved, ByUser: byUser,
	})
	return res, denied
}

// execute takes one call through the steps of the tool-call pipeline:
//
//	prepare → decide → approve → run → (record, in runCalls)
//
// Failures of any kind become results the model can act on; denied
// reports a call that was not allowed to run. The later issues fill these
// named places between the steps:
//
//   - hooks (before decide, after run): user commands that may veto a
//     prepared call or react to its result;
//   - checkpoint (before run, for a call that may change the workspace):
//     a snapshot of the workspace to rewind to (see [Checkpointer]);
//   - audit (after decide and after approve): the decision event, which
//     says who decided — rule and file, mode, person — and which the audit
//     log records (internal/audit).
func (a *Agent) execute(ctx context.Context, call llm.Part, out *Outcome) (res tool.Result, denied bool) {
	p, failed, ok := a.prepare(call)
	if !ok {
		return failed, false
	}
	d, grantedBy, granted := a.decide(ctx, p)
	verdict := decision(call, p, d)
	if granted {
		verdict.DecidedBy, verdict.GrantedBy = event.BySession, grantedBy
	}
	if d.Verdict != policy.Allow {
		ans, err := a.approve(ctx, call, p, d)
		if d.Verdict == policy.Ask {
			verdict.DecidedBy, verdict.Approval, verdict.Message = event.ByPerson, answerEvent(ans.Grant), ans.Message
			if _, nobody := a.approver().(headless); nobody || err != nil {
				verdict.DecidedBy, verdict.Approval = event.ByNobody, ""
			}
			if err != nil {
				verdict.Message = err.Error()
			}
		}
		if err != nil && ctx.Err() != nil {
			verdict.Verdict, verdict.Message = event.Denied, "interrupted while the call waited for approval"
			a.emit(verdict)
			return tool.Result{Content: "Interrupted by " + interrupter(ctx) + " while the call waited for approval.", IsError: true, Summary: "interrupted"}, false
		}
		if ans.Grant == No {
			verdict.Verdict = event.Denied
			a.emit(verdict)
			return a.deny(call, d, ans, err, out), true
		}
	}
	verdict.Verdict = event.Allowed
	a.emit(verdict)
	if !a.checkpoint(ctx, call, p) {
		return tool.Result{Content: "Interrupted by " + interrupter(ctx) + " before this call ran.", IsError: true, Summary: "interrupted"}, false
	}
	return a.run(ctx, call, p, d), false
}

// decide is the policy's decision on a prepared call, with the session's
// grants applied: a call granted for the session is allowed, and granted
// says so, grantedBy naming the call whose approval granted it.
func (a *Agent) decide(ctx context.Context, p *prepared) (d policy.Decision, grantedBy string, granted bool) {
	d = a.set.Load().policy.Decide(ctx, &p.access)
	if d.Verdict == policy.Ask {
		if grantedBy, granted = a.grants.granted(&p.access); granted {
			d.Verdict = policy.Allow
		}
	}
	return d, grantedBy, granted
}

// decision is the decision event of a prepared call decided by d: by its
// rule if it names one, else by the mode.
func decision(call llm.Part, p *prepared, d policy.Decision) event.Event {
	e := event.Event{Type: event.Decision, CallID: call.CallID, Name: call.Name, DecidedBy: event.ByMode,
		Rule: d.Rule, RuleSource: d.Source, Reason: d.Reason, Kind: kindName(p.access.Kind)}
	if d.Rule != "" {
		e.DecidedBy = event.ByRule
	}
	if p.access.Kind == policy.Edit {
		e.Writes = p.access.Writes
	}
	return e
}

// kindName names a call's kind as decision events do.
func kindName(k policy.Kind) string {
	switch k {
	case policy.Read:
		return "read"
	case policy.Edit:
		return "edit"
	case policy.Fetch:
		return "fetch"
	}
	return "exec"
}

// approve asks the approver about a call the policy would have a person
// approve; a call the policy denies is not asked about. A grant for the
// session is remembered.
func (a *Agent) approve(ctx context.Context, call llm.Part, p *prepared, d policy.Decision) (Answer, error) {
	if d.Verdict != policy.Ask {
		return Answer{Grant: No}, nil
	}
	approver := a.approver()
	_, nobody := approver.(headless)
	if !nobody {
		a.emit(event.Event{Type: event.ApprovalRequested, CallID: call.CallID, Name: call.Name, Input: call.Input, Reason: d.Reason})
	}
	ans, err := approver.Approve(ctx, &Approval{CallID: call.CallID, Name: call.Name, Input: call.Input, Call: &p.access, Decision: d})
	if err != nil {
		ans = Answer{Grant: No}
	}
	if !nobody {
		a.emit(event.Event{Type: event.ApprovalResolved, CallID: call.CallID, Name: call.Name, Approval: answerEvent(ans.Grant), Message: ans.Message})
	}
	if err != nil {
		return ans, err
	}
	if ans.Grant == Session || ans.Grant == Always {
		a.grants.remember(&p.access, call.CallID)
	}
	return ans, nil
}

// approver is who is asked about calls the policy would have a person
// approve.
func (a *Agent) approver() Approver {
	if a.cfg.Approver == nil {
		return Headless
	}
	return a.cfg.Approver
}

// deny lists a call that may not run in the outcome and words the refusal
// for the model.
func (a *Agent) deny(call llm.Part, d policy.Decision, ans Answer, err error, out *Outcome) tool.Result {
	a.emitMu.Lock()
	out.Denied = append(out.Denied, event.DeniedCall{CallID: call.CallID, Name: call.Name, Input: call.Input, Reason: d.Reason})
	a.emitMu.Unlock()
	msg := "Permission denied: " + d.Reason + "."
	if err != nil {
		msg += fmt.Sprintf(" Asking for approval failed: %v.", err)
	}
	if ans.Message != "" {
		msg += " " + ans.Message
	}
	msg += " Do not retry this call; continue without it, or finish and explain what you need."
	return tool.Result{Content: msg, IsError: true, Summary: "denied"}
}

// run runs the prepared call: the tool, arguments and paths that were
// decided, its processes under the profile the decision gave, their
// output streamed as the call's command.output events until it returns.
func (a *Agent) run(ctx context.Context, call llm.Part, p *prepared, d policy.Decision) tool.Result {
	live := a.newLiveOutput(call.CallID)
	res, err := p.run(tool.WithTurn(shell.WithOutput(sandbox.WithProfile(ctx, d.Profile), live.write), a.cfg.SessionID, a.currentTurn()))
	live.close()
	if err != nil {
		// The harness failed, not the call: tell the model plainly so it
		// can choose another way, and keep the cause for the log.
		return tool.Result{Content: fmt.Sprintf("Internal error running %s: %v", call.Name, err), IsError: true, Summary: "internal error"}
	}
	return res
}

func resultPart(call llm.Part, content string, isError bool) llm.Part {
	return llm.Part{Kind: llm.PartToolResult, CallID: call.CallID, Name: call.Name, Text: content, IsError: isError, Freeform: call.Freeform}
}

// currentTurn is the turn the calls running now belong to.
func (a *Agent) currentTurn() int {
	a.emitMu.Lock()
	defer a.emitMu.Unlock()
	return a.turn
}
