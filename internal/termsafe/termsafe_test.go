package termsafe

import (
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "hello\n\tworld\n", "hello\n\tworld\n"},
		{"utf8", "héllo 世界 🙂\n", "héllo 世界 🙂\n"},
		{"sgr colour", "\x1b[1;31mred\x1b[0m ok", "red ok"},
		{"erase line and cursor", "\x1b[2K\x1b[1Gx\x1b[?25l", "x"},
		{"osc title bel", "\x1b]0;title\x07text", "text"},
		{"osc hyperlink st", "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\!", "link!"},
		{"dcs", "a\x1bPq#0;2;0;0;0\x1b\\b", "ab"},
		{"charset and save cursor", "\x1b(Ba\x1b7b\x1b8", "ab"},
		{"keypad mode", "\x1b=x\x1b>", "x"},
		{"crlf", "a\r\nb\r\n", "a\nb\n"},
		{"progress bar", "10%\r20%\r30%\ndone\n", "30%\ndone\n"},
		{"progress bar with erase", "50%\r\x1b[Kdone\n", "done\n"},
		{"trailing cr keeps line", "abc\r", "abc"},
		{"cr then newline only", "abc\r\r\n", "abc\n"},
		{"controls", "a\x00b\x07c\x08d\x7fe", "a\uFFFDb\uFFFDc\uFFFDd\uFFFDe"},
		{"c1 control", "a\u009bb", "a\uFFFDb"},
		{"invalid utf8", "a\xff\xfeb\xe4\xb8c", "a\uFFFD\uFFFDb\uFFFD\uFFFDc"},
		{"malformed csi keeps text", "\x1b[12\nnext", "\nnext"},
		{"unterminated osc ends at newline", "\x1b]junk\nok", "\nok"},
		{"lone esc at end", "ok\x1b", "ok"},
		{"incomplete csi at end", "ok\x1b[3", "ok"},
		{"esc then control", "a\x1b\x00b", "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rest := Clean([]byte(tt.in), true)
			if got != tt.want || rest != nil {
				t.Errorf("Clean(%q) = %q, rest %q; want %q", tt.in, got, rest, tt.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("Clean(%q) is not valid UTF-8", tt.in)
			}
		})
	}
}

func TestCleanHoldsBackIncompleteSequences(t *testing.T) {
	tests := []struct {
		name          string
		first, second string
		want1, want2  string
	}{
		{"csi", "ab\x1b[3", "1mc", "ab", "c"},
		{"osc", "ab\x1b]0;ti", "tle\x07c", "ab", "c"},
		{"utf8", "ab\xe4\xb8", "\x96c", "ab", "世c"},
		{"cr", "ab\r", "\ncd", "ab", "\ncd"},
		{"lone esc", "ab\x1b", "[0mc", "ab", "c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got1, rest := Clean([]byte(tt.first), false)
			got2, rest2 := Clean(append(rest, tt.second...), false)
			if got1 != tt.want1 || got2 != tt.want2 || rest2 != nil {
				t.Errorf("got %q then %q (rest %q), want %q then %q", got1, got2, rest2, tt.want1, tt.want2)
			}
		})
	}
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"fix the tests", "fix the tests"},
		{"héllo 世界", "héllo 世界"},
		{"\x1b]0;pwned\x07 hi", `\x1b]0;pwned\x07 hi`},
		{"a\nb\tc\rd", `a\nb\tc\rd`},
		{"\x1b[2J\x7f", `\x1b[2J\x7f`},
		{"a\u009b2Jb\u009d", `a\u009b2Jb\u009d`},
		{"bad\xff", `bad\xff`},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEscapeJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"text":"plain"}`, `{"text":"plain"}`},
		{`{"text":"héllo 世界 🙂"}`, `{"text":"héllo 世界 🙂"}`},
		{"{\"text\":\"a\u009b2Jb\u009d0;t\u0080\u009f\u00a0\"}", `{"text":"a\u009b2Jb\u009d0;t\u0080\u009f` + "\u00a0" + `"}`},
		{"{\"text\":\"bad\xff\"}", `{"text":"bad\ufffd"}`},
	}
	for _, tt := range tests {
		got := EscapeJSON([]byte(tt.in))
		if string(got) != tt.want {
			t.Errorf("EscapeJSON(%q) = %q, want %q", tt.in, got, tt.want)
		}
		var in, out any
		if err := json.Unmarshal([]byte(tt.in), &in); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(got, &out); err != nil {
			t.Fatalf("EscapeJSON(%q) is not JSON: %v", tt.in, err)
		}
		if !utf8.Valid([]byte(tt.in)) {
			continue
		}
		if !reflect.DeepEqual(in, out) {
			t.Errorf("EscapeJSON(%q) decodes to %q, want %q", tt.in, out, in)
		}
	}
}
