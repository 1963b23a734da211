package approve

import (
	"fmt"
	"path/filepath"
	"strings"
)

// How many lines of diff the dialog shows at once: at least
// minDiffLines, and defaultDiffLines when the height is not known.
const (
	minDiffLines     = 4
	defaultDiffLines = 30
)

func (m Model) hasDiff() bool {
	for _, ch := range m.opts.Changes {
		if len(ch.Diff.Hunks) > 0 {
			return true
		}
	}
	return false
}

// diffTotal is how many lines the whole diff has.
func (m Model) diffTotal() int {
	return len(m.allDiffLines(m.width() - 2))
}

// diffCache keeps the diff rendered at one width and layout, so that a
// key press redraws only the screenful in view: a diff can be long.
type diffCache struct {
	width int
	split bool
	lines []string
}

// diffLines is the part of the diff in view: each file's name with its
// line counts and its diff, unified or side by side.
func (m Model) diffLines(w, h int) []string {
	all := m.allDiffLines(w)
	if len(all) <= h {
		return all
	}
	from := min(m.scroll, len(all)-h)
	out := append([]string(nil), all[from:from+h]...)
	if rest := len(all) - from - h; rest > 0 {
		out = append(out, m.opts.Styles.Hint.Render(fmt.Sprintf("  … %d more lines (pgdn)", rest)))
	}
	return out
}

func (m Model) allDiffLines(w int) []string {
	if c := m.cache; c.lines != nil && c.width == w && c.split == m.split {
		return c.lines
	}
	st := m.opts.Styles
	out := []string{}
	for _, ch := range m.opts.Changes {
		head := m.displayPath(ch.Path)
		if add, del := ch.Diff.Stat(); add+del > 0 {
			head += fmt.Sprintf(" (+%d −%d)", add, del)
		}
		switch {
		case ch.Created:
			head += " — new file"
		case ch.Deleted:
			head += " — deleted"
		}
		out = append(out, "  "+st.Path.Render(cut(safeLine(head), w)))
		if ch.Note != "" {
			out = append(out, "  "+st.Reason.Render(cut(safeLine(ch.Note), w)))
		}
		if len(ch.Diff.Hunks) == 0 {
			continue
		}
		render := ch.Diff.Unified
		if m.split {
			render = ch.Diff.Split
		}
		for _, l := range strings.Split(render(w, st.Diff), "\n") {
			out = append(out, "  "+l)
		}
	}
	*m.cache = diffCache{width: w, split: m.split, lines: out}
	return out
}

// displayPath names a file from the call's directory when it is inside
// it, from home as ~/... when inside that, else by its absolute path.
func (m Model) displayPath(path string) string {
	if m.req.Call != nil && m.req.Call.Dir != "" {
		if rel, err := filepath.Rel(m.req.Call.Dir, path); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	if h := m.opts.Home; h != "" {
		if rel, err := filepath.Rel(h, path); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
			return "~/" + rel
		}
	}
	return path
}
