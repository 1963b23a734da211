package tool

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lathe-dev/lathe/internal/llm"
)

// MaxPlanSize bounds a submitted plan, in bytes: it is the run's answer,
// or the brief the rest of the run follows.
const MaxPlanSize = 64 << 10

// exitPlanTool submits the plan a plan-mode run made: ExitPlanMode in
// Claude Code's dialect, exit_plan in Codex's. It changes nothing itself:
// its result carries the plan ([Result.Plan]) and the agent acts on it
// once the response's calls are done, by ending the run with the plan as
// its answer or by carrying it out in the mode the user chose (--then).
type exitPlanTool struct {
	name string
	// then is the mode an approved plan is carried out in; empty ends
	// the run with the plan.
	then string
}

// NewExitPlanMode returns Claude Code's ExitPlanMode; then is the
// permission mode the approved plan is carried out in, or empty when the
// plan ends the run.
func NewExitPlanMode(then string) Tool { return exitPlanTool{name: "ExitPlanMode", then: then} }

// NewExitPlan returns exit_plan, ExitPlanMode for Codex's dialect.
func NewExitPlan(then string) Tool { return exitPlanTool{name: "exit_plan", then: then} }

func (t exitPlanTool) Def() llm.ToolDef {
	return llm.ToolDef{
		Name:        t.name,
		Description: describe(t.name),
		Schema: json.RawMessage(`{
			"type": "object",
			"properties": {
				"plan": {"type": "string", "description": "The plan, in Markdown"}
			},
			"required": ["plan"],
			"additionalProperties": false
		}`),
	}
}

// ReadOnly: submitting a plan changes nothing until the agent acts on it,
// after every call of the response has run.
func (exitPlanTool) ReadOnly() bool { return true }

func (t exitPlanTool) Run(_ context.Context, _ *Env, input json.RawMessage) (Result, error) {
	var args struct {
		Plan string `json:"plan"`
	}
	if err := decodeArgs(input, &args, "plan"); err != nil {
		return Errorf("%v", err), nil
	}
	plan := strings.TrimSpace(args.Plan)
	switch {
	case plan == "":
		return Errorf("plan is empty: write the plan, in Markdown, in the plan parameter"), nil
	case len(plan) > MaxPlanSize:
		return Errorf("plan is %d bytes; keep it under %d: the steps, not the code", len(plan), MaxPlanSize), nil
	}
	if t.then == "" {
		return Result{Content: "Plan submitted to the user. Stop here: the user reviews it before anything changes.", Summary: "plan submitted", Plan: plan}, nil
	}
	msg := fmt.Sprintf("The user approved your plan; the permission mode is now %s and the tools to change files are yours. Carry out the plan now, step by step, keeping your todo list current.", t.then)
	return Result{Content: msg, Summary: "plan approved", Plan: plan}, nil
}

// PlanSet returns the tools of dialect d offered in plan mode: those that
// change nothing, the shell's (plan mode lets only read-only commands run,
// in a read-only sandbox), the todo tool, and the tool that submits the
// plan, whose approval leads to mode then (empty: the plan ends the run).
// A tool this does not know to be safe is left out.
func PlanSet(d Dialect, then string) []Tool {
	var out []Tool
	for _, t := range Set(d, false) {
		switch t.Def().Name {
		case "Bash", "BashOutput", "KillShell", "shell":
			out = append(out, t)
		default:
			if t.ReadOnly() {
				out = append(out, t)
			}
		}
	}
	if d == DialectCodex {
		return append(out, NewExitPlan(then))
	}
	return append(out, NewExitPlanMode(then))
}
