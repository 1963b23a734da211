package app

import (
	"fmt"

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
	table := models.Default()
	for name, m := range a.cfg.Models {
		table.Override(name, models.Info{ContextWindow: m.ContextWindow, MaxOutput: m.MaxOutput})
	}
	if info, ok := table.Lookup(model); ok && info.ContextWindow > 0 {
		return info.ContextWindow
	}
	if warn != nil {
		warn(fmt.Errorf("the context window of model %s is unknown; assuming %d tokens: set context_window under [models.%q] or [providers.%s] in config.toml",
			model, models.Fallback.ContextWindow, model, a.prov.Name))
	}
	return models.Fallback.ContextWindow
}
