package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/provider/internal/ssetest"
)

var update = flag.Bool("update", false, "rewrite the golden sections of testdata/*.txtar")

// newProvider returns a provider talking to srv, with options from the
// case when it has them.
func newProvider(t *testing.T, url string, o Options) *Provider {
	t.Helper()
	o.BaseURL = url
	o.APIKey = "sk-ant-test"
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 5 * time.Second
	}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// loadCase reads a case's request and options.
func loadCase(t *testing.T, path string) (*ssetest.Case, *llm.Request, Options) {
	t.Helper()
	c := ssetest.Load(t, path)
	var o Options
	c.Options(t, &o)
	return c, c.Request(t), o
}

func TestConformance(t *testing.T) {
	ssetest.Conformance(t, "testdata", *update, newProvider, checkSent)
}

// sentBody is the part of a Messages request the invariants look at.
type sentBody struct {
	Stream       bool                   `json:"stream"`
	CacheControl *struct{ Type string } `json:"cache_control"`
	System       []struct {
		CacheControl *struct{ Type string } `json:"cache_control"`
	} `json:"system"`
	Tools []struct {
		CacheControl *struct{ Type string } `json:"cache_control"`
	} `json:"tools"`
	Messages []struct {
		Role    string `json:"role"`
		Content []struct {
			Type         string                 `json:"type"`
			ID           string                 `json:"id"`
			ToolUseID    string                 `json:"tool_use_id"`
			CacheControl *struct{ Type string } `json:"cache_control"`
		} `json:"content"`
	} `json:"messages"`
}

// checkSent asserts what every request must satisfy, whatever the case.
func checkSent(t *testing.T, body []byte) {
	t.Helper()
	var w sentBody
	if err := json.Unmarshal(body, &w); err != nil {
		t.Fatalf("sent body: %v", err)
	}
	if !w.Stream {
		t.Error("request is not streamed")
	}
	if n := strings.Count(string(body), `"cache_control"`); n > 4 {
		t.Errorf("%d cache breakpoints, the API allows 4", n)
	}
	if n := len(w.Tools); n > 0 && w.Tools[n-1].CacheControl == nil {
		t.Error("last tool has no cache breakpoint")
	}
	if n := len(w.System); n > 0 && w.System[n-1].CacheControl == nil {
		t.Error("system prompt has no cache breakpoint")
	}
	if w.CacheControl == nil || w.CacheControl.Type != "ephemeral" {
		t.Error("no automatic cache breakpoint (top-level cache_control)")
	}
	if n := len(w.Messages); n > 0 {
		for _, b := range w.Messages[n-1].Content {
			if b.CacheControl != nil {
				t.Error("newest message has an explicit cache breakpoint, where the automatic one goes")
			}
		}
	}
	for i, m := range w.Messages {
		if i > 0 && w.Messages[i-1].Role == m.Role {
			t.Errorf("messages %d and %d are both %s", i-1, i, m.Role)
		}
		var results []string
		seenOther := false
		for _, b := range m.Content {
			switch {
			case b.Type == "tool_result":
				if seenOther {
					t.Errorf("message %d: tool_result after other content", i)
				}
				results = append(results, b.ToolUseID)
			default:
				seenOther = true
			}
		}
		if len(results) == 0 {
			continue
		}
		var calls []string
		if i > 0 {
			for _, b := range w.Messages[i-1].Content {
				if b.Type == "tool_use" {
					calls = append(calls, b.ID)
				}
			}
		}
		if !reflect.DeepEqual(results, calls) {
			t.Errorf("message %d answers %v, the previous message called %v", i, results, calls)
		}
	}
}

// toolUseCase returns the tool_use case, whose stream the failure tests
// cut and stall at chosen events, and a dial with the case's options,
// which its stream was recorded with.
func toolUseCase(t *testing.T) (*llm.Request, string, ssetest.Dial) {
	c, req, o := loadCase(t, "testdata/tool_use.txtar")
	dial := func(t *testing.T, url string, idleTimeout time.Duration) llm.Provider {
		o := o
		o.IdleTimeout = idleTimeout
		return newProvider(t, url, o)
	}
	return req, c.Stream(t), dial
}

func TestIncompleteStreams(t *testing.T) {
	req, stream, dial := toolUseCase(t)
	ssetest.Failures(t, req, []ssetest.Failure{
		// Events: 0 message_start, 1 thinking start, 2 ping, 3-5 thinking
		// deltas, 6 stop, 7 text start, 8-9 text deltas, 10 stop, 11 tool
		// start, 12-14 input deltas, 15 stop, 16 message_delta, 17
		// message_stop.
		ssetest.Incomplete("cut mid text", ssetest.Reply{Body: stream, CutAfter: 9}, ""),
		ssetest.Incomplete("cut mid tool arguments", ssetest.Reply{Body: stream, CutAfter: 14}, ""),
		ssetest.Incomplete("cut before message_stop", ssetest.Reply{Body: stream, CutAfter: 17}, ""),
		ssetest.Incomplete("clean end before message_stop", ssetest.Reply{Body: stream, EndAfter: 17}, "message_stop"),
		ssetest.Incomplete("stall", ssetest.Reply{Body: stream, StallAfter: 9}, "stream stalled: no data for 200ms"),
		ssetest.Incomplete("malformed event", ssetest.Reply{Body: ssetest.Garble(stream, 9)}, "malformed stream event: "),
	}, dial)
}

func TestCancelMidStream(t *testing.T) {
	req, stream, dial := toolUseCase(t)
	ssetest.Cancel(t, req, ssetest.Reply{Body: stream, StallAfter: 9}, dial)
}

func TestHTTPErrors(t *testing.T) {
	req, _, dial := toolUseCase(t)
	ssetest.Failures(t, req, []ssetest.Failure{
		{
			Name: "overloaded",
			Reply: ssetest.Reply{Status: 529, Header: map[string]string{"request-id": "req_1"},
				Body: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}`},
			Status: 529, Retryable: true, Msg: "anthropic: 529 overloaded_error: Overloaded",
		},
		{
			Name: "rate limited",
			Reply: ssetest.Reply{Status: 429, Header: map[string]string{"retry-after": "2"},
				Body: `{"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed the rate limit"}}`},
			Status: 429, Retryable: true, RetryAfter: 2 * time.Second,
		},
		{
			Name: "prompt too long",
			Reply: ssetest.Reply{Status: 400,
				Body: `{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 212345 tokens > 200000 maximum"}}`},
			Status: 400, ContextWindow: true,
		},
		{
			Name: "bad key",
			Reply: ssetest.Reply{Status: 401,
				Body: `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`},
			Status: 401, Msg: "ANTHROPIC_API_KEY",
		},
		{
			Name: "error event mid-stream",
			Reply: ssetest.Reply{Body: ssetest.SSE(
				"message_start", `{"type":"message_start","message":{"id":"msg_9","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1}}}`,
				"error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)},
			Retryable: true, Msg: "Overloaded",
		},
	}, dial)
}

// TestAppendOnly checks that successive turns of a conversation send
// requests that extend each other, apart from where the cache
// breakpoints sit, so that each turn can read the last from the cache.
func TestAppendOnly(t *testing.T) {
	_, req, o := loadCase(t, "testdata/tool_use.txtar")
	p, err := New(Options{ThinkingBudget: o.ThinkingBudget, MaxTokens: o.MaxTokens, APIKey: "unused"})
	if err != nil {
		t.Fatal(err)
	}
	prev := []any{}
	for i, h := range ssetest.Snapshots(req.History) {
		n := i + 1
		turn := *req
		turn.History = h
		body, err := p.body(&turn)
		if err != nil {
			t.Fatal(err)
		}
		b := body.Bytes()
		if c := strings.Count(string(b), "cache_control"); c > 4 {
			t.Errorf("turn %d: %d breakpoints", n, c)
		}
		var v struct {
			Messages []any `json:"messages"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		msgs := stripKey(v.Messages, "cache_control").([]any)
		if len(msgs) < len(prev) || !reflect.DeepEqual(msgs[:len(prev)], prev) {
			t.Errorf("turn %d does not extend turn %d:\n%s", n, n-1, b)
		}
		prev = msgs
	}
}

func TestThinkingBudget(t *testing.T) {
	for _, o := range []Options{{ThinkingBudget: 100}, {ThinkingBudget: 16384}, {ThinkingBudget: 8000, MaxTokens: 8000}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted an impossible thinking budget", o)
		}
	}
	p, err := New(Options{ThinkingBudget: 4096, APIKey: "unused"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Stream(context.Background(), &llm.Request{MaxTokens: 2000, History: llm.NewHistory(llm.Message{Role: llm.RoleUser, Parts: []llm.Part{{Kind: llm.PartText, Text: "hi"}}})}, nil)
	if ae, ok := errors.AsType[*llm.APIError](err); !ok || ae.Retryable || !strings.Contains(ae.Message, "thinking budget") {
		t.Errorf("err = %v, want a permanent error about the thinking budget", err)
	}
}

// stripKey returns v, decoded JSON, without the object members called key.
func stripKey(v any, key string) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			if k != key {
				out[k] = stripKey(x, key)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = stripKey(x, key)
		}
		return out
	}
	return v
}

// FuzzStream holds the adapter to ssetest.CheckResponse for any stream.
func FuzzStream(f *testing.F) {
	ssetest.Fuzz(f, "testdata", func(hc *http.Client) (*Provider, error) {
		return New(Options{BaseURL: "http://fuzz.invalid", APIKey: "sk-ant-test", HTTPClient: hc})
	})
}
