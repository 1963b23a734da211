package cells

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lathe-dev/lathe/internal/termsafe"
)

// markdownDocs are model answers of every shape the block splitter must
// get right: blocks that blank lines separate and those they do not.
var markdownDocs = map[string]string{
	"paragraphs": "# Fixing the pager\n\nThe tests in `pager/` failed because `Pages` rounded **down**.\n\nI changed it to round up, and added a guard for `size <= 0`.\nThis line follows without a blank.\n\n## Changes\n\nDone.",
	"lists":      "Steps:\n\n- read the code\n- run the tests\n\n- a loose item\n\n  with a second paragraph\n\n1. first\n2. second\n\n3. third, after a blank\n\n   indented continuation\n\nAfter the list.\n\n* star\n+ plus\n\n10) paren\n\nEnd.",
	"nested":     "- outer\n  - inner\n\n    inner paragraph\n\n  - inner 2\n- outer 2\n\n> a quote\n> more\n\n> another quote\n\n> - list in quote\n\nText.",
	"code":       "Run this:\n```sh\ngo test ./...\n\necho done\n```\nand then:\n\n~~~~go\nfunc f() {\n\n\t// ```\n}\n~~~~\n\n```\nunclosed? no, closed\n````\n\n    indented code\n\n    more indented code\nText after.\n\n```x```\n\nlast",
	"html":       "<!-- a comment\n\nstill the comment -->\n\n<pre>\npre text\n\nmore pre\n</pre>\n\n<div>\nhtml block\n</div>\n\nParagraph.",
	"refs":       "See [the docs][docs] and [this][].\n\nMore text.\n\n[docs]: https://example.com/docs\n[this]: https://example.com",
	"tables":     "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n\nText between.\n\n| x |\n|---|\n| long cell with words in it |\n\n---\n\nSetext\n======\n\nAnother\n---\n\n***\n\nend",
	"unicode":    "Größe: 世界 🌍\n\n- ✓ done\n- ✗ failed\n\n`\x1b[31mred\x1b[0m` and \x1b]0;title\x07 text\r\n\nbad \xff utf8",
	"unclosed":   "Text.\n\n```python\nprint('never closed')\n\nx = 1",
	"long code":  "Intro.\n\n```go\n" + strings.Repeat("\tx := `raw\n\nstring`\n", 50) + "```\n\nAfter.\n\n~~~\n" + strings.Repeat("line\n", 130),
	"emphasis":   "*emphasis\nover two lines*\n\n**strong**\n\n_a\n\nb_\n\n[link](https://example.com) and <https://auto.link>\n\nLine with trailing spaces  \nhard break.",
}

// streamIn streams text into a Stream in pieces cut at random points.
func streamIn(rng *rand.Rand, text string, width int, st Styles, check func(s *Stream, prefix string)) *Stream {
	s := NewStream(width, st)
	for i := 0; i < len(text); {
		n := 1 + rng.IntN(12)
		if rng.IntN(8) == 0 {
			n = 1 + rng.IntN(200)
		}
		j := min(len(text), i+n)
		s.Append(text[i:j])
		i = j
		if check != nil && rng.IntN(6) == 0 {
			check(s, text[:j])
		}
	}
	s.Finish()
	return s
}

// TestStreamEqualsOneShot streams each document cut at many random
// points: the finished stream shows exactly what Markdown does for the
// whole text, and while it streams, what Markdown does for the text so
// far.
func TestStreamEqualsOneShot(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for name, doc := range markdownDocs {
		for _, width := range []int{40, 80} {
			for _, st := range []struct {
				name string
				st   Styles
			}{{"plain", Styles{}}, {"colour", DefaultStyles()}} {
				t.Run(fmt.Sprintf("%s/%d/%s", name, width, st.name), func(t *testing.T) {
					want := Markdown(doc, width, st.st)
					for range 10 {
						got := streamIn(rng, doc, width, st.st, func(s *Stream, prefix string) {
							if name == "refs" || name == "html" {
								return // rendered whole once finished
							}
							if got, want := s.String(), Markdown(s.Text(), width, st.st); got != want {
								t.Fatalf("streaming %q:\n%s\nwant\n%s", prefix, got, want)
							}
						}).String()
						if got != want {
							t.Fatalf("finished:\n%s\nwant\n%s", got, want)
						}
					}
				})
			}
		}
	}
}

// renderWhole is the renderer's rendering of the whole text at once,
// without the blank lines a Stream drops at its end.
func renderWhole(text string, width int, st Styles) string {
	return strings.Join(trimBlank(newRenderer(width, st).render(termsafe.String(strings.ReplaceAll(text, "\r", "")))), "\n")
}

// TestMarkdownMatchesWhole checks that rendering block by block, and a
// long code block chunk by chunk, is what the renderer makes of the
// whole text: the blocks are cut only where nothing before a cut can
// change what comes after it.
func TestMarkdownMatchesWhole(t *testing.T) {
	for name, doc := range markdownDocs {
		for _, st := range []Styles{{}, DefaultStyles()} {
			for _, width := range []int{40, 80} {
				if got, want := Markdown(doc, width, st), renderWhole(doc, width, st); got != want {
					t.Errorf("%s at %d:\n%s\nwant\n%s", name, width, got, want)
				}
			}
		}
	}
}

// TestStreamFreezes checks that finished blocks are frozen, so a delta
// renders only the tail.
func TestStreamFreezes(t *testing.T) {
	s := NewStream(80, Styles{})
	s.Append("# Title\n\nOne.\n\nTwo")
	// A block is frozen once the line after it is complete.
	if tail := s.Text()[s.done:]; tail != "One.\n\nTwo" {
		t.Errorf("tail %q, want One. and Two", tail)
	}
	s.Append("\n- a\n\n- b\n\nThree.\n\n    code\n\nFour\n")
	if tail := s.Text()[s.done:]; tail != "Four\n" {
		t.Errorf("tail %q, want Four", tail)
	}
	if got := s.String(); got != Markdown(s.Text(), 80, Styles{}) {
		t.Errorf("stream:\n%s\nwant\n%s", got, Markdown(s.Text(), 80, Styles{}))
	}
}

// TestStreamSetWidth re-renders a stream at a new width as a fresh one
// at that width would be.
func TestStreamSetWidth(t *testing.T) {
	doc := markdownDocs["paragraphs"] + "\n\n" + markdownDocs["lists"]
	s := NewStream(80, DefaultStyles())
	s.Append(doc[:len(doc)/2])
	s.SetWidth(33)
	s.Append(doc[len(doc)/2:])
	s.Finish()
	if got, want := s.String(), Markdown(doc, 33, DefaultStyles()); got != want {
		t.Errorf("after SetWidth:\n%s\nwant\n%s", got, want)
	}
	s.SetWidth(50)
	if got, want := s.String(), Markdown(doc, 50, DefaultStyles()); got != want {
		t.Errorf("finished, after SetWidth:\n%s\nwant\n%s", got, want)
	}
}

// TestStreamHugeCodeBlock streams a code block of 5,000 lines: only
// the last chunk of it is rendered again as it grows, what is shown
// while it streams stays as it was when the fence closes, and the
// finished stream is the one-shot render.
func TestStreamHugeCodeBlock(t *testing.T) {
	var b strings.Builder
	b.WriteString("Here it is:\n\n```go\n")
	for i := range 5_000 {
		fmt.Fprintf(&b, "\tx%d := f(%d) // \x1b[2J\n", i, i)
	}
	doc := b.String()
	s := NewStream(80, Styles{})
	for i := 0; i < len(doc); i += 500 {
		s.Append(doc[i:min(len(doc), i+500)])
		s.Rows()
		if n := len(s.Text()) - s.lastChunkStart(); n > 2*codeChunk*40 {
			t.Fatalf("the tail rendered again is %d bytes", n)
		}
	}
	before := s.String()
	s.Append("```\n\nDone.")
	after := s.String()
	if !strings.HasPrefix(after, before) {
		t.Error("closing the fence changed the code shown")
	}
	s.Finish()
	if got, want := s.String(), Markdown(doc+"```\n\nDone.", 80, Styles{}); got != want {
		t.Error("the finished stream is not the one-shot render")
	}
	if strings.Contains(s.String(), "\x1b") {
		t.Error("an escape sequence from the text got through")
	}
}

// lastChunkStart is where the text the stream renders again on the next
// delta starts.
func (s *Stream) lastChunkStart() int {
	if s.chunking() {
		return s.chunkEnds[len(s.chunkEnds)-1]
	}
	return s.done
}

func TestStreamSlice(t *testing.T) {
	s := NewStream(40, Styles{})
	s.Append("One.\n\nTwo.\n\nThree")
	all := strings.Split(s.String(), "\n")
	if s.Rows() != len(all) {
		t.Fatalf("Rows %d, String has %d", s.Rows(), len(all))
	}
	for from := 0; from <= len(all); from++ {
		for to := from; to <= len(all)+2; to++ {
			got := s.Slice(from, to)
			want := all[from:min(to, len(all))]
			if strings.Join(got, "\n") != strings.Join(want, "\n") || len(got) != len(want) {
				t.Fatalf("Slice(%d, %d) = %q, want %q", from, to, got, want)
			}
		}
	}
}

// benchStream returns a stream that has rendered lines lines of
// finished paragraphs.
func benchStream(b *testing.B, lines int) *Stream {
	s := NewStream(100, DefaultStyles())
	var text strings.Builder
	for i := 0; s.Rows() < lines; i++ {
		text.Reset()
		for range 50 {
			fmt.Fprintf(&text, "Paragraph %d says something about `code` and **this**.\n\n", i)
			i++
		}
		s.Append(text.String())
	}
	return s
}

// BenchmarkStreamDelta is the cost of one streamed delta (a word) and the
// frame that shows it, after 0 and after 100k rows of earlier text: it
// must not grow with the text before.
func BenchmarkStreamDelta(b *testing.B) {
	for _, lines := range []int{0, 100_000} {
		b.Run(fmt.Sprintf("rows=%d", lines), func(b *testing.B) {
			s := benchStream(b, lines)
			b.ReportAllocs()
			runtime.GC()
			cpu0 := cpuTime(b)
			i := 0
			for b.Loop() {
				delta := "word "
				if i%40 == 39 {
					delta = "end.\n\n"
				}
				s.Append(delta)
				rows := s.Rows()
				s.Slice(max(0, rows-40), rows)
				i++
			}
			// CPU time, unlike wall time, does not count the waits of a
			// loaded machine; it does count the collector's work.
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStreamCodeDelta is the same inside a code block that grows to
// many thousand lines.
func BenchmarkStreamCodeDelta(b *testing.B) {
	s := NewStream(100, DefaultStyles())
	s.Append("```go\n")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Append(fmt.Sprintf("x%d := f(%d)\n", i, i))
		rows := s.Rows()
		s.Slice(max(0, rows-40), rows)
		i++
	}
}
