package tui

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/termsafe"
)

// cellKind is what a transcript cell shows.
type cellKind int

const (
	userCell cellKind = iota
	// steerCell is text the user sent into a running prompt.
	steerCell
	assistantCell
	thinkingCell
	toolCell
	noticeCell
	// errorCell is a notice of something that went wrong.
	errorCell
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
	tool *toolCall
	done bool
	// delivered marks a steer cell whose text reached the model.
	delivered bool
	expanded  bool

	cache renderCache
}

// toolCall is what a tool cell knows of its call.
type toolCall struct {
	callID   string
	name     string
	input    json.RawMessage
	output   string // the live command output, then what the model was sent
	isError  bool
	denied   bool
	summary  string
	exitCode *int
	changes  []event.FileChange
}

type renderCache struct {
	valid    bool
	width    int
	expanded bool
	lines    []string
}

// changed drops the cell's cached render.
func (c *cell) changed() { c.cache = renderCache{} }

// lines renders the cell at width, from its cache when it can.
func (c *cell) lines(width int) []string {
	if c.cache.valid && c.cache.width == width && c.cache.expanded == c.expanded {
		return c.cache.lines
	}
	c.cache = renderCache{valid: true, width: width, expanded: c.expanded, lines: c.render(width)}
	return c.cache.lines
}

// render draws the cell in plain text, one string per screen line, none
// wider than width. Every text that Lathe did not write goes through
// termsafe.
func (c *cell) render(width int) []string {
	width = max(width, 10)
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
		return wrapPrefixed("", "", strings.TrimRight(termsafe.String(c.text), "\n"), width)
	case thinkingCell:
		if !c.expanded {
			return []string{"∴ Thinking…"}
		}
		return wrapPrefixed("∴ ", "  ", termsafe.String(c.text), width)
	case toolCell:
		return c.renderTool(width)
	case errorCell:
		return wrapPrefixed("✗ ", "  ", termsafe.String(c.text), width)
	default:
		return wrapPrefixed("· ", "  ", termsafe.String(c.text), width)
	}
}

// maxToolOutputLines caps an expanded call's output.
const maxToolOutputLines = 40

func (c *cell) renderTool(width int) []string {
	t := c.tool
	line := "● " + t.name
	if target := callTarget(t.name, t.input); target != "" {
		line += " " + target
	}
	switch {
	case !c.done:
		line += " …"
	case t.denied:
		line += " ✗ denied"
	case t.exitCode != nil && *t.exitCode != 0:
		line += fmt.Sprintf(" ✗ exit %d", *t.exitCode)
	case t.isError:
		line += " ✗"
	default:
		line += " ✓"
	}
	out := []string{ansi.Truncate(termsafe.String(line), width, "…")}
	body := t.output
	if !c.expanded {
		if c.done {
			return out
		}
		// A running command shows its last lines.
		body = lastLines(body, 3)
	}
	body = strings.TrimRight(termsafe.String(body), "\n")
	if body == "" {
		return out
	}
	ls := strings.Split(body, "\n")
	if len(ls) > maxToolOutputLines {
		ls = append(ls[:maxToolOutputLines:maxToolOutputLines], fmt.Sprintf("… %d more lines", len(ls)-maxToolOutputLines))
	}
	for _, l := range ls {
		out = append(out, ansi.Truncate("  │ "+strings.ReplaceAll(l, "\t", "    "), width, "…"))
	}
	return out
}

// callTarget is the one thing a call is about: its command, file or
// pattern, from the usual argument names of both dialects.
func callTarget(name string, input json.RawMessage) string {
	var args map[string]any
	if json.Unmarshal(input, &args) != nil {
		return ""
	}
	for _, k := range []string{"command", "cmd", "file_path", "path", "pattern", "url", "query", "description"} {
		switch v := args[k].(type) {
		case string:
			if k == "file_path" || k == "path" {
				v = filepath.ToSlash(v)
			}
			return firstLine(v)
		case []any:
			var parts []string
			for _, p := range v {
				if s, ok := p.(string); ok {
					parts = append(parts, s)
				}
			}
			return firstLine(strings.Join(parts, " "))
		}
	}
	return ""
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// lastLines is the last n lines of s.
func lastLines(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	i := len(s)
	for range n {
		j := strings.LastIndexByte(s[:i], '\n')
		if j < 0 {
			return s
		}
		i = j
	}
	return s[i+1:]
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
