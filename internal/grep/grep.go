// Package grep searches file contents with ripgrep when it is installed
// and with a pure-Go engine otherwise, and returns the same results from
// both: the files searched (see package ignore), the lines matched, the
// counts and the context lines are identical for the same tree.
//
// Patterns are checked with Go's regexp (RE2 syntax) before either engine
// runs, so syntax that Rust's regex accepts but RE2 does not is refused by
// both. Two differences between the regex engines remain: ripgrep's \d,
// \w, \s and \b are Unicode-aware where Go's are ASCII-only, and on text
// that is not valid UTF-8 Go matches each stray byte as U+FFFD (so "." or
// [^a] match it) where ripgrep matches nothing.
//
// Files containing a NUL byte are binary and skipped by both engines. In
// multiline mode ripgrep checks only the first 64 KiB and the lines it
// prints, and so does the Go engine. A pattern that can match a line
// break makes both engines hold each file whole, so they then skip files
// over 8 MiB. Matching lines are kept up to [MaxLineText] bytes; the Go
// engine reads a longer line as a stream, so a line of any length costs
// bounded memory.
//
// Only regular files are searched: FIFOs, devices, sockets and symbolic
// links met in a directory are skipped, and naming one as the path is an
// error, so that nothing blocks reading them. ripgrep itself opens the
// ignore files it finds without checking them, so a FIFO named .ignore or
// .gitignore inside the tree blocks it until the search is cancelled;
// the Go engine skips such files.
package grep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"

	"github.com/lathe-dev/lathe/internal/ignore"
	"github.com/lathe-dev/lathe/internal/regfile"
	"github.com/lathe-dev/lathe/internal/sandbox"
)

// Options describe one search.
type Options struct {
	// Pattern is the regular expression to find.
	Pattern string
	// Path is the file or directory to search, absolute. A file is
	// searched whatever the ignore rules, globs and type say.
	Path string
	// Globs select or (with a leading "!") exclude files, in gitignore
	// syntax relative to Path, ahead of any ignore file (ripgrep --glob).
	Globs []string
	// Type keeps only files of a ripgrep file type such as "go" or "ts".
	Type string
	// IgnoreCase makes the search case-insensitive.
	IgnoreCase bool
	// Multiline lets a match span lines; "." then matches a line break.
	Multiline bool
	// Lines asks for the matching lines, with Before and After lines of
	// context around them; otherwise only counts are reported.
	Lines         bool
	Before, After int
	// RG is the ripgrep executable to run. Empty selects the Go engine.
	RG string
	// Exec starts ripgrep, under the profile of the search's context. Nil
	// means a sandbox.Host with no base profile of its own.
	Exec sandbox.Executor
}

// Line is a line of a matching file.
type Line struct {
	// Number is 1-based.
	Number int
	// Text is the line without its "\n", byte for byte.
	Text string
	// Match is false for a context line.
	Match bool
}

// File is a file with at least one match.
type File struct {
	// Path is Options.Path, or a path under it.
	Path string
	// Matches counts the matching lines, or in multiline mode the matches,
	// as `rg --count` does.
	Matches int
	// Lines holds the matching and context lines in order, when asked for.
	Lines []Line
}

// InputError reports a search the caller asked for wrongly: a bad
// pattern, glob or type, or a path that does not exist.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputErrorf(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// multilineProbe is how much of a file is checked for NUL bytes in
// multiline mode: ripgrep's buffer size, the only part it checks there.
const multilineProbe = 64 << 10

// Search finds the files under o.Path that match o.Pattern, sorted by
// path. Mistakes in o are reported as *InputError.
func Search(ctx context.Context, o Options) ([]File, error) {
	re, tree, err := compile(o)
	if err != nil {
		return nil, err
	}
	var selectTypes func(string) bool
	if o.Type != "" {
		globs, ok := typeGlobs(o.Type)
		if !ok {
			return nil, inputErrorf("unknown file type %q: use a ripgrep type name such as go, js, ts, py, rust, java, c, cpp or md, or a glob", o.Type)
		}
		selectTypes = func(name string) bool { return matchesAny(globs, name) }
	}
	overrides, err := ignore.NewOverrides(o.Globs)
	if err != nil {
		return nil, &InputError{Msg: err.Error()}
	}
	info, err := os.Stat(o.Path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, inputErrorf("path does not exist: %s", o.Path)
		}
		return nil, fmt.Errorf("search %s: %w", o.Path, err)
	}
	if !info.IsDir() && !info.Mode().IsRegular() {
		// Opening a FIFO or a terminal for reading blocks, and a device
		// never ends: neither engine may touch it.
		nr := &regfile.NotRegularError{Path: o.Path, Mode: info.Mode()}
		return nil, inputErrorf("%v: only regular files and directories can be searched", nr)
	}
	// ripgrep searches a file as one text only when the pattern can match
	// a line break; other patterns are matched line by line even in
	// multiline mode, which changes what is counted and which NUL bytes
	// are seen.
	wholeText := o.Multiline && canConsumeNewline(tree)
	if wholeText && !info.IsDir() && info.Size() > maxMultilineFile {
		return nil, inputErrorf("%s is too large for a multiline search, which holds the file whole: %s, more than %s; search it without multiline",
			o.Path, regfile.FormatSize(info.Size()), regfile.FormatSize(maxMultilineFile))
	}
	var files []File
	if o.RG != "" {
		files, err = searchRG(ctx, o, info.IsDir(), wholeText)
		if errors.Is(err, errNoRG) {
			files, err = nil, nil
			o.RG = ""
		}
	}
	if o.RG == "" {
		s := &searcher{o: o, re: re, wholeText: wholeText, assertions: hasAssertion(tree)}
		if !wholeText {
			s.pre = newPrefilter(tree)
		}
		if info.IsDir() {
			files, err = s.dir(ctx, o.Path, ignore.Options{Overrides: overrides, Select: selectTypes})
		} else if f, ok := s.worker().file(ctx, o.Path, 0); ok {
			files = []File{f}
		}
		if err == nil {
			err = ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
}

// compile checks the pattern and builds the Go regexp for it, and its
// parse tree. ripgrep always lets ^ and $ match at line breaks, and in
// multiline mode lets "." match one.
func compile(o Options) (*regexp.Regexp, *syntax.Regexp, error) {
	if o.Pattern == "" {
		return nil, nil, inputErrorf("pattern must not be empty")
	}
	// Parsed alone first so that errors quote the pattern as given.
	tree, err := syntax.Parse(o.Pattern, syntax.Perl)
	if err != nil {
		return nil, nil, inputErrorf("invalid regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	if !o.Multiline && needsNewline(tree) {
		// Lines are matched one by one, so a pattern that spells out a line
		// break can never match; ripgrep refuses it, and so do we.
		return nil, nil, inputErrorf("the pattern matches a line break, which needs multiline mode")
	}
	flags := "m"
	if o.IgnoreCase {
		flags += "i"
	}
	if o.Multiline {
		flags += "s"
	}
	expr := "(?" + flags + ")" + o.Pattern
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, nil, inputErrorf("invalid regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	if tree, err = syntax.Parse(expr, syntax.Perl); err != nil {
		return nil, nil, fmt.Errorf("parse %q again: %w", expr, err)
	}
	return re, tree, nil
}

// canConsumeNewline reports whether a match of re can contain or abut a
// line break. Like ripgrep, it counts the line anchors ^ and $ as
// touching one.
func canConsumeNewline(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpAnyChar, syntax.OpBeginLine, syntax.OpEndLine:
		return true
	case syntax.OpLiteral:
		return slices.Contains(re.Rune, '\n')
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i] <= '\n' && '\n' <= re.Rune[i+1] {
				return true
			}
		}
		return false
	}
	return slices.ContainsFunc(re.Sub, canConsumeNewline)
}

// needsNewline reports whether re contains a literal line break or a
// class of nothing but line breaks.
func needsNewline(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpLiteral:
		return slices.Contains(re.Rune, '\n')
	case syntax.OpCharClass:
		return len(re.Rune) == 2 && re.Rune[0] == '\n' && re.Rune[1] == '\n'
	}
	return slices.ContainsFunc(re.Sub, needsNewline)
}

// block is a run of whole lines holding one or more multiline matches:
// [start, end) in bytes, end just past a "\n" or at the end of the file.
type block struct{ start, end int }

// multiline searches the whole file as one text, grouping matches into
// blocks of lines the way ripgrep's multiline searcher does: each search
// resumes where the last match ended, and blocks that touch are merged.
func (s *searcher) multiline(path string) (f File, ok bool, err error) {
	data, err := regfile.ReadFile(path, maxMultilineFile)
	if err != nil {
		return File{}, false, err
	}
	if bytes.IndexByte(data[:min(len(data), multilineProbe)], 0) >= 0 {
		return File{}, false, nil
	}
	f.Path = path
	var blocks []block
	// ghost is an empty match at the very end of a file that ends with a
	// line break: ripgrep prints the context before it but no match.
	ghost := false
	// lineStart is the start of the line holding offset scanned; matches
	// only move forward, so each byte is scanned for line breaks once.
	lineStart, scanned := 0, 0
	for pos := 0; pos < len(data); {
		loc := s.re.FindIndex(data[pos:])
		if loc == nil {
			break
		}
		start, end := pos+loc[0], pos+loc[1]
		pos = end
		if start == end {
			pos++
		}
		n := len(blocks)
		if n > 0 && start < blocks[n-1].end && end <= blocks[n-1].end {
			continue // within the lines of the last block
		}
		if i := bytes.LastIndexByte(data[scanned:start], '\n'); i >= 0 {
			lineStart = scanned + i + 1
		}
		scanned = start
		b := block{start: lineStart, end: lineEnd(data, lineStart, end)}
		if b.start >= len(data) {
			ghost = n == 0 || blocks[n-1].end < b.start
			break
		}
		if n > 0 && blocks[n-1].end >= b.start {
			blocks[n-1].end = b.end
			continue
		}
		blocks = append(blocks, b)
	}
	for _, b := range blocks {
		// Past the first 64 KiB, ripgrep looks for NUL bytes only in what
		// it prints: the matched lines and their context.
		if bytes.IndexByte(data[b.start:b.end], 0) >= 0 {
			return File{}, false, nil
		}
		f.Matches += countMatches(s.re, data, b)
	}
	if s.o.Lines && len(blocks) > 0 {
		f.Lines = contextLines(data, blocks, ghost, s.o.Before, s.o.After)
		for _, l := range f.Lines {
			if strings.IndexByte(l.Text, 0) >= 0 {
				return File{}, false, nil
			}
		}
	}
	return f, true, nil
}

// lineEnd returns the end of the line holding the last byte of a match
// that ends at end, in a line starting at lineStart: just past its "\n",
// or the end of the file.
func lineEnd(data []byte, lineStart, end int) int {
	if end > lineStart && data[end-1] == '\n' {
		return end
	}
	if i := bytes.IndexByte(data[end:], '\n'); i >= 0 {
		return end + i + 1
	}
	return len(data)
}

// countMatches counts the matches that start inside b, letting them see
// one byte past it as ripgrep does when it counts multiline matches.
func countMatches(re *regexp.Regexp, data []byte, b block) int {
	n := 0
	for _, m := range re.FindAllIndex(data[b.start:min(b.end+1, len(data))], -1) {
		if m[0] < b.end-b.start {
			n++
		}
	}
	return n
}

// contextLines lists the lines of blocks as matches, with before and
// after lines of context around each block, and before a ghost match.
func contextLines(data []byte, blocks []block, ghost bool, before, after int) []Line {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' && i+1 < len(data) {
			starts = append(starts, i+1)
		}
	}
	lineOf := func(off int) int { // 0-based
		i, found := slices.BinarySearch(starts, off)
		if !found {
			i--
		}
		return i
	}
	text := func(i int) string {
		end := len(data)
		if i+1 < len(starts) {
			end = starts[i+1] - 1
		}
		return lineText(bytes.TrimSuffix(data[starts[i]:end], []byte("\n")))
	}
	isMatch := make(map[int]bool)
	for _, b := range blocks {
		for i := lineOf(b.start); i <= lineOf(b.end-1); i++ {
			isMatch[i] = true
		}
	}
	show := make(map[int]bool)
	if ghost {
		for j := max(0, len(starts)-before); j < len(starts); j++ {
			show[j] = true
		}
	}
	for i := range isMatch {
		for j := max(0, i-before); j <= min(len(starts)-1, i+after); j++ {
			show[j] = true
		}
	}
	lines := make([]Line, 0, len(show))
	for i := range show {
		lines = append(lines, Line{Number: i + 1, Text: text(i), Match: isMatch[i]})
	}
	slices.SortFunc(lines, func(a, b Line) int { return a.Number - b.Number })
	return lines
}
