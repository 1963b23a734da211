package fakeapi

import (
	"crypto/sha256"
)

// bytesPerToken is the rough size of a token, for plausible usage numbers.
const bytesPerToken = 4

// prefix is a cumulative position in a prompt: the hash of every block up to
// and including one, and their total size.
type prefix struct {
	hash  [sha256.Size]byte
	bytes int
}

func prefixes(blocks []block) []prefix {
	ps := make([]prefix, len(blocks))
	var prev prefix
	for i, b := range blocks {
		h := sha256.New()
		h.Write(prev.hash[:])
		h.Write(b.canon)
		copy(prev.hash[:], h.Sum(nil))
		prev.bytes += len(b.canon)
		ps[i] = prev
	}
	return ps
}

// promptCache emulates prompt caching so tests can check honest token
// accounting. It keeps Anthropic's explicit breakpoints and OpenAI's
// automatic prefix caching apart, as the real services do. Minimum cacheable
// lengths, cache lifetimes and Anthropic's 20-block lookback are not
// emulated: every breakpoint caches and every earlier breakpoint can hit.
type promptCache struct {
	// written holds the Anthropic prefixes written at cache breakpoints.
	written map[[sha256.Size]byte]bool
	// last holds the previous OpenAI prompt per API and prompt_cache_key.
	last map[openAIKey][]prefix
}

type openAIKey struct {
	api API
	key string
}

func newPromptCache() *promptCache {
	return &promptCache{written: map[[sha256.Size]byte]bool{}, last: map[openAIKey][]prefix{}}
}

// usage computes the input side of a reply's usage for a request of
// bodyLen bytes and records what the request caches. scale turns bytes of
// the request into tokens: the whole body's are its input tokens; cached
// parts are sized by their canonical blocks.
func (pc *promptCache) usage(api API, c *conversation, bodyLen int, scale func(bytes int) int64) Usage {
	total := max(1, scale(bodyLen))
	tokens := func(p prefix) int64 { return min(total, scale(p.bytes)) }
	ps := prefixes(c.blocks)

	if api == APIAnthropic {
		last := -1
		for i, b := range c.blocks {
			if b.marked {
				last = i
			}
		}
		if last < 0 {
			return Usage{InputTokens: total}
		}
		var read int64
		for j := last; j >= 0; j-- {
			if pc.written[ps[j].hash] {
				read = tokens(ps[j])
				break
			}
		}
		for i, b := range c.blocks {
			if b.marked {
				pc.written[ps[i].hash] = true
			}
		}
		upto := tokens(ps[last])
		u := Usage{InputTokens: total - upto, CacheReadInputTokens: read, CacheCreationInputTokens: upto - read}
		// What is written is written at the last breakpoint, with its
		// lifetime.
		if c.blocks[last].long {
			u.CacheCreation1hInputTokens = u.CacheCreationInputTokens
		}
		return u
	}

	k := openAIKey{api: api, key: c.cacheKey}
	prev := pc.last[k]
	pc.last[k] = ps
	var read int64
	for j := 0; j < min(len(ps), len(prev)) && ps[j] == prev[j]; j++ {
		read = tokens(ps[j])
	}
	return Usage{InputTokens: total - read, CacheReadInputTokens: read}
}

// outputTokens estimates the tokens of a reply, and of its reasoning alone.
func outputTokens(r *Reply) (output, reasoning int64) {
	n := len(r.Thinking) + len(r.Text)
	for i := range r.ToolCalls {
		n += len(r.ToolCalls[i].Name) + len(r.ToolCalls[i].argsText())
	}
	reasoning = int64(len(r.Thinking) / bytesPerToken)
	return max(1, int64(n/bytesPerToken)), reasoning
}

// totalInput is every input token, cached or not: what OpenAI reports as
// input_tokens or prompt_tokens.
func (u Usage) totalInput() int64 {
	return u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens
}
