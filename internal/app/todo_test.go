package app

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/todo"
)

func TestTodoFold(t *testing.T) {
	call := func(id, name, input string) llm.Part {
		return llm.Part{Kind: llm.PartToolCall, CallID: id, Name: name, Input: json.RawMessage(input)}
	}
	result := func(id string, isError bool) llm.Part {
		return llm.Part{Kind: llm.PartToolResult, CallID: id, IsError: isError}
	}
	asst := func(parts ...llm.Part) llm.Message { return llm.Message{Role: llm.RoleAssistant, Parts: parts} }
	user := func(parts ...llm.Part) llm.Message { return llm.Message{Role: llm.RoleUser, Parts: parts} }
	a := `{"todos": [{"content": "a", "status": "in_progress", "activeForm": "A"}]}`
	b := `{"todos": [{"content": "b", "status": "pending", "activeForm": "B"}]}`
	bad := `{"todos": [{"content": "c", "status": "nope", "activeForm": "C"}]}`
	tests := []struct {
		name string
		msgs []llm.Message
		want []todo.Item
		set  bool
	}{
		{"none", []llm.Message{asst(call("1", "Read", `{}`)), user(result("1", false))}, nil, false},
		{"one call", []llm.Message{asst(call("1", "TodoWrite", a)), user(result("1", false))}, []todo.Item{{Text: "a", Status: "in_progress", Active: "A"}}, true},
		{"last call of a response wins", []llm.Message{asst(call("1", "TodoWrite", a), call("2", "TodoWrite", b)), user(result("1", false), result("2", false))},
			[]todo.Item{{Text: "b", Status: "pending", Active: "B"}}, true},
		{"a failed call sets nothing", []llm.Message{asst(call("1", "TodoWrite", a)), user(result("1", false)), asst(call("2", "TodoWrite", b)), user(result("2", true))},
			[]todo.Item{{Text: "a", Status: "in_progress", Active: "A"}}, true},
		{"an invalid call sets nothing", []llm.Message{asst(call("1", "TodoWrite", a)), user(result("1", false)), asst(call("2", "TodoWrite", bad)), user(result("2", false))},
			[]todo.Item{{Text: "a", Status: "in_progress", Active: "A"}}, true},
		{"a call without a result sets nothing", []llm.Message{asst(call("1", "TodoWrite", a))}, nil, false},
		{"update_plan", []llm.Message{asst(call("c", "update_plan", `{"plan": [{"step": "s", "status": "completed"}]}`)), user(result("c", false))},
			[]todo.Item{{Text: "s", Status: "completed"}}, true},
		{"cleared", []llm.Message{asst(call("1", "TodoWrite", a)), user(result("1", false)), asst(call("2", "TodoWrite", `{"todos": []}`)), user(result("2", false))}, []todo.Item{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f todoFold
			for _, m := range tt.msgs {
				f.message(m)
			}
			if f.set != tt.set || !reflect.DeepEqual(f.items, tt.want) {
				t.Errorf("fold = %#v (set %v), want %#v (set %v)", f.items, f.set, tt.want, tt.set)
			}
		})
	}
}
