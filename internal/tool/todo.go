package tool

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/todo"
)

// todoTool is the model's task list in one dialect's shape: Claude Code's
// TodoWrite or Codex's update_plan. A call only validates the list
// (internal/todo); the session's list is the one the last accepted call
// set, which whoever keeps the transcript follows, in call order (see
// internal/app), so the tool changes nothing and its calls may run
// concurrently.
type todoTool struct {
	name   string
	noun   string // what the dialect calls the list
	schema string
}

// NewTodoWrite returns Claude Code's TodoWrite.
func NewTodoWrite() Tool {
	return todoTool{name: todo.ToolClaude, noun: "Todo list", schema: `{
		"type": "object",
		"properties": {
			"todos": {
				"type": "array",
				"description": "The updated todo list",
				"items": {
					"type": "object",
					"properties": {
						"content": {"type": "string", "minLength": 1},
						"status": {"type": "string", "enum": ["pending", "in_progress", "completed"]},
						"activeForm": {"type": "string", "minLength": 1}
					},
					"required": ["content", "status", "activeForm"],
					"additionalProperties": false
				}
			}
		},
		"required": ["todos"],
		"additionalProperties": false
	}`}
}

// NewUpdatePlan returns Codex's update_plan.
func NewUpdatePlan() Tool {
	return todoTool{name: todo.ToolCodex, noun: "Plan", schema: `{
		"type": "object",
		"properties": {
			"explanation": {"type": "string"},
			"plan": {
				"type": "array",
				"description": "The list of steps",
				"items": {
					"type": "object",
					"properties": {
						"step": {"type": "string"},
						"status": {"type": "string", "description": "One of: pending, in_progress, completed"}
					},
					"required": ["step", "status"],
					"additionalProperties": false
				}
			}
		},
		"required": ["plan"],
		"additionalProperties": false
	}`}
}

func (t todoTool) Def() llm.ToolDef {
	return llm.ToolDef{Name: t.name, Description: describe(t.name), Schema: json.RawMessage(t.schema)}
}

func (todoTool) ReadOnly() bool { return true }

func (t todoTool) Run(_ context.Context, _ *Env, input json.RawMessage) (Result, error) {
	u, err := todo.Parse(t.name, input)
	if err != nil {
		return Errorf("%v", err), nil
	}
	var done, active, pending int
	for _, it := range u.Items {
		switch it.Status {
		case todo.Completed:
			done++
		case todo.InProgress:
			active++
		default:
			pending++
		}
	}
	if len(u.Items) == 0 {
		return Result{Content: t.noun + " cleared.", Summary: "0 items"}, nil
	}
	counts := fmt.Sprintf("%d completed, %d in progress, %d pending", done, active, pending)
	msg := t.noun + " updated: " + counts + "."
	if active == 0 && pending > 0 {
		msg += " Mark what you work on next in_progress."
	}
	return Result{Content: msg, Summary: counts}, nil
}
