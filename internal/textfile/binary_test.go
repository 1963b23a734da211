package textfile

import (
	"strings"
	"testing"
)

func TestBinary(t *testing.T) {
	for _, tc := range []struct {
		sample string
		binary bool
	}{
		{"", false},
		{"plain text\n", false},
		{"tabs\tand\x1b[0m escapes\r\n", false},
		{"caf\xe9 na\xefve " + strings.Repeat("ascii ", 20), false},
		{"nul\x00byte", true},
		{string([]byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0}), true},
		{strings.Repeat("\xff\xfe\x01\x02", 20), true},
		{"ends mid-character \xe2\x82", false},
		{"caf\xe9\r\nna\xefve \xbb quoted \xab\r\n", false},
		{strings.Repeat("\xe9\xe0x", 20), true},
	} {
		if _, got := Binary([]byte(tc.sample)); got != tc.binary {
			t.Errorf("Binary(%q) = %v, want %v", tc.sample, got, tc.binary)
		}
	}
}
