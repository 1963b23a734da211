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

func TestReplacing(t *testing.T) {
	for _, tc := range []struct {
		old  string
		want Format
	}{
		{"", Format{}},
		{"\xEF\xBB\xBFa\r\nb\r\n", Format{BOM: true, CRLF: true}},
		{"caf\xe9\r\n", Format{CRLF: true, Latin1: true}},
		// Binary: no encoding, even with CRLFs and bytes that are not UTF-8.
		{"\x89PNG\r\n\x1a\r\n\x00\x00\xff", Format{}},
	} {
		if got := Replacing([]byte(tc.old)); got != tc.want {
			t.Errorf("Replacing(%q) = %+v, want %+v", tc.old, got, tc.want)
		}
	}
}
