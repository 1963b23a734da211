package fakeapi

import (
	"fmt"
	"net/http"
	"strings"
)

// turn is one reply being rendered: everything an API's renderer needs,
// with ids derived from the request number so runs are reproducible.
type turn struct {
	api   API
	n     int // 1-based request number
	model string
	conv  *conversation
	reply *Reply
	usage Usage
	// reasoning is the part of the output tokens spent on reasoning.
	reasoning int64
	created   int64
}

// seed names one generated id.
func (t *turn) seed(kind string, i int) string {
	return fmt.Sprintf("%s/%d/%s/%d", t.api, t.n, kind, i)
}

// callIDs returns the ids of the reply's tool calls: the script's where
// it gives one, else gen's.
func (t *turn) callIDs(gen func(i int) string) []string {
	ids := make([]string, len(t.reply.ToolCalls))
	for i, c := range t.reply.ToolCalls {
		if c.ID != nil {
			ids[i] = *c.ID
		} else {
			ids[i] = gen(i)
		}
	}
	return ids
}

// echo returns the request's top-level field name verbatim, or def.
func (t *turn) echo(name string, def any) any {
	if raw, ok := t.conv.top[name]; ok && string(raw) != "null" {
		return raw
	}
	return def
}

// apiError is an error response: its status, its body's type, code and
// message, and its retry-after header.
type apiError struct {
	status     int
	typ        string
	code       any // OpenAI only: a string or nil.
	param      any // OpenAI only: a string or nil.
	message    string
	retryAfter string
}

// dialect renders replies and errors in one API's wire format.
type dialect interface {
	// stream renders a reply as events.
	stream(t *turn) *stream
	// body renders a reply as a non-streaming response body.
	body(t *turn) any
	// streamError renders the opening of a reply followed by an error
	// event.
	streamError(t *turn, e apiError) *stream
	// errorBody renders an error response body.
	errorBody(e apiError, requestID string) any
	// statusError is the API's error for an HTTP status.
	statusError(status int) apiError
	// namedError is the API's error for an error type named in a script,
	// which may be another API's (overloaded_error works everywhere).
	namedError(typ string) apiError
	// contextWindow is the API's real "prompt too long" error.
	contextWindow() apiError
	// requestID is the response's request id header and value.
	requestID(n int) (header, value string)
	// callIDs are the ids of the reply's tool calls, in order.
	callIDs(t *turn) []string
	// assistantKeys identify the reply's assistant messages (items on
	// Responses) as [conversation.assistant] reads them back.
	assistantKeys(t *turn) []string
}

func dialectOf(api API) dialect {
	switch api {
	case APIAnthropic:
		return anthropicDialect{}
	case APIResponses:
		return responsesDialect{}
	}
	return chatDialect{}
}

// withOverrides applies a fault's explicit type and message.
func (e apiError) withOverrides(f *Fault) apiError {
	if f == nil {
		return e
	}
	if f.Type != "" {
		e.typ = f.Type
	}
	if f.Message != "" {
		e.message = f.Message
	}
	e.retryAfter = f.RetryAfter
	return e
}

// route names the API a request is for, or "" for an unknown endpoint.
func route(r *http.Request) API {
	if r.Method != http.MethodPost {
		return ""
	}
	switch strings.TrimSuffix(r.URL.Path, "/") {
	case "/v1/messages":
		return APIAnthropic
	case "/v1/responses":
		return APIResponses
	case "/v1/chat/completions":
		return APIChat
	}
	return ""
}

// guessDialect picks the error shape for a request to an unknown endpoint:
// Anthropic's when the client looks like an Anthropic client.
func guessDialect(r *http.Request) dialect {
	if r.Header.Get("anthropic-version") != "" || r.Header.Get("x-api-key") != "" || strings.Contains(r.URL.Path, "messages") {
		return anthropicDialect{}
	}
	return chatDialect{}
}

// notFound is the error for an unknown endpoint, in d's shape.
func notFound(d dialect, r *http.Request) apiError {
	e := d.statusError(http.StatusNotFound)
	if _, ok := d.(anthropicDialect); !ok {
		e.message = fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path)
		e.code = nil
	}
	return e
}
