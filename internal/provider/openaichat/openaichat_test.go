package openaichat

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/provider/internal/ssetest"
	"github.com/lathe-dev/lathe/internal/provider/internal/toolcall"
)

var update = flag.Bool("update", false, "rewrite the golden sections of testdata/*.txtar")

func newProvider(t *testing.T, url string, o Options) *Provider {
	t.Helper()
	o.BaseURL = url + "/v1"
	o.APIKey = "sk-test"
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 5 * time.Second
	}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// dial lets the shared failure tests choose the idle timeout.
func dial(t *testing.T, url string, idleTimeout time.Duration) llm.Provider {
	return newProvider(t, url, Options{IdleTimeout: idleTimeout})
}

// predictableIDs makes generated call ids count up for the test.
func predictableIDs(t *testing.T) {
	n := 0
	orig := toolcall.NewID
	toolcall.NewID = func() string { n++; return fmt.Sprintf("call_generated_%d", n) }
	t.Cleanup(func() { toolcall.NewID = orig })
}

func TestConformance(t *testing.T) {
	predictableIDs(t)
	ssetest.Conformance(t, "testdata", *update, newProvider, checkSent)
}

// sentBody is the part of a Chat Completions request the invariants look at.
type sentBody struct {
	Stream        bool `json:"stream"`
	StreamOptions struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Messages []struct {
		Role       string `json:"role"`
		ToolCallID string `json:"tool_call_id"`
		ToolCalls  []struct {
			ID       string `json:"id"`
			Function struct {
				Arguments string `json:"arguments"`
			} `json:"function"`
		} `json:"tool_calls"`
	} `json:"messages"`
}

// checkSent asserts what every request must satisfy, whatever the case.
func checkSent(t *testing.T, body []byte) {
	t.Helper()
	var w sentBody
	if err := json.Unmarshal(body, &w); err != nil {
		t.Fatalf("sent body: %v", err)
	}
	if !w.Stream || !w.StreamOptions.IncludeUsage {
		t.Error("request does not stream with usage")
	}
	if strings.Contains(string(body), "reasoning") {
		t.Error("reasoning was sent back")
	}
	// The tool messages after an assistant message answer exactly its
	// calls, in order.
	for i := 0; i < len(w.Messages); i++ {
		m := w.Messages[i]
		if m.Role == "tool" {
			t.Errorf("message %d: tool message not after an assistant's calls", i)
			continue
		}
		if len(m.ToolCalls) == 0 {
			continue
		}
		var calls, answers []string
		for _, c := range m.ToolCalls {
			calls = append(calls, c.ID)
			if !json.Valid([]byte(c.Function.Arguments)) {
				t.Errorf("message %d: arguments are not JSON: %s", i, c.Function.Arguments)
			}
		}
		for i+1 < len(w.Messages) && w.Messages[i+1].Role == "tool" {
			i++
			answers = append(answers, w.Messages[i].ToolCallID)
		}
		if !reflect.DeepEqual(calls, answers) {
			t.Errorf("calls %v answered by %v", calls, answers)
		}
	}
}

// toolCallsCase returns the tool_calls case, whose stream the failure
// tests cut and stall at chosen chunks.
func toolCallsCase(t *testing.T) (*llm.Request, string) {
	c := ssetest.Load(t, "testdata/tool_calls.txtar")
	return c.Request(t), c.Stream(t)
}

func TestIncompleteStreams(t *testing.T) {
	req, stream := toolCallsCase(t)
	ssetest.Failures(t, req, []ssetest.Failure{
		// Chunks: 0 role, 1-2 reasoning, 3-5 first call with argument
		// fragments at 4 and 5, 6-7 second call, 8 finish_reason, 9
		// usage, 10 [DONE].
		ssetest.Incomplete("cut mid reasoning", ssetest.Reply{Body: stream, CutAfter: 2}, ""),
		ssetest.Incomplete("cut mid arguments", ssetest.Reply{Body: stream, CutAfter: 5}, ""),
		ssetest.Incomplete("cut before DONE", ssetest.Reply{Body: stream, CutAfter: 10}, ""),
		ssetest.Incomplete("clean end before finish_reason", ssetest.Reply{Body: stream, EndAfter: 8}, "finish_reason"),
		ssetest.Incomplete("stall", ssetest.Reply{Body: stream, StallAfter: 5}, "stream stalled"),
		ssetest.Incomplete("malformed event", ssetest.Reply{Body: ssetest.Garble(stream, 5)}, "malformed stream event: "),
	}, dial)
}

func TestCancelMidStream(t *testing.T) {
	req, stream := toolCallsCase(t)
	ssetest.Cancel(t, req, ssetest.Reply{Body: stream, StallAfter: 5}, dial)
}

func TestErrors(t *testing.T) {
	req, _ := toolCallsCase(t)
	ssetest.Failures(t, req, []ssetest.Failure{
		{
			Name:   "vLLM context length",
			Reply:  ssetest.Reply{Status: 400, Body: `{"object":"error","message":"This model's maximum context length is 32768 tokens. However, you requested 40000 tokens in the messages.","type":"BadRequestError","param":null,"code":400}`},
			Status: 400, ContextWindow: true,
		},
		{
			Name:   "llama.cpp context size",
			Reply:  ssetest.Reply{Status: 400, Body: `{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":9000,"n_ctx":8192}}`},
			Status: 400, ContextWindow: true,
		},
		{
			Name:   "Ollama model not found",
			Reply:  ssetest.Reply{Status: 404, Body: `{"error":{"message":"model \"qwen3\" not found, try pulling it first","type":"api_error","param":null,"code":null}}`},
			Status: 404, Msg: `model "qwen3" not found`,
		},
		{
			Name:   "server busy",
			Reply:  ssetest.Reply{Status: 503, Body: `{"error":{"message":"Service Unavailable","type":"server_error"}}`},
			Status: 503, Retryable: true,
		},
		{
			Name: "error chunk mid-stream",
			Reply: ssetest.Reply{Body: ssetest.SSE(
				"", `{"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}`,
				"", `{"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"m","error":{"code":502,"message":"Provider returned error"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}`)},
			Status: 502, Retryable: true, Msg: "Provider returned error",
		},
	}, dial)
}

func TestNoKeyNeeded(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	c := ssetest.Load(t, "testdata/text.txtar")
	srv := ssetest.NewServer(t, ssetest.Reply{Body: c.Stream(t)})
	p, err := New(Options{BaseURL: srv.URL + "/v1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Stream(context.Background(), c.Request(t), nil); err != nil {
		t.Fatalf("keyless local server: %v", err)
	}
	if auth := srv.Headers()[0].Get("Authorization"); auth != "" {
		t.Errorf("Authorization = %q, want none", auth)
	}
}

// FuzzStream holds the adapter to ssetest.CheckResponse for any stream.
func FuzzStream(f *testing.F) {
	ssetest.Fuzz(f, "testdata", func(hc *http.Client) (*Provider, error) {
		return New(Options{BaseURL: "http://fuzz.invalid/v1", HTTPClient: hc})
	})
}
