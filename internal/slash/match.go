package slash

import (
	"slices"
	"strings"

	"github.com/lathe-dev/lathe/internal/fuzzy"
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
			pos, runs, ok := fuzzy.Match(strings.ToLower(name), query)
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
