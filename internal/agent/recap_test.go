package agent

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClip(t *testing.T) {
	tests := []struct {
		name, s string
		n       int
		want    string
	}{
		{"short", "Goal: x.", 10, "Goal: x."},
		{"exactly", "0123456789", 10, "0123456789"},
		{"at a word", "alpha bravo charlie delta", 22, "alpha bravo charlie…"},
		{"no word near", "alpha bravocharliedelta", 20, "alpha bravocharlied…"},
		{"punctuation dropped before the ellipsis", "one two three, four five", 16, "one two three…"},
		{"characters, not bytes", strings.Repeat("é", 30), 10, strings.Repeat("é", 9) + "…"},
	}
	for _, tt := range tests {
		got := clip(tt.s, tt.n)
		if got != tt.want {
			t.Errorf("%s: clip(%q, %d) = %q, want %q", tt.name, tt.s, tt.n, got, tt.want)
		}
		if utf8.RuneCountInString(got) > tt.n {
			t.Errorf("%s: %d characters, over %d", tt.name, utf8.RuneCountInString(got), tt.n)
		}
	}
}
