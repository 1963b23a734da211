// Package llm is Lathe's provider-neutral model of a conversation with a
// language model: messages made of parts, tool definitions, a request, the
// completed response with its usage, and the errors a provider reports.
//
// Provider packages translate these types to and from their wire formats;
// nothing outside them ever sees a wire format. Parts that a provider needs
// back verbatim on the next turn (thinking signatures, encrypted reasoning)
// travel in [Part.Opaque], tagged with the provider that produced them.
package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Role is who authored a message.
type Role string

const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
)

// PartKind says what a Part holds.
type PartKind string

const (
	// PartText is plain text from the user or the model.
	PartText PartKind = "text"
	// PartThinking is the model's visible reasoning (Anthropic thinking,
	// an OpenAI reasoning summary). It is sent back intact on later turns.
	PartThinking PartKind = "thinking"
	// PartToolCall is a request by the model to run a tool.
	PartToolCall PartKind = "tool_call"
	// PartToolResult is the outcome of a tool call, sent back to the model.
	PartToolResult PartKind = "tool_result"
	// PartCompaction, in an assistant message, is a provider's own
	// summary of the conversation before it (provider-native compaction,
	// [Request.CompactAt]): Opaque holds the block or item as the
	// provider sent it, to be sent back verbatim and first, in place of
	// the messages it summarises; Text is its readable summary, when the
	// provider gives one. Other providers drop it.
	PartCompaction PartKind = "compaction"
	// PartImage, in a user message, is an image the user attached:
	// MediaType, Data, Width and Height hold it, and Text says where it
	// came from (the path as the user gave it), which is what stands in
	// its place wherever the image cannot be sent. See [ReadImage].
	PartImage PartKind = "image"
)

// Part is one piece of a message. Which fields are meaningful depends on
// Kind; the JSON form is what the session log stores.
type Part struct {
	Kind PartKind `json:"kind"`
	// Text is the text of a text or thinking part, or the content of a
	// tool result.
	Text string `json:"text,omitempty"`

	// CallID pairs a tool call with its result.
	CallID string `json:"call_id,omitempty"`
	// Name is the tool's name, on calls and results.
	Name string `json:"name,omitempty"`
	// Input is the call's arguments: a JSON object for function tools, a
	// JSON string holding the raw text for freeform (custom) tools and for
	// a Malformed call.
	Input json.RawMessage `json:"input,omitempty"`
	// Malformed, on a tool call, says why its arguments could not be read
	// (one of the Malformed* phrases, possibly with detail): the call is
	// answered with an error and never run, and Input holds what the
	// model wrote, as a JSON string.
	Malformed string `json:"malformed,omitempty"`
	// Freeform marks a call to a freeform grammar tool (OpenAI custom tool).
	Freeform bool `json:"freeform,omitempty"`
	// IsError marks a tool result that reports a failure to the model.
	IsError bool `json:"is_error,omitempty"`

	// Signature is the provider's integrity signature on a thinking part.
	Signature string `json:"signature,omitempty"`
	// Opaque is provider state that must be sent back verbatim (redacted
	// thinking data, an encrypted reasoning item). Origin names the provider
	// kind that produced it; other providers drop it.
	Opaque json.RawMessage `json:"opaque,omitempty"`
	Origin string          `json:"origin,omitempty"`

	// MediaType is an image's: one of [ImageTypes]. Data is the image
	// file's bytes; Width and Height its size in pixels, read from its
	// header. Blob, in the session log, names the file beside the log
	// that holds Data, which the log then leaves out.
	MediaType string `json:"media_type,omitempty"`
	Data      []byte `json:"data,omitempty"`
	Width     int    `json:"width,omitempty"`
	Height    int    `json:"height,omitempty"`
	Blob      string `json:"blob,omitempty"`
}

// What Part.Malformed begins with.
const (
	// MalformedCutOff: the response reached its output token limit while
	// the model was writing the arguments.
	MalformedCutOff = "cut off at the output token limit"
	// MalformedJSON: the arguments are not valid JSON; a parser error
	// follows.
	MalformedJSON = "not valid JSON"
	// MalformedNotObject: valid JSON, but not the object a function
	// tool takes.
	MalformedNotObject = "not a JSON object"
	// MalformedTooDeep: nested deeper than any tool's arguments need.
	MalformedTooDeep = "nested too deeply"
	// MalformedNoName: the call names no tool at all.
	MalformedNoName = "sent without a tool name"
)

// Message is one turn of the conversation.
type Message struct {
	Role  Role   `json:"role"`
	Parts []Part `json:"parts"`
}

// Text returns the concatenated text parts of m.
func (m Message) Text() string {
	var s string
	for _, p := range m.Parts {
		if p.Kind == PartText {
			s += p.Text
		}
	}
	return s
}

// ToolCalls returns the tool-call parts of m, in order.
func (m Message) ToolCalls() []Part {
	var calls []Part
	for _, p := range m.Parts {
		if p.Kind == PartToolCall {
			calls = append(calls, p)
		}
	}
	return calls
}

// ToolDef describes a tool offered to the model.
type ToolDef struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Schema is the JSON Schema of a function tool's arguments.
	Schema json.RawMessage `json:"schema,omitempty"`
	// Grammar, when set, makes this a freeform tool whose input is text
	// constrained by a Lark grammar. Providers that cannot offer freeform
	// tools never receive one.
	Grammar string `json:"grammar,omitempty"`
}

// Request is one call to the model.
type Request struct {
	Model  string
	System string
	Tools  []ToolDef
	// History is the conversation so far; providers may keep what they
	// encoded of it by its ID (see [History]).
	History History `json:"messages"`
	// MaxTokens bounds the response; zero lets the provider choose.
	MaxTokens int
	// CacheKey identifies the conversation so providers that route by a
	// cache key (OpenAI's prompt_cache_key) keep hitting the same cache.
	CacheKey string
	// CompactAt, when not 0, asks the provider to compact the
	// conversation itself once its input reaches this many tokens
	// (Anthropic's compact_20260112 context edit, OpenAI's
	// context_management compaction): the response then begins with a
	// [PartCompaction]. Providers without it ignore it.
	CompactAt int
}

// StopReason says why the model stopped.
type StopReason string

const (
	StopEndTurn   StopReason = "end_turn"
	StopToolUse   StopReason = "tool_use"
	StopMaxTokens StopReason = "max_tokens"
	StopRefusal   StopReason = "refusal"
	StopOther     StopReason = "other"
)

// Usage counts the tokens of one response. Input counts only the input
// tokens that were neither read from nor written to the prompt cache, so
// the four fields add up to everything the provider billed.
type Usage struct {
	Input      int64 `json:"input_tokens"`
	CacheRead  int64 `json:"cache_read_tokens"`
	CacheWrite int64 `json:"cache_write_tokens"`
	Output     int64 `json:"output_tokens"`
	// CacheWriteLong is the part of CacheWrite written to a cache that
	// lives an hour (Anthropic's ttl "1h"), which costs more to write.
	CacheWriteLong int64 `json:"cache_write_1h_tokens,omitempty"`
}

// Add returns the sum of u and v.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		Input:      u.Input + v.Input,
		CacheRead:  u.CacheRead + v.CacheRead,
		CacheWrite: u.CacheWrite + v.CacheWrite,
		Output:     u.Output + v.Output,

		CacheWriteLong: u.CacheWriteLong + v.CacheWriteLong,
	}
}

// TotalInput is every input token, cached or not.
func (u Usage) TotalInput() int64 { return u.Input + u.CacheRead + u.CacheWrite }

// CachedShare is the fraction of the input that was read from the prompt
// cache, 0 when there was no input.
func (u Usage) CachedShare() float64 {
	if t := u.TotalInput(); t > 0 {
		return float64(u.CacheRead) / float64(t)
	}
	return 0
}

// Response is a completed model response.
type Response struct {
	Message    Message
	StopReason StopReason
	Usage      Usage
	// CompactionUsage is what the provider-native compaction that opens
	// Message cost, where the provider counts it apart from Usage
	// (Anthropic's compaction iterations): Usage is then the context
	// the provider read after compacting, and the response.
	CompactionUsage Usage `json:",omitzero"`
	// Model is the model that answered, as the provider names it.
	Model string
}

// DeltaKind says what a Delta carries.
type DeltaKind string

const (
	DeltaText     DeltaKind = "text"
	DeltaThinking DeltaKind = "thinking"
	// DeltaToolCall announces that the model started a tool call; Name is
	// set. Its arguments arrive only with the completed Response.
	DeltaToolCall DeltaKind = "tool_call"
)

// Delta is an incremental piece of a response as it streams. Deltas are for
// display only: a response that is cut off and retried is streamed again, so
// consumers must treat the deltas of a failed attempt as void.
type Delta struct {
	Kind DeltaKind
	Text string
	Name string
}

// Provider streams one model response. onDelta, if not nil, is called from
// the calling goroutine as the response streams. The returned Response is
// complete: a stream that ends early is an error, never a partial response.
//
// Stream may be called concurrently, for one conversation or several. A
// provider may keep what it encoded of req.History under its ID, for the
// next request of that conversation; req is never modified.
type Provider interface {
	Stream(ctx context.Context, req *Request, onDelta func(Delta)) (*Response, error)
}

// ErrContextWindow is wrapped by errors that report the conversation no
// longer fits in the model's context window.
var ErrContextWindow = errors.New("context window exceeded")

// APIError is an error response from a provider, or a failure to get a
// complete response at all (Status 0).
type APIError struct {
	Provider string
	// Status is the HTTP status, or 0 for a transport failure such as a
	// reset connection or a stream cut or stalled mid-response.
	Status int
	// Type is the provider's error type or code, when it sent one.
	Type    string
	Message string
	// RetryAfter is the server's requested delay, when it sent one.
	RetryAfter time.Duration
	// Retryable says whether sending the same request again may succeed.
	Retryable bool
	// Err is the underlying cause, if any.
	Err error
}

func (e *APIError) Error() string {
	var s string
	switch {
	case e.Status != 0 && e.Type != "":
		s = fmt.Sprintf("%s: %d %s: %s", e.Provider, e.Status, e.Type, e.Message)
	case e.Status != 0:
		s = fmt.Sprintf("%s: %d: %s", e.Provider, e.Status, e.Message)
	case e.Type != "":
		s = fmt.Sprintf("%s: %s: %s", e.Provider, e.Type, e.Message)
	default:
		s = fmt.Sprintf("%s: %s", e.Provider, e.Message)
	}
	return s
}

func (e *APIError) Unwrap() error { return e.Err }
