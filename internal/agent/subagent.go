package agent

import (
	"context"
	"encoding/json"

	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/tool"
)

// CallReadOnly is implemented by a tool whose calls differ in whether
// they change anything, such as a Task call, which starts a read-only
// subagent or one that may edit. ReadOnlyCall reports whether the call
// with input changes nothing, so that it may run concurrently with the
// other read-only calls of its response and be decided as a read; a
// tool's ReadOnly must then report false, for the calls that may change
// something. ReadOnlyCall may be called concurrently, and must not block.
type CallReadOnly interface {
	ReadOnlyCall(input json.RawMessage) bool
}

// readOnlyCall reports whether the call of t with input changes nothing.
func readOnlyCall(t tool.Tool, input json.RawMessage) bool {
	if c, ok := t.(CallReadOnly); ok {
		return c.ReadOnlyCall(input)
	}
	return t.ReadOnly()
}

// spend counts what a call's own agents spent (a subagent's) in the
// run: their usage and cost in the run's, their denied calls in its
// denied calls. Calls run concurrently, so it takes emitMu, as deny does.
func (a *Agent) spend(out *Outcome, s *tool.Spend) {
	if s == nil {
		return
	}
	a.emitMu.Lock()
	defer a.emitMu.Unlock()
	out.Usage = out.Usage.Add(s.Usage)
	out.CostUSD += s.CostUSD
	out.CostKnown = out.CostKnown && s.CostKnown
	out.Denied = append(out.Denied, s.Denied...)
	a.spent = out.CostUSD
}

// Spent is what the running Send has cost so far, in USD: its responses
// and what the subagents that have returned spent. It may be called
// from any goroutine.
func (a *Agent) Spent() float64 {
	a.emitMu.Lock()
	defer a.emitMu.Unlock()
	return a.spent
}

// Decide decides call by the policy that decides the agent's own calls
// now, its phase's (plan mode, then the mode an approved plan moves to),
// so that a subagent the agent starts is decided as the agent would be,
// never more widely. It may be called concurrently.
func (a *Agent) Decide(ctx context.Context, call *policy.Call) policy.Decision {
	return a.set.Load().policy.Decide(ctx, call)
}
