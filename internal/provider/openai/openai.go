// Package openai is Lathe's adapter for the OpenAI Responses API, streamed
// through the official SDK.
//
// It runs statelessly (store: false), so every request carries the whole
// conversation, including the model's encrypted reasoning items, which are
// sent back verbatim so that reasoning carries across turns and tool calls.
// prompt_cache_key keeps a session's requests on the same prompt cache.
package openai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/provider/internal/apierr"
	"github.com/lathe-dev/lathe/internal/provider/internal/sdkopt"
	"github.com/lathe-dev/lathe/internal/provider/internal/wire"
)

// Kind names this provider in errors and in the Origin of the parts it
// needs back.
const Kind = "openai"

// KeyEnv is the environment variable the SDK reads the API key from.
const KeyEnv = "OPENAI_API_KEY"

// Options configure a Provider. Zero values take the SDK's defaults, which
// read OPENAI_API_KEY and OPENAI_BASE_URL from the environment.
type Options struct {
	BaseURL string
	APIKey  string
	// Headers are added to every request.
	Headers    map[string]string
	HTTPClient *http.Client
	// IdleTimeout abandons a response that sends nothing for this long;
	// zero means idle.DefaultTimeout.
	IdleTimeout time.Duration
	// MaxTokens bounds responses for requests that do not; zero leaves
	// the bound to the API.
	MaxTokens int
	// ReasoningEffort ("minimal", "low", "medium", "high", ...) is sent
	// with a request for reasoning summaries; empty leaves both to the
	// model's defaults.
	ReasoningEffort string
	// CacheRetention is how long the prompt cache is kept: "in_memory"
	// or "24h"; empty leaves it to the API.
	CacheRetention string
}

// Provider streams responses from the Responses API. It is safe for
// concurrent use.
type Provider struct {
	client    sdk.Client
	maxTokens int
	effort    string
	retention responses.ResponseNewParamsPromptCacheRetention
	errs      apierr.Classifier
	// noEncrypted is set once the API has refused to include encrypted
	// reasoning, which models without reasoning do.
	noEncrypted atomic.Bool
	// convs and tools keep what earlier requests encoded, so that a
	// request encodes only its new messages.
	convs wire.Conversations[[]byte]
	tools wire.Tools
}

// New returns a Provider configured by o.
func New(o Options) (*Provider, error) {
	switch o.CacheRetention {
	case "", "in_memory", "24h":
	default:
		return nil, fmt.Errorf("openai: prompt cache retention %q: want in_memory or 24h", o.CacheRetention)
	}
	errs := apierr.Classifier{Provider: Kind, KeyEnv: KeyEnv}
	opts := sdkopt.OpenAI(sdkopt.Conn{
		BaseURL: o.BaseURL, APIKey: o.APIKey, Headers: o.Headers,
		HTTPClient: o.HTTPClient, IdleTimeout: o.IdleTimeout, Errors: errs,
	})
	return &Provider{
		client:    sdk.NewClient(opts...),
		maxTokens: o.MaxTokens,
		effort:    o.ReasoningEffort,
		retention: responses.ResponseNewParamsPromptCacheRetention(o.CacheRetention),
		errs:      errs,
	}, nil
}

// Stream sends req and streams the response. Errors are *llm.APIError.
func (p *Provider) Stream(ctx context.Context, req *llm.Request, onDelta func(llm.Delta)) (*llm.Response, error) {
	if onDelta == nil {
		onDelta = func(llm.Delta) {}
	}
	encrypted := !p.noEncrypted.Load()
	resp, err := p.stream(ctx, req, onDelta, encrypted)
	if encrypted && refusesEncrypted(err) {
		// Nothing streamed before the refusal, so asking again at once
		// is invisible to the caller.
		p.noEncrypted.Store(true)
		resp, err = p.stream(ctx, req, onDelta, false)
	}
	return resp, err
}

// refusesEncrypted reports whether err is the API's refusal to include
// encrypted reasoning for a model that does not reason.
func refusesEncrypted(err error) bool {
	ae, ok := errors.AsType[*llm.APIError](err)
	return ok && ae.Status == http.StatusBadRequest &&
		strings.Contains(strings.ToLower(ae.Message), "encrypted content is not supported")
}

func (p *Provider) stream(ctx context.Context, req *llm.Request, onDelta func(llm.Delta), encrypted bool) (*llm.Response, error) {
	body, err := p.body(req, encrypted)
	if err != nil {
		return nil, p.errs.Invalid(err)
	}
	// The SDK sends body (see wire.Body.Middleware); the params only tell
	// it what it reports about the request itself.
	params := responses.ResponseNewParams{Model: shared.ResponsesModel(req.Model)}
	stream := p.client.Responses.NewStreaming(ctx, params, option.WithMiddleware(body.Middleware))
	defer stream.Close()
	acc := accumulator{onDelta: onDelta, errs: p.errs}
	for stream.Next() {
		if err := acc.add(stream.Current()); err != nil {
			return nil, p.errs.Err(ctx, err)
		}
		if acc.final != nil {
			break
		}
	}
	if err := stream.Err(); err != nil {
		if se, ok := errors.AsType[*ssestream.StreamError](err); ok && ctx.Err() == nil {
			return nil, p.errs.Body(se.Event.Data)
		}
		return nil, p.errs.Err(ctx, err)
	}
	if acc.final == nil {
		return nil, p.errs.Truncated("response.completed")
	}
	return acc.response(req.History.Messages()), nil
}
