package openai

import (
	"context"
	"encoding/json"
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

func TestConformance(t *testing.T) {
	ssetest.Conformance(t, "testdata", *update, newProvider, checkSent)
}

// sentBody is the part of a Responses request the invariants look at.
type sentBody struct {
	Stream  bool     `json:"stream"`
	Store   *bool    `json:"store"`
	Include []string `json:"include"`
	Input   []struct {
		Type   string `json:"type"`
		ID     string `json:"id"`
		CallID string `json:"call_id"`
	} `json:"input"`
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
	if w.Store == nil || *w.Store {
		t.Error("store is not false")
	}
	if !reflect.DeepEqual(w.Include, []string{"reasoning.encrypted_content"}) {
		t.Errorf("include = %v", w.Include)
	}
	// Every output answers a call made earlier, and only reasoning items
	// carry ids: nothing is stored to refer to.
	calls := map[string]string{}
	for i, it := range w.Input {
		switch it.Type {
		case "function_call", "custom_tool_call":
			calls[it.CallID] = it.Type
		case "function_call_output", "custom_tool_call_output":
			if calls[it.CallID]+"_output" != it.Type {
				t.Errorf("input %d: %s for call %q, which is %q", i, it.Type, it.CallID, calls[it.CallID])
			}
			delete(calls, it.CallID)
		}
		if it.ID != "" && it.Type != "reasoning" {
			t.Errorf("input %d: %s carries id %q", i, it.Type, it.ID)
		}
	}
}

// toolCallsCase returns the tool_calls case, whose stream the failure
// tests cut and stall at chosen events.
func toolCallsCase(t *testing.T) (*llm.Request, string) {
	c := ssetest.Load(t, "testdata/tool_calls.txtar")
	return c.Request(t), c.Stream(t)
}

func TestIncompleteStreams(t *testing.T) {
	req, stream := toolCallsCase(t)
	ssetest.Failures(t, req, []ssetest.Failure{
		// Events: 0 created, 1-7 reasoning, 8-12 function call with
		// argument deltas at 9 and 10, 13-17 custom call, 18 completed.
		ssetest.Incomplete("cut mid reasoning", ssetest.Reply{Body: stream, CutAfter: 4}, ""),
		ssetest.Incomplete("cut mid function arguments", ssetest.Reply{Body: stream, CutAfter: 10}, ""),
		ssetest.Incomplete("cut before completed", ssetest.Reply{Body: stream, CutAfter: 18}, ""),
		ssetest.Incomplete("clean end before completed", ssetest.Reply{Body: stream, EndAfter: 18}, "response.completed"),
		ssetest.Incomplete("stall", ssetest.Reply{Body: stream, StallAfter: 10}, "stream stalled"),
		ssetest.Incomplete("malformed event", ssetest.Reply{Body: ssetest.Garble(stream, 10)}, "malformed stream event: "),
	}, dial)
}

func TestCancelMidStream(t *testing.T) {
	req, stream := toolCallsCase(t)
	ssetest.Cancel(t, req, ssetest.Reply{Body: stream, StallAfter: 10}, dial)
}

func TestErrors(t *testing.T) {
	req, _ := toolCallsCase(t)
	created := `{"type":"response.created","sequence_number":0,"response":{"id":"resp_9","object":"response","status":"in_progress","model":"gpt-5","output":[]}}`
	ssetest.Failures(t, req, []ssetest.Failure{
		{
			Name: "rate limited",
			Reply: ssetest.Reply{Status: 429, Header: map[string]string{"retry-after-ms": "1500"},
				Body: `{"error":{"message":"Rate limit reached for gpt-5 in organization org-x on tokens per min (TPM)","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`},
			Status: 429, Retryable: true, RetryAfter: 1500 * time.Millisecond,
		},
		{
			Name: "context too long",
			Reply: ssetest.Reply{Status: 400,
				Body: `{"error":{"message":"Your input exceeds the context window of this model. Please adjust your input and try again.","type":"invalid_request_error","param":"input","code":"context_length_exceeded"}}`},
			Status: 400, ContextWindow: true,
		},
		{
			Name:   "bad key",
			Reply:  ssetest.Reply{Status: 401, Body: `{"error":{"message":"Incorrect API key provided: sk-test.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`},
			Status: 401, Msg: "OPENAI_API_KEY",
		},
		{
			Name: "response.failed with a server error",
			Reply: ssetest.Reply{Body: ssetest.SSE("response.created", created,
				"response.failed", `{"type":"response.failed","sequence_number":1,"response":{"id":"resp_9","object":"response","status":"failed","error":{"code":"server_error","message":"The model failed to generate a response."},"model":"gpt-5","output":[]}}`)},
			Retryable: true, Msg: "server_error",
		},
		{
			Name: "response.failed with a rate limit",
			Reply: ssetest.Reply{Body: ssetest.SSE("response.created", created,
				"response.failed", `{"type":"response.failed","sequence_number":1,"response":{"id":"resp_9","object":"response","status":"failed","error":{"code":"rate_limit_exceeded","message":"Rate limit reached. Please try again in 2.5s."},"model":"gpt-5","output":[]}}`)},
			Retryable: true, RetryAfter: 2500 * time.Millisecond,
		},
		{
			Name: "response.failed with a bad prompt",
			Reply: ssetest.Reply{Body: ssetest.SSE("response.created", created,
				"response.failed", `{"type":"response.failed","sequence_number":1,"response":{"id":"resp_9","object":"response","status":"failed","error":{"code":"invalid_prompt","message":"Invalid prompt."},"model":"gpt-5","output":[]}}`)},
			Msg: "invalid_prompt",
		},
		{
			Name: "error event",
			Reply: ssetest.Reply{Body: ssetest.SSE("response.created", created,
				"error", `{"type":"error","sequence_number":1,"code":"server_error","message":"Something went wrong","param":null}`)},
			Retryable: true, Msg: "Something went wrong",
		},
	}, dial)
}

// TestWithoutEncryptedReasoning checks that a model refusing encrypted
// reasoning is asked again at once without it, and never again with it.
func TestWithoutEncryptedReasoning(t *testing.T) {
	c := ssetest.Load(t, "testdata/text.txtar")
	req, stream := c.Request(t), c.Stream(t)
	srv := ssetest.NewServer(t,
		ssetest.Reply{Status: 400, Body: `{"error":{"message":"Encrypted content is not supported with this model.","type":"invalid_request_error","param":"include","code":null}}`},
		ssetest.Reply{Body: stream},
		ssetest.Reply{Body: stream},
	)
	p := newProvider(t, srv.URL, Options{})
	for range 2 {
		resp, err := p.Stream(context.Background(), req, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Message.Text(); got != "It is a coding agent." {
			t.Errorf("text = %q", got)
		}
	}
	bodies := srv.Bodies()
	if len(bodies) != 3 {
		t.Fatalf("%d requests, want 3", len(bodies))
	}
	for i, b := range bodies {
		if want := i == 0; strings.Contains(string(b), "reasoning.encrypted_content") != want {
			t.Errorf("request %d includes encrypted reasoning: %v, want %v", i+1, !want, want)
		}
	}
}

// FuzzStream holds the adapter to ssetest.CheckResponse for any stream.
func FuzzStream(f *testing.F) {
	ssetest.Fuzz(f, "testdata", func(hc *http.Client) (*Provider, error) {
		return New(Options{BaseURL: "http://fuzz.invalid/v1", APIKey: "sk-test", HTTPClient: hc})
	})
}
