package tool

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestTodoTools(t *testing.T) {
	tests := []struct {
		name    string
		tool    Tool
		input   string
		want    string // a substring of the content
		wantErr bool
	}{
		{"TodoWrite", NewTodoWrite(), `{"todos": [{"content": "a", "status": "completed", "activeForm": "A"}, {"content": "b", "status": "in_progress", "activeForm": "B"}, {"content": "c", "status": "pending", "activeForm": "C"}]}`, "Todo list updated: 1 completed, 1 in progress, 1 pending.", false},
		{"TodoWrite nothing in progress", NewTodoWrite(), `{"todos": [{"content": "a", "status": "pending", "activeForm": "A"}]}`, "Mark what you work on next in_progress.", false},
		{"TodoWrite cleared", NewTodoWrite(), `{"todos": []}`, "Todo list cleared.", false},
		{"TodoWrite two in progress", NewTodoWrite(), `{"todos": [{"content": "a", "status": "in_progress", "activeForm": "A"}, {"content": "b", "status": "in_progress", "activeForm": "B"}]}`, "at most one item may be in progress", true},
		{"TodoWrite in Codex's shape", NewTodoWrite(), `{"plan": [{"step": "a", "status": "pending"}]}`, `unknown field "plan"`, true},
		{"update_plan", NewUpdatePlan(), `{"explanation": "x", "plan": [{"step": "a", "status": "in_progress"}]}`, "Plan updated: 0 completed, 1 in progress, 0 pending.", false},
		{"update_plan bad status", NewUpdatePlan(), `{"plan": [{"step": "a", "status": "doing"}]}`, `plan[0].status is "doing"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.tool.Run(context.Background(), &Env{}, json.RawMessage(tt.input))
			if err != nil {
				t.Fatal(err)
			}
			if res.IsError != tt.wantErr || !strings.Contains(res.Content, tt.want) {
				t.Errorf("Run = %q (error %v), want %q (error %v)", res.Content, res.IsError, tt.want, tt.wantErr)
			}
		})
	}
}

func TestExitPlanTool(t *testing.T) {
	big := strings.Repeat("x", MaxPlanSize+1)
	tests := []struct {
		name     string
		tool     Tool
		input    string
		want     string
		wantPlan string
	}{
		{"plan ends the run", NewExitPlanMode(""), `{"plan": " 1. Split cache.go\n"}`, "Plan submitted to the user", "1. Split cache.go"},
		{"plan approved", NewExitPlan("acceptEdits"), `{"plan": "1. Split"}`, "the permission mode is now acceptEdits", "1. Split"},
		{"empty", NewExitPlanMode(""), `{"plan": " "}`, "plan is empty", ""},
		{"missing", NewExitPlanMode(""), `{}`, `required parameter "plan" is missing`, ""},
		{"not a string", NewExitPlanMode(""), `{"plan": ["a"]}`, `"plan" must be of type string`, ""},
		{"too big", NewExitPlanMode(""), `{"plan": "` + big + `"}`, "keep it under 65536", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.tool.Run(context.Background(), &Env{}, json.RawMessage(tt.input))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(res.Content, tt.want) || res.Plan != tt.wantPlan || res.IsError != (tt.wantPlan == "") {
				t.Errorf("Run = %+v, want %q and plan %q", res, tt.want, tt.wantPlan)
			}
		})
	}
}

// TestPlanSet: plan mode offers what changes nothing, the shell (whose
// commands plan mode confines to the read-only set), the todo tool and
// the plan's tool, never a file-editing tool.
func TestPlanSet(t *testing.T) {
	names := func(ts []Tool) []string {
		var out []string
		for _, t := range ts {
			out = append(out, t.Def().Name)
		}
		return out
	}
	if got, want := names(PlanSet(DialectClaude, "")), []string{"Bash", "BashOutput", "KillShell", "Read", "Glob", "Grep", "WebFetch", "TodoWrite", "ExitPlanMode"}; !slices.Equal(got, want) {
		t.Errorf("Claude plan set = %v, want %v", got, want)
	}
	if got, want := names(PlanSet(DialectCodex, "auto")), []string{"shell", "read_file", "list_dir", "grep_files", "web_fetch", "update_plan", "exit_plan"}; !slices.Equal(got, want) {
		t.Errorf("Codex plan set = %v, want %v", got, want)
	}
}
