package provider

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/provider/internal/ssetest"
)

var prompt = &llm.Request{
	Model:   "m",
	History: llm.NewHistory(llm.Message{Role: llm.RoleUser, Parts: []llm.Part{{Kind: llm.PartText, Text: "hi"}}}),
}

// replies are a minimal successful stream in each API's format.
var replies = map[string]string{
	KindAnthropic: ssetest.SSE(
		"message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}}`,
		"content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
		"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hello"}}`,
		"content_block_stop", `{"type":"content_block_stop","index":0}`,
		"message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":2}}`,
		"message_stop", `{"type":"message_stop"}`),
	KindOpenAI: ssetest.SSE(
		"response.output_text.delta", `{"type":"response.output_text.delta","sequence_number":0,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"hello"}`,
		"response.output_item.done", `{"type":"response.output_item.done","sequence_number":0,"output_index":0,"item":{"id":"msg_1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","annotations":[],"text":"hello"}]}}`,
		"response.completed", `{"type":"response.completed","sequence_number":1,"response":{"id":"resp_1","object":"response","status":"completed","model":"m","output":[],"usage":{"input_tokens":3,"input_tokens_details":{"cached_tokens":0},"output_tokens":2,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":5}}}`),
	KindOpenAIChat: ssetest.SSE(
		"", `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hello"},"finish_reason":"stop"}]}`,
		"", `[DONE]`),
}

// baseURL is where each SDK expects the API root.
func baseURL(kind, url string) string {
	if kind == KindAnthropic {
		return url
	}
	return url + "/v1"
}

func TestNewEachKindWithRetry(t *testing.T) {
	overloaded := map[string]ssetest.Reply{
		KindAnthropic:  {Status: 529, Body: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`},
		KindOpenAI:     {Status: 500, Body: `{"error":{"message":"The server had an error","type":"server_error"}}`},
		KindOpenAIChat: {Status: 503, Body: `{"error":{"message":"busy","type":"server_error"}}`},
	}
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) {
			srv := ssetest.NewServer(t, overloaded[kind], ssetest.Reply{Body: replies[kind]})
			p, err := New(kind, Options{BaseURL: baseURL(kind, srv.URL), APIKey: "key", Headers: map[string]string{"X-Lathe": "1"}})
			if err != nil {
				t.Fatal(err)
			}
			var retries []Retry
			var text strings.Builder
			resp, err := WithRetry(p, RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}, func(r Retry) {
				retries = append(retries, r)
			}).Stream(context.Background(), prompt, func(d llm.Delta) { text.WriteString(d.Text) })
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			if got := resp.Message.Text(); got != "hello" || text.String() != "hello" {
				t.Errorf("text = %q, deltas %q", got, text.String())
			}
			if len(retries) != 1 || retries[0].Attempt != 1 {
				t.Errorf("retries = %+v, want one", retries)
			}
			for i, h := range srv.Headers() {
				if h.Get("X-Lathe") != "1" {
					t.Errorf("request %d lacks the configured header", i+1)
				}
				if h.Get("X-Api-Key") != "key" && h.Get("Authorization") != "Bearer key" {
					t.Errorf("request %d lacks the configured key", i+1)
				}
				// The SDKs' own retries are off: each attempt is the first.
				if n := h.Get("X-Stainless-Retry-Count"); n != "0" {
					t.Errorf("request %d: X-Stainless-Retry-Count = %q", i+1, n)
				}
			}
		})
	}
}

func TestNewOptionsReachAdapters(t *testing.T) {
	srv := ssetest.NewServer(t, ssetest.Reply{Body: replies[KindAnthropic]})
	p, err := New(KindAnthropic, Options{BaseURL: srv.URL, APIKey: "key", MaxTokens: 777})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Stream(context.Background(), prompt, nil); err != nil {
		t.Fatal(err)
	}
	if body := string(srv.Bodies()[0]); !strings.Contains(body, `"max_tokens":777`) {
		t.Errorf("MaxTokens did not reach the request: %s", body)
	}
	if _, err := New(KindAnthropic, Options{ThinkingBudget: 10}); err == nil {
		t.Error("an invalid thinking budget was accepted")
	}
}

func TestNewUnknownKind(t *testing.T) {
	_, err := New("gemini", Options{})
	if err == nil || !strings.Contains(err.Error(), `"gemini"`) || !strings.Contains(err.Error(), KindOpenAIChat) {
		t.Errorf("err = %v", err)
	}
}

func TestEnvKey(t *testing.T) {
	for kind, want := range map[string]string{
		KindAnthropic:  "ANTHROPIC_API_KEY",
		KindOpenAI:     "OPENAI_API_KEY",
		KindOpenAIChat: "OPENAI_API_KEY",
		"gemini":       "",
	} {
		if got := EnvKey(kind); got != want {
			t.Errorf("EnvKey(%q) = %q, want %q", kind, got, want)
		}
	}
}

// TestKeyFromEnvironment checks that an empty APIKey falls back to the
// SDK's environment variable, and that a rejected key names it.
func TestKeyFromEnvironment(t *testing.T) {
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-from-env")
	srv := ssetest.NewServer(t, ssetest.Reply{Status: 401, Body: `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`})
	p, err := New(KindAnthropic, Options{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Stream(context.Background(), prompt, nil)
	if got := srv.Headers()[0].Get("X-Api-Key"); got != "sk-ant-from-env" {
		t.Errorf("x-api-key = %q", got)
	}
	ae, ok := errors.AsType[*llm.APIError](err)
	if !ok || ae.Retryable || !strings.Contains(ae.Error(), EnvKey(KindAnthropic)) {
		t.Errorf("err = %v", err)
	}
}
