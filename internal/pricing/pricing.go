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
	"sync"

	"github.com/pelletier/go-toml/v2"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/models"
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

// Lookup returns the price of model: the entry of that exact name, or else
// that of the longest name of which model is a dated snapshot
// ([models.Resolve]). ok is false for an unknown model, whose cost the
// caller should report as unknown rather than as zero.
func (t *Table) Lookup(model string) (p Price, ok bool) {
	return models.Resolve(t.prices, model)
}
