// Package apierr turns whatever goes wrong in an exchange with a model API
// into an [llm.APIError] that says whether sending the same request again
// may succeed, how long the server asked to wait, and whether the
// conversation has outgrown the model's context window.
//
// The provider adapters share it so that Anthropic, OpenAI and the many
// OpenAI-compatible servers are judged by one set of rules. HTTP error
// responses are classified by [Classifier.Middleware] before the SDKs see
// them, because the compatible servers answer in shapes the SDKs do not
// parse (a bare string, a numeric code, no envelope at all).
package apierr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/provider/internal/idle"
)

// maxErrorBody bounds how much of an error response is read: enough for
// any real error message, not enough for a misrouted HTML page to matter.
const maxErrorBody = 64 << 10

// Classifier classifies the errors of one provider kind.
type Classifier struct {
	// Provider is the provider kind named in every error, e.g. "anthropic".
	Provider string
	// KeyEnv is the environment variable that holds the API key, named in
	// authentication errors so the user knows what to fix.
	KeyEnv string
}

// Middleware has the shape of the SDKs' option.Middleware. It turns an HTTP
// error response into an *llm.APIError, so that the SDK returns that error
// unchanged; other responses and transport errors pass through.
func (c Classifier) Middleware(req *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	resp, err := next(req)
	if err != nil || resp.StatusCode < http.StatusBadRequest {
		return resp, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil {
		// The status alone still classifies the error; the body is lost.
		body = []byte(fmt.Sprintf("%s (reading the error body failed: %v)", http.StatusText(resp.StatusCode), err))
	}
	return nil, c.Response(resp.StatusCode, resp.Header, body)
}

// Response classifies an HTTP error response.
func (c Classifier) Response(status int, h http.Header, body []byte) *llm.APIError {
	d := parseBody(body)
	if d.message == "" {
		d.message = http.StatusText(status)
	}
	e := c.classify(status, d, retryAfter(h, time.Now()))
	// The APIs say explicitly when their status code misleads.
	switch strings.ToLower(h.Get("x-should-retry")) {
	case "true":
		e.Retryable = e.Err == nil
	case "false":
		e.Retryable = false
	}
	return e
}

// Body classifies an error that arrived inside a stream that had started
// normally: Anthropic's error event, an OpenAI-compatible {"error": ...}
// chunk. There is no HTTP status; a numeric code in the body stands in for
// one.
func (c Classifier) Body(body []byte) *llm.APIError {
	d := parseBody(body)
	if d.message == "" {
		d.message = "error event in stream"
	}
	return c.classify(0, d, 0)
}

// Event classifies an error reported by typed fields of a stream event,
// such as OpenAI Responses' response.failed and error events.
func (c Classifier) Event(errType, code, message string) *llm.APIError {
	if message == "" {
		message = "error event in stream"
	}
	return c.classify(0, detail{typ: errType, code: code, message: message}, 0)
}

// Truncated reports a stream that ended, without an error of its own,
// before the event that marks a complete response. The response may have
// been cut anywhere, so it is discarded and worth requesting again.
func (c Classifier) Truncated(terminal string) *llm.APIError {
	return &llm.APIError{
		Provider:  c.Provider,
		Message:   "stream ended before " + terminal,
		Retryable: true,
		Err:       io.ErrUnexpectedEOF,
	}
}

// Invalid reports a request that cannot be sent as it is, such as options
// that contradict each other. It is never retryable.
func (c Classifier) Invalid(err error) *llm.APIError {
	return &llm.APIError{Provider: c.Provider, Message: err.Error(), Err: err}
}

// Err classifies an error from sending a request or reading its stream.
// An *llm.APIError passes through unchanged. When ctx is done the error is
// the cancellation, not the provider's fault, and is not retryable.
func (c Classifier) Err(ctx context.Context, err error) *llm.APIError {
	if ae, ok := errors.AsType[*llm.APIError](err); ok {
		return ae
	}
	if ctx.Err() != nil {
		return &llm.APIError{Provider: c.Provider, Message: "request cancelled", Err: context.Cause(ctx)}
	}
	if stall, ok := errors.AsType[*idle.StallError](err); ok {
		return &llm.APIError{Provider: c.Provider, Message: stall.Error(), Retryable: true, Err: err}
	}
	if malformedEvent(err) {
		// The SDKs stop at an event whose data does not decode, as a
		// proxy that garbles or truncates a line makes it: the response is
		// lost like a cut stream's, and asking again may well succeed.
		return &llm.APIError{Provider: c.Provider, Message: "malformed stream event: " + err.Error(), Retryable: true, Err: err}
	}
	return &llm.APIError{Provider: c.Provider, Message: err.Error(), Retryable: transient(err), Err: err}
}

// detail is what an error body says.
type detail struct {
	typ, code, message string
	// status is a numeric code in the body, which some servers send
	// instead of (or as well as) the HTTP status.
	status int
}

func (c Classifier) classify(status int, d detail, after time.Duration) *llm.APIError {
	if status == 0 {
		status = d.status
	}
	e := &llm.APIError{
		Provider:   c.Provider,
		Status:     status,
		Type:       d.typ,
		Message:    d.message,
		RetryAfter: after,
	}
	if e.Type == "" {
		e.Type = d.code
	}
	switch {
	case contextWindow(d):
		e.Err = llm.ErrContextWindow
	case d.typ == "insufficient_quota" || d.code == "insufficient_quota":
		// A 429 that no amount of waiting fixes: the account is out of
		// credit.
	case status == http.StatusUnauthorized || status == http.StatusForbidden ||
		d.typ == "authentication_error" || d.typ == "permission_error":
		if c.KeyEnv != "" {
			e.Message += fmt.Sprintf(" (check the API key in %s)", c.KeyEnv)
		}
	case status == http.StatusRequestTimeout, status == http.StatusConflict,
		status == http.StatusTooManyRequests, status >= http.StatusInternalServerError:
		e.Retryable = true
	case status == 0:
		e.Retryable = retryableTypes[d.typ] || retryableTypes[d.code]
	}
	if e.Retryable && e.RetryAfter == 0 {
		e.RetryAfter = retryAfterText(d.message)
	}
	return e
}

// retryableTypes are the error types and codes, across the APIs, that
// report load or a passing fault rather than a bad request.
var retryableTypes = map[string]bool{
	"overloaded_error":      true, // Anthropic
	"api_error":             true, // Anthropic: internal error
	"rate_limit_error":      true, // Anthropic
	"timeout_error":         true, // Anthropic
	"server_error":          true, // OpenAI
	"rate_limit_exceeded":   true, // OpenAI
	"server_is_overloaded":  true, // OpenAI
	"slow_down":             true, // OpenAI
	"internal_server_error": true,
	"service_unavailable":   true,
}

// contextMarkers are substrings, in lower case, of the errors APIs and
// local servers give when the prompt no longer fits the context window.
var contextMarkers = []string{
	"context_length_exceeded",           // OpenAI code
	"prompt is too long",                // Anthropic
	"exceed context limit",              // Anthropic: input + max_tokens
	"maximum context length",            // OpenAI Chat, vLLM, OpenRouter
	"exceeds the context window",        // OpenAI Responses
	"available context size",            // llama.cpp
	"exceed_context_size",               // llama.cpp error type
	"exceeds the context length",        // Ollama
	"context length of only",            // LM Studio
	"context size has been exceeded",    // LM Studio
	"too many tokens in the input",      // seen from some proxies
	"input is too long for the context", // Ollama runner
}

func contextWindow(d detail) bool {
	s := strings.ToLower(d.typ + " " + d.code + " " + d.message)
	for _, m := range contextMarkers {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// parseBody reads an error body in any of the shapes seen in the wild:
//
//	{"type":"error","error":{"type":"overloaded_error","message":"..."}}  Anthropic
//	{"error":{"message":"...","type":"...","code":"..."}}                 OpenAI, Ollama
//	{"error":{"code":400,"message":"...","type":"..."}}                   llama.cpp, OpenRouter
//	{"error":"..."}                                                       Ollama native
//	{"object":"error","message":"...","type":"...","code":400}            vLLM
//
// Anything else becomes the message as text.
func parseBody(body []byte) detail {
	type fields struct {
		Type    string          `json:"type"`
		Code    json.RawMessage `json:"code"`
		Message string          `json:"message"`
	}
	var env struct {
		fields
		Error json.RawMessage `json:"error"`
	}
	text := strings.TrimSpace(string(body))
	if err := json.Unmarshal(body, &env); err != nil {
		return detail{message: truncate(text)}
	}
	f := env.fields
	if len(env.Error) > 0 && string(env.Error) != "null" {
		var s string
		if json.Unmarshal(env.Error, &s) == nil {
			return detail{message: s}
		}
		if err := json.Unmarshal(env.Error, &f); err != nil {
			return detail{message: truncate(text)}
		}
	}
	d := detail{typ: f.Type, message: f.Message}
	if f.Type == "error" {
		d.typ = ""
	}
	var code string
	var num int
	switch {
	case json.Unmarshal(f.Code, &code) == nil:
		d.code = code
	case json.Unmarshal(f.Code, &num) == nil:
		d.code = strconv.Itoa(num)
		if num >= 400 && num <= 599 {
			d.status = num
		}
	}
	if d.message == "" && d.typ == "" && d.code == "" {
		d.message = truncate(text)
	}
	return d
}

func truncate(s string) string {
	const limit = 500
	if len(s) > limit {
		return s[:limit] + "…"
	}
	return s
}

// retryAfter reads the server's requested delay: retry-after-ms (OpenAI),
// then retry-after in seconds or as an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("retry-after-ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := h.Get("retry-after")
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s > 0 {
			return time.Duration(s * float64(time.Second))
		}
		return 0
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// tryAgainIn matches the delay that rate-limit messages name when no header
// carries it, as in OpenAI's "Please try again in 1.898s".
var tryAgainIn = regexp.MustCompile(`(?i)try again in (\d+(?:\.\d+)?)\s*(ms|s)\b`)

func retryAfterText(msg string) time.Duration {
	m := tryAgainIn.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0
	}
	unit := time.Second
	if strings.EqualFold(m[2], "ms") {
		unit = time.Millisecond
	}
	return time.Duration(n * float64(unit))
}

// malformedEvent reports whether err is the SDK's failure to decode a
// stream event's data.
func malformedEvent(err error) bool {
	_, syntax := errors.AsType[*json.SyntaxError](err)
	_, typ := errors.AsType[*json.UnmarshalTypeError](err)
	return syntax || typ
}

// transient reports whether err is a network failure that a new connection
// may not repeat: the connection was refused, reset or cut mid-response,
// or timed out.
func transient(err error) bool {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ETIMEDOUT), errors.Is(err, net.ErrClosed):
		return true
	}
	if dns, ok := errors.AsType[*net.DNSError](err); ok {
		return !dns.IsNotFound
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return true
	}
	if _, ok := errors.AsType[*net.OpError](err); ok {
		return true
	}
	// net/http bundles its HTTP/2 implementation with unexported error
	// types; a stream reset or GOAWAY is recognisable only by its text.
	return strings.Contains(err.Error(), "http2: ") || strings.Contains(err.Error(), "stream error:")
}
