// Package fuzzy matches a typed query against names as a subsequence:
// "cmpct" matches "compact", the query's characters in order with others
// between them. Used by the command palette and "@" path completion.
package fuzzy

import (
	"strings"
	"unicode/utf8"
)

// Match finds query's characters in name, in order, choosing among the
// ways to place them the one with the fewest runs of adjacent matched
// characters (then the leftmost). Both are compared as given: lower-case
// them first to match without regard to case. It returns the byte
// offsets in name of the matched characters and the number of runs; an
// empty query matches with no runs.
func Match(name, query string) (pos []int, runs int, ok bool) {
	if query == "" {
		return nil, 0, true
	}
	first, _ := utf8.DecodeRuneInString(query)
	runs = -1
	for start, r := range name {
		if r != first {
			continue
		}
		p, n, found := greedy(name, query, start)
		if !found {
			break // a later start cannot place what this one could not
		}
		if runs < 0 || n < runs {
			pos, runs = p, n
		}
	}
	if runs < 0 {
		return nil, 0, false
	}
	return pos, runs, true
}

// greedy places query's characters in name from start on, each at the
// first place it can go.
func greedy(name, query string, start int) (pos []int, runs int, ok bool) {
	i := start
	for _, q := range query {
		j := strings.IndexRune(name[i:], q)
		if j < 0 {
			return nil, 0, false
		}
		at := i + j
		if len(pos) == 0 || at != i {
			runs++
		}
		pos = append(pos, at)
		i = at + utf8.RuneLen(q)
	}
	return pos, runs, true
}

// Runs is [Match] without the positions, and allocates nothing: for
// ranking many names, such as every path of a repository.
func Runs(name, query string) (runs int, ok bool) {
	if query == "" {
		return 0, true
	}
	first, _ := utf8.DecodeRuneInString(query)
	runs = -1
	for start, r := range name {
		if r != first {
			continue
		}
		n, found := count(name, query, start)
		if !found {
			break
		}
		if runs < 0 || n < runs {
			runs = n
		}
	}
	if runs < 0 {
		return 0, false
	}
	return runs, true
}

// count is greedy without the positions.
func count(name, query string, start int) (runs int, ok bool) {
	i, placed := start, false
	for _, q := range query {
		j := strings.IndexRune(name[i:], q)
		if j < 0 {
			return 0, false
		}
		if !placed || j != 0 {
			runs++
		}
		placed = true
		i += j + utf8.RuneLen(q)
	}
	return runs, true
}

// Highlight returns s with each run of the characters at byte offsets
// pos (as [Match] returns them) passed through mark, such as a bold
// style, and the others as they are.
func Highlight(s string, pos []int, mark func(string) string) string {
	if len(pos) == 0 {
		return s
	}
	var b, run strings.Builder
	next := 0
	for i, r := range s {
		if next < len(pos) && pos[next] == i {
			run.WriteRune(r)
			next++
			continue
		}
		if run.Len() > 0 {
			b.WriteString(mark(run.String()))
			run.Reset()
		}
		b.WriteRune(r)
	}
	if run.Len() > 0 {
		b.WriteString(mark(run.String()))
	}
	return b.String()
}
