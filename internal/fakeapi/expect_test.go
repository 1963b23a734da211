package fakeapi

import (
	"fmt"
	"strings"
	"testing"
)

// The first reply of the expectation tests: text and two tool calls.
var firstReply = Reply{
	Text: "Running the tests.",
	ToolCalls: []ToolCall{
		{Name: "Bash", Input: raw(`{"command":"go test ./..."}`)},
		{Name: "Read", Input: raw(`{"path":"a.go"}`)},
	},
}

// anthropicTurn builds an Anthropic request body from its messages.
func anthropicTurn(messages ...string) string {
	return `{"model":"claude-test","max_tokens":1024,"stream":true,` +
		`"system":[{"type":"text","text":"You are Lathe.","cache_control":{"type":"ephemeral"}}],` +
		`"tools":[{"name":"Bash","input_schema":{"type":"object"}},{"name":"Read","input_schema":{"type":"object"}}],` +
		`"messages":[` + strings.Join(messages, ",") + `]}`
}

const (
	userFix       = `{"role":"user","content":[{"type":"text","text":"please fix the tests"}]}`
	userFixMarked = `{"role":"user","content":[{"type":"text","text":"please fix the tests","cache_control":{"type":"ephemeral"}}]}`
)

// assistantWith is the first reply as a correct client sends it back.
func assistantWith(ids []string) string {
	return fmt.Sprintf(`{"role":"assistant","content":[{"type":"text","text":"Running the tests."},`+
		`{"type":"tool_use","id":%q,"name":"Bash","input":{"command":"go test ./..."}},`+
		`{"type":"tool_use","id":%q,"name":"Read","input":{"path":"a.go"}}]}`, ids[0], ids[1])
}

// resultsFor answers call ids; the last block carries the moving cache
// marker.
func resultsFor(results ...string) string {
	return `{"role":"user","content":[` + strings.Join(results, ",") + `]}`
}

func result(id, content string, isError bool) string {
	return fmt.Sprintf(`{"type":"tool_result","tool_use_id":%q,"content":%q,"is_error":%t,"cache_control":{"type":"ephemeral"}}`, id, content, isError)
}

func TestExpectationsAnthropic(t *testing.T) {
	first := firstReply
	ids := anthropicDialect{}.callIDs(&turn{api: APIAnthropic, n: 1, reply: &first})
	good := func(ids []string) string {
		return anthropicTurn(userFix, assistantWith(ids), resultsFor(result(ids[0], "--- FAIL: TestX", true), result(ids[1], "package a", false)))
	}
	tests := []struct {
		name   string
		fault  *Fault // on the first step
		expect Expect // on the second step
		second string
		want   []string
	}{{
		name: "well-formed turn",
		expect: Expect{
			ToolResults:     []ToolResultExpect{{Call: 0, Contains: []string{"FAIL"}, IsError: ptr(true)}, {Call: 1, NotContains: []string{"FAIL"}, IsError: ptr(false)}},
			UserContains:    []string{"fix the tests"},
			SystemContains:  []string{"Lathe"},
			Tools:           []string{"Bash", "Read"},
			CacheMarkers:    true,
			ExtendsPrevious: true,
		},
		second: good(ids),
	}, {
		name:   "duplicated tool result",
		second: anthropicTurn(userFix, assistantWith(ids), resultsFor(result(ids[0], "FAIL", true), result(ids[0], "FAIL", true), result(ids[1], "x", false))),
		want:   []string{fmt.Sprintf("request 2: 2 tool results for call id %q", ids[0])},
	}, {
		name:   "missing tool result",
		second: anthropicTurn(userFix, assistantWith(ids), resultsFor(result(ids[0], "FAIL", true))),
		want:   []string{"request 2: no tool result for call 1 (Read, id " + ids[1]},
	}, {
		name:   "wrong call id",
		second: anthropicTurn(userFix, assistantWith(ids), resultsFor(result(ids[0], "FAIL", true), result("toolu_01bogus", "x", false))),
		want:   []string{`tool result for call id "toolu_01bogus", which no completed reply made`, "no tool result for call 1 (Read"},
	}, {
		name:   "duplicated assistant message",
		second: anthropicTurn(userFix, assistantWith(ids), assistantWith(ids), resultsFor(result(ids[0], "FAIL", true), result(ids[1], "x", false))),
		want:   []string{"request 2: assistant message appears 2 times: calls:" + ids[0]},
	}, {
		name:   "rewritten history",
		expect: Expect{ExtendsPrevious: true},
		second: anthropicTurn(strings.Replace(userFix, "please", "PLEASE", 1), assistantWith(ids), resultsFor(result(ids[0], "FAIL", true), result(ids[1], "x", false))),
		want:   []string{"request 2 (step 2): conversation does not extend the previous request's: message 0 changed at byte"},
	}, {
		name: "tool result content and flag",
		expect: Expect{ToolResults: []ToolResultExpect{
			{Call: 0, Contains: []string{"PASS"}, NotContains: []string{"FAIL"}, IsError: ptr(false)},
			{Call: 2},
		}},
		second: good(ids),
		want: []string{
			`result of call 0 (Bash) lacks "PASS"; it reads "--- FAIL: TestX"`,
			`result of call 0 (Bash) contains "FAIL"`,
			"result of call 0 (Bash) has is_error true, want false",
			"expect.tool_results[1]: call 2, but the previous reply made 2 tool calls",
		},
	}, {
		name:   "prompt, user message and tools",
		expect: Expect{UserContains: []string{"deploy"}, SystemContains: []string{"AGENTS.md"}, Tools: []string{"Write"}},
		second: good(ids),
		want: []string{
			`latest user message lacks "deploy"; it reads "please fix the tests"`,
			`system prompt lacks "AGENTS.md"`,
			`tool "Write" is not offered (offered: Bash, Read)`,
		},
	}, {
		name:   "no cache markers",
		expect: Expect{CacheMarkers: true},
		second: strings.ReplaceAll(good(ids), `,"cache_control":{"type":"ephemeral"}`, ""),
		want:   []string{"no cache_control on the tools or system prompt", "no cache_control on the last message"},
	}, {
		name:   "tools of a cut reply answered",
		fault:  &Fault{Cut: CutMidToolArgs},
		second: good(ids),
		want: []string{
			fmt.Sprintf("tool result for call id %q, which no completed reply made", ids[0]),
			fmt.Sprintf("tool result for call id %q, which no completed reply made", ids[1]),
		},
	}, {
		name:   "retry after a cut",
		fault:  &Fault{Cut: CutMidText},
		expect: Expect{ExtendsPrevious: true},
		second: anthropicTurn(userFixMarked),
	}, {
		name:   "retry after an error status",
		fault:  &Fault{Status: 529},
		second: anthropicTurn(userFixMarked),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reply *Reply
			if tt.fault == nil || tt.fault.Status == 0 {
				reply = &firstReply
			}
			srv := newTestServer(t,
				Step{Reply: reply, Fault: tt.fault},
				Step{Expect: &tt.expect, Reply: &Reply{Text: "Done."}},
			)
			request(t, srv, "/v1/messages", anthropicTurn(userFixMarked))
			resp, body := post(t, srv, "/v1/messages", tt.second)
			if resp.StatusCode != 200 || !strings.Contains(body, "event: message_stop") {
				t.Errorf("the second reply was not sent in full despite failures: %d %s", resp.StatusCode, body)
			}
			wantFailures(t, srv, tt.want...)
		})
	}
}

// An assistant message the server produced twice may appear twice.
func TestRepeatedReplyTextMayRepeat(t *testing.T) {
	srv := newTestServer(t, Step{Reply: &Reply{Text: "OK."}}, Step{Reply: &Reply{Text: "OK."}}, Step{Reply: &Reply{Text: "Bye."}})
	ok := `{"role":"assistant","content":[{"type":"text","text":"OK."}]}`
	user := func(s string) string { return fmt.Sprintf(`{"role":"user","content":%q}`, s) }
	post(t, srv, "/v1/messages", anthropicTurn(user("a")))
	post(t, srv, "/v1/messages", anthropicTurn(user("a"), ok, user("b")))
	post(t, srv, "/v1/messages", anthropicTurn(user("a"), ok, user("b"), ok, ok, user("c")))
	wantFailures(t, srv, "request 3: assistant message appears 3 times: text:OK.")
}

func TestExpectationsResponses(t *testing.T) {
	first := firstReply
	first.Thinking = "think"
	tr := &turn{api: APIResponses, n: 1, reply: &first}
	d := responsesDialect{}
	ids := d.callIDs(tr)
	rs := mustMarshal(d.reasoningItem(tr, true))
	call := func(i int) string {
		return string(mustMarshal(d.callItem(tr, i, true)))
	}
	output := func(id, text string) string {
		return fmt.Sprintf(`{"type":"function_call_output","call_id":%q,"output":%q}`, id, text)
	}
	body := func(key string, items ...string) string {
		return `{"model":"gpt-5","stream":true,"instructions":"You are Lathe.","prompt_cache_key":` + key +
			`,"tools":[{"type":"function","name":"Bash"},{"type":"custom","name":"apply_patch"}],` +
			`"input":[{"role":"user","content":[{"type":"input_text","text":"please fix the tests"}]}` + strings.Join(append([]string{""}, items...), ",") + `]}`
	}
	expect := Expect{
		ToolResults:     []ToolResultExpect{{Call: 0, Contains: []string{"FAIL"}, IsError: ptr(false)}, {Call: 1, Contains: []string{"package"}}},
		Tools:           []string{"apply_patch"},
		SystemContains:  []string{"Lathe"},
		UserContains:    []string{"fix"},
		CacheMarkers:    true,
		ExtendsPrevious: true,
	}
	tests := []struct {
		name   string
		second string
		want   []string
	}{
		{"well-formed turn", body(`"s1"`, string(rs), call(0), call(1), output(ids[0], "FAIL"), output(ids[1], "package a")), nil},
		{"duplicated reasoning item", body(`"s1"`, string(rs), string(rs), call(0), call(1), output(ids[0], "FAIL"), output(ids[1], "package a")),
			[]string{"assistant message appears 2 times: reasoning:rs_"}},
		{"duplicated output", body(`"s1"`, string(rs), call(0), call(1), output(ids[0], "FAIL"), output(ids[1], "package a"), output(ids[1], "package a")),
			[]string{"2 tool results for call id " + fmt.Sprintf("%q", ids[1])}},
		{"changed cache key", body(`"s2"`, string(rs), call(0), call(1), output(ids[0], "FAIL"), output(ids[1], "package a")),
			[]string{`prompt_cache_key "s2" differs from the first request's "s1"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := first
			srv := newTestServer(t, Step{Reply: &reply}, Step{Expect: &expect, Reply: &Reply{Text: "Done."}})
			post(t, srv, "/v1/responses", body(`"s1"`))
			post(t, srv, "/v1/responses", tt.second)
			wantFailures(t, srv, tt.want...)
		})
	}
}

func TestExpectationsChat(t *testing.T) {
	first := firstReply
	ids := chatDialect{}.callIDs(&turn{api: APIChat, n: 1, reply: &first})
	body := func(messages ...string) string {
		return `{"model":"m","stream":true,"tools":[{"type":"function","function":{"name":"Bash"}}],"messages":[` +
			`{"role":"system","content":"You are Lathe."},{"role":"user","content":"please fix the tests"}` +
			strings.Join(append([]string{""}, messages...), ",") + `]}`
	}
	assistant := fmt.Sprintf(`{"role":"assistant","content":"Running the tests.","tool_calls":[`+
		`{"id":%q,"type":"function","function":{"name":"Bash","arguments":"{}"}},`+
		`{"id":%q,"type":"function","function":{"name":"Read","arguments":"{}"}}]}`, ids[0], ids[1])
	tool := func(id, content string) string {
		return fmt.Sprintf(`{"role":"tool","tool_call_id":%q,"content":%q}`, id, content)
	}
	expect := Expect{
		ToolResults:     []ToolResultExpect{{Call: 1, Contains: []string{"package"}}},
		SystemContains:  []string{"Lathe"},
		Tools:           []string{"Bash"},
		CacheMarkers:    true, // Nothing to check on Chat.
		ExtendsPrevious: true,
	}
	tests := []struct {
		name   string
		second string
		want   []string
	}{
		{"well-formed turn", body(assistant, tool(ids[0], "ok"), tool(ids[1], "package a")), nil},
		{"wrong id", body(assistant, tool(ids[0], "ok"), tool("call_x", "package a")),
			[]string{`tool result for call id "call_x"`, "no tool result for call 1 (Read"}},
		{"dropped history", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`,
			[]string{"no tool result for call 0", "no tool result for call 1", `system prompt lacks "Lathe"`, `tool "Bash" is not offered`, "does not extend"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := first
			srv := newTestServer(t, Step{Reply: &reply}, Step{Expect: &expect, Reply: &Reply{Text: "Done."}})
			post(t, srv, "/v1/chat/completions", body())
			post(t, srv, "/v1/chat/completions", tt.second)
			wantFailures(t, srv, tt.want...)
		})
	}
}

func TestBlocksExtend(t *testing.T) {
	for _, tc := range []struct {
		prev, cur string
		want      bool
	}{
		{`{"role":"user","content":[{"type":"tool_result"}]}`, `{"role":"user","content":[{"type":"tool_result"},{"type":"text"}]}`, true},
		{`{"role":"user","content":[{"type":"tool_result"}]}`, `{"role":"user","content":[{"type":"tool_result"}]}`, false},
		{`{"role":"user","content":[{"type":"tool_result"}]}`, `{"role":"user","content":[{"type":"text"},{"type":"tool_result"}]}`, false},
		{`{"role":"user","content":[{"type":"text"}]}`, `{"role":"assistant","content":[{"type":"text"},{"type":"text"}]}`, false},
		{`{"role":"user","content":"x"}`, `{"role":"user","content":"xy"}`, false},
	} {
		if got := blocksExtend([]byte(tc.prev), []byte(tc.cur)); got != tc.want {
			t.Errorf("blocksExtend(%s, %s) = %t", tc.prev, tc.cur, got)
		}
	}
}
