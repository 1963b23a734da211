package agent

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
)

func TestMalformedCallsAreAnsweredNotRun(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [
	    {"name": "Bash", "raw_input": "{\"command\": \"touch bad\", }"},
	    {"name": "Bash", "input": {"command": "touch good"}},
	    {"name": "Bash", "raw_input": "[\"touch\", \"array\"]"}]}},
	  {"expect": {"tool_results": [
	    {"call": 0, "is_error": true, "contains": ["Your arguments for Bash were not valid JSON: invalid character '}'"]},
	    {"call": 1, "is_error": false},
	    {"call": 2, "is_error": true, "contains": ["Your arguments for Bash were not a JSON object but an array"]}],
	   "extends_previous": true},
	   "reply": {"text": "done"}}]}`)
	o := h.run(context.Background(), "go")
	h.check()
	if o.Kind != event.Success || o.Answer != "done" {
		t.Fatalf("outcome = %v %q (%v)", o.Kind, o.Answer, o.Err)
	}
	for name, want := range map[string]bool{"bad": false, "good": true, "array": false} {
		if _, err := os.Stat(filepath.Join(h.dir, name)); (err == nil) != want {
			t.Errorf("%s exists = %v, want %v", name, err == nil, want)
		}
	}
	var ends []string
	for _, e := range h.events {
		if e.Type == event.ToolEnd {
			ends = append(ends, e.Summary)
		}
	}
	if got := strings.Join(ends, ","); !strings.HasPrefix(got, "malformed arguments,") || !strings.HasSuffix(got, ",malformed arguments") {
		t.Errorf("tool.end summaries = %s", got)
	}
}

func TestCutOffTextIsContinued(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"text": "The answer is forty", "stop": "max_tokens"}},
	  {"expect": {"user_contains": ["cut off at the output token limit. Continue exactly where you stopped"], "extends_previous": true},
	   "reply": {"text": "-two", "stop": "max_tokens"}},
	  {"expect": {"extends_previous": true}, "reply": {"text": "."}}]}`)
	o := h.run(context.Background(), "go")
	h.check()
	if o.Kind != event.Success || o.Answer != "The answer is forty-two." || o.Turns != 3 {
		t.Fatalf("outcome = %v %q after %d turns (%v)", o.Kind, o.Answer, o.Turns, o.Err)
	}
}

func TestCutOffTooOften(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"text": "a", "stop": "max_tokens"}},
	  {"reply": {"tool_calls": [{"name": "Write", "raw_input": "{\"file_path\": \"f\", \"content\": \"x"}], "stop": "max_tokens"}},
	  {"expect": {"tool_results": [{"call": 0, "is_error": true, "contains": ["cut off at the output token limit while writing the arguments for Write"]}]},
	   "reply": {"text": "b", "stop": "max_tokens"}}]}`)
	o := h.run(context.Background(), "go")
	h.check()
	if o.Kind != event.OutputLimit || o.Err == nil || !strings.Contains(o.Err.Error(), "3 responses in a row were cut off at the output token limit") {
		t.Fatalf("outcome = %v (%v), want a failure naming the limit", o.Kind, o.Err)
	}
	if _, err := os.Stat(filepath.Join(h.dir, "f")); err == nil {
		t.Error("the cut-off Write ran")
	}
}

// A response that is not cut off resets the count.
func TestCutOffCountsOnlyInARow(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"text": "a", "stop": "max_tokens"}},
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "true"}}], "stop": "max_tokens"}},
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "true"}}]}},
	  {"reply": {"text": "b", "stop": "max_tokens"}},
	  {"reply": {"text": "c", "stop": "max_tokens"}},
	  {"reply": {"text": "d"}}]}`)
	o := h.run(context.Background(), "go")
	h.check()
	if o.Kind != event.Success || o.Answer != "bcd" {
		t.Fatalf("outcome = %v %q (%v)", o.Kind, o.Answer, o.Err)
	}
}

func TestNamelessCallIsAnswered(t *testing.T) {
	h := newHarness(t, `{"steps": []}`)
	var sent []llm.Message
	h.cfg.Provider = streamFunc(func(context.Context, func(llm.Delta)) (*llm.Response, error) {
		if len(sent) > 0 {
			return &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{{Kind: llm.PartText, Text: "done"}}}, StopReason: llm.StopEndTurn}, nil
		}
		call := llm.Part{Kind: llm.PartToolCall, CallID: "c1", Input: json.RawMessage(`"{}"`), Malformed: llm.MalformedNoName}
		sent = append(sent, llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{call}})
		return &llm.Response{Message: sent[0], StopReason: llm.StopToolUse}, nil
	})
	o := h.run(context.Background(), "go")
	if o.Kind != event.Success || o.Answer != "done" {
		t.Fatalf("outcome = %v %q (%v)", o.Kind, o.Answer, o.Err)
	}
	var end *event.Event
	for i, e := range h.events {
		if e.Type == event.ToolEnd {
			end = &h.events[i]
		}
	}
	if end == nil || !end.IsError || !strings.Contains(end.Output, "Your tool call c1 named no tool, so it was not run. Call one of these tools by name: Bash,") {
		t.Errorf("tool.end = %+v", end)
	}
}
