// Package provider builds the llm.Provider for a configured API and wraps
// providers with retries.
//
// The adapters live in sub-packages, one per wire protocol: anthropic (the
// Messages API), openai (the Responses API) and openaichat (OpenAI-
// compatible Chat Completions servers). They share one classification of
// errors, so that [WithRetry] can tell a passing fault from a bad request
// whichever API answered.
package provider

import (
	"fmt"
	"net/http"
	"time"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/provider/anthropic"
	"github.com/lathe-dev/lathe/internal/provider/openai"
	"github.com/lathe-dev/lathe/internal/provider/openaichat"
)

// The provider kinds New accepts.
const (
	KindAnthropic  = anthropic.Kind
	KindOpenAI     = openai.Kind
	KindOpenAIChat = openaichat.Kind
)

// Kinds lists the provider kinds, for help texts and validation messages.
var Kinds = []string{KindAnthropic, KindOpenAI, KindOpenAIChat}

// Options configure a provider. Zero values take each SDK's defaults, which
// read the API key and base URL from the environment (see [EnvKey]).
// Options that do not apply to a kind are ignored.
type Options struct {
	BaseURL string
	APIKey  string
	// Headers are added to every request.
	Headers map[string]string
	// MaxTokens bounds responses for requests that do not set a bound.
	MaxTokens int
	// ThinkingBudget enables Anthropic extended thinking with this many
	// tokens.
	ThinkingBudget int
	// ReasoningEffort sets an OpenAI reasoning model's effort.
	ReasoningEffort string
	// CacheTTL is the lifetime of Anthropic prompt cache entries ("5m",
	// "1h"); CacheRetention that of OpenAI's ("in_memory", "24h"). Empty
	// leaves them to the API; each is an error for the other kinds.
	CacheTTL       string
	CacheRetention string
	// Compaction "native" says the requests will ask the provider to
	// compact the conversation itself ([llm.Request.CompactAt]), which
	// is an error for a kind without it (Chat Completions); "" and
	// "local" leave compaction to Lathe.
	Compaction string
	// IdleTimeout abandons a response that sends nothing for this long, as
	// a retryable error; zero means 90 seconds.
	IdleTimeout time.Duration
	// HTTPClient sends the requests; nil means http.DefaultClient's
	// settings.
	HTTPClient *http.Client
}

// New returns the provider of the given kind.
func New(kind string, o Options) (llm.Provider, error) {
	if o.CacheTTL != "" && kind != KindAnthropic {
		return nil, fmt.Errorf("cache_ttl is for %s providers, not %s: it is prompt_cache_retention on OpenAI's", KindAnthropic, kind)
	}
	if o.CacheRetention != "" && kind != KindOpenAI {
		return nil, fmt.Errorf("prompt_cache_retention is for %s providers, not %s", KindOpenAI, kind)
	}
	if o.Compaction == "native" && kind != KindAnthropic && kind != KindOpenAI {
		return nil, fmt.Errorf("compaction = \"native\" is for %s and %s providers: the Chat Completions API of %s has no native compaction", KindAnthropic, KindOpenAI, kind)
	}
	switch kind {
	case KindAnthropic:
		return anthropic.New(anthropic.Options{
			BaseURL:        o.BaseURL,
			APIKey:         o.APIKey,
			Headers:        o.Headers,
			HTTPClient:     o.HTTPClient,
			IdleTimeout:    o.IdleTimeout,
			MaxTokens:      o.MaxTokens,
			ThinkingBudget: o.ThinkingBudget,
			CacheTTL:       o.CacheTTL,
		})
	case KindOpenAI:
		return openai.New(openai.Options{
			BaseURL:         o.BaseURL,
			APIKey:          o.APIKey,
			Headers:         o.Headers,
			HTTPClient:      o.HTTPClient,
			IdleTimeout:     o.IdleTimeout,
			MaxTokens:       o.MaxTokens,
			ReasoningEffort: o.ReasoningEffort,
			CacheRetention:  o.CacheRetention,
		})
	case KindOpenAIChat:
		return openaichat.New(openaichat.Options{
			BaseURL:     o.BaseURL,
			APIKey:      o.APIKey,
			Headers:     o.Headers,
			HTTPClient:  o.HTTPClient,
			IdleTimeout: o.IdleTimeout,
			MaxTokens:   o.MaxTokens,
		})
	}
	return nil, fmt.Errorf("unknown provider kind %q (want %q, %q or %q)", kind, KindAnthropic, KindOpenAI, KindOpenAIChat)
}

// EnvKey names the environment variable from which the SDK of kind reads
// the API key when Options.APIKey is empty, or "" for an unknown kind.
// Servers behind openai-chat often need no key at all.
func EnvKey(kind string) string {
	switch kind {
	case KindAnthropic:
		return anthropic.KeyEnv
	case KindOpenAI:
		return openai.KeyEnv
	case KindOpenAIChat:
		return openaichat.KeyEnv
	}
	return ""
}
