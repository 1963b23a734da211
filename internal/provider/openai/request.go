package openai

import (
	"encoding/json"
	"fmt"

	"github.com/openai/openai-go/v3/packages/param"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/provider/internal/toolcall"
	"github.com/lathe-dev/lathe/internal/provider/internal/wire"
)

// The request body is written here rather than by marshalling the SDK's
// params for the whole conversation on every request, which made each
// turn cost time in proportion to the conversation. Each message's input
// items are still built and marshalled with the SDK's types, but once:
// they are kept as bytes that later requests send again unchanged (see
// wire.Conversation). The body means what the SDK's would, in another
// order: "stream", "input" and "tools" come first, where the SDK puts
// "input" among its other members; TestBodyMatchesSDK checks this.

// body writes the request body for req. It never modifies req.
func (p *Provider) body(req *llm.Request, encrypted bool) (wire.Body, error) {
	tools, err := p.tools.Encode(req.Tools, encodeTools)
	if err != nil {
		return nil, err
	}
	rest, err := p.params(req, encrypted).MarshalJSON()
	if err != nil {
		return nil, err
	}

	conv, unlock := p.convs.Lock(req.History.ID())
	defer unlock()
	items, err := conv.Encode(req.History.Messages(), encodeMessage)
	if err != nil {
		return nil, err
	}
	wire.SealEach(conv, items)

	head := []byte(`{"stream":true`)
	var tail []byte
	if conv.PrefixLen() > 0 {
		head = append(head, `,"input":[`...)
		tail = append(tail, ']')
	}
	tail = append(tail, tools...)
	tail = wire.AppendMembers(tail, rest)
	body := conv.AppendPrefix(wire.Body{head})
	return append(body, append(tail, '}')), nil
}

// params translates what req says besides its conversation and tools. It
// never modifies req.
func (p *Provider) params(req *llm.Request, encrypted bool) responses.ResponseNewParams {
	params := responses.ResponseNewParams{
		Model: shared.ResponsesModel(req.Model),
		// Nothing is kept server-side, so the conversation works under
		// zero data retention and never depends on stored state.
		Store: param.NewOpt(false),
	}
	if req.System != "" {
		params.Instructions = param.NewOpt(req.System)
	}
	if len(req.Tools) > 0 {
		params.ParallelToolCalls = param.NewOpt(true)
	}
	if req.CacheKey != "" {
		params.PromptCacheKey = param.NewOpt(req.CacheKey)
	}
	params.PromptCacheRetention = p.retention
	params.ContextManagement = contextManagement(req.CompactAt)
	if encrypted {
		params.Include = []responses.ResponseIncludable{responses.ResponseIncludableReasoningEncryptedContent}
	}
	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = p.maxTokens
	}
	if maxTokens > 0 {
		params.MaxOutputTokens = param.NewOpt(int64(maxTokens))
	}
	if p.effort != "" {
		params.Reasoning = shared.ReasoningParam{
			Effort:  shared.ReasoningEffort(p.effort),
			Summary: shared.ReasoningSummaryAuto,
		}
	}
	return params
}

// encodeTools marshals the tool definitions as the "tools" member of a
// body.
var encodeTools = wire.Member("tools", toolParams)

// encodeMessage marshals the input items of a message, comma-separated.
var encodeMessage = wire.Elements(inputItems)

// inputItems returns the input items that stand for a message. Item ids
// are left out: with store: false the API keeps no items to refer to. The
// exception is reasoning, sent back whole with its id and encrypted
// content.
var inputItems = wire.ByRole(userItems, assistantItems)

// toolParams offers function tools, and freeform tools as custom tools
// constrained by their Lark grammar.
func toolParams(defs []llm.ToolDef) ([]responses.ToolUnionParam, error) {
	var out []responses.ToolUnionParam
	for _, d := range defs {
		if d.Grammar != "" {
			t := responses.CustomToolParam{
				Name: d.Name,
				Format: shared.CustomToolInputFormatUnionParam{
					OfGrammar: &shared.CustomToolInputFormatGrammarParam{Definition: d.Grammar, Syntax: "lark"},
				},
			}
			if d.Description != "" {
				t.Description = param.NewOpt(d.Description)
			}
			out = append(out, responses.ToolUnionParam{OfCustom: &t})
			continue
		}
		schema := map[string]any{"type": "object", "properties": map[string]any{}}
		if len(d.Schema) > 0 {
			if err := json.Unmarshal(d.Schema, &schema); err != nil {
				return nil, fmt.Errorf("tool %s: schema: %w", d.Name, err)
			}
		}
		t := responses.FunctionToolParam{
			Name:       d.Name,
			Parameters: schema,
			// Strict mode would demand every property be required and
			// forbid extra ones; the tools' schemas are not written so.
			Strict: param.NewOpt(false),
		}
		if d.Description != "" {
			t.Description = param.NewOpt(d.Description)
		}
		out = append(out, responses.ToolUnionParam{OfFunction: &t})
	}
	return out, nil
}

// userItems puts a message's tool results first, right after the calls
// they answer, then its text and images, in order, as one message.
func userItems(m llm.Message) (responses.ResponseInputParam, error) {
	var out responses.ResponseInputParam
	var content responses.ResponseInputMessageContentListParam
	for _, part := range m.Parts {
		switch part.Kind {
		case llm.PartToolResult:
			if part.Freeform {
				out = append(out, responses.ResponseInputItemUnionParam{OfCustomToolCallOutput: &responses.ResponseCustomToolCallOutputParam{
					CallID: part.CallID,
					Output: responses.ResponseCustomToolCallOutputOutputUnionParam{OfString: param.NewOpt(part.Text)},
				}})
				continue
			}
			out = append(out, responses.ResponseInputItemUnionParam{OfFunctionCallOutput: &responses.ResponseInputItemFunctionCallOutputParam{
				CallID: param.NewOpt(part.CallID),
				Output: responses.ResponseInputItemFunctionCallOutputOutputUnionParam{OfString: param.NewOpt(part.Text)},
			}})
		case llm.PartText:
			if part.Text != "" {
				content = append(content, responses.ResponseInputContentParamOfInputText(part.Text))
			}
		case llm.PartImage:
			// No detail: the API's default, auto, chooses by size.
			content = append(content, responses.ResponseInputContentUnionParam{OfInputImage: &responses.ResponseInputImageParam{
				ImageURL: param.NewOpt(part.DataURL()),
			}})
		case llm.PartThinking, llm.PartToolCall, llm.PartCompaction:
			return nil, fmt.Errorf("%s part in a user message", part.Kind)
		default:
			return nil, fmt.Errorf("unknown part kind %q", part.Kind)
		}
	}
	if len(content) > 0 {
		out = append(out, responses.ResponseInputItemUnionParam{OfMessage: &responses.EasyInputMessageParam{
			Type:    responses.EasyInputMessageTypeMessage,
			Role:    responses.EasyInputMessageRoleUser,
			Content: responses.EasyInputMessageContentUnionParam{OfInputItemContentList: content},
		}})
	}
	return out, nil
}

// assistantItems keeps the order of the model's output: reasoning, then
// text and calls as they came.
func assistantItems(m llm.Message) (responses.ResponseInputParam, error) {
	var out responses.ResponseInputParam
	for _, part := range m.Parts {
		switch part.Kind {
		case llm.PartThinking:
			// Reasoning from another provider, or without its encrypted
			// content, cannot be sent: the API could not verify it.
			if part.Origin != Kind || len(part.Opaque) == 0 {
				continue
			}
			r := param.Override[responses.ResponseReasoningItemParam](json.RawMessage(part.Opaque))
			out = append(out, responses.ResponseInputItemUnionParam{OfReasoning: &r})
		case llm.PartText:
			if part.Text == "" {
				continue
			}
			out = append(out, responses.ResponseInputItemUnionParam{OfOutputMessage: &responses.ResponseOutputMessageParam{
				Content: []responses.ResponseOutputMessageContentUnionParam{{OfOutputText: &responses.ResponseOutputTextParam{Text: part.Text}}},
			}})
		case llm.PartToolCall:
			if part.Freeform {
				var text string
				if err := json.Unmarshal(part.Input, &text); err != nil {
					return nil, fmt.Errorf("tool call %s: freeform input is not a JSON string: %w", part.CallID, err)
				}
				out = append(out, responses.ResponseInputItemUnionParam{OfCustomToolCall: &responses.ResponseCustomToolCallParam{
					CallID: part.CallID,
					Name:   part.Name,
					Input:  text,
				}})
				continue
			}
			args, err := toolcall.Args(part)
			if err != nil {
				return nil, err
			}
			out = append(out, responses.ResponseInputItemUnionParam{OfFunctionCall: &responses.ResponseFunctionToolCallParam{
				CallID:    part.CallID,
				Name:      part.Name,
				Arguments: args,
			}})
		case llm.PartCompaction:
			if item, ok := compactionInput(part); ok {
				out = append(out, item)
			}
		case llm.PartToolResult, llm.PartImage:
			return nil, fmt.Errorf("%s part in an assistant message", part.Kind)
		default:
			return nil, fmt.Errorf("unknown part kind %q", part.Kind)
		}
	}
	return out, nil
}
