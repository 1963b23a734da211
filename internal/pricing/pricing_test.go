package pricing

import (
	"math"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/llm"
)

func TestCost(t *testing.T) {
	p := Price{Input: 3, Output: 15, CacheRead: 0.30, CacheWrite: 3.75}
	tests := []struct {
		name  string
		price Price
		u     llm.Usage
		want  float64
	}{
		{"none", p, llm.Usage{}, 0},
		// 3 + 30 + 3 + 1.5
		{"every kind", p, llm.Usage{Input: 1_000_000, Output: 2_000_000, CacheRead: 10_000_000, CacheWrite: 400_000}, 37.5},
		// 100k 5-minute writes at 3.75, 300k hour-long ones at twice the input price.
		{"hour-long writes", p, llm.Usage{CacheWrite: 400_000, CacheWriteLong: 300_000}, 0.375 + 1.8},
		{"hour-long price set", Price{Input: 3, CacheWrite: 3.75, CacheWriteLong: 10}, llm.Usage{CacheWrite: 100_000, CacheWriteLong: 100_000}, 1},
	}
	for _, tt := range tests {
		if got := tt.price.Cost(tt.u); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: Cost = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestLookup(t *testing.T) {
	sonnet45 := Price{Input: 3, Output: 15, CacheRead: 0.30, CacheWrite: 3.75}
	opus4 := Price{Input: 15, Output: 75, CacheRead: 1.50, CacheWrite: 18.75}
	gpt5 := Price{Input: 1.25, Output: 10, CacheRead: 0.125, CacheWrite: 1.25}
	tests := []struct {
		model string
		want  Price
		ok    bool
	}{
		{"claude-sonnet-4-5", sonnet45, true},
		{"claude-sonnet-4-5-20250929", sonnet45, true},
		{"claude-sonnet-4-5@20250929", sonnet45, true},
		{"claude-sonnet-4-5-20250929-v1:0", sonnet45, true},
		{"claude-opus-4-20250514", opus4, true},
		{"claude-opus-4-1-20250805", opus4, true},
		{"claude-opus-4-5-20251101", Price{Input: 5, Output: 25, CacheRead: 0.50, CacheWrite: 6.25}, true},
		{"claude-haiku-4-5-20251001", Price{Input: 1, Output: 5, CacheRead: 0.10, CacheWrite: 1.25}, true},
		{"gpt-5", gpt5, true},
		{"gpt-5-2025-08-07", gpt5, true},
		{"gpt-5-mini-2025-08-07", Price{Input: 0.25, Output: 2, CacheRead: 0.025, CacheWrite: 0.25}, true},
		{"gpt-4.1-2025-04-14", Price{Input: 2, Output: 8, CacheRead: 0.50, CacheWrite: 2}, true},
		{"o4-mini", Price{Input: 1.10, Output: 4.40, CacheRead: 0.275, CacheWrite: 1.10}, true},
		// Extensions that are not snapshots are other models: unknown,
		// never the price of the shorter name.
		{"claude-opus-4-9", Price{}, false},
		{"gpt-5.2-pro", Price{}, false},
		{"gpt-5-chat", Price{}, false},
		{"gpt-5x", Price{}, false},
		{"claude-sonnet-4-5-2025", Price{}, false},
		{"qwen3-coder", Price{}, false},
		{"", Price{}, false},
	}
	tab := Default()
	for _, tt := range tests {
		got, ok := tab.Lookup(tt.model)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v, %v", tt.model, got, ok, tt.want, tt.ok)
		}
	}
}

func TestOverride(t *testing.T) {
	tab := Default()
	local := Price{Input: 0.1, Output: 0.2, CacheRead: 0.1, CacheWrite: 0.1}
	cheapGPT := Price{Input: 1, Output: 1, CacheRead: 1, CacheWrite: 1}
	tab.Override(map[string]Price{"qwen3-coder": local, "gpt-5": cheapGPT})

	if p, ok := tab.Lookup("qwen3-coder:30b"); !ok || p != local {
		t.Errorf("Lookup(qwen3-coder:30b) = %+v, %v; want the override", p, ok)
	}
	if p, _ := tab.Lookup("gpt-5-2025-08-07"); p != cheapGPT {
		t.Errorf("override of gpt-5 not used for its snapshot: got %+v", p)
	}
	if p, _ := Default().Lookup("gpt-5"); p == cheapGPT {
		t.Error("Override on one table changed another")
	}
}

// TestEmbeddedTable guards the hand-written table against typos: every
// entry is priced, and cache prices follow each provider's billing rules.
func TestEmbeddedTable(t *testing.T) {
	prices := Default().prices
	if len(prices) < 20 {
		t.Fatalf("embedded table has %d models", len(prices))
	}
	for name, p := range prices {
		if p.Input <= 0 || p.Output <= p.Input || p.CacheRead <= 0 || p.CacheRead > p.Input {
			t.Errorf("%s: implausible price %+v", name, p)
		}
		if strings.HasPrefix(name, "claude-") {
			// Anthropic bills 5-minute cache writes at 1.25x input.
			if math.Abs(p.CacheWrite-1.25*p.Input) > 1e-9 {
				t.Errorf("%s: cache_write %v, want 1.25 x input %v", name, p.CacheWrite, p.Input)
			}
		} else if p.CacheWrite != p.Input {
			t.Errorf("%s: cache_write %v, want input %v (OpenAI does not bill writes)", name, p.CacheWrite, p.Input)
		}
	}
}
