// Package pricing turns token usage into US dollars. It embeds a table of
// list prices for current Anthropic and OpenAI models, which configuration
// can extend or override, and resolves dated snapshot names to the model
// they are a snapshot of.
package pricing

import (
	"bytes"
	_ "embed"
	"fmt"
	"maps"
	"regexp"
	"sync"

	"github.com/pelletier/go-toml/v2"

	"github.com/lathe-dev/lathe/internal/llm"
)

// Price is what a model costs, in USD per million tokens of each kind.
type Price struct {
	Input      float64 `toml:"input"`
	Output     float64 `toml:"output"`
	CacheRead  float64 `toml:"cache_read"`
	CacheWrite float64 `toml:"cache_write"`
	// CacheWriteLong prices writes to the hour-long cache; zero means
	// twice the input price, Anthropic's rule for them.
	CacheWriteLong float64 `toml:"cache_write_1h"`
}

// Cost returns the price of u in USD.
func (p Price) Cost(u llm.Usage) float64 {
	long := p.CacheWriteLong
	if long == 0 {
		long = 2 * p.Input
	}
	return (float64(u.Input)*p.Input +
		float64(u.Output)*p.Output +
		float64(u.CacheRead)*p.CacheRead +
		float64(u.CacheWrite-u.CacheWriteLong)*p.CacheWrite +
		float64(u.CacheWriteLong)*long) / 1e6
}

// Table maps model names to prices. Lookup may be called concurrently;
// Override must not run concurrently with anything else.
type Table struct {
	prices map[string]Price
}

//go:embed prices.toml
var embedded []byte

var parseEmbedded = sync.OnceValue(func() map[string]Price {
	m, err := parse(embedded)
	if err != nil {
		panic(fmt.Sprintf("pricing: embedded prices.toml: %v", err))
	}
	return m
})

// Default returns a table holding the embedded list prices. Each call
// returns a fresh table, so overriding one never affects another.
func Default() *Table {
	return &Table{prices: maps.Clone(parseEmbedded())}
}

// parse reads a price table: a TOML table per model holding input, output,
// cache_read and cache_write.
func parse(b []byte) (map[string]Price, error) {
	var m map[string]Price
	if err := toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields().Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// Override adds prices to t, replacing those of models it already has.
func (t *Table) Override(prices map[string]Price) {
	maps.Copy(t.prices, prices)
}

// snapshotSuffix matches what may follow a known model name in the name of
// a snapshot of that same model: an Anthropic date (-20250929, or
// @20250929 on Vertex), an OpenAI date (-2025-04-14), "-latest", or an
// Ollama-style ":tag". Nothing else qualifies, because names that merely
// extend a known one are usually different models at different prices
// (gpt-5 and gpt-5-nano, gpt-5.2 and gpt-5.2-pro); those are unknown
// rather than priced wrong. Compiled on first use: every `lathe tool` and
// `lathe --version` would pay for it otherwise.
var snapshotSuffix = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:[-@]\d{8}(?:[-@:].*)?|-\d{4}-\d{2}-\d{2}|-latest|:.*)$`)
})

// Lookup returns the price of model: the entry of that exact name, or else
// that of the longest name of which model is a dated snapshot. ok is false
// for an unknown model, whose cost the caller should report as unknown
// rather than as zero.
func (t *Table) Lookup(model string) (p Price, ok bool) {
	if p, ok := t.prices[model]; ok {
		return p, true
	}
	best := ""
	for name := range t.prices {
		if len(name) > len(best) && len(model) > len(name) &&
			model[:len(name)] == name && snapshotSuffix().MatchString(model[len(name):]) {
			best = name
		}
	}
	if best == "" {
		return Price{}, false
	}
	return t.prices[best], true
}
