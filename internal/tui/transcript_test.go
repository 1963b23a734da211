package tui

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/tui/cells"
)

// lineCells is a transcript of n notice cells of lines lines each, whose
// lines read "c<cell>.<line>".
func lineCells(n, lines int) *transcript {
	tr := newTranscript()
	for i := range n {
		var ls []string
		for j := range lines {
			ls = append(ls, fmt.Sprintf("c%d.%d", i, j))
		}
		tr.add(&cell{kind: assistantCell, text: strings.Join(ls, "\n"), done: true})
	}
	return tr
}

// rendered counts the cells that have a render cached.
func rendered(tr *transcript) int {
	n := 0
	for _, c := range tr.cells {
		if c.cache.valid {
			n++
		}
	}
	return n
}

// TestTranscriptRendersOnlyWhatItShows pins the virtualisation: following
// or scrolled, a frame renders the cells in view, not the session.
func TestTranscriptRendersOnlyWhatItShows(t *testing.T) {
	tr := lineCells(100_000, 3)
	got := tr.view(0, 40, 10)
	want := []string{"c99996.2", "c99997.0", "c99997.1", "c99997.2", "c99998.0", "c99998.1", "c99998.2", "c99999.0", "c99999.1", "c99999.2"}
	if !slices.Equal(got, want) {
		t.Fatalf("tail view = %q, want %q", got, want)
	}
	if n := rendered(tr); n > 4 {
		t.Errorf("following: %d cells rendered, want at most 4", n)
	}
	tr.scroll(-30, 0, 40, 10)
	if got := tr.view(0, 40, 10); got[0] != "c99986.2" {
		t.Errorf("after scrolling 30 lines up, first line = %q, want c99986.2", got[0])
	}
	if n := rendered(tr); n > 16 {
		t.Errorf("scrolled: %d cells rendered, want at most 16", n)
	}
	tr.home(0)
	if got := tr.view(0, 40, 10); got[0] != "c0.0" || got[9] != "c3.0" {
		t.Errorf("home view = %q", got)
	}
	if n := rendered(tr); n > 22 {
		t.Errorf("after home: %d cells rendered, want at most 22", n)
	}
}

// TestTranscriptFollow checks auto-follow: scrolled up, the window stays
// put while cells arrive and counts them as new; back at the end, it
// follows again.
func TestTranscriptFollow(t *testing.T) {
	tr := lineCells(20, 1)
	tr.scroll(-5, 0, 80, 10)
	if tr.follow {
		t.Fatal("still following after scrolling up")
	}
	before := tr.view(0, 80, 10)
	tr.add(&cell{kind: noticeCell, text: "new one", done: true})
	tr.add(&cell{kind: noticeCell, text: "new two", done: true})
	if got := tr.view(0, 80, 10); !slices.Equal(got, before) {
		t.Errorf("window moved while scrolled up: %q, was %q", got, before)
	}
	if n := tr.unseen(); n != 2 {
		t.Errorf("unseen = %d, want 2", n)
	}
	tr.scroll(100, 0, 80, 10)
	if !tr.follow || tr.unseen() != 0 {
		t.Errorf("after scrolling to the end: follow %v, unseen %d", tr.follow, tr.unseen())
	}
	if got := tr.view(0, 80, 10); got[9] != "· new two" {
		t.Errorf("last line = %q, want the newest cell", got[9])
	}
	// Scrolling up past the start stops at the first line.
	tr.scroll(-1000, 0, 80, 10)
	if got := tr.view(0, 80, 10); got[0] != "c0.0" {
		t.Errorf("first line after scrolling past the start = %q", got[0])
	}
}

// TestTranscriptFrom checks that cells already in the scrollback (inline
// mode) are neither shown nor scrolled to.
func TestTranscriptFrom(t *testing.T) {
	tr := lineCells(10, 1)
	if got := tr.view(8, 80, 5); !slices.Equal(got, []string{"c8.0", "c9.0"}) {
		t.Errorf("view from 8 = %q", got)
	}
	tr.home(8)
	if got := tr.view(8, 80, 5); got[0] != "c8.0" {
		t.Errorf("home from 8 = %q", got)
	}
}

// TestCellCache checks that a cell renders once per (width, expanded) and
// again when it changes.
func TestCellCache(t *testing.T) {
	c := &cell{kind: assistantCell, text: "one two three four five six"}
	a := c.lines(10)
	if b := c.lines(10); &a[0] != &b[0] {
		t.Error("same width rendered again")
	}
	if b := c.lines(20); len(b) >= len(a) {
		t.Errorf("wider render has %d lines, narrower %d", len(b), len(a))
	}
	c.text += " seven"
	c.changed()
	if got := strings.Join(c.lines(80), " "); !strings.Contains(got, "seven") {
		t.Errorf("changed cell renders %q", got)
	}
}

func running(output string) cells.ToolCall {
	c := cells.ToolCall{Name: "Bash", Input: []byte(`{"command":"make"}`)}
	c.AppendOutput(output)
	return c
}

// TestCellSanitises checks that text from the model and tools cannot
// drive the terminal.
func TestCellSanitises(t *testing.T) {
	for _, c := range []*cell{
		{kind: assistantCell, text: "hi \x1b]0;pwned\x07 \x1b[2J there \xff"},
		{kind: toolCell, done: true, expanded: true, calls: []cells.ToolCall{{Name: "Bash", Input: []byte(`{"command":"echo \u001b[31mred"}`), Done: true, Output: "\x1b[?1049h out \x1b]52;c;AAAA\x07"}}},
		{kind: toolCell, calls: []cells.ToolCall{running("building \x1b]0;title\x07\n\x1b[2Jdone")}},
	} {
		for _, l := range c.lines(80) {
			if strings.ContainsRune(l, 0x1b) || strings.ContainsRune(l, 0x07) {
				t.Errorf("kind %d: line %q holds a control character", c.kind, l)
			}
		}
	}
}
