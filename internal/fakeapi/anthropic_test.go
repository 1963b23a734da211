package fakeapi

import (
	"errors"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"
)

func anthropicClient(srv *Server) anthropic.Client {
	return anthropic.NewClient(
		option.WithBaseURL(srv.URL()),
		option.WithAPIKey("sk-ant-test"),
		option.WithMaxRetries(0),
	)
}

// streamAnthropic runs a streaming request through the SDK and accumulates
// the message as Lathe's adapter will.
func streamAnthropic(t *testing.T, client anthropic.Client, params anthropic.MessageNewParams) (anthropic.Message, []string, error) {
	t.Helper()
	stream := client.Messages.NewStreaming(testCtx(t), params)
	defer stream.Close()
	var msg anthropic.Message
	var types []string
	for stream.Next() {
		ev := stream.Current()
		types = append(types, ev.Type)
		if err := msg.Accumulate(ev); err != nil {
			t.Fatalf("accumulate %s: %v", ev.Type, err)
		}
	}
	return msg, types, stream.Err()
}

func anthropicParams() anthropic.MessageNewParams {
	cache := anthropic.NewCacheControlEphemeralParam()
	schema := anthropic.ToolInputSchemaParam{Properties: map[string]any{"command": map[string]any{"type": "string"}}}
	return anthropic.MessageNewParams{
		Model:     "claude-sonnet-4-5",
		MaxTokens: 4096,
		System:    []anthropic.TextBlockParam{{Text: "You are Lathe. AGENTS.md text: run go test.", CacheControl: cache}},
		Tools: []anthropic.ToolUnionParam{
			{OfTool: &anthropic.ToolParam{Name: "Bash", InputSchema: schema}},
			{OfTool: &anthropic.ToolParam{Name: "apply_patch", InputSchema: schema, CacheControl: cache}},
		},
		Messages: []anthropic.MessageParam{{
			Role:    anthropic.MessageParamRoleUser,
			Content: []anthropic.ContentBlockParamUnion{{OfText: &anthropic.TextBlockParam{Text: "please fix the tests", CacheControl: cache}}},
		}},
		Thinking: anthropic.ThinkingConfigParamOfEnabled(2048),
	}
}

func TestAnthropicStreamThroughSDK(t *testing.T) {
	reply := &Reply{
		Thinking: "The tests probably fail; run them first.",
		Text:     "Let me run the tests.",
		ToolCalls: []ToolCall{
			{Name: "Bash", Input: raw(`{"command": "go test ./...", "timeout": 60}`)},
			{Name: "apply_patch", Custom: true, InputText: "*** Begin Patch\n*** End Patch\n"},
		},
	}
	srv := newTestServer(t,
		Step{
			Expect: &Expect{
				UserContains:   []string{"fix the tests"},
				SystemContains: []string{"AGENTS.md text"},
				Tools:          []string{"Bash", "apply_patch"},
				CacheMarkers:   true,
			},
			Reply: reply,
		},
		Step{
			Expect: &Expect{
				ToolResults: []ToolResultExpect{
					{Call: 0, Contains: []string{"FAIL"}, IsError: ptr(true)},
					{Call: 1, NotContains: []string{"rejected"}, IsError: ptr(false)},
				},
				CacheMarkers:    true,
				ExtendsPrevious: true,
			},
			Reply: &Reply{Text: "Fixed: the tests pass."},
		},
	)
	client := anthropicClient(srv)
	params := anthropicParams()

	msg, types, err := streamAnthropic(t, client, params)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	wantTypes := []string{"message_start", "content_block_start", "content_block_delta"}
	if strings.Join(types[:3], " ") != strings.Join(wantTypes, " ") || types[len(types)-1] != "message_stop" {
		t.Errorf("event types = %v", types)
	}
	if got := strings.Count(strings.Join(types, " "), "content_block_start"); got != 4 {
		t.Errorf("%d content blocks started, want 4", got)
	}
	if len(msg.Content) != 4 {
		t.Fatalf("got %d content blocks, want 4: %s", len(msg.Content), msg.RawJSON())
	}
	thinking, text, bash, patch := msg.Content[0], msg.Content[1], msg.Content[2], msg.Content[3]
	if thinking.Type != "thinking" || thinking.Thinking != reply.Thinking || !strings.HasPrefix(thinking.Signature, "Eq") {
		t.Errorf("thinking block = %+v", thinking)
	}
	if text.Type != "text" || text.Text != reply.Text {
		t.Errorf("text block = %q %q", text.Type, text.Text)
	}
	if bash.Type != "tool_use" || bash.Name != "Bash" || !strings.HasPrefix(bash.ID, "toolu_01") || len(bash.ID) != 30 {
		t.Errorf("tool_use block = %s %s %s", bash.Type, bash.Name, bash.ID)
	}
	if !jsonEqual(t, string(bash.Input), `{"command":"go test ./...","timeout":60}`) {
		t.Errorf("Bash input = %s", bash.Input)
	}
	if patch.Name != "apply_patch" || !jsonEqual(t, string(patch.Input), `{"input":"*** Begin Patch\n*** End Patch\n"}`) {
		t.Errorf("custom call became %s %s", patch.Name, patch.Input)
	}
	if bash.ID == patch.ID {
		t.Errorf("tool call ids repeat: %s", bash.ID)
	}
	if msg.StopReason != anthropic.StopReasonToolUse || msg.Model != "claude-sonnet-4-5" || !strings.HasPrefix(msg.ID, "msg_01") {
		t.Errorf("stop reason %q, model %q, id %q", msg.StopReason, msg.Model, msg.ID)
	}
	u1 := msg.Usage
	wantOutput, _ := outputTokens(reply)
	if u1.OutputTokens != wantOutput || u1.InputTokens <= 0 || u1.CacheCreationInputTokens <= 0 || u1.CacheReadInputTokens != 0 {
		t.Errorf("first usage = in %d, write %d, read %d, out %d (want out %d, a cache write and no read)",
			u1.InputTokens, u1.CacheCreationInputTokens, u1.CacheReadInputTokens, u1.OutputTokens, wantOutput)
	}

	// The second turn sends the message back with the tool results, as a
	// correct agent loop does, and moves the last-message cache marker.
	params.Messages[0].Content[0].OfText.CacheControl = anthropic.CacheControlEphemeralParam{}
	failed := anthropic.NewToolResultBlock(bash.ID, "--- FAIL: TestParse (0.00s)", true)
	applied := anthropic.NewToolResultBlock(patch.ID, "patch applied", false)
	applied.OfToolResult.CacheControl = anthropic.NewCacheControlEphemeralParam()
	params.Messages = append(params.Messages, msg.ToParam(), anthropic.NewUserMessage(failed, applied))
	msg2, _, err := streamAnthropic(t, client, params)
	if err != nil {
		t.Fatalf("second stream: %v", err)
	}
	if msg2.StopReason != anthropic.StopReasonEndTurn || len(msg2.Content) != 1 || msg2.Content[0].Text != "Fixed: the tests pass." {
		t.Errorf("second message = %s", msg2.RawJSON())
	}
	// The prefix cached by the first request is read back; the new turn is
	// written.
	u2 := msg2.Usage
	if u2.CacheReadInputTokens != u1.CacheCreationInputTokens || u2.CacheCreationInputTokens <= 0 {
		t.Errorf("second usage: read %d (want %d), write %d (want > 0)", u2.CacheReadInputTokens, u1.CacheCreationInputTokens, u2.CacheCreationInputTokens)
	}
	wantNoFailures(t, srv)
}

func TestAnthropicErrorsThroughSDK(t *testing.T) {
	tests := []struct {
		name       string
		fault      Fault
		status     int
		typ        string
		message    string
		retryAfter string
	}{
		{"rate limit", Fault{Status: 429, RetryAfter: "7"}, 429, "rate_limit_error", "rate limit", "7"},
		{"overloaded", Fault{Status: 529}, 529, "overloaded_error", "Overloaded", ""},
		{"server error", Fault{Status: 500}, 500, "api_error", "Internal server error", ""},
		{"auth", Fault{Status: 401}, 401, "authentication_error", "x-api-key", ""},
		{"override", Fault{Status: 400, Type: "invalid_request_error", Message: "max_tokens: too big"}, 400, "invalid_request_error", "max_tokens: too big", ""},
		{"context window", Fault{ContextWindow: true}, 400, "invalid_request_error", "prompt is too long: 212345 tokens > 200000 maximum", ""},
		// A mid-stream error arrives on a 200 response as an error event.
		{"mid-stream", Fault{MidStreamError: "overloaded_error"}, 200, "overloaded_error", "Overloaded", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, Step{Fault: &tt.fault})
			_, _, err := streamAnthropic(t, anthropicClient(srv), anthropicParams())
			var apiErr *anthropic.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v (%T), want *anthropic.Error", err, err)
			}
			if apiErr.StatusCode != tt.status || string(apiErr.Type()) != tt.typ {
				t.Errorf("status %d type %q, want %d %q", apiErr.StatusCode, apiErr.Type(), tt.status, tt.typ)
			}
			if !strings.Contains(apiErr.RawJSON(), tt.message) {
				t.Errorf("body %s lacks %q", apiErr.RawJSON(), tt.message)
			}
			if got := apiErr.Response.Header.Get("retry-after"); got != tt.retryAfter {
				t.Errorf("retry-after = %q, want %q", got, tt.retryAfter)
			}
			if !strings.HasPrefix(apiErr.RequestID, "req_011") {
				t.Errorf("request id = %q", apiErr.RequestID)
			}
			wantNoFailures(t, srv)
		})
	}
}

func TestAnthropicNonStreaming(t *testing.T) {
	srv := newTestServer(t, Step{Reply: &Reply{Text: "hello", ToolCalls: []ToolCall{{Name: "Read", Input: raw(`{"path":"a.go"}`)}}}})
	params := anthropicParams()
	params.Thinking = anthropic.ThinkingConfigParamUnion{}
	client := anthropicClient(srv)
	msg, err := client.Messages.New(testCtx(t), params)
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Content) != 2 || msg.Content[0].Text != "hello" || msg.Content[1].Name != "Read" || !jsonEqual(t, string(msg.Content[1].Input), `{"path":"a.go"}`) {
		t.Errorf("message = %s", msg.RawJSON())
	}
	if msg.StopReason != anthropic.StopReasonToolUse || msg.Usage.OutputTokens <= 0 {
		t.Errorf("stop %q usage %+v", msg.StopReason, msg.Usage)
	}
	wantNoFailures(t, srv)
}

func TestAnthropicPacedDeltas(t *testing.T) {
	reply := &Reply{Text: strings.Repeat("word ", 40), TextDeltas: 20, DeltaMS: 1}
	srv := newTestServer(t, Step{Reply: reply})
	msg, types, err := streamAnthropic(t, anthropicClient(srv), anthropicParams())
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	if got := strings.Count(strings.Join(types, " "), "content_block_delta"); got != 20 {
		t.Errorf("%d deltas, want 20", got)
	}
	if len(msg.Content) != 1 || msg.Content[0].Text != reply.Text {
		t.Errorf("message = %s", msg.RawJSON())
	}
	wantNoFailures(t, srv)
}
