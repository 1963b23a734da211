package openai

import (
	"testing"

	"github.com/openai/openai-go/v3/responses"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/provider/internal/ssetest"
	"github.com/lathe-dev/lathe/internal/provider/internal/wire"
)

// TestBodyMatchesSDK checks that the bodies the adapter writes mean what
// the SDK's params for the whole request marshal to.
func TestBodyMatchesSDK(t *testing.T) {
	for _, o := range []Options{{}, {MaxTokens: 1000, ReasoningEffort: "low"}} {
		o.APIKey = "unused"
		p, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		for _, encrypted := range []bool{true, false} {
			ssetest.MatchSDK(t, 300, false, func(req *llm.Request) (wire.Body, error) {
				return p.body(req, encrypted)
			}, func(req *llm.Request) ([]byte, error) {
				return p.sdkBody(req, encrypted)
			})
		}
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
	ssetest.MatchConversations(t, false, func(req *llm.Request) (wire.Body, error) {
		return p.body(req, true)
	}, func(req *llm.Request) ([]byte, error) {
		return p.sdkBody(req, true)
	})
}

// sdkBody marshals the SDK's params for the whole of req, as the adapter
// did before it wrote bodies itself.
func (p *Provider) sdkBody(req *llm.Request, encrypted bool) ([]byte, error) {
	params := p.params(req, encrypted)
	input, err := ssetest.Concat(req.History.Messages(), inputItems)
	if err != nil {
		return nil, err
	}
	params.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: input}
	if params.Tools, err = toolParams(req.Tools); err != nil {
		return nil, err
	}
	return params.MarshalJSON()
}
