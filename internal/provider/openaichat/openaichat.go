// Package openaichat is Lathe's adapter for OpenAI-compatible Chat
// Completions servers (Ollama, vLLM, llama.cpp, LM Studio, OpenRouter),
// streamed through the official OpenAI SDK.
//
// Compatible servers differ from OpenAI and from each other in the details
// of streaming, so the stream is read defensively: tool calls may arrive
// whole or in fragments, without ids or indexes; usage may be missing;
// reasoning may come as reasoning_content or reasoning deltas, which are
// shown as thinking but never sent back.
package openaichat

import (
	"context"
	"errors"
	"net/http"
	"time"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/provider/internal/apierr"
	"github.com/lathe-dev/lathe/internal/provider/internal/sdkopt"
	"github.com/lathe-dev/lathe/internal/provider/internal/wire"
)

// Kind names this provider in errors and in the Origin of its parts.
const Kind = "openai-chat"

// KeyEnv is the environment variable the SDK reads the API key from.
// Local servers need none.
const KeyEnv = "OPENAI_API_KEY"

// Options configure a Provider. Zero values take the SDK's defaults, which
// read OPENAI_API_KEY and OPENAI_BASE_URL from the environment.
type Options struct {
	// BaseURL is the server's OpenAI-compatible root, such as
	// http://localhost:11434/v1 for Ollama.
	BaseURL string
	APIKey  string
	// Headers are added to every request.
	Headers    map[string]string
	HTTPClient *http.Client
	// IdleTimeout abandons a response that sends nothing for this long;
	// zero means idle.DefaultTimeout. A local server evaluating a long
	// prompt on a CPU may need more.
	IdleTimeout time.Duration
	// MaxTokens bounds responses for requests that do not; zero leaves
	// the bound to the server.
	MaxTokens int
}

// Provider streams responses from a Chat Completions server. It is safe
// for concurrent use.
type Provider struct {
	client    sdk.Client
	maxTokens int
	errs      apierr.Classifier
	// convs and tools keep what earlier requests encoded, so that a
	// request encodes only its new messages.
	convs wire.Conversations[[]byte]
	tools wire.Tools
}

// New returns a Provider configured by o.
func New(o Options) (*Provider, error) {
	errs := apierr.Classifier{Provider: Kind, KeyEnv: KeyEnv}
	opts := sdkopt.OpenAI(sdkopt.Conn{
		BaseURL: o.BaseURL, APIKey: o.APIKey, Headers: o.Headers,
		HTTPClient: o.HTTPClient, IdleTimeout: o.IdleTimeout, Errors: errs,
	})
	return &Provider{client: sdk.NewClient(opts...), maxTokens: o.MaxTokens, errs: errs}, nil
}

// Stream sends req and streams the response. Errors are *llm.APIError.
//
// A response is complete when the server has given a finish_reason and
// then ended the stream cleanly. The SDK's stream does not tell the [DONE]
// sentinel apart from the end of the body; a connection cut mid-stream
// still shows, as a chunked body that ends early.
func (p *Provider) Stream(ctx context.Context, req *llm.Request, onDelta func(llm.Delta)) (*llm.Response, error) {
	body, err := p.body(req)
	if err != nil {
		return nil, p.errs.Invalid(err)
	}
	if onDelta == nil {
		onDelta = func(llm.Delta) {}
	}
	// The SDK sends body (see wire.Body.Middleware); the params only tell
	// it what it reports about the request itself.
	params := sdk.ChatCompletionNewParams{Model: shared.ChatModel(req.Model)}
	stream := p.client.Chat.Completions.NewStreaming(ctx, params, option.WithMiddleware(body.Middleware))
	defer stream.Close()
	acc := accumulator{onDelta: onDelta}
	for stream.Next() {
		acc.add(stream.Current())
	}
	if err := stream.Err(); err != nil {
		if se, ok := errors.AsType[*ssestream.StreamError](err); ok && ctx.Err() == nil {
			return nil, p.errs.Body(se.Event.Data)
		}
		return nil, p.errs.Err(ctx, err)
	}
	if acc.finish == "" {
		return nil, p.errs.Truncated("finish_reason")
	}
	return acc.response(req), nil
}
