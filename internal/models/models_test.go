package models

import "testing"

func TestEmbeddedTable(t *testing.T) {
	for name, info := range parseEmbedded() {
		if info.ContextWindow < Fallback.ContextWindow || info.MaxOutput <= 0 {
			t.Errorf("%s: %+v: want a window of at least the fallback's and a max output", name, info)
		}
	}
}

func TestLookup(t *testing.T) {
	for _, tt := range []struct {
		model string
		want  Info
		ok    bool
	}{
		{"claude-sonnet-4-5", Info{200_000, 64_000, true}, true},
		{"claude-sonnet-4-5-20250929", Info{200_000, 64_000, true}, true},
		{"claude-opus-4-1@20250805", Info{200_000, 32_000, true}, true},
		{"gpt-5", Info{272_000, 128_000, true}, true},
		{"gpt-4.1-2025-04-14", Info{1_047_576, 32_768, true}, true},
		// The longest name wins: gpt-5-mini is not gpt-5.
		{"gpt-5-mini", Info{272_000, 128_000, true}, true},
		{"gpt-4o-mini-2024-07-18", Info{128_000, 16_384, true}, true},
		{"qwen3-coder:30b", Info{262_144, 65_536, false}, true},
		{"openai/gpt-oss-120b", Info{131_072, 32_768, false}, true},
		{"Qwen/qwen3-coder:480b", Info{262_144, 65_536, false}, true},
		// A name that merely extends a known one is another model.
		{"gpt-5.2-pro", Info{}, false},
		{"claude-sonnet-4-5-turbo", Info{}, false},
		{"my-finetune", Info{}, false},
		{"", Info{}, false},
	} {
		got, ok := Default().Lookup(tt.model)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v, %v", tt.model, got, ok, tt.want, tt.ok)
		}
	}
}

func TestOverride(t *testing.T) {
	tab := Default()
	tab.Override("claude-sonnet-4-5", Info{ContextWindow: 1_000_000})
	tab.Override("my-finetune", Info{ContextWindow: 16_384})
	tab.Override("dialect-only", Info{})
	for _, tt := range []struct {
		model string
		want  Info
	}{
		// Only the fields set change.
		{"claude-sonnet-4-5", Info{1_000_000, 64_000, true}},
		// An override applies to the snapshots of its model too.
		{"claude-sonnet-4-5-20250929", Info{1_000_000, 64_000, true}},
		{"my-finetune:q4", Info{16_384, 0, false}},
	} {
		if got, ok := tab.Lookup(tt.model); !ok || got != tt.want {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v", tt.model, got, ok, tt.want)
		}
	}
	if got, ok := tab.Lookup("dialect-only"); ok {
		t.Errorf("an override stating nothing made a model known: %+v", got)
	}
	// Tables are independent.
	if got, _ := Default().Lookup("claude-sonnet-4-5"); got.ContextWindow != 200_000 {
		t.Errorf("Default() after an override of another table: %+v", got)
	}
}

// TestSetImages: config may turn image input on for a model the table
// does not know, or off for one it marks, keeping its limits.
func TestSetImages(t *testing.T) {
	tab := Default()
	tab.SetImages("qwen3-vl", true)
	tab.SetImages("claude-sonnet-4-5", false)
	tab.SetImages("gpt-5-2025-08-07", false)
	for _, tt := range []struct {
		model string
		want  Info
	}{
		{"qwen3-vl", Info{Images: true}},
		{"claude-sonnet-4-5", Info{200_000, 64_000, false}},
		{"claude-sonnet-4-5-20250929", Info{200_000, 64_000, false}},
		{"gpt-5-2025-08-07", Info{272_000, 128_000, false}},
		{"gpt-5", Info{272_000, 128_000, true}},
	} {
		if got, ok := tab.Lookup(tt.model); !ok || got != tt.want {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v", tt.model, got, ok, tt.want)
		}
	}
}
