package patch

import (
	"strings"
	"unicode"
)

// A fuzz level is one notion of two lines being equal. seek tries them from
// the strictest to the loosest and takes the first position that matches at
// the first level that matches anywhere, as Codex's seek_sequence does.
type fuzz int

const (
	exact fuzz = iota
	trimEnd
	trimBoth
	normalized
	levels
)

// String says what a match at level f overlooked, for a note.
func (f fuzz) String() string {
	switch f {
	case exact:
		return "exactly"
	case trimEnd:
		return "ignoring trailing whitespace"
	case trimBoth:
		return "ignoring leading and trailing whitespace"
	}
	return "ignoring whitespace and Unicode punctuation"
}

func (f fuzz) equal(a, b string) bool {
	switch f {
	case exact:
		return a == b
	case trimEnd:
		return strings.TrimRightFunc(a, unicode.IsSpace) == strings.TrimRightFunc(b, unicode.IsSpace)
	case trimBoth:
		return strings.TrimSpace(a) == strings.TrimSpace(b)
	default:
		return normalize(a) == normalize(b)
	}
}

// normalize trims s and maps typographic punctuation to ASCII, so that a
// patch written in plain ASCII matches a file with curly quotes, Unicode
// dashes or odd spaces.
func normalize(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212':
			return '-'
		case '\u2018', '\u2019', '\u201A', '\u201B':
			return '\''
		case '\u201C', '\u201D', '\u201E', '\u201F':
			return '"'
		case '\u00A0', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006', '\u2007',
			'\u2008', '\u2009', '\u200A', '\u202F', '\u205F', '\u3000':
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
}

// matchAt reports whether pattern matches lines at index i at level f.
func (f fuzz) matchAt(lines, pattern []string, i int) bool {
	for j, p := range pattern {
		if !f.equal(lines[i+j], p) {
			return false
		}
	}
	return true
}

// seek finds pattern in lines at or after start and returns its index and
// the level it matched at. An eof pattern is first tried at the very end of
// the file and, failing that, searched for from start like any other: Codex
// documents that fallback, and it forgives a file that ends with blank lines
// the patch did not show.
func seek(lines, pattern []string, start int, eof bool) (int, fuzz, bool) {
	if len(pattern) == 0 {
		return start, exact, true
	}
	last := len(lines) - len(pattern)
	if last < start {
		return 0, 0, false
	}
	if eof {
		for f := exact; f < levels; f++ {
			if f.matchAt(lines, pattern, last) {
				return last, f, true
			}
		}
	}
	for f := exact; f < levels; f++ {
		for i := start; i <= last; i++ {
			if f.matchAt(lines, pattern, i) {
				return i, f, true
			}
		}
	}
	return 0, 0, false
}

// count returns how many times pattern matches lines at or after start at
// level f, counting overlapping matches.
func (f fuzz) count(lines, pattern []string, start int) int {
	n := 0
	for i := start; i+len(pattern) <= len(lines); i++ {
		if f.matchAt(lines, pattern, i) {
			n++
		}
	}
	return n
}
