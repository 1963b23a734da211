package cells

import (
	"fmt"
	"strings"
)

// Groupable reports whether c is a call that joins the calls next to it
// in a [Group]: a read, a search or a listing, which change nothing and
// which a model makes in runs.
func Groupable(c ToolCall) bool {
	switch c.kind() {
	case kindRead, kindSearch, kindList:
		return true
	}
	return false
}

// Group is a run of consecutive [Groupable] calls shown as one line,
// "Read 3 files, searched 2 patterns"; expanded, it shows each call's
// line under it.
type Group struct {
	Calls []ToolCall
}

// Line renders the group's line at width columns.
func (g Group) Line(width int, st Styles) string {
	targets := map[kind]map[string]bool{}
	done, failed := true, 0
	for _, c := range g.Calls {
		k := c.kind()
		if targets[k] == nil {
			targets[k] = map[string]bool{}
		}
		targets[k][c.target(c.args())] = true
		done = done && c.Done
		if c.IsError {
			failed++
		}
	}
	var parts []string
	for _, p := range []struct {
		k         kind
		verb      string
		one, many string
	}{
		{kindRead, "read", "file", "files"},
		{kindSearch, "searched", "pattern", "patterns"},
		{kindList, "listed", "directory", "directories"},
	} {
		if n := len(targets[p.k]); n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d %s", p.verb, n, plural(n, p.one, p.many)))
		}
	}
	text := strings.Join(parts, ", ")
	if text != "" {
		text = strings.ToUpper(text[:1]) + text[1:]
	}
	verb, rest, _ := strings.Cut(text, " ")
	var outcome string
	switch {
	case !done:
		outcome = st.paint(st.Dim, "…")
	case failed > 0:
		outcome = st.paint(st.Fail, fmt.Sprintf("✗ %d failed", failed))
	}
	return line(verb, rest, outcome, width, st)
}

// Render renders the group at width columns: its line, and expanded, the
// line of each of its calls.
func (g Group) Render(width int, expanded bool, st Styles) string {
	head := g.Line(width, st)
	if !expanded {
		return head
	}
	rows := []string{head}
	for _, c := range g.Calls {
		rows = append(rows, "  "+c.Line(width-2, st))
	}
	return strings.Join(rows, "\n")
}
