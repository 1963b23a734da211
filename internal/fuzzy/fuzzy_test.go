package fuzzy

import (
	"slices"
	"testing"
)

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		name, query string
		pos         []int
		runs        int
		ok          bool
	}{
		{"compact", "cmpct", []int{0, 2, 3, 5, 6}, 3, true},
		{"compact", "", nil, 0, true},
		{"compact", "compact", []int{0, 1, 2, 3, 4, 5, 6}, 1, true},
		{"status", "tus", []int{3, 4, 5}, 1, true},
		{"internal/tui/composer.go", "tuicomp", []int{9, 10, 11, 13, 14, 15, 16}, 2, true},
		{"compact", "cx", nil, 0, false},
		{"héllo", "hl", []int{0, 3}, 2, true},
	} {
		if runs, ok := Runs(tc.name, tc.query); runs != tc.runs || ok != tc.ok {
			t.Errorf("Runs(%q, %q) = %d, %v; want %d, %v", tc.name, tc.query, runs, ok, tc.runs, tc.ok)
		}
		pos, runs, ok := Match(tc.name, tc.query)
		if ok != tc.ok || runs != tc.runs || !slices.Equal(pos, tc.pos) {
			t.Errorf("Match(%q, %q) = %v, %d, %v; want %v, %d, %v", tc.name, tc.query, pos, runs, ok, tc.pos, tc.runs, tc.ok)
		}
	}
}

func TestHighlight(t *testing.T) {
	mark := func(s string) string { return "[" + s + "]" }
	for _, tc := range []struct{ name, query, want string }{
		{"compact", "cmpct", "[c]o[mp]a[ct]"},
		{"naïve café", "ïvc", "na[ïv]e [c]afé"},
		{"status", "", "status"},
	} {
		pos, _, ok := Match(tc.name, tc.query)
		if got := Highlight(tc.name, pos, mark); !ok || got != tc.want {
			t.Errorf("Highlight(%q, %q) = %q, want %q", tc.name, tc.query, got, tc.want)
		}
	}
}
