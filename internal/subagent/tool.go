package subagent

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/tool"
)

var (
	//go:embed desc/Task.md
	taskDesc string
	//go:embed desc/spawn_agent.md
	spawnDesc string
)

// Names of the tools that start children, which a child never gets.
const (
	TaskTool  = "Task"
	SpawnTool = "spawn_agent"
)

// general is the type spawn_agent starts when its call names none, as
// Codex starts its default agent.
const general = "general-purpose"

// NewTool returns the tool that starts children of r's types, in the
// dialect's shape: Task (description, prompt, subagent_type) for Claude
// models, spawn_agent (message, agent_type) for Codex models. A call of
// a type whose tools all change nothing is a read, which runs alongside
// the response's other reads; any other is decided as a command, before
// each of the child's own calls is decided too.
func NewTool(d tool.Dialect, r *Runner) tool.Tool {
	t := &spawnTool{r: r, codex: d == tool.DialectCodex}
	t.def = t.makeDef()
	return t
}

type spawnTool struct {
	r     *Runner
	codex bool
	def   llm.ToolDef
}

func (t *spawnTool) Def() llm.ToolDef { return t.def }

// ReadOnly is false: a child of some types may change things
// (ReadOnlyCall tells which calls do not).
func (t *spawnTool) ReadOnly() bool { return false }

func (t *spawnTool) makeDef() llm.ToolDef {
	var types strings.Builder
	names := make([]string, len(t.r.types))
	for i, ty := range t.r.types {
		names[i] = ty.Name
		tools, _ := ty.Select(t.r.tools)
		var tn []string
		for _, tl := range tools {
			tn = append(tn, tl.Def().Name)
		}
		mode := "may change files"
		if ReadOnly(tools) {
			mode = "read-only"
		}
		fmt.Fprintf(&types, "- %s: %s (%s; tools: %s)\n", ty.Name, oneLine(ty.Description), mode, strings.Join(tn, ", "))
	}
	enum, _ := json.Marshal(names)
	if t.codex {
		return llm.ToolDef{
			Name:        SpawnTool,
			Description: strings.TrimSpace(spawnDesc + "\n" + types.String()),
			Schema: json.RawMessage(`{"type": "object", "properties": {` +
				`"message": {"type": "string", "description": "The task for the sub-agent, with everything it needs to know"},` +
				`"agent_type": {"type": "string", "enum": ` + string(enum) + `}},` +
				`"required": ["message"], "additionalProperties": false}`),
		}
	}
	return llm.ToolDef{
		Name:        TaskTool,
		Description: strings.TrimSpace(taskDesc + "\n" + types.String()),
		Schema: json.RawMessage(`{"type": "object", "properties": {` +
			`"description": {"type": "string", "description": "A short (3-5 word) description of the task"},` +
			`"prompt": {"type": "string", "description": "The task for the agent, with everything it needs to know"},` +
			`"subagent_type": {"type": "string", "enum": ` + string(enum) + `}},` +
			`"required": ["description", "prompt", "subagent_type"], "additionalProperties": false}`),
	}
}

// oneLine is s on one line, for the list of types: Claude Code's
// descriptions run to paragraphs of examples.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return s
}

// call is a call's arguments, in either dialect.
type call struct {
	typ, description, prompt string
}

// decode reads a call's arguments; the error is for the model.
func (t *spawnTool) decode(input json.RawMessage) (call, error) {
	dec := json.NewDecoder(bytes.NewReader(input))
	dec.DisallowUnknownFields()
	if t.codex {
		var in struct {
			Message   *string `json:"message"`
			AgentType string  `json:"agent_type"`
		}
		if err := dec.Decode(&in); err != nil {
			return call{}, fmt.Errorf("invalid tool arguments: %v", strings.TrimPrefix(err.Error(), "json: "))
		}
		if in.Message == nil || strings.TrimSpace(*in.Message) == "" {
			return call{}, errors.New(`invalid tool arguments: required parameter "message" is missing or empty`)
		}
		c := call{typ: in.AgentType, prompt: *in.Message}
		if c.typ == "" {
			c.typ = general
		}
		return c, nil
	}
	var in struct {
		Description string  `json:"description"`
		Prompt      *string `json:"prompt"`
		Type        *string `json:"subagent_type"`
	}
	if err := dec.Decode(&in); err != nil {
		return call{}, fmt.Errorf("invalid tool arguments: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	switch {
	case in.Prompt == nil || strings.TrimSpace(*in.Prompt) == "":
		return call{}, errors.New(`invalid tool arguments: required parameter "prompt" is missing or empty`)
	case in.Type == nil || *in.Type == "":
		return call{}, errors.New(`invalid tool arguments: required parameter "subagent_type" is missing`)
	}
	return call{typ: *in.Type, description: in.Description, prompt: *in.Prompt}, nil
}

// ReadOnlyCall reports whether the call starts a child of a read-only
// type; a call that does not decode is not one.
func (t *spawnTool) ReadOnlyCall(input json.RawMessage) bool {
	c, err := t.decode(input)
	if err != nil {
		return false
	}
	_, tools, err := t.r.resolve(c.typ)
	return err == nil && ReadOnly(tools)
}

// Prepare decodes the call and finds its type: a call of a read-only
// type is a read, any other a command of the tool, which the rules
// naming the tool (Task, spawn_agent) and the mode decide.
func (t *spawnTool) Prepare(env *tool.Env, input json.RawMessage) (tool.Prepared, error) {
	c, err := t.decode(input)
	if err != nil {
		return tool.Prepared{}, err
	}
	typ, tools, err := t.r.resolve(c.typ)
	if err != nil {
		return tool.Prepared{}, err
	}
	access := policy.Call{Kind: policy.Exec, Dir: env.Dir, Agent: typ.Name}
	if ReadOnly(tools) {
		access.Kind = policy.Read
	}
	return tool.Prepared{Access: access, Run: func(ctx context.Context) (tool.Result, error) {
		return t.r.Run(ctx, c.typ, c.description, c.prompt), nil
	}}, nil
}

func (t *spawnTool) Run(ctx context.Context, env *tool.Env, input json.RawMessage) (tool.Result, error) {
	p, err := t.Prepare(env, input)
	if err != nil {
		return tool.Errorf("%v", err), nil
	}
	return p.Run(ctx)
}
