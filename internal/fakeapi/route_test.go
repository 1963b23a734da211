package fakeapi

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// messagesBody is a non-streamed Messages request of system and the
// messages, given as JSON.
func messagesBody(system string, messages ...string) string {
	return fmt.Sprintf(`{"model":"m","max_tokens":100,"system":%q,"messages":[%s]}`, system, strings.Join(messages, ","))
}

// In a routed script, each request takes the first step left that it
// matches, whatever the order they come in, and the history checks
// follow each conversation on its own: the parent's results answer the
// parent's calls, though a child's reply came between.
func TestRoutedScript(t *testing.T) {
	srv := newTestServer(t,
		Step{Match: &Match{PromptContains: []string{"parent task"}}, Reply: &Reply{ToolCalls: []ToolCall{{Name: "Task", Input: raw(`{"prompt":"a"}`)}}}},
		Step{Match: &Match{PromptContains: []string{"child A"}}, Reply: &Reply{Text: "A done"}},
		Step{Match: &Match{PromptContains: []string{"child B"}, SystemContains: []string{"explore"}}, Reply: &Reply{Text: "B done"}},
		Step{Match: &Match{PromptContains: []string{"parent task"}}, Expect: &Expect{ToolResults: []ToolResultExpect{{Call: 0, Contains: []string{"A done"}}}}, Reply: &Reply{Text: "all done"}},
	)
	_, first := post(t, srv, "/v1/messages", messagesBody("main", `{"role":"user","content":"parent task"}`))
	id := regexp.MustCompile(`"id":"(toolu_[^"]+)"`).FindStringSubmatch(first)
	if id == nil {
		t.Fatalf("no tool call in %s", first)
	}
	// B before A, out of the script's order.
	if _, body := post(t, srv, "/v1/messages", messagesBody("explore agent", `{"role":"user","content":"child B"}`)); !strings.Contains(body, "B done") {
		t.Errorf("child B got %s", body)
	}
	if _, body := post(t, srv, "/v1/messages", messagesBody("explore agent", `{"role":"user","content":"child A"}`)); !strings.Contains(body, "A done") {
		t.Errorf("child A got %s", body)
	}
	_, last := post(t, srv, "/v1/messages", messagesBody("main",
		`{"role":"user","content":"parent task"}`,
		`{"role":"assistant","content":[{"type":"tool_use","id":"`+id[1]+`","name":"Task","input":{"prompt":"a"}}]}`,
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"`+id[1]+`","content":"A done"}]}`))
	if !strings.Contains(last, "all done") {
		t.Errorf("parent's second request got %s", last)
	}
	wantNoFailures(t, srv)
}

// A request no step left matches is refused and reported, and the steps
// left are named.
func TestRoutedScriptUnmatched(t *testing.T) {
	srv := newTestServer(t,
		Step{Match: &Match{PromptContains: []string{"one"}}, Reply: &Reply{Text: "1"}},
		Step{Reply: &Reply{Text: "any"}},
		Step{Match: &Match{PromptContains: []string{"three"}}, Reply: &Reply{Text: "3"}},
	)
	if _, body := post(t, srv, "/v1/messages", messagesBody("s", `{"role":"user","content":"two"}`)); !strings.Contains(body, "any") {
		t.Errorf("got %s, want the step without a match", body)
	}
	if resp, _ := post(t, srv, "/v1/messages", messagesBody("s", `{"role":"user","content":"four"}`)); resp.StatusCode != 500 {
		t.Errorf("status %d for a request nothing matches, want 500", resp.StatusCode)
	}
	wantFailures(t, srv, "unexpected request 2: no step of the script's 3 that is left matches it", "script steps 1, 3 of 3 were not consumed")
}
