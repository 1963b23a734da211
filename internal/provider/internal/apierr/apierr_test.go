package apierr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/provider/internal/idle"
)

var cls = Classifier{Provider: "test", KeyEnv: "TEST_API_KEY"}

func TestResponse(t *testing.T) {
	tests := []struct {
		name          string
		status        int
		header        map[string]string
		body          string
		retryable     bool
		retryAfter    time.Duration
		contextWindow bool
		typ           string
		msgHas        string
	}{
		{
			name: "anthropic overloaded", status: 529,
			body:      `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}`,
			retryable: true, typ: "overloaded_error", msgHas: "Overloaded",
		},
		{
			name: "anthropic rate limit with retry-after seconds", status: 429,
			header:    map[string]string{"retry-after": "7"},
			body:      `{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}`,
			retryable: true, retryAfter: 7 * time.Second, typ: "rate_limit_error",
		},
		{
			name: "retry-after-ms wins over retry-after", status: 429,
			header:    map[string]string{"retry-after-ms": "250", "retry-after": "9"},
			body:      `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`,
			retryable: true, retryAfter: 250 * time.Millisecond, typ: "requests",
		},
		{
			name: "retry-after as HTTP date", status: 503,
			header:    map[string]string{"retry-after": time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)},
			body:      `{"error":{"message":"unavailable","type":"server_error"}}`,
			retryable: true, retryAfter: 30 * time.Second,
		},
		{
			name: "retry delay named in the message", status: 429,
			body:      `{"error":{"message":"Rate limit reached for gpt-5 on tokens per min. Please try again in 1.5s.","type":"tokens","code":"rate_limit_exceeded"}}`,
			retryable: true, retryAfter: 1500 * time.Millisecond,
		},
		{
			name: "insufficient quota is not retried", status: 429,
			body:      `{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}`,
			retryable: false, typ: "insufficient_quota",
		},
		{
			name: "anthropic prompt too long", status: 400,
			body:          `{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 212345 tokens > 200000 maximum"}}`,
			contextWindow: true, typ: "invalid_request_error",
		},
		{
			name: "anthropic input and max_tokens exceed the limit", status: 400,
			body:          `{"type":"error","error":{"type":"invalid_request_error","message":"input length and ` + "`max_tokens`" + ` exceed context limit: 188240 + 21333 > 200000, decrease input length or ` + "`max_tokens`" + ` and try again"}}`,
			contextWindow: true,
		},
		{
			name: "openai context_length_exceeded code", status: 400,
			body:          `{"error":{"message":"Your input exceeds the context window of this model. Please adjust your input and try again.","type":"invalid_request_error","param":"input","code":"context_length_exceeded"}}`,
			contextWindow: true, typ: "invalid_request_error",
		},
		{
			name: "vllm maximum context length, no envelope", status: 400,
			body:          `{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.","type":"BadRequestError","param":null,"code":400}`,
			contextWindow: true, typ: "BadRequestError",
		},
		{
			name: "llama.cpp context size with numeric code", status: 400,
			body:          `{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":9000,"n_ctx":8192}}`,
			contextWindow: true, typ: "exceed_context_size_error",
		},
		{
			name: "context error is not retried even as a 500", status: 500,
			body:          `{"error":"input length exceeds the context length"}`,
			contextWindow: true,
		},
		{
			name: "authentication names the key variable", status: 401,
			body:   `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`,
			msgHas: "TEST_API_KEY", typ: "authentication_error",
		},
		{
			name: "forbidden names the key variable", status: 403,
			body:   `{"error":{"message":"Project does not have access to model","type":"invalid_request_error"}}`,
			msgHas: "TEST_API_KEY",
		},
		{
			name: "ollama bare string error", status: 404,
			body:   `{"error":"model \"qwen3\" not found, try pulling it first"}`,
			msgHas: `model "qwen3" not found`,
		},
		{
			name: "plain text gateway error", status: 502,
			body:      "<html>Bad Gateway</html>",
			retryable: true, msgHas: "Bad Gateway",
		},
		{name: "empty body uses the status text", status: 500, retryable: true, msgHas: "Internal Server Error"},
		{name: "request timeout", status: 408, body: `{}`, retryable: true},
		{name: "conflict", status: 409, body: `{}`, retryable: true},
		{name: "bad request", status: 400, body: `{"error":{"message":"tools.0: invalid schema","type":"invalid_request_error"}}`, msgHas: "invalid schema"},
		{
			name: "x-should-retry false overrides the status", status: 503,
			header: map[string]string{"x-should-retry": "false"},
			body:   `{"error":{"message":"nope","type":"server_error"}}`,
		},
		{
			name: "x-should-retry true overrides the status", status: 400,
			header:    map[string]string{"x-should-retry": "true"},
			body:      `{"error":{"message":"try me again","type":"invalid_request_error"}}`,
			retryable: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			e := cls.Response(tt.status, h, []byte(tt.body))
			check(t, e, tt.status, tt.retryable, tt.contextWindow)
			// An HTTP date is rounded to the second and read a moment later.
			if d := e.RetryAfter - tt.retryAfter; d > 0 || d < -time.Second || (tt.retryAfter == 0 && e.RetryAfter != 0) {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, tt.retryAfter)
			}
			if tt.typ != "" && e.Type != tt.typ {
				t.Errorf("Type = %q, want %q", e.Type, tt.typ)
			}
			if !strings.Contains(e.Message, tt.msgHas) {
				t.Errorf("Message = %q, want it to contain %q", e.Message, tt.msgHas)
			}
		})
	}
}

func check(t *testing.T, e *llm.APIError, status int, retryable, contextWindow bool) {
	t.Helper()
	if e.Provider != "test" {
		t.Errorf("Provider = %q", e.Provider)
	}
	if e.Status != status {
		t.Errorf("Status = %d, want %d", e.Status, status)
	}
	if e.Retryable != retryable {
		t.Errorf("Retryable = %v, want %v (%v)", e.Retryable, retryable, e)
	}
	if got := errors.Is(e, llm.ErrContextWindow); got != contextWindow {
		t.Errorf("errors.Is(ErrContextWindow) = %v, want %v", got, contextWindow)
	}
}

func TestBody(t *testing.T) {
	tests := []struct {
		name          string
		body          string
		status        int
		retryable     bool
		contextWindow bool
	}{
		{name: "anthropic overloaded event", body: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, retryable: true},
		{name: "anthropic api_error event", body: `{"type":"error","error":{"type":"api_error","message":"Internal server error"}}`, retryable: true},
		{name: "invalid request event", body: `{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}`},
		{name: "openrouter numeric code stands in for status", body: `{"error":{"code":502,"message":"Provider returned error"}}`, status: 502, retryable: true},
		{name: "context window in stream", body: `{"error":{"message":"This model's maximum context length is 8192 tokens","code":"context_length_exceeded"}}`, contextWindow: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, cls.Body([]byte(tt.body)), tt.status, tt.retryable, tt.contextWindow)
		})
	}
}

func TestEvent(t *testing.T) {
	tests := []struct {
		typ, code, msg string
		retryable      bool
		retryAfter     time.Duration
		contextWindow  bool
	}{
		{code: "server_error", msg: "The server had an error", retryable: true},
		{code: "rate_limit_exceeded", msg: "Rate limit reached. Please try again in 20ms.", retryable: true, retryAfter: 20 * time.Millisecond},
		{code: "invalid_prompt", msg: "Invalid prompt"},
		{code: "context_length_exceeded", msg: "Your input exceeds the context window of this model.", contextWindow: true},
		{typ: "server_is_overloaded", msg: "overloaded", retryable: true},
	}
	for _, tt := range tests {
		t.Run(tt.code+tt.typ, func(t *testing.T) {
			e := cls.Event(tt.typ, tt.code, tt.msg)
			check(t, e, 0, tt.retryable, tt.contextWindow)
			if e.RetryAfter != tt.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, tt.retryAfter)
			}
		})
	}
}

func TestErr(t *testing.T) {
	syntax := json.Unmarshal([]byte(`{"type":"content_block_delta","ind`), new(struct{}))
	wrongType := json.Unmarshal([]byte(`42`), new(struct{}))
	live := context.Background()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	apiErr := &llm.APIError{Provider: "x", Status: 429, Retryable: true}
	tests := []struct {
		name      string
		ctx       context.Context
		err       error
		retryable bool
		is        error
	}{
		{name: "APIError passes through", ctx: live, err: fmt.Errorf("wrapped: %w", apiErr), retryable: true, is: apiErr},
		{name: "unexpected EOF", ctx: live, err: fmt.Errorf("read: %w", io.ErrUnexpectedEOF), retryable: true, is: io.ErrUnexpectedEOF},
		{name: "connection reset", ctx: live, err: &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, retryable: true, is: syscall.ECONNRESET},
		{name: "connection refused", ctx: live, err: fmt.Errorf("dial: %w", syscall.ECONNREFUSED), retryable: true},
		{name: "stall", ctx: live, err: fmt.Errorf("post: %w", &idle.StallError{After: time.Second}), retryable: true},
		{name: "unknown host", ctx: live, err: &net.DNSError{Err: "no such host", Name: "api.example", IsNotFound: true}},
		{name: "http2 stream reset", ctx: live, err: errors.New("stream error: stream ID 3; INTERNAL_ERROR; received from peer"), retryable: true},
		{name: "bad JSON is not retried", ctx: live, err: errors.New("invalid character 'x' looking for beginning of value")},
		{name: "event data that does not parse", ctx: live, err: syntax, retryable: true, is: syntax},
		{name: "event data of the wrong type", ctx: live, err: wrongType, retryable: true, is: wrongType},
		{name: "cancellation is not retried", ctx: cancelled, err: fmt.Errorf("read: %w", io.ErrUnexpectedEOF), is: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := cls.Err(tt.ctx, tt.err)
			if e.Retryable != tt.retryable {
				t.Errorf("Retryable = %v, want %v (%v)", e.Retryable, tt.retryable, e)
			}
			if tt.is != nil && !errors.Is(e, tt.is) {
				t.Errorf("%v does not wrap %v", e, tt.is)
			}
		})
	}
}

func TestStallMessage(t *testing.T) {
	e := cls.Err(context.Background(), &idle.StallError{After: 200 * time.Millisecond})
	if want := "test: stream stalled: no data for 200ms"; e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
}

func TestMalformedEventMessage(t *testing.T) {
	err := json.Unmarshal([]byte(`{"a":`), new(struct{}))
	e := cls.Err(context.Background(), err)
	if want := "test: malformed stream event: unexpected end of JSON input"; e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
}

func TestTruncated(t *testing.T) {
	e := cls.Truncated("message_stop")
	if !e.Retryable || !errors.Is(e, io.ErrUnexpectedEOF) || !strings.Contains(e.Error(), "message_stop") {
		t.Errorf("Truncated = %#v", e)
	}
}

func TestMiddleware(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			w.Write([]byte("fine"))
			return
		}
		w.Header().Set("retry-after", "3")
		w.WriteHeader(529)
		w.Write([]byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`))
	}))
	defer srv.Close()
	send := func(path string) (*http.Response, error) {
		req, err := http.NewRequest("GET", srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return cls.Middleware(req, http.DefaultClient.Do)
	}

	resp, err := send("/ok")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("ok request: %v, %v", resp, err)
	}
	resp.Body.Close()

	resp, err = send("/fail")
	if resp != nil {
		t.Errorf("error response returned: %v", resp.Status)
	}
	e, ok := errors.AsType[*llm.APIError](err)
	if !ok {
		t.Fatalf("err = %T %v, want *llm.APIError", err, err)
	}
	if e.Status != 529 || !e.Retryable || e.RetryAfter != 3*time.Second || e.Type != "overloaded_error" {
		t.Errorf("err = %#v", e)
	}
}
