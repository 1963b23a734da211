package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/lathe-dev/lathe/internal/termsafe"
	"github.com/lathe-dev/lathe/internal/tui/cells"
)

// cellKind is what a transcript cell shows.
type cellKind int

const (
	userCell cellKind = iota
	// steerCell is text the user sent into a running prompt.
	steerCell
	assistantCell
	thinkingCell
	// toolCell is one call, or a run of reads and searches shown as one
	// line (cells.Group).
	toolCell
	noticeCell
	compactionCell
	todoCell
)

// cell is one entry of the transcript. Its render is cached by (width,
// expanded) until its content changes; a finished cell never changes, so
// its cache stays valid for as long as the width does.
type cell struct {
	// id is stable for the life of the transcript: the cell's place in
	// the order cells were made.
	id   int
	kind cellKind
	// text is the cell's text, as the model, a tool or the user wrote it:
	// it is sanitised when rendered, never before, so that a delta cut in
	// the middle of an escape sequence is judged whole.
	text string
	// calls are a tool cell's calls: one, or a group of reads.
	calls []cells.ToolCall
	// md renders an assistant cell's Markdown as it streams.
	md         *cells.Stream
	todos      *cells.Todos
	level      cells.Level
	compaction *cells.Compaction
	done       bool
	// delivered marks a steer cell whose text reached the model.
	delivered bool
	expanded  bool
	styles    *cells.Styles
	// gap puts a blank line above the cell.
	gap bool

	cache renderCache
}

type renderCache struct {
	valid    bool
	width    int
	expanded bool
	lines    []string
}

// changed drops the cell's cached render.
func (c *cell) changed() { c.cache = renderCache{} }

// rows is how many screen lines the cell takes at width.
func (c *cell) rows(width int) int {
	if c.md == nil {
		return len(c.lines(width))
	}
	c.md.SetWidth(width)
	return c.gapRows() + c.md.Rows()
}

// slice returns the cell's lines from to to (exclusive) at width,
// rendering no more of a streamed message than those.
func (c *cell) slice(width, from, to int) []string {
	if c.md == nil {
		ls := c.lines(width)
		return ls[min(from, len(ls)):min(to, len(ls))]
	}
	c.md.SetWidth(width)
	var out []string
	if c.gap && from == 0 {
		out = append(out, "")
	}
	g := c.gapRows()
	return append(out, c.md.Slice(max(from-g, 0), max(to-g, 0))...)
}

func (c *cell) gapRows() int {
	if c.gap {
		return 1
	}
	return 0
}

// lines renders the cell at width, from its cache when it can.
func (c *cell) lines(width int) []string { return c.linesAt(width, c.expanded) }

// linesAt renders the cell at width, expanded or not whatever the cell's
// own state (transcript mode shows every cell expanded).
func (c *cell) linesAt(width int, expanded bool) []string {
	if c.cache.valid && c.cache.width == width && c.cache.expanded == expanded {
		return c.cache.lines
	}
	lines := c.render(width, expanded)
	if c.gap {
		lines = append([]string{""}, lines...)
	}
	c.cache = renderCache{valid: true, width: width, expanded: expanded, lines: lines}
	return c.cache.lines
}

// render draws the cell, one string per screen line, none wider than
// width. Every text that Lathe did not write goes through termsafe (the
// cells package's renderers do it themselves).
func (c *cell) render(width int, expanded bool) []string {
	width = max(width, 10)
	var st cells.Styles
	if c.styles != nil {
		st = *c.styles
	}
	switch c.kind {
	case userCell:
		return wrapPrefixed("› ", "  ", termsafe.String(c.text), width)
	case steerCell:
		text := termsafe.String(c.text)
		if !c.delivered {
			text += " (to be delivered at the next tool boundary)"
		}
		return wrapPrefixed("↳ ", "  ", text, width)
	case assistantCell:
		if c.md != nil {
			c.md.SetWidth(width)
			return strings.Split(c.md.String(), "\n")
		}
		return wrapPrefixed("", "", strings.TrimRight(termsafe.String(c.text), "\n"), width)
	case thinkingCell:
		if !expanded {
			return []string{"∴ Thinking…"}
		}
		return wrapPrefixed("∴ ", "  ", termsafe.String(c.text), width)
	case toolCell:
		return c.renderTool(width, expanded, st)
	case compactionCell:
		return strings.Split(c.compaction.Render(width, st), "\n")
	case todoCell:
		return strings.Split(c.todos.Render(width, st), "\n")
	default:
		return strings.Split(cells.Notice{Level: c.level, Text: c.text}.Render(width, st), "\n")
	}
}

func (c *cell) renderTool(width int, expanded bool, st cells.Styles) []string {
	if len(c.calls) == 1 {
		return strings.Split(c.calls[0].Render(width, expanded, st), "\n")
	}
	return strings.Split(cells.Group{Calls: c.calls}.Render(width, expanded, st), "\n")
}

// firstLine is the first line of s, marked as cut if there are more.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// wrapPrefixed wraps text at width, the first line after first and the
// others after rest, which is as wide.
func wrapPrefixed(first, rest, text string, width int) []string {
	inner := max(width-ansi.StringWidth(first), 1)
	var out []string
	for i, l := range strings.Split(ansi.Wrap(strings.ReplaceAll(text, "\t", "    "), inner, ""), "\n") {
		if i == 0 {
			out = append(out, first+l)
		} else {
			out = append(out, rest+l)
		}
	}
	return out
}
