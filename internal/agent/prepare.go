package agent

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/tool"
)

// Preparer is implemented by tools that decode a call's arguments before
// it runs and can tell from them what it would read, write or run, or
// that it stands for another tool's call. A non-nil error says the
// arguments are invalid, in words for the model; such a call is neither
// decided nor run. Prepare must not change anything or block on anything
// but the file system (it resolves symbolic links), and may be called
// concurrently. A tool that is not a Preparer is decided as a Read when it
// is read-only and as an Exec otherwise, and runs on the call's input.
type Preparer interface {
	Prepare(env *tool.Env, input json.RawMessage) (tool.Prepared, error)
}

// prepared is one call, prepared: what the policy decides on and, bound
// to the same decoded arguments and resolved paths, what then runs.
type prepared struct {
	access policy.Call
	run    func(ctx context.Context) (tool.Result, error)
}

// Check prepares and decides a call of the named tool with input as the
// pipeline does before it asks anyone or runs anything, session grants
// included, for `lathe permissions check`. It runs nothing. The error
// says, in words for the model, why the call could not be prepared.
func (a *Agent) Check(ctx context.Context, name string, input json.RawMessage) (policy.Call, policy.Decision, error) {
	p, failed, ok := a.prepare(llm.Part{Kind: llm.PartToolCall, Name: name, Input: input})
	if !ok {
		return policy.Call{}, policy.Decision{}, errors.New(failed.Content)
	}
	d, _, _ := a.decide(ctx, p)
	return p.access, d, nil
}

// prepare is the first step of a call: it finds the tool, decodes the
// arguments, works out what the call touches and parses its command. A
// call that cannot be prepared (malformed, for an unknown tool, or with
// invalid arguments) gets the result failed.
func (a *Agent) prepare(call llm.Part) (p *prepared, failed tool.Result, ok bool) {
	if call.Malformed != "" {
		return nil, a.malformedResult(call), false
	}
	t, ok := a.set.Load().byName[call.Name]
	if !ok {
		return nil, tool.Errorf("Unknown tool %q. Available tools: %s.", call.Name, strings.Join(a.ToolNames(), ", ")), false
	}
	return a.prepareWith(t, call)
}

// prepareWith prepares call as a call of the tool t.
func (a *Agent) prepareWith(t tool.Tool, call llm.Part) (p *prepared, failed tool.Result, ok bool) {
	// The name is the call's, which found t: Def would rebuild the whole
	// definition on every call.
	p = &prepared{access: policy.Call{Tool: call.Name, Kind: policy.Exec, Dir: a.cfg.Env.Dir}}
	readOnly := readOnlyCall(t, call.Input)
	if readOnly {
		p.access.Kind = policy.Read
	}
	if pr, ok := t.(Preparer); ok {
		tp, err := pr.Prepare(a.cfg.Env, call.Input)
		if err != nil {
			return nil, tool.Errorf("%v", err), false
		}
		if tp.Access.Tool == "" {
			tp.Access.Tool = call.Name
		}
		p.access, p.run = tp.Access, tp.Run
		// Only a tool that changes nothing is decided as a read.
		if p.access.Kind == policy.Read && !readOnly {
			p.access.Kind = policy.Exec
		}
	} else {
		env, input := a.cfg.Env, call.Input
		p.run = func(ctx context.Context) (tool.Result, error) { return t.Run(ctx, env, input) }
	}
	if p.access.Command != "" {
		p.access.Script = policy.ParseCommand(p.access.Command)
	}
	return p, tool.Result{}, true
}
