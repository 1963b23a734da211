package patch

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// replacement replaces n lines at start with lines.
type replacement struct {
	start, n int
	lines    []string
}

// updateText applies the chunks of an Update File hunk to text, a file's
// content with LF line endings, and returns the new content, which always
// ends with a newline unless it is empty. name is the path shown in errors
// and notes. Chunks are matched in order, each searching after the previous
// one, as Codex does. Unlike Codex, which drops a blank last line of the
// file, it keeps every line it was not told to remove.
func updateText(text string, chunks []Chunk, name string) (string, []string, error) {
	lines := strings.Split(text, "\n")
	// The empty string after the final newline is not a line.
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var (
		repls []replacement
		notes []string
		next  int // where the next search starts
	)
	for i, c := range chunks {
		if c.HasAnchor {
			at, _, ok := seek(lines, []string{c.Anchor}, next, false)
			if !ok {
				return "", nil, unverified(nil, "Failed to find context '%s' in %s", c.Anchor, name)
			}
			next = at + 1
		}
		if len(c.Old) == 0 {
			repls = append(repls, replacement{insertAt(lines, c, next), 0, c.New})
			continue
		}
		old, repl := c.Old, c.New
		at, level, ok := seek(lines, old, next, c.EOF)
		if !ok && old[len(old)-1] == "" {
			// A trailing empty line in the patch often stands for the
			// file's final newline, which is not a line here.
			old = old[:len(old)-1]
			if len(repl) > 0 && repl[len(repl)-1] == "" {
				repl = repl[:len(repl)-1]
			}
			at, level, ok = seek(lines, old, next, c.EOF)
		}
		if !ok {
			return "", nil, unverified(nil, "Failed to find expected lines in %s:\n%s", name, strings.Join(c.Old, "\n"))
		}
		if !c.HasAnchor && !c.EOF && len(old) > 0 {
			// Codex silently takes the first match; say so when it was a
			// guess, so that a misplaced edit is noticed.
			if n := level.count(lines, old, next); n > 1 {
				notes = append(notes, fmt.Sprintf("chunk %d matched the first of %d occurrences in %s; add an @@ line or more context if another was meant", i+1, n, name))
			}
		}
		if level != exact {
			repl = keepFileLines(lines[at:at+len(old)], old, repl)
			notes = append(notes, fmt.Sprintf("chunk %d matched %s only when %s; its context lines were kept as they are in the file, and its added lines were given the file's indentation", i+1, name, level))
		}
		repls = append(repls, replacement{at, len(old), repl})
		next = at + len(old)
	}
	// Replacements are applied from the bottom up so that the indices of
	// the ones above stay valid; the stable sort keeps chunk order for
	// insertions at the same index.
	slices.SortStableFunc(repls, func(a, b replacement) int { return a.start - b.start })
	for _, r := range slices.Backward(repls) {
		end := min(r.start+r.n, len(lines))
		lines = slices.Concat(lines[:r.start], r.lines, lines[end:])
	}
	if len(lines) == 0 {
		return "", notes, nil
	}
	return strings.Join(lines, "\n") + "\n", notes, nil
}

// insertAt returns where a chunk with no old lines goes. Codex appends it at
// the end of the file (before a final blank line), wherever its anchor is;
// Lathe inserts an anchored chunk right after its anchor, which is what the
// model meant, unless the chunk is marked as the end of the file.
func insertAt(lines []string, c Chunk, afterAnchor int) int {
	if c.HasAnchor && !c.EOF {
		return afterAnchor
	}
	if n := len(lines); n > 0 && lines[n-1] == "" {
		return n - 1
	}
	return len(lines)
}

// keepFileLines adapts the new lines repl of a chunk whose old lines old
// matched the file's lines have only loosely (with other whitespace or
// punctuation), so that the patch changes only what it means to: a line
// of repl that repeats a line of old, as a context line does, is the
// file's line as it is, and an added line is indented as the file is
// (tabs stay tabs), its indentation translated through the pairs of
// indentations that the matched lines show.
func keepFileLines(have, old, repl []string) []string {
	out := make([]string, len(repl))
	var ind indents
	for k := range old {
		ind.learn(indentOf(old[k]), indentOf(have[k]), strings.TrimSpace(old[k]) != "")
	}
	k := 0 // the next line of old a line of repl may repeat
	for j, line := range repl {
		if i := slices.Index(old[k:], line); i >= 0 {
			out[j] = have[k+i]
			k += i + 1
			continue
		}
		out[j] = ind.translate(indentOf(line)) + line[len(indentOf(line)):]
	}
	return out
}

func indentOf(s string) string {
	return s[:len(s)-len(strings.TrimLeft(s, " \t"))]
}

// indents maps the indentation of a patch's lines to that of the file's.
type indents struct {
	pairs [][2]string // patch, file
	// width is how many spaces of one side stand for a tab of the other,
	// as the pairs show it, or 0 if they do not.
	width int
	// tabs and spaces are set when the file indents with them.
	tabs, spaces bool
}

func (ind *indents) learn(patch, file string, nonBlank bool) {
	if !nonBlank {
		return
	}
	ind.pairs = append(ind.pairs, [2]string{patch, file})
	ind.tabs = ind.tabs || strings.Contains(file, "\t")
	ind.spaces = ind.spaces || strings.Contains(file, " ")
	spaces, tabs := patch, file
	if strings.Contains(patch, "\t") {
		spaces, tabs = file, patch
	}
	if ind.width == 0 && tabs != "" && strings.Trim(tabs, "\t") == "" && strings.Trim(spaces, " ") == "" && len(spaces)%len(tabs) == 0 {
		ind.width = len(spaces) / len(tabs)
	}
}

// translate returns the file's indentation for an added line indented w
// in the patch: that of a matched line indented the same, or, failing
// that, of the one whose indentation w extends most, followed by the rest
// of w in the file's characters.
func (ind *indents) translate(w string) string {
	best, found := [2]string{}, false
	for _, p := range ind.pairs {
		if p[0] == w {
			return p[1]
		}
		if strings.HasPrefix(w, p[0]) && (!found || len(p[0]) > len(best[0])) {
			best, found = p, true
		}
	}
	rest := w[len(best[0]):]
	width := cmp.Or(ind.width, 4)
	switch {
	case ind.tabs && strings.Trim(rest, " ") == "" && len(rest)%width == 0:
		rest = strings.Repeat("\t", len(rest)/width)
	case ind.spaces && !ind.tabs && strings.Trim(rest, "\t") == "":
		rest = strings.Repeat(" ", len(rest)*width)
	}
	return best[1] + rest
}
