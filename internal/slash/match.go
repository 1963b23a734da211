package slash

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Match is a command that a query matches.
type Match struct {
	Command Command
	// Name is the name or alias matched, and Positions the byte offsets
	// in it of the query's characters, for highlighting.
	Name      string
	Positions []int
}

// Match ranks the commands whose name or alias contains the query's
// characters in order, without regard to case: "cmpct" matches
// "compact". Names the query begins come first, shortest first, then the
// others, tightest first (fewest runs of matched characters, then the
// earliest start); ties keep the set's order, built-ins first. An empty
// query matches every command in the set's order. A leading "/" is
// ignored.
func (s *Set) Match(query string) []Match {
	query = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(query), "/"))
	var out []ranked
	for _, c := range s.cmds {
		best := ranked{runs: -1}
		for _, name := range append([]string{c.Name}, c.Aliases...) {
			pos, runs, ok := subsequence(strings.ToLower(name), query)
			if !ok {
				continue
			}
			r := ranked{Match: Match{Command: c, Name: name, Positions: pos}, prefix: strings.HasPrefix(strings.ToLower(name), query), runs: runs}
			if len(pos) > 0 {
				r.from = pos[0]
			}
			if best.runs < 0 || compare(r, best) < 0 {
				best = r
			}
		}
		if best.runs >= 0 {
			out = append(out, best)
		}
	}
	if query != "" {
		slices.SortStableFunc(out, compare)
	}
	ms := make([]Match, len(out))
	for i, r := range out {
		ms[i] = r.Match
	}
	return ms
}

// ranked is a match with what ranks it.
type ranked struct {
	Match
	prefix bool
	// runs counts the runs of adjacent matched characters, and from is
	// where the first one starts.
	runs, from int
}

// compare orders matches best first: prefix matches, shortest first,
// then the others, fewest runs first, then the earliest start.
func compare(a, b ranked) int {
	switch {
	case a.prefix != b.prefix:
		if a.prefix {
			return -1
		}
		return 1
	case a.prefix:
		return len(a.Name) - len(b.Name)
	case a.runs != b.runs:
		return a.runs - b.runs
	default:
		return a.from - b.from
	}
}

// subsequence finds query's characters in name, in order, choosing among
// the ways to place them the one with the fewest runs of adjacent
// matched characters (then the leftmost); both are lower case. It
// returns the byte offsets of the matched characters and the number of
// runs.
func subsequence(name, query string) (pos []int, runs int, ok bool) {
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
	return pos, runs, runs >= 0
}

// greedy places query's characters in name from start on, each at the
// first place it can go, preferring to continue a run: a character that
// comes next in name is taken there.
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
