package fakeapi

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestMalformedEventStopsTheSDKs(t *testing.T) {
	for api, consume := range consumers {
		t.Run(string(api), func(t *testing.T) {
			srv := newTestServer(t, Step{Reply: &Reply{Text: "Hello there, friend."}, Fault: &Fault{MalformedEvent: true}})
			got := consume(t, srv)
			if _, ok := errors.AsType[*json.SyntaxError](got.err); !ok {
				t.Errorf("stream ended with %T %v, want a JSON syntax error", got.err, got.err)
			}
			if got.text == "" || got.text == "Hello there, friend." {
				t.Errorf("text before the broken event = %q, want the first delta only", got.text)
			}
			wantNoFailures(t, srv)
		})
	}
}

func TestMalformedEventNeedsAReply(t *testing.T) {
	s := Script{Steps: []Step{{Fault: &Fault{MalformedEvent: true}}}}
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "malformed_event needs a reply") {
		t.Errorf("Validate = %v", err)
	}
}

func TestRawInputStreamsVerbatim(t *testing.T) {
	const args = `{"command": "echo one`
	for api, consume := range consumers {
		t.Run(string(api), func(t *testing.T) {
			srv := newTestServer(t, Step{Reply: &Reply{Stop: StopMaxTokens, ToolCalls: []ToolCall{{Name: "Bash", RawInput: args}}}})
			got := consume(t, srv)
			if got.err != nil || got.args != args {
				t.Errorf("args = %q, %v; want %q", got.args, got.err, args)
			}
			wantNoFailures(t, srv)
		})
	}
}

// The Responses API leaves the item it was writing at the limit
// incomplete; the calls before it are whole.
func TestResponsesCallCutAtTheLimit(t *testing.T) {
	srv := newTestServer(t, Step{Reply: &Reply{Stop: StopMaxTokens, ToolCalls: []ToolCall{
		{Name: "Bash", Input: raw(`{"command":"ls"}`)},
		{Name: "Bash", RawInput: `{"command": "echo`},
	}}})
	_, body := post(t, srv, "/v1/responses", `{"model":"gpt-5","input":"hi","stream":true}`)
	done := strings.Count(body, `"type":"function_call","status":"completed"`)
	incomplete := strings.Count(body, `"type":"function_call","status":"incomplete"`)
	// Each appears in output_item.done and in the final response.
	if done != 2 || incomplete != 2 || !strings.Contains(body, `"reason":"max_output_tokens"`) {
		t.Errorf("completed %d, incomplete %d items in:\n%s", done, incomplete, body)
	}
	wantNoFailures(t, srv)
}

func TestChatLooseIDs(t *testing.T) {
	dup, empty := "call_dup", ""
	reply := Reply{ToolCalls: []ToolCall{
		{Name: "Bash", ID: &dup, Input: raw(`{"command":"a"}`)},
		{Name: "Bash", ID: &dup, Input: raw(`{"command":"b"}`)},
		{Name: "Bash", ID: &empty, Input: raw(`{"command":"c"}`)},
	}}
	first := `{"model":"m","stream":true,"messages":[{"role":"user","content":"go"}]}`
	answer := func(ids ...string) string {
		var calls, results []string
		for _, id := range ids {
			calls = append(calls, `{"id":"`+id+`","type":"function","function":{"name":"Bash","arguments":"{}"}}`)
			results = append(results, `{"role":"tool","tool_call_id":"`+id+`","content":"ok"}`)
		}
		return `{"model":"m","stream":true,"messages":[{"role":"user","content":"go"},` +
			`{"role":"assistant","tool_calls":[` + strings.Join(calls, ",") + `]},` + strings.Join(results, ",") + `]}`
	}

	t.Run("ids of its own", func(t *testing.T) {
		srv := newTestServer(t, Step{Reply: &reply}, Step{Expect: &Expect{ToolResults: []ToolResultExpect{{Call: 2, Contains: []string{"ok"}}}}, Reply: &Reply{Text: "done"}})
		_, body := post(t, srv, "/v1/chat/completions", first)
		if strings.Count(body, `"id":"call_dup"`) != 2 || strings.Contains(body, `"id":""`) {
			t.Errorf("stream does not repeat the id and omit the empty one:\n%s", body)
		}
		post(t, srv, "/v1/chat/completions", answer("call_dup", "call_dup_2", "call_x"))
		wantNoFailures(t, srv)
	})
	t.Run("merged", func(t *testing.T) {
		srv := newTestServer(t, Step{Reply: &reply}, Step{Reply: &Reply{Text: "done"}})
		post(t, srv, "/v1/chat/completions", first)
		post(t, srv, "/v1/chat/completions", answer("call_dup", "call_x"))
		wantFailures(t, srv, "the previous reply made 3 tool calls; the last assistant message sent back has 2", `tool result for call id "call_x", which no completed reply made`, "no tool result for call 2")
	})
	t.Run("still repeated", func(t *testing.T) {
		srv := newTestServer(t, Step{Reply: &reply}, Step{Reply: &Reply{Text: "done"}})
		post(t, srv, "/v1/chat/completions", first)
		post(t, srv, "/v1/chat/completions", answer("call_dup", "call_dup", "call_x"))
		wantFailures(t, srv, `call 1 (Bash) of the previous reply was sent back with id "call_dup"`, `2 tool results for call id "call_dup"`)
	})
}
