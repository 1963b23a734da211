package cells

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestMarkdownBlocks pins how each kind of block renders without colour.
func TestMarkdownBlocks(t *testing.T) {
	tests := []struct {
		name, doc string
		width     int
		want      string
	}{
		{"heading and paragraph", "# Title\n\nSome *soft*\nwrapped **text** here.", 20,
			"# Title\n\nSome *soft* wrapped\n**text** here."},
		{"setext heading", "Title\n---", 20, "## Title"},
		{"code span and strike", "Use `go test` ~~not make~~.", 40, "Use `go test` ~~not make~~."},
		{"hard break and escapes", "a\\\nb &amp; \\*c\\*", 20, "a\nb & *c*"},
		{"link and autolink", "[docs](https://x.dev/d) and <https://x.dev>", 80,
			"docs (https://x.dev/d) and https://x.dev"},
		{"reference link", "[docs][d]\n\n[d]: https://x.dev/d", 80, "docs (https://x.dev/d)"},
		{"image", "![a chart](c.png)", 80, "image: a chart (c.png)"},
		{"thematic break", "a\n\n***\n\nb", 8, "a\n\n────────\n\nb"},
		{"fenced code", "```go\nfunc f() {\n\treturn\n}\n```", 40, "  func f() {\n      return\n  }"},
		{"indented code", "    x := 1\n\n    y := 2", 40, "  x := 1\n\n  y := 2"},
		{"long code line", "```\nabcdefghij\n```", 8, "  abcdef\n  ghij"},
		{"unclosed fence", "```\nstill code", 40, "  still code"},
		{"tight list", "- a\n- b\n  - c\n    1. d", 40, "• a\n• b\n  • c\n    1. d"},
		{"loose list", "1. a\n\n   more\n2. b", 40, "1. a\n\n   more\n\n2. b"},
		{"ordered start", "7) x\n8) y", 40, "7) x\n8) y"},
		{"task list", "- [x] done\n- [ ] todo", 40, "• [x] done\n• [ ] todo"},
		{"list item wraps under its text", "- one two three four", 10, "• one two\n  three\n  four"},
		{"quote", "> a\n>\n> b", 40, "│ a\n│\n│ b"},
		{"quote in list", "- > q", 40, "• │ q"},
		{"table", "| a | bb |\n|:-|-:|\n| ccc | d |", 40, "a   │ bb\n────┼───\nccc │  d"},
		{"table cut to width", "| a | b |\n|---|---|\n| one two three | x |", 12,
			"a        │ b\n─────────┼──\none two  │ x\nthree    │"},
		{"html block", "<div>\n<b>x</b>\n</div>", 40, "<div>\n<b>x</b>\n</div>"},
		{"long word", "abcdefghijkl", 5, "abcde\nfghij\nkl"},
		{"wide characters", "世界世界世界", 5, "世界\n世界\n世界"},
		{"spaces kept", "a  b", 10, "a  b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Markdown(tt.doc, tt.width, Styles{}); got != tt.want {
				t.Errorf("Markdown(%q, %d) =\n%s\nwant\n%s", tt.doc, tt.width, got, tt.want)
			}
		})
	}
}

// TestMarkdownColour checks what colour adds: styles instead of the
// markers, and nothing else.
func TestMarkdownColour(t *testing.T) {
	got := Markdown("# H\n\n**b** `c` [l](u) ~~s~~ *i*\n\n```\ncode\n```", 40, DefaultStyles())
	if plain := ansi.Strip(got); plain != "# H\n\nb c l (u) s i\n\n  code" {
		t.Errorf("without its styles:\n%s", plain)
	}
	for _, frag := range []string{"\x1b[1m", "\x1b[3m", "\x1b[9m"} {
		if !strings.Contains(got, frag) {
			t.Errorf("no %q in %q", frag, got)
		}
	}
}

// sgr is a Select Graphic Rendition sequence, the only escape a
// rendered line may hold.
var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// checkLines fails if a rendered line is wider than width, ends in a
// space, or holds an escape sequence that is not a style.
func checkLines(t *testing.T, doc, out string, width int) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		plain := ansi.Strip(l)
		if w := ansi.StringWidth(l); w > width && width > 1 {
			t.Fatalf("%q at %d: line %q is %d wide", doc, width, plain, w)
		}
		if strings.HasSuffix(plain, " ") {
			t.Fatalf("%q at %d: line %q ends in a space", doc, width, plain)
		}
		if rest := sgr.ReplaceAllString(l, ""); strings.ContainsAny(rest, "\x1b\x07\r") {
			t.Fatalf("%q at %d: line %q has a control", doc, width, l)
		}
	}
}

// TestMarkdownFits renders random documents and the test documents at
// every width from 1 to 90, with and without colour: no line is wider
// than the width (but at width 1, a wide character), ends in a space or
// holds an escape sequence the text brought.
func TestMarkdownFits(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var docs []string
	for _, d := range markdownDocs {
		docs = append(docs, d)
	}
	for range 100 {
		docs = append(docs, randomDoc(rng))
	}
	for _, doc := range docs {
		for width := 1; width <= 90; width += 1 + rng.IntN(8) {
			checkLines(t, doc, Markdown(doc, width, Styles{}), width)
			checkLines(t, doc, Markdown(doc, width, DefaultStyles()), width)
		}
	}
}

// FuzzMarkdown checks the same of any text, and that streaming it in
// two pieces shows what rendering it whole does.
func FuzzMarkdown(f *testing.F) {
	for _, d := range markdownDocs {
		f.Add(d, 40, 7)
	}
	f.Fuzz(func(t *testing.T, doc string, width, cut int) {
		width = 1 + abs(width)%120
		whole := Markdown(doc, width, DefaultStyles())
		checkLines(t, doc, whole, width)
		cut = abs(cut) % (len(doc) + 1)
		s := NewStream(width, DefaultStyles())
		s.Append(doc[:cut])
		s.Rows()
		s.Append(doc[cut:])
		s.Finish()
		if got := s.String(); got != whole {
			t.Fatalf("%q cut at %d:\n%s\nwant\n%s", doc, cut, got, whole)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
