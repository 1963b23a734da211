package grep

import (
	"bytes"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A prefilter is a set of literals at least one of which occurs in every
// match of a pattern. Finding them with bytes.Index, which runs at memory
// speed, lets the Go engine run the regexp only on the few lines that
// contain one, as ripgrep does.
type prefilter struct {
	lits [][]byte
	// anchors are the offsets in lits of the bytes to scan for.
	anchors []int
	// fold means that lits are ASCII lower case and are found whatever
	// the case of the text; they then hold no letter that Unicode folds
	// to a non-ASCII rune (k to the Kelvin sign, s to the long s).
	fold bool
	// exact means that a line matches the pattern exactly when it holds
	// one of lits, so the regexp need not run at all.
	exact bool
}

// Limits on the literal sets kept while analysing a pattern: beyond them
// a pattern is better searched by the regexp alone.
const (
	maxLits     = 16
	maxClassLen = 4
)

// newPrefilter extracts the literals that every match of re must contain,
// or returns nil when there are none worth searching for (a pattern such
// as `\w+` or `a|.`).
func newPrefilter(re *syntax.Regexp) *prefilter {
	re = re.Simplify()
	fold := hasFoldCase(re)
	set, exact := analyze(re, fold).pick()
	if len(set) == 0 || len(set) > maxLits {
		return nil
	}
	p := &prefilter{fold: fold, exact: exact && !fold && !hasAssertion(re)}
	for _, s := range set {
		if fold {
			s = longestFoldSafe(s)
		}
		if s == "" {
			return nil
		}
		p.lits = append(p.lits, []byte(s))
		p.anchors = append(p.anchors, anchor([]byte(s), fold))
	}
	return p
}

// info is what analyze knows about the strings a node matches: all of
// them when exact is not nil, or a set one of which each match holds.
type info struct {
	exact []string
	req   []string
}

// best is the most selective set of literals known: the one whose
// shortest element is longest. A set holding "" selects nothing.
func (in info) best() []string {
	set, _ := in.pick()
	return set
}

// pick is best, and whether the set is the exact one.
func (in info) pick() ([]string, bool) {
	if in.exact != nil && score(in.exact) >= score(in.req) {
		return in.exact, true
	}
	if score(in.req) == 0 {
		return nil, false
	}
	return in.req, false
}

func score(set []string) int {
	if len(set) == 0 || len(set) > maxLits {
		return 0
	}
	n := len(set[0])
	for _, s := range set[1:] {
		n = min(n, len(s))
	}
	return n
}

func better(a, b []string) []string {
	if score(b) > score(a) {
		return b
	}
	return a
}

// analyze walks a simplified parse tree. In fold mode literals are kept
// in lower case; the search then ignores case, which can only let more
// lines through to the regexp, never fewer.
func analyze(re *syntax.Regexp, fold bool) info {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return info{exact: []string{""}}
	case syntax.OpLiteral:
		// Go's regexp matches a stray byte of invalid UTF-8 as U+FFFD,
		// which bytes.Index would never find spelled out.
		if slices.Contains(re.Rune, utf8.RuneError) {
			return info{}
		}
		s := string(re.Rune)
		if fold {
			s = strings.ToLower(s)
		}
		return info{exact: []string{s}}
	case syntax.OpCharClass:
		var set []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi-lo >= maxClassLen || lo <= utf8.RuneError && utf8.RuneError <= hi {
				return info{}
			}
			for r := lo; r <= hi; r++ {
				s := string(r)
				if fold {
					s = strings.ToLower(s)
				}
				if !slices.Contains(set, s) {
					set = append(set, s)
				}
			}
			if len(set) > maxClassLen {
				return info{}
			}
		}
		if len(set) == 0 {
			return info{}
		}
		return info{exact: set}
	case syntax.OpCapture:
		return analyze(re.Sub[0], fold)
	case syntax.OpQuest:
		sub := analyze(re.Sub[0], fold)
		if sub.exact != nil && len(sub.exact) < maxLits {
			return info{exact: append(slices.Clone(sub.exact), "")}
		}
		return info{}
	case syntax.OpPlus:
		return info{req: analyze(re.Sub[0], fold).best()}
	case syntax.OpRepeat:
		if re.Min == 0 {
			return info{}
		}
		return info{req: analyze(re.Sub[0], fold).best()}
	case syntax.OpConcat:
		return analyzeConcat(re.Sub, fold)
	case syntax.OpAlternate:
		exact, req := []string{}, []string{}
		for _, sub := range re.Sub {
			in := analyze(sub, fold)
			if exact != nil && in.exact != nil {
				exact = union(exact, in.exact)
			} else {
				exact = nil
			}
			if req != nil {
				if b := in.best(); b != nil {
					req = union(req, b)
				} else {
					req = nil
				}
			}
		}
		if len(exact) > maxLits {
			exact = nil
		}
		return info{exact: exact, req: req}
	}
	// Any character, repetitions that may be empty, no match at all.
	return info{}
}

// analyzeConcat joins the exact sets of consecutive parts by their cross
// product, and keeps the most selective set seen on the way.
func analyzeConcat(subs []*syntax.Regexp, fold bool) info {
	cur := []string{""}
	var req []string
	allExact := true
	for _, sub := range subs {
		in := analyze(sub, fold)
		if in.exact != nil {
			if next := cross(cur, in.exact); next != nil {
				cur = next
				continue
			}
		}
		allExact = false
		req = better(req, cur)
		req = better(req, in.best())
		cur = []string{""}
		if in.exact != nil && len(in.exact) <= maxLits {
			cur = in.exact
		}
	}
	if allExact {
		return info{exact: cur}
	}
	return info{req: better(req, cur)}
}

// cross returns every a+b, or nil if there would be too many.
func cross(as, bs []string) []string {
	if len(as)*len(bs) > maxLits {
		return nil
	}
	out := make([]string, 0, len(as)*len(bs))
	for _, a := range as {
		for _, b := range bs {
			if s := a + b; !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

func union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}

func hasFoldCase(re *syntax.Regexp) bool {
	return re.Flags&syntax.FoldCase != 0 && (re.Op == syntax.OpLiteral || re.Op == syntax.OpCharClass) ||
		slices.ContainsFunc(re.Sub, hasFoldCase)
}

// hasAssertion reports whether re holds an empty-width assertion such as
// ^ or \b, whose truth depends on more than the literal text.
func hasAssertion(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	}
	return slices.ContainsFunc(re.Sub, hasAssertion)
}

// longestFoldSafe returns the longest run of s made of ASCII characters
// whose case variants are ASCII too: a required literal's substrings are
// required as well, and only these can be matched by an ASCII case fold.
func longestFoldSafe(s string) string {
	best := ""
	for _, run := range strings.FieldsFunc(s, func(r rune) bool {
		return r >= utf8.RuneSelf || r == 'k' || r == 's' || unicode.ToUpper(r) == 'K' || unicode.ToUpper(r) == 'S'
	}) {
		if len(run) > len(best) {
			best = run
		}
	}
	return best
}

// finder finds the literals of a prefilter in one buffer. It remembers
// where each literal next occurs, so that finding every candidate in a
// buffer costs one pass per literal however many candidates there are.
type finder struct {
	p    *prefilter
	buf  []byte
	next []int // per literal: its next position at or after the last from, or -1
}

func (f *finder) reset(p *prefilter, buf []byte) {
	f.p, f.buf = p, buf
	f.next = f.next[:0]
	for range p.lits {
		f.next = append(f.next, -2) // not yet searched
	}
}

// index returns the first position at or after from where a literal
// starts, or -1.
func (f *finder) index(from int) int {
	first := -1
	for i := range f.p.lits {
		n := f.next[i]
		if n == -1 {
			continue
		}
		if n < from {
			n = f.p.find(f.buf[from:], i)
			if n >= 0 {
				n += from
			}
			f.next[i] = n
		}
		if n >= 0 && (first < 0 || n < first) {
			first = n
		}
	}
	return first
}

// index returns the first position in b where a literal starts, or -1.
func (p *prefilter) index(b []byte) int {
	first := -1
	for n := range p.lits {
		if i := p.find(b, n); i >= 0 && (first < 0 || i < first) {
			first = i
		}
	}
	return first
}

// contains reports whether b holds one of the literals.
func (p *prefilter) contains(b []byte) bool {
	for n := range p.lits {
		if p.find(b, n) >= 0 {
			return true
		}
	}
	return false
}

// commonBytes are the bytes most frequent in source code, most frequent
// first; any other byte counts as rarer than all of them.
const commonBytes = " etaoinsrlcdumhpfgb\t.(),_\"yw=:;-kv/*x0{}1>"

// anchor picks the byte of lit to look for with IndexByte: the rarest, so
// that few false candidates need comparing, and in fold mode preferably
// not a letter, which would need a scan for each case.
func anchor(lit []byte, fold bool) int {
	best, bestRank := 0, -1
	for i, c := range lit {
		rank := 2 * len(commonBytes)
		if j := strings.IndexByte(commonBytes, c); j >= 0 {
			rank = 2 * j
		}
		if fold && 'a' <= c && c <= 'z' {
			rank /= 2
		}
		if rank > bestRank {
			best, bestRank = i, rank
		}
	}
	return best
}

// find returns the first position of the literal lits[n] in b, or -1,
// ignoring ASCII case in fold mode. Like memchr-based searchers it scans
// for the literal's anchor byte and compares the rest where it is found.
func (p *prefilter) find(b []byte, n int) int {
	lit, k := p.lits[n], p.anchors[n]
	c := lit[k]
	other := c // the upper case of c in fold mode
	if p.fold && 'a' <= c && c <= 'z' {
		other = c - 'a' + 'A'
	}
	for off := k; off+len(lit)-k <= len(b); {
		rest := b[off : len(b)-(len(lit)-k-1)]
		i := bytes.IndexByte(rest, c)
		if other != c {
			end := len(rest)
			if i >= 0 {
				end = i
			}
			if j := bytes.IndexByte(rest[:end], other); j >= 0 {
				i = j
			}
		}
		if i < 0 {
			return -1
		}
		start := off + i - k
		if cand := b[start : start+len(lit)]; p.fold && equalFoldASCII(cand, lit) || !p.fold && bytes.Equal(cand, lit) {
			return start
		}
		off += i + 1
	}
	return -1
}

// equalFoldASCII reports whether b equals the lower-case lit, ignoring
// the case of ASCII letters.
func equalFoldASCII(b, lit []byte) bool {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lit[i] {
			return false
		}
	}
	return true
}
