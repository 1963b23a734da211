package openaichat

import (
	"testing"

	sdk "github.com/openai/openai-go/v3"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/provider/internal/ssetest"
)

// TestBodyMatchesSDK checks that the bodies the adapter writes are, byte
// for byte, what the SDK's params for the whole request marshal to.
func TestBodyMatchesSDK(t *testing.T) {
	for _, o := range []Options{{}, {MaxTokens: 1000}} {
		o.APIKey = "unused"
		p, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		ssetest.MatchSDK(t, 300, true, p.body, p.sdkBody)
	}
}

// TestBodyPerConversation checks the bodies of two conversations taking
// turns on one provider, and of a history replaced after an in-place
// edit: each conversation has a cache of its own, and a replaced history
// is encoded afresh.
func TestBodyPerConversation(t *testing.T) {
	p, err := New(Options{APIKey: "unused"})
	if err != nil {
		t.Fatal(err)
	}
	ssetest.MatchConversations(t, true, p.body, p.sdkBody)
}

// sdkBody marshals the SDK's params for the whole of req, as the adapter
// did before it wrote bodies itself.
func (p *Provider) sdkBody(req *llm.Request) ([]byte, error) {
	params := p.params(req)
	msgs, err := ssetest.Concat(req.History.Messages(), messageParams)
	if err != nil {
		return nil, err
	}
	if req.System != "" {
		msgs = append([]sdk.ChatCompletionMessageParamUnion{sdk.SystemMessage(req.System)}, msgs...)
	}
	params.Messages = msgs
	if params.Tools, err = toolParams(req.Tools); err != nil {
		return nil, err
	}
	return params.MarshalJSON()
}
