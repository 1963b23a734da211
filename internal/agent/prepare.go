package agent

import (
	"encoding/json"
	"strings"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/tool"
)

// Preparer is implemented by tools that can tell from a call's arguments,
// before it runs, what it would read, write or run, or that it stands for
// another tool's call. Prepare must not change anything or block on
// anything but the file system (it resolves symbolic links), and may be
// called concurrently. A tool that is not a Preparer is decided as a Read
// when it is read-only and as an Exec otherwise.
type Preparer interface {
	Prepare(env *tool.Env, input json.RawMessage) tool.Prepared
}

// prepared is one call, prepared: what the policy decides on and exactly
// what then runs.
type prepared struct {
	access policy.Call
	tool   tool.Tool
	input  json.RawMessage
	env    *tool.Env
}

// prepare is the first step of a call: it finds the tool, works out what
// the call touches and parses its command. A call that cannot be
// prepared (malformed, or for an unknown tool) gets the result failed.
func (a *Agent) prepare(call llm.Part) (p *prepared, failed tool.Result, ok bool) {
	if call.Malformed != "" {
		return nil, a.malformedResult(call), false
	}
	t, ok := a.tools[call.Name]
	if !ok {
		return nil, tool.Errorf("Unknown tool %q. Available tools: %s.", call.Name, strings.Join(a.ToolNames(), ", ")), false
	}
	// The name is the call's, which found t: Def would rebuild the whole
	// definition on every call.
	p = &prepared{access: policy.Call{Tool: call.Name, Kind: policy.Exec, Dir: a.cfg.Env.Dir}, tool: t, input: call.Input, env: a.cfg.Env}
	if t.ReadOnly() {
		p.access.Kind = policy.Read
	}
	if pr, ok := t.(Preparer); ok {
		tp := pr.Prepare(a.cfg.Env, call.Input)
		if tp.Access.Tool == "" {
			tp.Access.Tool = call.Name
		}
		p.access = tp.Access
		if tp.Tool != nil {
			p.tool, p.input, p.env = tp.Tool, tp.Input, tp.Env
		}
		// Only a tool that changes nothing is decided as a read.
		if p.access.Kind == policy.Read && !p.tool.ReadOnly() {
			p.access.Kind = policy.Exec
		}
	}
	if p.access.Command != "" {
		p.access.Script = policy.ParseCommand(p.access.Command)
	}
	return p, tool.Result{}, true
}
