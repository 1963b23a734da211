package openaichat

import (
	"encoding/json"
	"strings"

	sdk "github.com/openai/openai-go/v3"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/provider/internal/freeform"
	"github.com/lathe-dev/lathe/internal/provider/internal/toolcall"
)

// call is a tool call as it streams in.
type call struct {
	// index is the call's index in the stream, or -1 when the server sent
	// none.
	index    int64
	id, name string
	args     strings.Builder
}

// accumulator builds a response from chunks. It reads only the first
// choice: requests never ask for more.
type accumulator struct {
	onDelta  func(llm.Delta)
	text     strings.Builder
	thinking strings.Builder
	calls    []*call
	finish   string
	usage    llm.Usage
	model    string
}

// reasoningFields are the delta fields that servers put reasoning in:
// reasoning_content (vLLM, llama.cpp, DeepSeek), reasoning (Ollama,
// OpenRouter).
var reasoningFields = []string{"reasoning_content", "reasoning"}

func (a *accumulator) add(chunk sdk.ChatCompletionChunk) {
	if chunk.Model != "" {
		a.model = chunk.Model
	}
	if chunk.JSON.Usage.Valid() {
		u := chunk.Usage
		cached := u.PromptTokensDetails.CachedTokens
		written := u.PromptTokensDetails.CacheWriteTokens
		a.usage = llm.Usage{
			Input:      max(u.PromptTokens-cached-written, 0),
			CacheRead:  cached,
			CacheWrite: written,
			Output:     u.CompletionTokens,
		}
	}
	if len(chunk.Choices) == 0 {
		return
	}
	choice := chunk.Choices[0]
	d := choice.Delta
	for _, name := range reasoningFields {
		var s string
		if f, ok := d.JSON.ExtraFields[name]; ok && json.Unmarshal([]byte(f.Raw()), &s) == nil && s != "" {
			a.thinking.WriteString(s)
			a.onDelta(llm.Delta{Kind: llm.DeltaThinking, Text: s})
			// Servers moving from one name to the other send both.
			break
		}
	}
	if d.Content != "" {
		a.text.WriteString(d.Content)
		a.onDelta(llm.Delta{Kind: llm.DeltaText, Text: d.Content})
	}
	if d.Refusal != "" {
		a.text.WriteString(d.Refusal)
		a.onDelta(llm.Delta{Kind: llm.DeltaText, Text: d.Refusal})
	}
	for _, tc := range d.ToolCalls {
		a.toolCall(tc)
	}
	if choice.FinishReason != "" {
		a.finish = choice.FinishReason
	}
}

// toolCall adds a tool call fragment. OpenAI sends the id and name in the
// first fragment of each call and then arguments under the same index.
// Other servers send calls whole, repeat or omit the index, or omit the
// id, so a fragment continues a call when its id matches one, or when it
// has no id and its index matches one (or it has no index: the last call);
// but a fragment that names a tool starts a new call when the one it
// would continue is already whole, as from servers that reuse an id or
// an index for every call. Anything else starts a new call too.
func (a *accumulator) toolCall(tc sdk.ChatCompletionChunkChoiceDeltaToolCall) {
	hasIndex := tc.JSON.Index.Valid()
	c := a.continued(tc, hasIndex)
	if c == nil {
		c = &call{index: -1, id: tc.ID}
		if hasIndex {
			c.index = tc.Index
		}
		a.calls = append(a.calls, c)
	}
	if tc.Function.Name != "" && c.name == "" {
		c.name = tc.Function.Name
		a.onDelta(llm.Delta{Kind: llm.DeltaToolCall, Name: c.name})
	}
	c.args.WriteString(tc.Function.Arguments)
}

// continued returns the call that fragment tc continues, or nil.
func (a *accumulator) continued(tc sdk.ChatCompletionChunkChoiceDeltaToolCall, hasIndex bool) *call {
	var c *call
	switch {
	case tc.ID != "":
		for _, x := range a.calls {
			if x.id == tc.ID {
				c = x
			}
		}
		// An id that follows id-less fragments of the same index.
		if c == nil && hasIndex {
			if x := a.byIndex(tc.Index); x != nil && x.id == "" {
				x.id = tc.ID
				c = x
			}
		}
	case hasIndex:
		c = a.byIndex(tc.Index)
	case len(a.calls) > 0:
		c = a.calls[len(a.calls)-1]
	}
	if c != nil && tc.Function.Name != "" && c.whole() {
		return nil
	}
	return c
}

// whole reports whether the call has a name and arguments that parse: a
// fragment naming a tool after that is another call.
func (c *call) whole() bool {
	return c.name != "" && c.args.Len() > 0 && json.Valid([]byte(c.args.String()))
}

// byIndex returns the latest call with index i.
func (a *accumulator) byIndex(i int64) *call {
	for j := len(a.calls) - 1; j >= 0; j-- {
		if a.calls[j].index == i {
			return a.calls[j]
		}
	}
	return nil
}

// response returns the completed response to req.
func (a *accumulator) response(req *llm.Request) *llm.Response {
	var parts []llm.Part
	if a.thinking.Len() > 0 {
		// Origin marks it as this provider's; no provider sends it back.
		parts = append(parts, llm.Part{Kind: llm.PartThinking, Text: a.thinking.String(), Origin: Kind})
	}
	if a.text.Len() > 0 {
		parts = append(parts, llm.Part{Kind: llm.PartText, Text: a.text.String()})
	}
	truncated := a.finish == "length"
	stand := freeform.Names(req.Tools)
	for _, c := range a.calls {
		// A fragment with neither a name nor arguments carries nothing
		// the model wrote; one with arguments is a call, if a broken one.
		if c.name != "" || strings.TrimSpace(c.args.String()) != "" {
			parts = append(parts, toolcall.Call(c.id, c.name, c.args.String(), truncated, stand))
		}
	}
	toolcall.UniqueIDs(parts, req.History.Messages())
	msg := llm.Message{Role: llm.RoleAssistant, Parts: parts}
	return &llm.Response{Message: msg, StopReason: a.stopReason(msg), Usage: a.usage, Model: a.model}
}

// stopReason trusts the calls over finish_reason, which some servers set
// to "stop" even when they made tool calls; but a response cut at the
// token limit says so whatever it holds.
func (a *accumulator) stopReason(msg llm.Message) llm.StopReason {
	switch {
	case a.finish == "length":
		return llm.StopMaxTokens
	case len(msg.ToolCalls()) > 0:
		return llm.StopToolUse
	case a.finish == "content_filter":
		return llm.StopRefusal
	case a.finish == "stop", a.finish == "tool_calls":
		return llm.StopEndTurn
	}
	return llm.StopOther
}
