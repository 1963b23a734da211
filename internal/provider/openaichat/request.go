package openaichat

import (
	"encoding/json"
	"fmt"
	"strings"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/param"
	"github.com/openai/openai-go/v3/shared"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/provider/internal/freeform"
	"github.com/lathe-dev/lathe/internal/provider/internal/toolcall"
	"github.com/lathe-dev/lathe/internal/provider/internal/wire"
)

// The request body is written here rather than by marshalling the SDK's
// params for the whole conversation on every request, which made each
// turn cost time in proportion to the conversation. Each message is still
// built and marshalled with the SDK's types, but once: the result is kept
// as bytes that later requests send again unchanged (see
// wire.Conversation). The members come in the SDK's order, with "stream"
// first; TestBodyMatchesSDK checks the bytes.

// body writes the request body for req, using only the parts of Chat
// Completions that compatible servers implement. It never modifies req.
func (p *Provider) body(req *llm.Request) (wire.Body, error) {
	tools, err := p.tools.Encode(req.Tools, encodeTools)
	if err != nil {
		return nil, err
	}
	rest, err := p.params(req).MarshalJSON()
	if err != nil {
		return nil, err
	}
	var system []byte
	if req.System != "" {
		if system, err = sdk.SystemMessage(req.System).MarshalJSON(); err != nil {
			return nil, err
		}
	}

	conv, unlock := p.convs.Lock(req.History.ID())
	defer unlock()
	msgs, err := conv.Encode(req.History.Messages(), encodeMessage)
	if err != nil {
		return nil, err
	}
	wire.SealEach(conv, msgs)
	head := []byte(`{"stream":true`)
	var tail []byte
	if n := conv.PrefixLen(); n > 0 || system != nil {
		head = append(head, `,"messages":[`...)
		head = append(head, system...)
		if n > 0 && system != nil {
			head = append(head, ',')
		}
		tail = append(tail, ']')
	}
	tail = wire.AppendMembers(tail, rest)
	tail = append(tail, tools...)
	body := conv.AppendPrefix(wire.Body{head})
	return append(body, append(tail, '}')), nil
}

// params translates what req says besides its conversation and tools. It
// never modifies req.
func (p *Provider) params(req *llm.Request) sdk.ChatCompletionNewParams {
	params := sdk.ChatCompletionNewParams{
		Model: shared.ChatModel(req.Model),
		// Without this, most servers report no usage when streaming.
		StreamOptions: sdk.ChatCompletionStreamOptionsParam{IncludeUsage: param.NewOpt(true)},
	}
	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = p.maxTokens
	}
	if maxTokens > 0 {
		// max_tokens, not max_completion_tokens: every compatible server
		// knows the older name.
		params.MaxTokens = param.NewOpt(int64(maxTokens))
	}
	return params
}

// encodeTools marshals the tool definitions as the "tools" member of a
// body.
var encodeTools = wire.Member("tools", toolParams)

// encodeMessage marshals the messages that stand for a message,
// comma-separated.
var encodeMessage = wire.Elements(messageParams)

// messageParams returns the messages that stand for a message on the
// wire. Thinking is never sent back: compatible servers expect the
// reasoning of earlier turns to be dropped.
var messageParams = wire.ByRole(userMessages, assistantMessage)

// toolParams offers function tools. A freeform tool becomes a function
// taking {"input": text}; see package freeform.
func toolParams(defs []llm.ToolDef) ([]sdk.ChatCompletionToolUnionParam, error) {
	var out []sdk.ChatCompletionToolUnionParam
	for _, d := range defs {
		raw := d.Schema
		if d.Grammar != "" {
			raw = freeform.Schema(d)
		}
		schema := shared.FunctionParameters{"type": "object", "properties": map[string]any{}}
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &schema); err != nil {
				return nil, fmt.Errorf("tool %s: schema: %w", d.Name, err)
			}
		}
		fn := shared.FunctionDefinitionParam{Name: d.Name, Parameters: schema}
		if d.Description != "" {
			fn.Description = param.NewOpt(d.Description)
		}
		out = append(out, sdk.ChatCompletionFunctionTool(fn))
	}
	return out, nil
}

// userMessages sends a message's tool results first, as tool messages
// right after the assistant message that made the calls, then its text:
// as one string, which every compatible server reads, or, with images,
// as content parts in order.
func userMessages(m llm.Message) ([]sdk.ChatCompletionMessageParamUnion, error) {
	var out []sdk.ChatCompletionMessageParamUnion
	var text []string
	var content []sdk.ChatCompletionContentPartUnionParam
	images := false
	for _, part := range m.Parts {
		switch part.Kind {
		case llm.PartToolResult:
			out = append(out, sdk.ToolMessage(part.Text, part.CallID))
		case llm.PartText:
			if part.Text != "" {
				text = append(text, part.Text)
				content = append(content, sdk.TextContentPart(part.Text))
			}
		case llm.PartImage:
			images = true
			content = append(content, sdk.ImageContentPart(sdk.ChatCompletionContentPartImageImageURLParam{URL: part.DataURL()}))
		case llm.PartThinking, llm.PartToolCall, llm.PartCompaction:
			return nil, fmt.Errorf("%s part in a user message", part.Kind)
		default:
			return nil, fmt.Errorf("unknown part kind %q", part.Kind)
		}
	}
	switch {
	case images:
		out = append(out, sdk.UserMessage(content))
	case len(text) > 0:
		out = append(out, sdk.UserMessage(strings.Join(text, "\n\n")))
	}
	return out, nil
}

// assistantMessage sends the text and the tool calls of a message.
func assistantMessage(m llm.Message) ([]sdk.ChatCompletionMessageParamUnion, error) {
	var a sdk.ChatCompletionAssistantMessageParam
	var text []string
	for _, part := range m.Parts {
		switch part.Kind {
		case llm.PartText:
			if part.Text != "" {
				text = append(text, part.Text)
			}
		case llm.PartThinking:
		case llm.PartCompaction:
			// Another provider's compaction: its readable summary, if it
			// has one, is all this API can be sent of it.
			if part.Text != "" {
				text = append(text, part.Text)
			}
		case llm.PartToolCall:
			args, err := toolcall.Args(part)
			if err != nil {
				return nil, err
			}
			a.ToolCalls = append(a.ToolCalls, sdk.ChatCompletionMessageToolCallUnionParam{
				OfFunction: &sdk.ChatCompletionMessageFunctionToolCallParam{
					ID:       part.CallID,
					Function: sdk.ChatCompletionMessageFunctionToolCallFunctionParam{Name: part.Name, Arguments: args},
				},
			})
		case llm.PartToolResult, llm.PartImage:
			return nil, fmt.Errorf("%s part in an assistant message", part.Kind)
		default:
			return nil, fmt.Errorf("unknown part kind %q", part.Kind)
		}
	}
	// A turn that was only thinking still sends an empty message: some
	// chat templates insist that user and assistant alternate.
	if len(text) > 0 || len(a.ToolCalls) == 0 {
		a.Content.OfString = param.NewOpt(strings.Join(text, "\n\n"))
	}
	return []sdk.ChatCompletionMessageParamUnion{{OfAssistant: &a}}, nil
}
