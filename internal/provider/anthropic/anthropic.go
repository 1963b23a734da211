// Package anthropic is Lathe's adapter for the Anthropic Messages API,
// streamed through the official SDK.
//
// Besides translating messages, it places prompt-cache breakpoints so that
// each turn reads the previous turns from the cache, and sends thinking
// blocks back with their signatures, as extended thinking with tools
// requires.
package anthropic

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/provider/internal/apierr"
	"github.com/lathe-dev/lathe/internal/provider/internal/sdkopt"
	"github.com/lathe-dev/lathe/internal/provider/internal/wire"
)

// Kind names this provider in errors and in the Origin of the parts it
// needs back.
const Kind = "anthropic"

// KeyEnv is the environment variable the SDK reads the API key from.
const KeyEnv = "ANTHROPIC_API_KEY"

// DefaultMaxTokens bounds a response when neither the request nor the
// options do. The API requires a bound.
const DefaultMaxTokens = 16384

// Options configure a Provider. Zero values take the SDK's defaults, which
// read ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL from the environment.
type Options struct {
	BaseURL string
	APIKey  string
	// Headers are added to every request.
	Headers    map[string]string
	HTTPClient *http.Client
	// IdleTimeout abandons a response that sends nothing for this long;
	// zero means idle.DefaultTimeout.
	IdleTimeout time.Duration
	// MaxTokens bounds responses for requests that do not; zero means
	// DefaultMaxTokens.
	MaxTokens int
	// ThinkingBudget enables extended thinking with this many tokens; zero
	// disables it. The API requires at least 1024, and less than the
	// response's max tokens.
	ThinkingBudget int
	// CacheTTL is how long the prompt cache entries the requests write
	// live: "5m" or "1h"; empty leaves it to the API (5 minutes).
	CacheTTL string
}

// Provider streams responses from the Messages API. It is safe for
// concurrent use.
type Provider struct {
	client    sdk.Client
	maxTokens int
	thinking  int
	// mark is the breakpoint member spliced into the blocks that carry
	// one.
	mark string
	errs apierr.Classifier
	// convs and tools keep what earlier requests encoded, so that a
	// request encodes only its new messages.
	convs wire.Conversations[message]
	tools wire.Tools
}

// New returns a Provider configured by o.
func New(o Options) (*Provider, error) {
	if o.ThinkingBudget != 0 && o.ThinkingBudget < 1024 {
		return nil, fmt.Errorf("anthropic: thinking budget %d is below the minimum of 1024 tokens", o.ThinkingBudget)
	}
	maxTokens := o.MaxTokens
	if maxTokens <= 0 {
		maxTokens = DefaultMaxTokens
	}
	if o.ThinkingBudget >= maxTokens {
		return nil, fmt.Errorf("anthropic: thinking budget %d must be less than max tokens %d", o.ThinkingBudget, maxTokens)
	}
	switch o.CacheTTL {
	case "", "5m", "1h":
	default:
		return nil, fmt.Errorf("anthropic: cache ttl %q: want 5m or 1h", o.CacheTTL)
	}
	errs := apierr.Classifier{Provider: Kind, KeyEnv: KeyEnv}
	opts := sdkopt.Anthropic(sdkopt.Conn{
		BaseURL: o.BaseURL, APIKey: o.APIKey, Headers: o.Headers,
		HTTPClient: o.HTTPClient, IdleTimeout: o.IdleTimeout, Errors: errs,
	})
	return &Provider{
		client:    sdk.NewClient(opts...),
		maxTokens: maxTokens,
		thinking:  o.ThinkingBudget,
		mark:      breakpoint(o.CacheTTL),
		errs:      errs,
		convs:     wire.Conversations[message]{KeepNext: true},
	}, nil
}

// Stream sends req and streams the response. Errors are *llm.APIError.
func (p *Provider) Stream(ctx context.Context, req *llm.Request, onDelta func(llm.Delta)) (*llm.Response, error) {
	body, err := p.body(req)
	if err != nil {
		return nil, p.errs.Invalid(err)
	}
	if onDelta == nil {
		onDelta = func(llm.Delta) {}
	}
	// The SDK sends body (see wire.Body.Middleware); the params only tell
	// it what it reports about the request itself, such as deprecation
	// warnings.
	params := sdk.MessageNewParams{Model: sdk.Model(req.Model)}
	if p.thinking > 0 {
		params.Thinking = sdk.ThinkingConfigParamOfEnabled(int64(p.thinking))
	}
	opts := []option.RequestOption{option.WithMiddleware(body.Middleware)}
	if req.CompactAt > 0 {
		opts = append(opts, option.WithHeaderAdd("anthropic-beta", compactBeta))
	}
	stream := p.client.Messages.NewStreaming(ctx, params, opts...)
	defer stream.Close()
	acc := accumulator{onDelta: onDelta}
	for stream.Next() {
		if err := acc.add(stream.Current()); err != nil {
			return nil, p.errs.Err(ctx, err)
		}
	}
	if err := stream.Err(); err != nil {
		// An error event inside the stream arrives as the SDK's error
		// type; HTTP errors never get here, the middleware took them.
		if ae, ok := errors.AsType[*sdk.Error](err); ok && ctx.Err() == nil {
			return nil, p.errs.Body([]byte(ae.RawJSON()))
		}
		return nil, p.errs.Err(ctx, err)
	}
	if !acc.stopped {
		return nil, p.errs.Truncated("message_stop")
	}
	return acc.response(req), nil
}
