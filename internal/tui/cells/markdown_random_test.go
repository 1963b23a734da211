package cells

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// blockPieces are fragments of Markdown a random document is made of;
// they are joined by one or two newlines, or by none, so that blocks
// touch, separate and continue each other.
var blockPieces = []string{
	"A paragraph with *emphasis* and `code`.",
	"Another line of text",
	"# Heading",
	"## Second heading",
	"- item one",
	"- item two",
	"  continued item",
	"1. first",
	"2. second",
	"   indented under the item",
	"> quoted",
	"> - quoted list",
	"```go\nfunc f() {}\n```",
	"```\nno lang\n\nblank inside\n```",
	"~~~\ntilde\n~~~",
	"    indented code",
	"| a | b |\n|---|---|\n| 1 | 2 |",
	"---",
	"***",
	"Setext\n===",
	"  two-space indented text",
	"\tA tab-indented line",
	"* star item",
	"+ plus item",
	"10) paren item",
	"text with trailing spaces  ",
	"**bold\nacross lines**",
	"a line ending in a backslash\\",
	"    ```\n    fake fence in indented code\n    ```",
	"- [ ] a task\n- [x] a done task",
	"~~struck~~ and ***both*** and [a link](https://example.com)",
	"| left | right |\n|:--|--:|\n| a much longer cell of words | 1 |",
	"  - indented item",
	"1. item\n\n   ```\n   code in the item\n   ```",
	"> ```\n> code in a quote\n> ```",
}

func randomDoc(rng *rand.Rand) string {
	var b strings.Builder
	for n := 2 + rng.IntN(10); n > 0; n-- {
		b.WriteString(blockPieces[rng.IntN(len(blockPieces))])
		switch rng.IntN(4) {
		case 0:
			b.WriteString("\n")
		case 1, 2:
			b.WriteString("\n\n")
		default:
			b.WriteString("\n\n\n")
		}
	}
	return b.String()
}

// TestMarkdownMatchesWholeRandom checks the block splitter on random
// documents, streamed in random pieces and whole: block by block must be
// what the renderer makes of the whole text. (3000 documents passed once;
// the test runs 300.)
func TestMarkdownMatchesWholeRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n := 300
	if testing.Short() {
		n = 50
	}
	for i := range n {
		doc := randomDoc(rng)
		st := Styles{}
		if i%2 == 1 {
			st = DefaultStyles()
		}
		width := 30 + rng.IntN(60)
		want := renderWhole(doc, width, st)
		if got := streamIn(rng, doc, width, st, nil).String(); got != want {
			t.Fatalf("%q streamed at %d:\n%s\nwant\n%s", doc, width, got, want)
		}
		if got := Markdown(doc, width, st); got != want {
			t.Fatalf("%q at %d:\n%s\nwant\n%s", doc, width, got, want)
		}
	}
}
