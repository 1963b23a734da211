package shell

import (
	"strings"
	"testing"
)

func TestClip(t *testing.T) {
	const limit = 10
	marker := func(n string) string { return "\n\n... [" + n + " characters truncated] ...\n\n" }
	tests := []struct {
		name       string
		head, tail string
		gap        int64
		want       string
		wantCut    int64
	}{
		{"short", "abc", "", 0, "abc", 0},
		{"exactly the limit", "0123456789", "", 0, "0123456789", 0},
		{"split pieces joined", "01234", "56789", 0, "0123456789", 0},
		{"middle cut", "abcdefghijklmnopqrstuvwxyz", "", 0, "abcde" + marker("16") + "vwxyz", 16},
		{"characters not bytes", "ééééééééééüüüüüüüüüü", "", 0, "ééééé" + marker("10") + "üüüüü", 10},
		{"gap with short pieces", "ab", "yz", 100, "ab" + marker("100") + "yz", 100},
		{"gap with long pieces", "abcdefgh", "stuvwxyz", 5, "abcde" + marker("11") + "vwxyz", 11},
		{"gap with short head gives tail more", "a", "qrstuvwxyz", 3, "a" + marker("4") + "rstuvwxyz", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cut := clip(tt.head, tt.tail, tt.gap, limit)
			if got != tt.want || cut != tt.wantCut {
				t.Errorf("clip = %q, %d; want %q, %d", got, cut, tt.want, tt.wantCut)
			}
		})
	}
}

func TestClipKeepsLimitCharacters(t *testing.T) {
	s := strings.Repeat("x", outputLimit*3)
	got, cut := clip(s, "", 0, outputLimit)
	if kept := strings.Count(got, "x"); kept != outputLimit || cut != int64(2*outputLimit) {
		t.Errorf("kept %d characters, cut %d; want %d and %d", kept, cut, outputLimit, 2*outputLimit)
	}
}
