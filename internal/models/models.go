// Package models knows the limits of the models Lathe talks to: the
// context window a request may fill and the most output one response may
// hold. It embeds a table for the current Claude, GPT and common open
// models, which configuration can extend or override per model, and
// resolves the names models go by (dated snapshots, Ollama tags, an
// organisation prefix) to the entry they are an alias of.
package models

import (
	"bytes"
	_ "embed"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"sync"

	"github.com/pelletier/go-toml/v2"
)

// Info is what Lathe knows of a model's limits, in tokens (zero means
// unknown), and whether it takes images.
type Info struct {
	// ContextWindow is how many tokens a request's input may hold.
	ContextWindow int `toml:"context_window"`
	// MaxOutput is the most tokens one response may hold.
	MaxOutput int `toml:"max_output"`
	// Images says the model takes images in its input.
	Images bool `toml:"images"`
}

// Fallback is assumed for a model the table does not know. It is small on
// purpose: every current commercial model has a larger window and most
// local servers serve at least this much, so a conversation compacted to
// fit it fits wherever it is sent. Too large a guess overflows; too small
// only compacts early.
var Fallback = Info{ContextWindow: 32_768, MaxOutput: 8_192}

// Table maps model names to their limits. Lookup may be called
// concurrently; Override must not run concurrently with anything else.
type Table struct {
	infos map[string]Info
}

//go:embed models.toml
var embedded []byte

var parseEmbedded = sync.OnceValue(func() map[string]Info {
	var m map[string]Info
	if err := toml.NewDecoder(bytes.NewReader(embedded)).DisallowUnknownFields().Decode(&m); err != nil {
		panic(fmt.Sprintf("models: embedded models.toml: %v", err))
	}
	return m
})

// Default returns a table holding the embedded limits. Each call returns
// a fresh table, so overriding one never affects another.
func Default() *Table {
	return &Table{infos: maps.Clone(parseEmbedded())}
}

// Override sets what info states of model: its nonzero fields replace the
// table's, and a model the table did not know is added, unless info
// states nothing.
func (t *Table) Override(model string, info Info) {
	if info == (Info{}) {
		return
	}
	cur := t.infos[model]
	if info.ContextWindow > 0 {
		cur.ContextWindow = info.ContextWindow
	}
	if info.MaxOutput > 0 {
		cur.MaxOutput = info.MaxOutput
	}
	cur.Images = cur.Images || info.Images
	t.infos[model] = cur
}

// SetImages sets whether model takes images, adding it to the table if
// it was not there: config may say either way.
func (t *Table) SetImages(model string, images bool) {
	cur, ok := t.infos[model]
	if !ok {
		cur, _ = t.Lookup(model)
	}
	cur.Images = images
	t.infos[model] = cur
}

// Lookup returns the limits of model: the entry of that name or the one
// it is an alias of (see [Resolve]); failing that, of the name after an
// organisation prefix ("openai/gpt-oss-120b"). ok is false for an
// unknown model, which the caller should treat as [Fallback] and say so.
func (t *Table) Lookup(model string) (info Info, ok bool) {
	if info, ok := Resolve(t.infos, model); ok {
		return info, true
	}
	if i := strings.LastIndexByte(model, '/'); i >= 0 {
		return Resolve(t.infos, model[i+1:])
	}
	return Info{}, false
}

// snapshotSuffix matches what may follow a known model name in the name
// of a snapshot of that same model: an Anthropic date (-20250929, or
// @20250929 on Vertex), an OpenAI date (-2025-04-14), "-latest", or an
// Ollama-style ":tag". Nothing else qualifies, because names that merely
// extend a known one are usually different models (gpt-5 and gpt-5-nano,
// gpt-5.2 and gpt-5.2-pro), with other prices and limits; those are
// unknown rather than wrong. Compiled on first use: every `lathe tool`
// and `lathe --version` would pay for it otherwise.
var snapshotSuffix = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:[-@]\d{8}(?:[-@:].*)?|-\d{4}-\d{2}-\d{2}|-latest|:.*)$`)
})

// Resolve returns the entry of m for model: the one of that exact name,
// or else that of the longest name of which model is a snapshot (a dated
// or tagged name of the same model). Any table keyed by model name
// resolves names this way, so that one model never gets the limits of
// one entry and the price of another.
func Resolve[V any](m map[string]V, model string) (v V, ok bool) {
	if v, ok := m[model]; ok {
		return v, true
	}
	best := ""
	for name := range m {
		if len(name) > len(best) && len(model) > len(name) &&
			model[:len(name)] == name && snapshotSuffix().MatchString(model[len(name):]) {
			best = name
		}
	}
	if best == "" {
		return v, false
	}
	return m[best], true
}
