package anthropic

import (
	"encoding/json"
	"fmt"
	"strings"

	sdk "github.com/anthropics/anthropic-sdk-go"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/provider/internal/freeform"
	"github.com/lathe-dev/lathe/internal/provider/internal/toolcall"
)

// block is a content block as it streams in.
type block struct {
	typ       string
	text      strings.Builder // text, or thinking
	signature strings.Builder
	data      string // redacted thinking
	id, name  string
	input     strings.Builder
	// startInput is the input the start event carried, used when no
	// input deltas follow.
	startInput json.RawMessage
	// raw is a compaction block as it started, and fields what its
	// deltas set.
	raw    string
	fields map[string]json.RawMessage
	done   bool
}

// accumulator builds a response from stream events.
type accumulator struct {
	onDelta func(llm.Delta)
	blocks  []*block
	usage   llm.Usage
	stop    sdk.StopReason
	model   string
	stopped bool

	// compaction is what a native compaction cost.
	compaction llm.Usage
}

func (a *accumulator) add(ev sdk.MessageStreamEventUnion) error {
	switch ev.Type {
	case "message_start":
		u := ev.Message.Usage
		a.model = string(ev.Message.Model)
		a.usage = llm.Usage{
			Input:      u.InputTokens,
			CacheRead:  u.CacheReadInputTokens,
			CacheWrite: u.CacheCreationInputTokens,
			Output:     u.OutputTokens,

			CacheWriteLong: u.CacheCreation.Ephemeral1hInputTokens,
		}
	case "content_block_start":
		if ev.Index != int64(len(a.blocks)) {
			return fmt.Errorf("content block %d started after %d blocks", ev.Index, len(a.blocks))
		}
		cb := ev.ContentBlock
		b := &block{typ: cb.Type, id: cb.ID, name: cb.Name, data: cb.Data}
		b.text.WriteString(cb.Text)
		b.text.WriteString(cb.Thinking)
		b.signature.WriteString(cb.Signature)
		if raw := cb.JSON.Input.Raw(); cb.JSON.Input.Valid() {
			b.startInput = json.RawMessage(raw)
		}
		if b.typ == "compaction" {
			b.raw = cb.RawJSON()
		}
		a.blocks = append(a.blocks, b)
		if b.typ == "tool_use" {
			a.onDelta(llm.Delta{Kind: llm.DeltaToolCall, Name: b.name})
		}
	case "content_block_delta":
		b, err := a.block(ev)
		if err != nil {
			return err
		}
		d := ev.Delta
		switch d.Type {
		case "text_delta":
			b.text.WriteString(d.Text)
			a.onDelta(llm.Delta{Kind: llm.DeltaText, Text: d.Text})
		case "thinking_delta":
			b.text.WriteString(d.Thinking)
			a.onDelta(llm.Delta{Kind: llm.DeltaThinking, Text: d.Thinking})
		case "signature_delta":
			b.signature.WriteString(d.Signature)
		case "input_json_delta":
			b.input.WriteString(d.PartialJSON)
		case "compaction_delta":
			if err := b.compactionDelta(ev.RawJSON()); err != nil {
				return err
			}
		}
	case "content_block_stop":
		b, err := a.block(ev)
		if err != nil {
			return err
		}
		b.done = true
	case "message_delta":
		a.stop = ev.Delta.StopReason
		// The counts here are totals for the message so far; those left
		// out keep the values message_start gave.
		u := ev.Usage
		a.usage.Output = u.OutputTokens
		if u.JSON.InputTokens.Valid() {
			a.usage.Input = u.InputTokens
		}
		if u.JSON.CacheReadInputTokens.Valid() {
			a.usage.CacheRead = u.CacheReadInputTokens
		}
		if u.JSON.CacheCreationInputTokens.Valid() {
			a.usage.CacheWrite = u.CacheCreationInputTokens
		}
		if c, ok := compactionUsage(u.RawJSON()); ok {
			a.compaction = c
		}
	case "message_stop":
		a.stopped = true
	}
	return nil
}

func (a *accumulator) block(ev sdk.MessageStreamEventUnion) (*block, error) {
	if ev.Index < 0 || ev.Index >= int64(len(a.blocks)) {
		return nil, fmt.Errorf("%s for content block %d of %d", ev.Type, ev.Index, len(a.blocks))
	}
	return a.blocks[ev.Index], nil
}

// response returns the completed response to req, whose tool definitions
// tell calls to freeform stand-ins, and whose messages the call ids that
// are taken.
func (a *accumulator) response(req *llm.Request) *llm.Response {
	stand := freeform.Names(req.Tools)
	var parts []llm.Part
	for _, b := range a.blocks {
		switch b.typ {
		case "text":
			if b.text.Len() > 0 {
				parts = append(parts, llm.Part{Kind: llm.PartText, Text: b.text.String()})
			}
		case "thinking":
			parts = append(parts, llm.Part{Kind: llm.PartThinking, Text: b.text.String(), Signature: b.signature.String(), Origin: Kind})
		case "redacted_thinking":
			opaque, err := json.Marshal(redacted{Type: "redacted_thinking", Data: b.data})
			if err != nil {
				panic(fmt.Sprintf("anthropic: marshal redacted thinking: %v", err)) // two strings: cannot fail
			}
			parts = append(parts, llm.Part{Kind: llm.PartThinking, Opaque: opaque, Origin: Kind})
		case "tool_use":
			parts = append(parts, b.call(a.stop == sdk.StopReasonMaxTokens, stand))
		case "compaction":
			if p, ok := b.compactionPart(); ok {
				parts = append(parts, p)
			}
		}
	}
	toolcall.UniqueIDs(parts, req.History.Messages())
	return &llm.Response{
		Message:    llm.Message{Role: llm.RoleAssistant, Parts: parts},
		StopReason: stopReason(a.stop),
		Usage:      a.usage,
		Model:      a.model,

		CompactionUsage: a.compaction,
	}
}

// call returns the tool call of a tool_use block. Input that does not
// parse is a fragment when the block never ended or the response stopped
// at max_tokens (truncated), and a mistake otherwise; either way the call
// is kept, marked, for the agent to answer.
func (b *block) call(truncated bool, freeformTools map[string]bool) llm.Part {
	args := b.input.String()
	if b.input.Len() == 0 {
		args = string(b.startInput)
	}
	return toolcall.Call(b.id, b.name, args, truncated || !b.done, freeformTools)
}

func stopReason(r sdk.StopReason) llm.StopReason {
	switch r {
	case sdk.StopReasonEndTurn, sdk.StopReasonStopSequence:
		return llm.StopEndTurn
	case sdk.StopReasonToolUse:
		return llm.StopToolUse
	case sdk.StopReasonMaxTokens, sdk.StopReasonModelContextWindowExceeded:
		return llm.StopMaxTokens
	case sdk.StopReasonRefusal:
		return llm.StopRefusal
	}
	return llm.StopOther
}
