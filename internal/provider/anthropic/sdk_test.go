package anthropic

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	sdk "github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/packages/param"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/provider/internal/freeform"
	"github.com/lathe-dev/lathe/internal/provider/internal/ssetest"
)

// TestBodyMatchesSDK checks that the bodies the adapter writes are, byte
// for byte, what the SDK's param types marshal to.
func TestBodyMatchesSDK(t *testing.T) {
	for _, o := range []Options{{}, {ThinkingBudget: 2048}, {CacheTTL: "1h"}, {CacheTTL: "5m", ThinkingBudget: 2048}} {
		o.APIKey, o.MaxTokens = "unused", 8192
		p, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		ssetest.MatchSDK(t, 300, true, p.body, func(req *llm.Request) ([]byte, error) { return p.sdkBodyTTL(req, o.CacheTTL) })
	}
}

// TestBodyPerConversation checks the bodies of two conversations taking
// turns on one provider, and of a history replaced after an in-place
// edit: each conversation has a cache of its own, and a replaced history
// is encoded afresh.
func TestBodyPerConversation(t *testing.T) {
	p, err := New(Options{APIKey: "unused", ThinkingBudget: 2048})
	if err != nil {
		t.Fatal(err)
	}
	ssetest.MatchConversations(t, true, p.body, p.sdkBody)
}

// sdkBody translates req through the SDK's param types and marshals them,
// as the adapter did before it wrote bodies itself. It builds new values
// throughout and never modifies req, whose messages the caller keeps as
// its history.
func (p *Provider) sdkBody(req *llm.Request) ([]byte, error) { return p.sdkBodyTTL(req, "") }

// sdkBodyTTL is sdkBody for a provider whose cache entries live ttl.
func (p *Provider) sdkBodyTTL(req *llm.Request, ttl string) ([]byte, error) {
	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = p.maxTokens
	}
	if p.thinking > 0 && p.thinking >= maxTokens {
		return nil, fmt.Errorf("thinking budget %d must be less than max tokens %d", p.thinking, maxTokens)
	}
	msgs, err := sdkMessages(req.History.Messages())
	if err != nil {
		return nil, err
	}
	params := sdk.MessageNewParams{
		Model:     sdk.Model(req.Model),
		MaxTokens: int64(maxTokens),
		Messages:  msgs,
		Tools:     sdkTools(req.Tools),
	}
	if req.System != "" {
		params.System = []sdk.TextBlockParam{{Text: req.System}}
	}
	if p.thinking > 0 {
		params.Thinking = sdk.ThinkingConfigParamOfEnabled(int64(p.thinking))
	}
	sdkMarkCache(&params, ttl)
	return params.MarshalJSON()
}

// tools translates tool definitions. A freeform tool, which the Messages
// API cannot offer, becomes a function taking {"input": text}; see package
// freeform.
func sdkTools(defs []llm.ToolDef) []sdk.ToolUnionParam {
	var out []sdk.ToolUnionParam
	for _, d := range defs {
		t := sdk.ToolParam{
			Name:        d.Name,
			InputSchema: param.Override[sdk.ToolInputSchemaParam](inputSchema(d)),
		}
		if d.Description != "" {
			t.Description = sdk.String(d.Description)
		}
		out = append(out, sdk.ToolUnionParam{OfTool: &t})
	}
	return out
}

// messages translates the conversation. Consecutive messages of one role
// are merged, and a user message's tool results are put before its other
// blocks, as the API requires. Messages left with no blocks (an assistant
// turn whose only part was another provider's reasoning) are dropped.
func sdkMessages(in []llm.Message) ([]sdk.MessageParam, error) {
	var out []sdk.MessageParam
	for i, m := range in {
		var role sdk.MessageParamRole
		switch m.Role {
		case llm.RoleUser:
			role = sdk.MessageParamRoleUser
		case llm.RoleAssistant:
			role = sdk.MessageParamRoleAssistant
		default:
			return nil, fmt.Errorf("message %d: unknown role %q", i, m.Role)
		}
		blocks, err := sdkContentBlocks(m)
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		if len(blocks) == 0 {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Role == role {
			out[n-1].Content = append(out[n-1].Content, blocks...)
		} else {
			out = append(out, sdk.MessageParam{Role: role, Content: blocks})
		}
	}
	for i := range out {
		if out[i].Role == sdk.MessageParamRoleUser {
			slices.SortStableFunc(out[i].Content, func(a, b sdk.ContentBlockParamUnion) int {
				return sdkResultRank(a) - sdkResultRank(b)
			})
		}
	}
	return out, nil
}

func sdkResultRank(b sdk.ContentBlockParamUnion) int {
	if b.OfToolResult != nil {
		return 0
	}
	return 1
}

func sdkContentBlocks(m llm.Message) ([]sdk.ContentBlockParamUnion, error) {
	var out []sdk.ContentBlockParamUnion
	for _, part := range m.Parts {
		switch part.Kind {
		case llm.PartText:
			// The API rejects empty text blocks.
			if part.Text != "" {
				out = append(out, sdk.NewTextBlock(part.Text))
			}
		case llm.PartThinking:
			b, ok, err := sdkThinkingBlock(part)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, b)
			}
		case llm.PartToolCall:
			input, err := freeform.Args(part)
			if err != nil {
				return nil, err
			}
			out = append(out, sdk.NewToolUseBlock(part.CallID, input, part.Name))
		case llm.PartToolResult:
			r := sdk.ToolResultBlockParam{ToolUseID: part.CallID}
			if part.Text != "" {
				r.Content = []sdk.ToolResultBlockParamContentUnion{{OfText: &sdk.TextBlockParam{Text: part.Text}}}
			}
			if part.IsError {
				r.IsError = sdk.Bool(true)
			}
			out = append(out, sdk.ContentBlockParamUnion{OfToolResult: &r})
		case llm.PartImage:
			out = append(out, sdk.NewImageBlockBase64(part.MediaType, base64.StdEncoding.EncodeToString(part.Data)))
		default:
			return nil, fmt.Errorf("unknown part kind %q", part.Kind)
		}
	}
	return out, nil
}

// thinkingBlock returns the block that sends a thinking part back. Only
// parts this provider produced can be sent: the API verifies signatures,
// so reasoning from another provider, or without a signature, is dropped.
func sdkThinkingBlock(part llm.Part) (sdk.ContentBlockParamUnion, bool, error) {
	if part.Origin != Kind {
		return sdk.ContentBlockParamUnion{}, false, nil
	}
	if len(part.Opaque) > 0 {
		var r redacted
		if err := json.Unmarshal(part.Opaque, &r); err != nil || r.Data == "" {
			return sdk.ContentBlockParamUnion{}, false, fmt.Errorf("redacted thinking part has no data: %s", part.Opaque)
		}
		return sdk.NewRedactedThinkingBlock(r.Data), true, nil
	}
	if part.Signature == "" {
		return sdk.ContentBlockParamUnion{}, false, nil
	}
	return sdk.NewThinkingBlock(part.Signature, part.Text), true, nil
}

// markCache places prompt-cache breakpoints, at most four as the API
// allows: on the last tool and the system prompt, which never change in a
// session; the automatic one, which the API puts on the last block; and,
// when the newest turns add bridgeAfter blocks or more, on the last block
// of the user message before them, where the previous request's automatic
// breakpoint was, farther back than the API looks from the automatic one.
func sdkMarkCache(params *sdk.MessageNewParams, ttl string) {
	cc := sdk.NewCacheControlEphemeralParam()
	cc.TTL = sdk.CacheControlEphemeralTTL(ttl)
	params.CacheControl = cc
	if n := len(params.Tools); n > 0 {
		params.Tools[n-1].OfTool.CacheControl = cc
	}
	if n := len(params.System); n > 0 {
		params.System[n-1].CacheControl = cc
	}
	msgs := params.Messages
	added := 0
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == sdk.MessageParamRoleUser && i < len(msgs)-1 {
			if added >= bridgeAfter {
				sdkMarkLast(msgs[i].Content, cc)
			}
			return
		}
		added += len(msgs[i].Content)
	}
}

// markLast puts a breakpoint on the last block that can carry one;
// thinking blocks cannot.
func sdkMarkLast(blocks []sdk.ContentBlockParamUnion, cc sdk.CacheControlEphemeralParam) {
	for i := len(blocks) - 1; i >= 0; i-- {
		b := &blocks[i]
		switch {
		case b.OfText != nil:
			b.OfText.CacheControl = cc
		case b.OfToolUse != nil:
			b.OfToolUse.CacheControl = cc
		case b.OfToolResult != nil:
			b.OfToolResult.CacheControl = cc
		default:
			continue
		}
		return
	}
}

// TestConcurrentConversations streams two conversations at once through
// one provider, each a growing prefix at a time, and checks that every
// body sent is one the SDK would have sent, whatever the interleaving
// does to the conversation cache.
func TestConcurrentConversations(t *testing.T) {
	c := ssetest.Load(t, "testdata/text.txtar")
	reply := ssetest.Reply{Body: c.Stream(t)}
	const turns = 30
	var replies []ssetest.Reply
	for range 2 * turns {
		replies = append(replies, reply)
	}
	srv := ssetest.NewServer(t, replies...)
	p := newProvider(t, srv.URL, Options{})

	want := map[string]bool{}
	var reqs [2]*llm.Request
	for i := range reqs {
		reqs[i] = ssetest.Conversation(rand.New(rand.NewPCG(uint64(i), 7)), 0)
		for j := range turns {
			reqs[i].History = reqs[i].History.Append(llm.Message{Role: llm.RoleUser, Parts: []llm.Part{{Kind: llm.PartText, Text: fmt.Sprintf("conversation %d, turn %d", i, j)}}},
				llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{{Kind: llm.PartText, Text: "ok"}}})
		}
	}
	var wg sync.WaitGroup
	for i, req := range reqs {
		snaps := ssetest.Snapshots(req.History)
		for n := 1; n <= turns; n++ {
			turn := *req
			turn.History = snaps[2*n-2]
			b, err := p.sdkBody(&turn)
			if err != nil {
				t.Fatal(err)
			}
			want[`{"stream":true,`+string(b[1:])] = true
		}
		wg.Go(func() {
			for n := 1; n <= turns; n++ {
				turn := *req
				turn.History = snaps[2*n-2]
				if _, err := p.Stream(context.Background(), &turn, nil); err != nil {
					t.Errorf("conversation %d, turn %d: %v", i, n, err)
				}
			}
		})
	}
	wg.Wait()
	for i, b := range srv.Bodies() {
		if !want[string(b)] {
			t.Errorf("request %d: a body the SDK would not have sent:\n%s", i+1, b)
		}
	}
}
