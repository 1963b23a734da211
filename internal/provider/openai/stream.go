package openai

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/openai/openai-go/v3/responses"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/provider/internal/apierr"
	"github.com/lathe-dev/lathe/internal/provider/internal/toolcall"
)

// item is an output item: as output_item.done gave it, or, until then, as
// output_item.added announced it, with the arguments (or custom input)
// streamed for it since.
type item struct {
	responses.ResponseOutputItemUnion
	done    bool
	partial strings.Builder
}

// accumulator collects the output items of a streamed response.
type accumulator struct {
	onDelta func(llm.Delta)
	errs    apierr.Classifier
	// items are the output items by output index.
	items map[int64]*item
	model string
	// final is the response of the terminal event.
	final *responses.Response
}

func (a *accumulator) add(ev responses.ResponseStreamEventUnion) error {
	switch ev.Type {
	case "response.created", "response.in_progress":
		a.model = string(ev.Response.Model)
	case "response.output_text.delta":
		a.onDelta(llm.Delta{Kind: llm.DeltaText, Text: ev.Delta})
	case "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
		a.onDelta(llm.Delta{Kind: llm.DeltaThinking, Text: ev.Delta})
	case "response.output_item.added":
		if t := ev.Item.Type; t == "function_call" || t == "custom_tool_call" {
			a.onDelta(llm.Delta{Kind: llm.DeltaToolCall, Name: ev.Item.Name})
		}
		if it := a.items[ev.OutputIndex]; it == nil || !it.done {
			a.put(ev.OutputIndex, &item{ResponseOutputItemUnion: ev.Item})
		}
	case "response.function_call_arguments.delta", "response.custom_tool_call_input.delta":
		if it := a.items[ev.OutputIndex]; it != nil && !it.done {
			it.partial.WriteString(ev.Delta)
		}
	case "response.output_item.done":
		a.put(ev.OutputIndex, &item{ResponseOutputItemUnion: ev.Item, done: true})
	case "response.completed", "response.incomplete":
		r := ev.Response
		a.final = &r
	case "response.failed":
		e := ev.Response.Error
		return a.errs.Event(e.Type, string(e.Code), e.Message)
	case "error":
		return a.errs.Event("", ev.Code, ev.Message)
	}
	return nil
}

func (a *accumulator) put(i int64, it *item) {
	if a.items == nil {
		a.items = make(map[int64]*item)
	}
	a.items[i] = it
}

// response converts the output items, in output order, to a message that
// continues history.
func (a *accumulator) response(history []llm.Message) *llm.Response {
	items := a.outputItems()
	truncated := a.final.Status == responses.ResponseStatusIncomplete
	var parts []llm.Part
	refused := false
	for _, it := range items {
		switch it.Type {
		case "reasoning":
			if it.done {
				parts = append(parts, reasoningPart(it.ResponseOutputItemUnion))
			}
		case "compaction":
			if p, ok := compactionPart(it.ResponseOutputItemUnion); ok && it.done {
				parts = append(parts, p)
			}
		case "message":
			var text strings.Builder
			for _, c := range it.Content {
				switch c.Type {
				case "output_text":
					text.WriteString(c.Text)
				case "refusal":
					text.WriteString(c.Refusal)
					refused = true
				}
			}
			if text.Len() > 0 {
				parts = append(parts, llm.Part{Kind: llm.PartText, Text: text.String()})
			}
		case "function_call":
			// An item left incomplete was cut off mid-arguments; one that
			// never got its output_item.done has only what streamed.
			args, cut := it.Arguments.OfString, truncated || it.Status == "incomplete"
			if !it.done {
				args, cut = it.partial.String(), true
			}
			parts = append(parts, toolcall.Call(it.CallID, it.Name, args, cut, nil))
		case "custom_tool_call":
			input, cut := it.Input, it.Status == "incomplete"
			if !it.done {
				input, cut = it.partial.String(), true
			}
			parts = append(parts, toolcall.Freeform(it.CallID, it.Name, input, cut))
		}
	}
	toolcall.UniqueIDs(parts, history)
	msg := llm.Message{Role: llm.RoleAssistant, Parts: parts}
	u := a.final.Usage
	cached := u.InputTokensDetails.CachedTokens
	model := string(a.final.Model)
	if model == "" {
		model = a.model
	}
	return &llm.Response{
		Message:    msg,
		StopReason: stopReason(msg, a.final, refused),
		Usage: llm.Usage{
			Input:     u.InputTokens - cached,
			CacheRead: cached,
			Output:    u.OutputTokens,
		},
		Model: model,
	}
}

// outputItems returns the streamed items in output order, or, from a
// server that streamed none, the terminal response's output. An item that
// never got its output_item.done is taken from the terminal response when
// that has it.
func (a *accumulator) outputItems() []*item {
	if len(a.items) == 0 {
		items := make([]*item, len(a.final.Output))
		for i, it := range a.final.Output {
			items[i] = &item{ResponseOutputItemUnion: it, done: true}
		}
		return items
	}
	idx := make([]int64, 0, len(a.items))
	for i := range a.items {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	items := make([]*item, len(idx))
	for i, k := range idx {
		items[i] = a.items[k]
		if items[i].done {
			continue
		}
		for _, it := range a.final.Output {
			if it.ID != "" && it.ID == items[i].ID {
				items[i] = &item{ResponseOutputItemUnion: it, done: true}
			}
		}
	}
	return items
}

// reasoningItem is the Opaque form of a reasoning item: what the API
// needs to resume the reasoning on a later turn.
type reasoningItem struct {
	Type             string          `json:"type"`
	ID               string          `json:"id"`
	Summary          json.RawMessage `json:"summary"`
	EncryptedContent string          `json:"encrypted_content"`
}

// reasoningPart keeps the summary as visible thinking and, when the item
// carries encrypted content, the item itself to send back. An item without
// it cannot be sent back statelessly and is kept for display only.
func reasoningPart(it responses.ResponseOutputItemUnion) llm.Part {
	summaries := make([]string, 0, len(it.Summary))
	for _, s := range it.Summary {
		summaries = append(summaries, s.Text)
	}
	part := llm.Part{Kind: llm.PartThinking, Text: strings.Join(summaries, "\n\n"), Origin: Kind}
	if it.EncryptedContent == "" {
		return part
	}
	summary := json.RawMessage(it.JSON.Summary.Raw())
	if !it.JSON.Summary.Valid() {
		summary = json.RawMessage(`[]`)
	}
	opaque, err := json.Marshal(reasoningItem{Type: "reasoning", ID: it.ID, Summary: summary, EncryptedContent: it.EncryptedContent})
	if err != nil {
		panic(fmt.Sprintf("openai: marshal reasoning item: %v", err)) // valid JSON from the SDK: cannot fail
	}
	part.Opaque = opaque
	return part
}

func stopReason(msg llm.Message, r *responses.Response, refused bool) llm.StopReason {
	switch {
	case r.Status == responses.ResponseStatusIncomplete && r.IncompleteDetails.Reason == "max_output_tokens":
		return llm.StopMaxTokens
	case len(msg.ToolCalls()) > 0:
		return llm.StopToolUse
	case r.Status == responses.ResponseStatusIncomplete:
		if r.IncompleteDetails.Reason == "content_filter" {
			return llm.StopRefusal
		}
		return llm.StopOther
	case refused:
		return llm.StopRefusal
	}
	return llm.StopEndTurn
}
