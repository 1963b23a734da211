package app

import (
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/config"
	"github.com/lathe-dev/lathe/internal/models"
)

func TestContextWindow(t *testing.T) {
	for _, tt := range []struct {
		name     string
		model    string
		provider int
		models   map[string]config.ModelConfig
		want     int
		warned   bool
	}{
		{"table", "claude-sonnet-4-5-20250929", 0, nil, 200_000, false},
		{"model config over the table", "claude-sonnet-4-5", 0,
			map[string]config.ModelConfig{"claude-sonnet-4-5": {ContextWindow: 50_000}}, 50_000, false},
		{"model config for a snapshot", "qwen3-coder:30b", 0,
			map[string]config.ModelConfig{"qwen3-coder": {ContextWindow: 65_536}}, 65_536, false},
		{"provider over everything", "qwen3-coder", 16_384,
			map[string]config.ModelConfig{"qwen3-coder": {ContextWindow: 65_536}}, 16_384, false},
		{"unknown model", "my-finetune", 0, nil, models.Fallback.ContextWindow, true},
		{"model config without a window", "my-finetune", 0,
			map[string]config.ModelConfig{"my-finetune": {MaxOutput: 4096}}, models.Fallback.ContextWindow, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := &App{
				cfg:   &config.Config{Models: tt.models},
				prov:  config.ProviderConfig{Name: "local", ContextWindow: tt.provider},
				model: tt.model,
			}
			var warnings []string
			got := a.contextWindow(func(err error) { warnings = append(warnings, err.Error()) })
			if got != tt.want {
				t.Errorf("window = %d, want %d", got, tt.want)
			}
			if tt.warned != (len(warnings) == 1) || len(warnings) > 1 {
				t.Fatalf("warnings = %q, want one: %v", warnings, tt.warned)
			}
			if tt.warned && !strings.Contains(warnings[0], `[models."`+tt.model+`"] or [providers.local]`) {
				t.Errorf("warning %q does not say what to set", warnings[0])
			}
		})
	}
}

// TestChildWindow checks that a subagent on another model than its
// parent's gets that model's window, and the provider's where the
// provider declares one.
func TestChildWindow(t *testing.T) {
	a := &App{cfg: &config.Config{}, prov: config.ProviderConfig{Name: "anthropic"}, model: "claude-sonnet-4-5"}
	parent, _ := models.Default().Lookup("claude-sonnet-4-5")
	child, _ := models.Default().Lookup("gpt-4.1")
	if parent.ContextWindow == child.ContextWindow {
		t.Fatalf("the table gives both models %d tokens: pick models that differ", child.ContextWindow)
	}
	if got := a.windowOf("gpt-4.1", nil); got != child.ContextWindow {
		t.Errorf("child window = %d, want gpt-4.1's %d", got, child.ContextWindow)
	}
	a.prov.ContextWindow = 12_000
	if got := a.windowOf("gpt-4.1", nil); got != 12_000 {
		t.Errorf("child window = %d, want the provider's 12000", got)
	}
}

// TestMaxTokens checks the bound each response gets: the provider's
// max_tokens, else the model's max_output from config or the table, cut
// to the room a full context leaves in the window; nothing for a model
// whose max_output nobody knows.
func TestMaxTokens(t *testing.T) {
	for _, tt := range []struct {
		name     string
		model    string
		provider config.ProviderConfig
		models   map[string]config.ModelConfig
		want     int
	}{
		// 64000 in the table; 15 % of its 200k window is 30000.
		{"table, cut to the window's room", "claude-sonnet-4-5", config.ProviderConfig{}, nil, 30_000},
		{"table, under the window's room", "gpt-oss-120b", config.ProviderConfig{}, nil, 19_661},
		{"model config", "claude-sonnet-4-5", config.ProviderConfig{},
			map[string]config.ModelConfig{"claude-sonnet-4-5": {MaxOutput: 8000}}, 8000},
		{"model config for a snapshot", "claude-sonnet-4-5-20250929", config.ProviderConfig{},
			map[string]config.ModelConfig{"claude-sonnet-4-5": {MaxOutput: 8000}}, 8000},
		{"model config, cut to its own window", "claude-sonnet-4-5", config.ProviderConfig{},
			map[string]config.ModelConfig{"claude-sonnet-4-5": {MaxOutput: 64_000, ContextWindow: 20_000}}, 3000},
		{"the provider's window", "claude-sonnet-4-5", config.ProviderConfig{ContextWindow: 40_000}, nil, 6000},
		{"provider max_tokens over everything", "claude-sonnet-4-5", config.ProviderConfig{MaxTokens: 50_000},
			map[string]config.ModelConfig{"claude-sonnet-4-5": {MaxOutput: 8000}}, 50_000},
		{"unknown model", "my-finetune", config.ProviderConfig{}, nil, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.provider.Name = "p"
			a := &App{cfg: &config.Config{Models: tt.models}, prov: tt.provider, model: tt.model}
			if got := a.maxTokensOf(tt.model); got != tt.want {
				t.Errorf("max tokens = %d, want %d", got, tt.want)
			}
		})
	}
}
