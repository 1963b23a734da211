package app

import (
	"fmt"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/models"
)

// contextWindow returns the context window of the session's model, in
// tokens. The provider's context_window comes first, because it describes
// the server (a local one often serves less than the model could hold);
// then the model's own ([models."NAME"] context_window) and the embedded
// table's. A model none of them knows gets [models.Fallback]'s small
// window, and warn says so: too large a guess would overflow it.
func (a *App) contextWindow(warn func(error)) int {
	return a.windowOf(a.model, warn)
}

// windowOf is contextWindow for model, served by the session's provider.
func (a *App) windowOf(model string, warn func(error)) int {
	if a.prov.ContextWindow > 0 {
		return a.prov.ContextWindow
	}
	if info := a.limitsOf(model); info.ContextWindow > 0 {
		return info.ContextWindow
	}
	if warn != nil {
		warn(fmt.Errorf("the context window of model %s is unknown; assuming %d tokens: set context_window under [models.%q] or [providers.%s] in config.toml",
			model, models.Fallback.ContextWindow, model, a.prov.Name))
	}
	return models.Fallback.ContextWindow
}

// limitsOf returns what config ([models."NAME"]) and the embedded table
// say of model's limits, zero fields unknown, and whether it takes
// images.
func (a *App) limitsOf(model string) models.Info {
	table := models.Default()
	for name, m := range a.cfg.Models {
		table.Override(name, models.Info{ContextWindow: m.ContextWindow, MaxOutput: m.MaxOutput})
		if m.Images != nil {
			table.SetImages(name, *m.Images)
		}
	}
	info, _ := table.Lookup(model)
	return info
}

// maxTokensOf bounds each response of model, served by the session's
// provider. The provider's max_tokens comes first, as the bound the user
// chose for that server. Otherwise it is the model's max_output (config's
// [models."NAME"], then the embedded table's), cut to the room a full
// context leaves in the window (see agent.ContextLimit): the Anthropic API
// and many local servers refuse a request whose input and max_tokens
// together exceed the window. 0, for a model whose max_output is unknown,
// leaves the bound to the provider's adapter.
func (a *App) maxTokensOf(model string) int {
	if a.prov.MaxTokens > 0 {
		return a.prov.MaxTokens
	}
	out := a.limitsOf(model).MaxOutput
	if out <= 0 {
		return 0
	}
	if w := a.windowOf(model, nil); w > 0 {
		out = min(out, w-agent.ContextLimit(w))
	}
	return out
}
