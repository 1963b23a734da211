// Package ignore decides which files a search looks at, the way ripgrep
// does: .gitignore rules (within a git repository), .ignore and .rgignore
// rules everywhere, override globs, and never the .git directory. It lets
// the pure-Go search give the same answers as ripgrep on the same tree.
//
// Patterns are gitignore lines translated to doublestar globs exactly as
// ripgrep's ignore crate translates them to its own globs, so brace
// alternatives ("*.{js,ts}") work in both. Git itself has no braces; a
// .gitignore line that uses them is the one place where Git and ripgrep,
// and so Lathe, disagree.
package ignore

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Match is the verdict of a set of rules on one path.
type Match int

const (
	// None means no rule mentions the path.
	None Match = iota
	// Ignore means the path is excluded.
	Ignore
	// Whitelist means a rule explicitly includes the path ("!pattern" in
	// an ignore file, a plain glob among overrides).
	Whitelist
)

type rule struct {
	glob      string
	whitelist bool
	dirOnly   bool
}

// Rules is one ignore file's patterns, relative to the directory it lives
// in. The zero value and nil match nothing.
type Rules struct {
	rules []rule
}

// ParseRules parses the lines of a gitignore-format file. Lines that are
// not valid globs are dropped, as ripgrep drops them.
func ParseRules(data []byte) *Rules {
	r := &Rules{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			// Git accepts a byte-order mark at the start of the file.
			line = strings.TrimPrefix(line, "\uFEFF")
			first = false
		}
		if ru, ok := parseLine(line); ok {
			r.rules = append(r.rules, ru)
		}
	}
	return r
}

// parseLine translates one gitignore line the way ripgrep's ignore crate
// does (GitignoreBuilder::add_line).
func parseLine(line string) (rule, bool) {
	line = strings.TrimSuffix(line, "\r")
	if strings.HasPrefix(line, "#") {
		return rule{}, false
	}
	if !strings.HasSuffix(line, `\ `) {
		line = strings.TrimRight(line, " \t")
	}
	if line == "" {
		return rule{}, false
	}
	var r rule
	absolute := false
	if strings.HasPrefix(line, `\!`) || strings.HasPrefix(line, `\#`) {
		line = line[1:]
		absolute = strings.HasPrefix(line, "/")
	} else {
		if strings.HasPrefix(line, "!") {
			r.whitelist = true
			line = line[1:]
		}
		if strings.HasPrefix(line, "/") {
			line = line[1:]
			absolute = true
		}
	}
	if strings.HasSuffix(line, "/") {
		r.dirOnly = true
		line = strings.TrimSuffix(line, "/")
		line = strings.TrimSuffix(line, `\`)
	}
	if line == "" {
		return rule{}, false
	}
	// A pattern without a slash matches at any depth.
	if !absolute && !strings.Contains(line, "/") && !strings.HasPrefix(line, "**/") {
		line = "**/" + line
	}
	// "dir/**" matches what is inside dir but not dir itself.
	if strings.HasSuffix(line, "/**") {
		line += "/*"
	}
	if !doublestar.ValidatePattern(line) {
		return rule{}, false
	}
	r.glob = line
	return r, true
}

// Match reports the verdict of the last rule that matches rel, a
// slash-separated path relative to the rules' directory.
func (r *Rules) Match(rel string, isDir bool) Match {
	if r == nil {
		return None
	}
	for i := len(r.rules) - 1; i >= 0; i-- {
		ru := r.rules[i]
		if ru.dirOnly && !isDir {
			continue
		}
		if ok, _ := doublestar.Match(ru.glob, rel); ok {
			if ru.whitelist {
				return Whitelist
			}
			return Ignore
		}
	}
	return None
}

// Overrides are globs given with a search (ripgrep's --glob), relative to
// the search root. They take precedence over every ignore file: a plain
// glob includes what it matches, a "!glob" excludes it, and once there is
// any plain glob a file that matches none is excluded.
type Overrides struct {
	rules      Rules
	whitelists int
}

// NewOverrides parses globs in gitignore syntax. Unlike ignore files, a
// bad glob is an error: it came from the caller, who can fix it.
func NewOverrides(globs []string) (*Overrides, error) {
	o := &Overrides{}
	for _, g := range globs {
		r, ok := parseLine(g)
		if !ok {
			return nil, &GlobError{Glob: g}
		}
		// Overrides invert the gitignore sense: a plain pattern selects.
		r.whitelist = !r.whitelist
		if r.whitelist {
			o.whitelists++
		}
		o.rules.rules = append(o.rules.rules, r)
	}
	return o, nil
}

// Match reports the overrides' verdict on rel, relative to the search root.
func (o *Overrides) Match(rel string, isDir bool) Match {
	if o == nil || len(o.rules.rules) == 0 {
		return None
	}
	m := o.rules.Match(rel, isDir)
	if m == None && o.whitelists > 0 && !isDir {
		return Ignore
	}
	return m
}

// GlobError reports a glob that cannot be parsed.
type GlobError struct{ Glob string }

func (e *GlobError) Error() string { return fmt.Sprintf("invalid glob %q", e.Glob) }

// Glob translates one gitignore pattern to the doublestar glob that
// matches, relative to the pattern's directory, the paths it names, and
// says whether it names only directories (a trailing "/"). Permission
// rules use it, so that their paths mean what a .gitignore line means.
// A negation ("!x") or a comment is not a pattern here.
func Glob(pattern string) (glob string, dirOnly bool, err error) {
	if strings.HasPrefix(pattern, "!") || strings.HasPrefix(pattern, "#") {
		return "", false, &GlobError{Glob: pattern}
	}
	r, ok := parseLine(pattern)
	if !ok {
		return "", false, &GlobError{Glob: pattern}
	}
	return r.glob, r.dirOnly, nil
}
