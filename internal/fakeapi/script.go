// Package fakeapi is a loopback test double for the model APIs Lathe talks
// to: the Anthropic Messages API, the OpenAI Responses API and the OpenAI
// Chat Completions API. It streams replies in each API's exact wire format,
// driven by a [Script] with one [Step] per HTTP request, and checks what the
// client sends against each step's [Expect], so a test proves that the agent
// loop did its work and kept its conversation history honest.
//
// Routing: POST /v1/messages is Anthropic, POST /v1/responses is Responses
// and POST /v1/chat/completions is Chat. Clients are pointed at a server with
// ANTHROPIC_BASE_URL=<url> and OPENAI_BASE_URL=<url>/v1. Other endpoints get
// a 404 in the API's error shape and malformed bodies a 400, neither
// consuming a step, and requests past the end of the script a 500; all are
// recorded as failures.
//
// Besides each step's expectations, every request is checked for the
// history bugs an agent loop can have: each tool result must answer a call
// of a reply the client received in full (so a partial call from a cut
// stream is never executed), each call of the previous complete reply must
// have exactly one result (a reply that ended at the output token limit is
// complete, even with a call cut off in it), and no assistant message may
// appear more often than the server produced it.
//
// Ids (toolu_01…, call_…, fc_…, resp_…, chatcmpl-…) are derived from the
// request number, so runs are reproducible. Usage not given by the script
// is estimated at four bytes a token, with prompt caching emulated: see
// [Reply.Usage].
package fakeapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"unicode/utf8"
)

// Script is what a fake server answers, one step per HTTP request.
type Script struct {
	Steps []Step `json:"steps"`
	// MaxInputTokens, when set, fails every request whose body is larger
	// than this many tokens, at the fake's four bytes a token or as its
	// token counter counts ([WithTokenCounter]): the declared window a
	// client must keep its requests within.
	MaxInputTokens int `json:"max_input_tokens,omitempty"`
	// Standing steps answer, in place of the next step and without
	// consuming it, every request whose latest user text contains their
	// Match: a harness's own requests (a compaction's summary request)
	// whose place in a long run depends on sizes the script does not pin.
	Standing []StandingStep `json:"standing,omitempty"`
}

// StandingStep is a step that answers every request it matches.
type StandingStep struct {
	Match string `json:"match"`
	Step
}

// Step answers one request. It has a Reply, a Fault, or both: with a cut,
// stall or mid-stream error fault, the reply is what gets interrupted.
type Step struct {
	// Match, if set, makes the script routed: each request is answered
	// by the first step not yet consumed whose Match it meets (a step
	// without one meets any), rather than by the next step, and the
	// history checks follow each conversation on its own. Agents that
	// send requests at once, such as parallel subagents, need it.
	Match *Match `json:"match,omitempty"`
	// Expect, if set, is checked against the request consuming this step.
	Expect *Expect `json:"expect,omitempty"`
	Reply  *Reply  `json:"reply,omitempty"`
	Fault  *Fault  `json:"fault,omitempty"`
}

// Expect states what the request consuming a step must contain. Failures are
// recorded, not fatal to the HTTP exchange, and reported by
// [Server.Failures].
type Expect struct {
	// ToolResults checks the results of the previous reply's tool calls.
	ToolResults []ToolResultExpect `json:"tool_results,omitempty"`
	// UserContains are substrings of the latest user text message.
	UserContains []string `json:"user_contains,omitempty"`
	// SystemContains are substrings of the system prompt: Anthropic system,
	// Responses instructions plus system/developer items, Chat system and
	// developer messages.
	SystemContains []string `json:"system_contains,omitempty"`
	// Tools are names of tools the request must offer.
	Tools []string `json:"tools,omitempty"`
	// CacheMarkers requires prompt-cache hints: on Anthropic a cache_control
	// on the system/tools prefix and on the last message (the automatic,
	// top-level cache_control marks the last block); on Responses a
	// prompt_cache_key equal to the first request's. Chat has none to check.
	CacheMarkers bool `json:"cache_markers,omitempty"`
	// ExtendsPrevious requires the conversation (system, tools and messages,
	// cache_control removed) to extend the previous request's of the same
	// API: the history is append-only. The previous request's last
	// message may have gained content blocks at its end (Anthropic sends
	// a user text after tool results in the same message), which keeps
	// the prompt-cache prefix too.
	ExtendsPrevious bool `json:"extends_previous,omitempty"`
	// NewConversation marks the first request of a new session, which
	// need not answer the previous reply's tool calls (that run may have
	// stopped at a limit before sending their results).
	NewConversation bool `json:"new_conversation,omitempty"`
	// NativeCompaction, when set, says whether the request must ask for
	// provider-native compaction (Anthropic's compact_20260112 edit,
	// Responses context_management); see [Reply.Compaction].
	NativeCompaction *bool `json:"native_compaction,omitempty"`
	// Compacted is the summary of the reply's compaction the
	// conversation must begin with, sent back unchanged: the client
	// dropped what it stands for.
	Compacted string `json:"compacted,omitempty"`
}

// Match says which requests a step of a routed script answers. Every
// field set must hold.
type Match struct {
	// PromptContains are substrings of the conversation's first user
	// message: the prompt that started it.
	PromptContains []string `json:"prompt_contains,omitempty"`
	// SystemContains are substrings of the system prompt.
	SystemContains []string `json:"system_contains,omitempty"`
}

// matches reports whether request c meets m; a nil m meets any.
func (m *Match) matches(c *conversation) bool {
	if m == nil {
		return true
	}
	for _, sub := range m.PromptContains {
		if !strings.Contains(c.firstUser, sub) {
			return false
		}
	}
	for _, sub := range m.SystemContains {
		if !strings.Contains(c.system, sub) {
			return false
		}
	}
	return true
}

// routed reports whether a step has a Match (see [Step.Match]).
func (s *Script) routed() bool {
	return slices.ContainsFunc(s.Steps, func(st Step) bool { return st.Match != nil })
}

// ToolResultExpect checks the result of one tool call of the previous reply.
type ToolResultExpect struct {
	// Call is the index of the call in the previous reply's ToolCalls.
	Call        int      `json:"call"`
	Contains    []string `json:"contains,omitempty"`
	NotContains []string `json:"not_contains,omitempty"`
	// IsError, when set, must match the result's error flag. Only the
	// Anthropic API has such a flag (tool_result is_error); on Responses and
	// Chat the check is skipped, because those APIs carry no error marker.
	IsError *bool `json:"is_error,omitempty"`
}

// Reply is the model's answer: optional visible reasoning, text and tool
// calls, streamed in that order, each in several deltas.
type Reply struct {
	// Compaction, when set, is the summary of a provider-native
	// compaction the reply opens with: an Anthropic compaction block,
	// a Responses compaction item (see compaction.go). The request must
	// have asked for it; Chat has none.
	Compaction string `json:"compaction,omitempty"`
	// Thinking becomes an Anthropic thinking block with a fake signature, a
	// Responses reasoning item with a summary and encrypted_content, and
	// Chat reasoning_content deltas as OpenAI-compatible servers send them.
	Thinking  string     `json:"thinking,omitempty"`
	Text      string     `json:"text,omitempty"`
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// Usage, when set, is reported as given. Otherwise input is the request
	// body's size over four and output the reply's, and prompt caching is
	// emulated: on Anthropic the prompt up to the last cache_control marker
	// (tools, system, messages in that order; a top-level cache_control
	// marks the last block) is read from the cache as far
	// as an earlier request wrote it and written for the rest; on Responses
	// and Chat the part of the prompt shared with the previous request (with
	// the same prompt_cache_key) is reported as cached_tokens.
	Usage *Usage `json:"usage,omitempty"`
	// Stop "max_tokens" reports that the output limit cut the reply short
	// (Anthropic max_tokens, Responses incomplete, Chat length); empty means
	// the reason follows from the content. A reply that ends with tool
	// calls was cut while the model wrote the last one: give it RawInput
	// cut short, and on Responses its item is left incomplete.
	Stop string `json:"stop,omitempty"`
	// TextDeltas is how many deltas the text streams in (3 if 0), and
	// DeltaMS the pause before each event after the first text delta: a
	// model's pace, for benchmarks of a front end that renders a stream.
	TextDeltas int `json:"text_deltas,omitempty"`
	DeltaMS    int `json:"delta_ms,omitempty"`
}

// textDeltas is how many deltas the text streams in.
func (r *Reply) textDeltas() int {
	if r.TextDeltas > 0 {
		return r.TextDeltas
	}
	return 3
}

// StopMaxTokens is the only explicit [Reply.Stop] value.
const StopMaxTokens = "max_tokens"

// ToolCall is one tool call in a reply.
type ToolCall struct {
	Name string `json:"name"`
	// Input is the JSON object of a function tool's arguments.
	Input json.RawMessage `json:"input,omitempty"`
	// Custom makes this a freeform call with raw InputText: a Responses
	// custom_tool_call, and on Anthropic and Chat a normal call whose input
	// is {"input": InputText}.
	Custom    bool   `json:"custom,omitempty"`
	InputText string `json:"input_text,omitempty"`
	// RawInput, instead of Input, is the arguments' text exactly as the
	// model writes it, which need not be JSON at all: invalid, cut off or
	// absurdly nested arguments. A JSON API body that must hold an object
	// (a non-streamed Anthropic reply) gets {} for text that is not one.
	RawInput string `json:"raw_input,omitempty"`
	// ID, when set, replaces the call id the server would generate, even
	// with "" or an id another call has (in this reply or an earlier one),
	// as careless OpenAI-compatible servers send them; on Chat an empty id is left out of the chunk.
	// The client must then give the call an id of its own, unique in its
	// copy of the reply, and the history checks follow that id.
	ID *string `json:"id,omitempty"`
}

// Usage is a reply's token accounting in Anthropic's terms: InputTokens
// excludes cache reads and writes. On the OpenAI APIs the reported input is
// the sum of the three input fields and cached_tokens is CacheReadInputTokens.
type Usage struct {
	InputTokens              int64 `json:"input_tokens"`
	OutputTokens             int64 `json:"output_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens,omitempty"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens,omitempty"`
	// CacheCreation1hInputTokens is the part of CacheCreationInputTokens
	// written to the hour-long cache (Anthropic only).
	CacheCreation1hInputTokens int64 `json:"cache_creation_1h_input_tokens,omitempty"`
}

// Fault makes a step fail. Exactly one kind of fault may be set.
type Fault struct {
	// Status sends an error response with the API's body shape for this
	// HTTP status, e.g. 429 rate_limit_error or 529 overloaded_error.
	Status int `json:"status,omitempty"`
	// RetryAfter is sent as the retry-after header (status faults only).
	RetryAfter string `json:"retry_after,omitempty"`
	// Type and Message override the error type and message derived from
	// Status, or from MidStreamError.
	Type    string `json:"type,omitempty"`
	Message string `json:"message,omitempty"`

	// MalformedEvent streams the opening events (and the first text delta,
	// if any), then a line that is no SSE field and the next event with its
	// data cut in the middle of the JSON, as a mangling proxy sends it, and
	// drops the connection.
	MalformedEvent bool `json:"malformed_event,omitempty"`

	// Cut streams the reply up to a point and then drops the connection
	// without terminating the response: CutMidText, CutMidToolArgs or
	// CutBeforeDone.
	Cut string `json:"cut,omitempty"`
	// StallMS streams the opening events, then goes silent for this many
	// milliseconds and drops the connection, unless the client hangs up
	// first.
	StallMS int `json:"stall_ms,omitempty"`
	// ContextWindow sends the API's real "prompt too long" error.
	ContextWindow bool `json:"context_window,omitempty"`
	// MidStreamError names an error type (e.g. "overloaded_error") sent as
	// an error event after the stream has started.
	MidStreamError string `json:"mid_stream_error,omitempty"`
}

// Cut points for [Fault.Cut].
const (
	CutMidText     = "mid_text"
	CutMidToolArgs = "mid_tool_args"
	CutBeforeDone  = "before_done"
)

// LoadScript reads and validates a script file. Unknown fields are errors,
// so a typo in a test script cannot silently weaken it.
func LoadScript(path string) (*Script, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load fakeapi script: %w", err)
	}
	s, err := ParseScript(data)
	if err != nil {
		return nil, fmt.Errorf("fakeapi script %s: %w", path, err)
	}
	return s, nil
}

// ParseScript decodes and validates a script.
func ParseScript(data []byte) (*Script, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Script
	if err := dec.Decode(&s); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			line, col := position(data, syn.Offset)
			return nil, fmt.Errorf("line %d, column %d: %w", line, col, err)
		}
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("unexpected data after the script object")
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:])
	return line, col
}

// Validate reports the first inconsistency in s, naming its step (1-based).
func (s *Script) Validate() error {
	for i := range s.Steps {
		if err := s.Steps[i].validate(); err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
	}
	for i := range s.Standing {
		if s.Standing[i].Match == "" {
			return fmt.Errorf("standing step %d: no match", i+1)
		}
		if err := s.Standing[i].validate(); err != nil {
			return fmt.Errorf("standing step %d: %w", i+1, err)
		}
	}
	return nil
}

func (st *Step) validate() error {
	if st.Reply == nil && st.Fault == nil {
		return errors.New("needs a reply or a fault")
	}
	if m := st.Match; m != nil && len(m.PromptContains) == 0 && len(m.SystemContains) == 0 {
		return errors.New("match: set prompt_contains or system_contains")
	}
	if st.Reply != nil {
		if err := st.Reply.validate(); err != nil {
			return err
		}
	}
	if st.Fault != nil {
		if err := st.Fault.validate(st.Reply); err != nil {
			return fmt.Errorf("fault: %w", err)
		}
	}
	if st.Expect != nil {
		for i, tr := range st.Expect.ToolResults {
			if tr.Call < 0 {
				return fmt.Errorf("expect.tool_results[%d]: call %d is negative", i, tr.Call)
			}
		}
	}
	return nil
}

func (r *Reply) validate() error {
	if r.Stop != "" && r.Stop != StopMaxTokens {
		return fmt.Errorf("reply.stop %q: want %q or nothing", r.Stop, StopMaxTokens)
	}
	if r.TextDeltas < 0 || r.DeltaMS < 0 {
		return fmt.Errorf("reply.text_deltas %d, reply.delta_ms %d: want 0 or more", r.TextDeltas, r.DeltaMS)
	}
	for i := range r.ToolCalls {
		if err := r.ToolCalls[i].validate(); err != nil {
			return fmt.Errorf("reply.tool_calls[%d]: %w", i, err)
		}
	}
	return nil
}

func (c *ToolCall) validate() error {
	if c.Name == "" {
		return errors.New("name is empty")
	}
	if c.Custom {
		if len(c.Input) != 0 || c.RawInput != "" {
			return errors.New("a custom call takes input_text, not input or raw_input")
		}
		return nil
	}
	if c.RawInput != "" && len(c.Input) != 0 {
		return errors.New("set input or raw_input, not both")
	}
	if c.InputText != "" {
		return errors.New("input_text needs custom: true")
	}
	if len(c.Input) == 0 {
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(c.Input, &obj); err != nil || obj == nil {
		return errors.New("input must be a JSON object")
	}
	return nil
}

func (f *Fault) validate(reply *Reply) error {
	kinds := 0
	for _, set := range []bool{f.Status != 0, f.Cut != "", f.StallMS != 0, f.ContextWindow, f.MidStreamError != "", f.MalformedEvent} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return errors.New("set exactly one of status, cut, stall_ms, context_window, mid_stream_error, malformed_event")
	}
	if f.RetryAfter != "" && f.Status == 0 {
		return errors.New("retry_after needs status")
	}
	if (f.Type != "" || f.Message != "") && f.Status == 0 && f.MidStreamError == "" {
		return errors.New("type and message go with status or mid_stream_error")
	}
	switch {
	case f.Status != 0:
		if f.Status < 400 || f.Status > 599 {
			return fmt.Errorf("status %d is not an error status", f.Status)
		}
		if reply != nil {
			return errors.New("a status fault sends no reply")
		}
	case f.ContextWindow, f.MidStreamError != "":
		if reply != nil {
			return errors.New("this fault sends no reply")
		}
	case f.MalformedEvent:
		if reply == nil {
			return errors.New("malformed_event needs a reply to mangle")
		}
	case f.StallMS < 0:
		return fmt.Errorf("stall_ms %d is negative", f.StallMS)
	case f.Cut != "":
		return validateCut(f.Cut, reply)
	}
	return nil
}

func validateCut(cut string, reply *Reply) error {
	if reply == nil {
		return fmt.Errorf("cut %s needs a reply to cut", cut)
	}
	switch cut {
	case CutMidText:
		if reply.Text == "" {
			return errors.New("cut mid_text needs reply.text")
		}
	case CutMidToolArgs:
		for _, c := range reply.ToolCalls {
			if a := c.argsText(); len(a) > 1 && a != "{}" {
				return nil
			}
		}
		return errors.New("cut mid_tool_args needs a tool call with non-empty input")
	case CutBeforeDone:
	default:
		return fmt.Errorf("cut %q: want %s, %s or %s", cut, CutMidText, CutMidToolArgs, CutBeforeDone)
	}
	return nil
}

// argsText is the call's input as streamed by the Responses API: the
// arguments' text, or the raw text of a custom call.
func (c *ToolCall) argsText() string {
	if c.Custom {
		return c.InputText
	}
	return c.wireArgs()
}

// wireArgs is the function arguments' text as streamed: RawInput as it
// is, or else the compact JSON object.
func (c *ToolCall) wireArgs() string {
	if c.RawInput != "" {
		return c.RawInput
	}
	return string(c.jsonInput())
}

// jsonInput is the call's input as a compact JSON object; a custom call's
// text is wrapped as {"input": text} for APIs without freeform tools, and
// RawInput that is no JSON object becomes {}.
func (c *ToolCall) jsonInput() json.RawMessage {
	if c.Custom {
		return mustMarshal(obj{{"input", c.InputText}})
	}
	if c.RawInput != "" {
		var b bytes.Buffer
		if json.Compact(&b, []byte(c.RawInput)) != nil || b.Len() == 0 || b.Bytes()[0] != '{' {
			return json.RawMessage("{}")
		}
		return b.Bytes()
	}
	if len(c.Input) == 0 {
		return json.RawMessage("{}")
	}
	var b bytes.Buffer
	if err := json.Compact(&b, c.Input); err != nil {
		// Validate accepted it as a JSON object, so it compacts.
		panic(fmt.Sprintf("fakeapi: compact validated input: %v", err))
	}
	return b.Bytes()
}
