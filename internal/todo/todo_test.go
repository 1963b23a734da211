package todo

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	long := strings.Repeat("x", MaxTextSize+1)
	many := make([]string, MaxItems+1)
	for i := range many {
		many[i] = `{"step": "s", "status": "pending"}`
	}
	tests := []struct {
		name    string
		tool    string
		input   string
		want    Update
		wantErr string // a substring of the error; "" for none
	}{
		{
			name:  "claude list",
			tool:  ToolClaude,
			input: `{"todos": [{"content": "Run the tests", "status": "completed", "activeForm": "Running the tests"}, {"content": " Fix the parser ", "status": "in_progress", "activeForm": "Fixing the parser"}, {"content": "Update docs", "status": "pending", "activeForm": "Updating docs"}]}`,
			want: Update{Items: []Item{
				{Text: "Run the tests", Status: Completed, Active: "Running the tests"},
				{Text: "Fix the parser", Status: InProgress, Active: "Fixing the parser"},
				{Text: "Update docs", Status: Pending, Active: "Updating docs"},
			}},
		},
		{name: "claude empty list clears", tool: ToolClaude, input: `{"todos": []}`, want: Update{Items: []Item{}}},
		{
			name:  "codex plan with explanation",
			tool:  ToolCodex,
			input: `{"explanation": "tests first", "plan": [{"step": "Run the tests", "status": "in_progress"}, {"step": "Fix", "status": "pending"}]}`,
			want: Update{Explanation: "tests first", Items: []Item{
				{Text: "Run the tests", Status: InProgress},
				{Text: "Fix", Status: Pending},
			}},
		},
		{name: "codex without explanation", tool: ToolCodex, input: `{"plan": [{"step": "a", "status": "completed"}]}`, want: Update{Items: []Item{{Text: "a", Status: Completed}}}},

		{name: "other tool", tool: "Bash", input: `{"todos": []}`, wantErr: `"Bash" is not a todo tool`},
		{name: "not JSON", tool: ToolClaude, input: `{"todos": [`, wantErr: "invalid tool arguments"},
		{name: "not an object", tool: ToolClaude, input: `[1]`, wantErr: "expected a JSON object, not array"},
		{name: "trailing value", tool: ToolClaude, input: `{"todos": []} {}`, wantErr: "expected one JSON object"},
		{name: "claude missing todos", tool: ToolClaude, input: `{}`, wantErr: `required parameter "todos" is missing`},
		{name: "claude null", tool: ToolClaude, input: `null`, wantErr: `required parameter "todos" is missing`},
		{name: "claude todos as a string", tool: ToolClaude, input: `{"todos": "[]"}`, wantErr: `"todos" is a JSON string, which does not fit: {"todos": [`},
		{name: "claude unknown field", tool: ToolClaude, input: `{"todos": [{"content": "a", "status": "pending", "activeForm": "A", "priority": "high"}]}`, wantErr: `unknown field "priority"`},
		{name: "claude codex shape", tool: ToolClaude, input: `{"plan": []}`, wantErr: `unknown field "plan"`},
		{name: "claude missing content", tool: ToolClaude, input: `{"todos": [{"status": "pending", "activeForm": "A"}]}`, wantErr: "todos[0].content is missing"},
		{name: "claude blank content", tool: ToolClaude, input: `{"todos": [{"content": "  ", "status": "pending", "activeForm": "A"}]}`, wantErr: "todos[0].content is empty"},
		{name: "claude missing activeForm", tool: ToolClaude, input: `{"todos": [{"content": "a", "status": "pending", "activeForm": "A"}, {"content": "b", "status": "pending"}]}`, wantErr: "todos[1].activeForm is missing"},
		{name: "claude missing status", tool: ToolClaude, input: `{"todos": [{"content": "a", "activeForm": "A"}]}`, wantErr: `todos[0].status is missing (want "pending", "in_progress" or "completed")`},
		{name: "claude bad status", tool: ToolClaude, input: `{"todos": [{"content": "a", "status": "done", "activeForm": "A"}]}`, wantErr: `todos[0].status is "done" (want`},
		{name: "claude status number", tool: ToolClaude, input: `{"todos": [{"content": "a", "status": 1, "activeForm": "A"}]}`, wantErr: `"todos.status" is a JSON number`},
		{name: "claude two in progress", tool: ToolClaude, input: `{"todos": [{"content": "a", "status": "in_progress", "activeForm": "A"}, {"content": "b", "status": "pending", "activeForm": "B"}, {"content": "c", "status": "in_progress", "activeForm": "C"}]}`, wantErr: `todos[0] and todos[2] are both "in_progress"; at most one item may be in progress`},
		{name: "claude text too long", tool: ToolClaude, input: `{"todos": [{"content": "` + long + `", "status": "pending", "activeForm": "A"}]}`, wantErr: "todos[0].content is 1001 bytes; keep it under 1000"},
		{name: "claude invalid UTF-8 is replaced by the decoder", tool: ToolClaude, input: "{\"todos\": [{\"content\": \"a\xff\", \"status\": \"pending\", \"activeForm\": \"A\"}]}", want: Update{Items: []Item{{Text: "a\uFFFD", Status: Pending, Active: "A"}}}},
		{name: "codex missing plan", tool: ToolCodex, input: `{"explanation": "x"}`, wantErr: `required parameter "plan" is missing`},
		{name: "codex claude shape", tool: ToolCodex, input: `{"todos": []}`, wantErr: `unknown field "todos"`},
		{name: "codex missing step", tool: ToolCodex, input: `{"plan": [{"status": "pending"}]}`, wantErr: "plan[0].step is missing"},
		{name: "codex bad status", tool: ToolCodex, input: `{"plan": [{"step": "a", "status": "in-progress"}]}`, wantErr: `plan[0].status is "in-progress"`},
		{name: "codex two in progress", tool: ToolCodex, input: `{"plan": [{"step": "a", "status": "in_progress"}, {"step": "b", "status": "in_progress"}]}`, wantErr: "plan[0] and plan[1] are both"},
		{name: "codex too many", tool: ToolCodex, input: `{"plan": [` + strings.Join(many, ",") + `]}`, wantErr: "plan has 101 items; keep it to 100"},
		{name: "codex explanation too long", tool: ToolCodex, input: `{"explanation": "` + long + `", "plan": []}`, wantErr: "explanation is 1001 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.tool, json.RawMessage(tt.input))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestFromCall(t *testing.T) {
	tests := []struct {
		name   string
		tool   string
		input  string
		want   []Item
		wantOK bool
	}{
		{name: "TodoWrite", tool: ToolClaude, input: `{"todos": [{"content": "a", "status": "pending", "activeForm": "A"}]}`, want: []Item{{Text: "a", Status: Pending, Active: "A"}}, wantOK: true},
		{name: "update_plan", tool: ToolCodex, input: `{"plan": [{"step": "a", "status": "completed"}]}`, want: []Item{{Text: "a", Status: Completed}}, wantOK: true},
		{name: "empty list is a call that clears", tool: ToolClaude, input: `{"todos": []}`, want: []Item{}, wantOK: true},
		{name: "rejected call sets nothing", tool: ToolClaude, input: `{"todos": [{"content": "a", "status": "bogus", "activeForm": "A"}]}`},
		{name: "other tool", tool: "Read", input: `{"file_path": "x"}`},
		{name: "empty input", tool: ToolCodex, input: ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := FromCall(tt.tool, json.RawMessage(tt.input))
			if ok != tt.wantOK || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FromCall = %#v, %v; want %#v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name  string
		items []Item
		want  string
	}{
		{name: "empty", items: nil, want: ""},
		{
			name: "each status",
			items: []Item{
				{Text: "Run the tests", Status: Completed, Active: "Running the tests"},
				{Text: "Fix the parser", Status: InProgress, Active: "Fixing the parser"},
				{Text: "Update docs", Status: Pending, Active: "Updating docs"},
			},
			want: "[x] Run the tests\n[>] Fix the parser (Fixing the parser)\n[ ] Update docs\n",
		},
		{name: "codex item has no active form", items: []Item{{Text: "Run", Status: InProgress}}, want: "[>] Run\n"},
		{name: "active form equal to text is not repeated", items: []Item{{Text: "Run", Status: InProgress, Active: "Run"}}, want: "[>] Run\n"},
		{name: "line breaks stay inside the item", items: []Item{{Text: "one\ntwo\r\n  three", Status: Pending}}, want: "[ ] one two three\n"},
		{name: "unknown status shows as pending", items: []Item{{Text: "a", Status: "?"}}, want: "[ ] a\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Format(tt.items); got != tt.want {
				t.Errorf("Format = %q, want %q", got, tt.want)
			}
		})
	}
}
