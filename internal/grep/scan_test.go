package grep

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// prefilterLines are texts a prefilter is checked against: every one a
// pattern matches must get through it.
var prefilterLines = []string{
	"", "foo", "FOO", "Foo bar", "xfooy", "fo", "f oo", "bar", "baz", "foobar", "barfoo",
	"func main() {", "func (s *T) Foo(ctx context.Context) error {", "if err != nil {",
	"café", "CAFÉ", "caf\xe9", "naïve", "日本語テキスト", "\ufeffbom", "\xff\xfe",
	"ok", "OK", "Ok", "oK", "\u212a", "\u017f", "strasse", "STRASSE", "ſtraſſe", "Kelvin \u212aelvin",
	"a1", "a2", "b3", "x-y", "x_y", "tab\there", "end$", "^start", "a.b", "a+b",
	"word boundary", "wordy", "the cat sat", "cats", "CAT", "aaa", "ab", "abc", "abcabc",
}

func TestPrefilter(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		want    []string // the literals; nil for no prefilter
		fold    bool
		exact   bool
	}{
		{pattern: "foo", want: []string{"foo"}, exact: true},
		{pattern: "foo|bar", want: []string{"foo", "bar"}, exact: true},
		{pattern: "(foo|bar)baz", want: []string{"foobaz", "barbaz"}, exact: true},
		{pattern: `func \w+\(ctx`, want: []string{"func "}},
		{pattern: `\w+`},
		{pattern: `.`},
		{pattern: `a|.`},
		{pattern: `foo|\w`},
		{pattern: `x*`},
		{pattern: `(?:abc)?`},
		{pattern: `^foo$`, want: []string{"foo"}},
		{pattern: `\bfoo\b`, want: []string{"foo"}},
		{pattern: `fo+`, want: []string{"f"}},
		{pattern: `(ab)+c`, want: []string{"ab"}},
		{pattern: `a[12]`, want: []string{"a1", "a2"}, exact: true},
		{pattern: `[a-z]at`, want: []string{"at"}},
		{pattern: `(?i)foo`, want: []string{"foo"}, fold: true},
		{pattern: `(?i)ok`, want: []string{"o"}, fold: true},
		{pattern: `(?i)strasse`, want: []string{"tra"}, fold: true},
		{pattern: `(?i)café`, want: []string{"caf"}, fold: true},
		{pattern: `(?i:foo)bar`, want: []string{"foobar"}, fold: true},
		{pattern: `(?i)ſ`},
		{pattern: `café`, want: []string{"café"}, exact: true},
		{pattern: `日本`, want: []string{"日本"}, exact: true},
		{pattern: "\ufffd"},
		{pattern: `caf.`, want: []string{"caf"}},
		{pattern: `a{2,}`, want: []string{"a"}},
		{pattern: `a{0,3}b`, want: []string{"aaab", "aab", "ab", "b"}, exact: true},
		{pattern: `x-y|x_y`, want: []string{"x-y", "x_y"}, exact: true},
		{pattern: `end\$`, want: []string{"end$"}, exact: true},
		{pattern: `a\.b`, want: []string{"a.b"}, exact: true},
		{pattern: `(cat|dog)s?`, want: []string{"cats", "cat", "dogs", "dog"}, exact: true},
		{pattern: `(cat|dog)\w*`, want: []string{"cat", "dog"}},
		{pattern: `[^a]bc`, want: []string{"bc"}},
		{pattern: `\x{212A}elvin`, want: []string{"\u212aelvin"}, exact: true},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			expr := "(?m)" + tc.pattern
			tree, err := syntax.Parse(expr, syntax.Perl)
			if err != nil {
				t.Fatal(err)
			}
			p := newPrefilter(tree)
			var got []string
			if p != nil {
				for _, l := range p.lits {
					got = append(got, string(l))
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("literals %q, want %q", got, tc.want)
			}
			if p != nil && (p.fold != tc.fold || p.exact != tc.exact) {
				t.Errorf("fold %v exact %v, want %v %v", p.fold, p.exact, tc.fold, tc.exact)
			}
			checkPrefilter(t, expr, p)
		})
	}
}

// checkPrefilter checks that p lets through every line re matches, and
// exactly those when it claims to be exact.
func checkPrefilter(t *testing.T, expr string, p *prefilter) {
	t.Helper()
	re := regexp.MustCompile(expr)
	if p == nil {
		return
	}
	for _, line := range prefilterLines {
		matched := re.MatchString(line)
		if matched && !p.contains([]byte(line)) {
			t.Errorf("%q matches %q but the prefilter %q rejects it", expr, line, p.lits)
		}
		if p.exact && !matched && p.contains([]byte(line)) {
			t.Errorf("exact prefilter %q accepts %q, which %q does not match", p.lits, line, expr)
		}
	}
}

// TestPrefilterNeverRejects checks more patterns, with and without -i,
// against the same lines, without spelling out the literals.
func TestPrefilterNeverRejects(t *testing.T) {
	for _, pattern := range []string{
		"foo", "FOO", "Foo|bar", "fo+|ba[rz]", `\bcat\b`, "c[aA]t", "(?:the )?cat", "ſtraſſe", "strasse", "STRASSE",
		"k", "K", "kelvin", `\x{212A}`, "caf[eé]", "CAFÉ", "na[ïi]ve", "日本語?", "テ", "^$", "^", "$", "a|b|c|d|e|f",
		"(a|b)(c|d)(e|f)", "a1|b3", `x[-_]y`, `[[:upper:]]AT`, `\pL+at`, `\d`, `a+b`, `abc(abc)*`, "o", "Ok", "\\$",
		"(?s)f.o", "foo|", `(foo)?bar`, "bom", "\ufeff", "tab\\there", `\t`, "ab{2}", "(?U)a+?b",
	} {
		for _, flags := range []string{"(?m)", "(?mi)"} {
			expr := flags + pattern
			tree, err := syntax.Parse(expr, syntax.Perl)
			if err != nil {
				t.Fatalf("%s: %v", expr, err)
			}
			checkPrefilter(t, expr, newPrefilter(tree))
		}
	}
}

func TestFinderFindsEveryCandidate(t *testing.T) {
	tree, _ := syntax.Parse("(?mi)foo|barbaz", syntax.Perl)
	p := newPrefilter(tree)
	buf := []byte("xx FOO barBaz foo\nfo\nBARBAZ zFoO")
	var f finder
	f.reset(p, buf)
	var got []int
	for i := f.index(0); i >= 0; i = f.index(i + 1) {
		got = append(got, i)
	}
	if want := []int{3, 7, 14, 21, 29}; !slices.Equal(got, want) {
		t.Fatalf("candidates at %v, want %v", got, want)
	}
}

// writeHuge writes a file of one line of size bytes with needle in its
// middle, streaming it so that the test itself holds little.
func writeHuge(t *testing.T, path string, size int, needle string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	chunk := []byte(strings.Repeat("x", 1<<20))
	for written := 0; written < size/2; written += len(chunk) {
		f.Write(chunk)
	}
	f.WriteString(needle)
	for i := range chunk {
		chunk[i] = 'y'
	}
	for written := 0; written < size/2; written += len(chunk) {
		f.Write(chunk)
	}
	f.WriteString("\nafter needle\n")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSearchHugeLine searches a 48 MB line with patterns that take each
// path of the long-line search, and checks that the Go engine allocates
// much less than the line: it must stream it, not hold it.
func TestSearchHugeLine(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "huge.txt")
	const size = 48 << 20
	writeHuge(t, path, size, " needle ")
	rg, _ := exec.LookPath("rg")
	for _, tc := range []struct {
		pattern string
		matches int // of the huge line 1 and "after needle" on line 2
	}{
		{"needle", 2}, {`\w+ needle`, 2}, {`(?i)NEEDLE`, 2}, {`\bneedle\b`, 2}, {`x.*needle`, 1}, {`ne+dle y`, 1},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			pattern := tc.pattern
			o := Options{Pattern: pattern, Path: root, Lines: true}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			files, err := Search(context.Background(), o)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != 1 || files[0].Matches != tc.matches || len(files[0].Lines) != tc.matches {
				t.Fatalf("got %.200s, want %d matching lines", render(root, files), tc.matches)
			}
			l := files[0].Lines[0]
			if l.Number != 1 || len(l.Text) != MaxLineText || strings.Trim(l.Text, "x") != "" {
				t.Errorf("line 1: number %d, %d bytes of text; want 1 and %d bytes of x", l.Number, len(l.Text), MaxLineText)
			}
			if l := files[0].Lines[tc.matches-1]; tc.matches == 2 && (l.Number != 2 || l.Text != "after needle") {
				t.Errorf("line 2: %+v", l)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/2 {
				t.Errorf("allocated %d bytes searching a line of %d", alloc, size)
			}
			if rg == "" || tc.matches == 1 {
				return // ripgrep reads such a line slowly into JSON; twice is enough
			}
			o.RG = rg
			runtime.ReadMemStats(&before)
			rgFiles, err := Search(context.Background(), o)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/2 {
				t.Errorf("ripgrep engine: allocated %d bytes reading a line of %d", alloc, size)
			}
			if g, r := render(root, files), render(root, rgFiles); g != r {
				t.Errorf("engines differ:\ngo: %.300s\nrg: %.300s", g, r)
			}
		})
	}
	t.Run("no match", func(t *testing.T) {
		// An anchor the window around the literal cannot decide sends the
		// search through the regexp over the whole line, the slow path:
		// a line just past maxBuffer takes it as well as a longer one.
		path := filepath.Join(t.TempDir(), "long.txt")
		writeHuge(t, path, maxBuffer+1<<20, " needle ")
		files, err := Search(context.Background(), Options{Pattern: `^ needle`, Path: path})
		if err != nil || len(files) != 0 {
			t.Fatalf("got %v, %v; want no match", files, err)
		}
	})
}

func TestSearchHugeLineCancelled(t *testing.T) {
	root := t.TempDir()
	writeHuge(t, filepath.Join(root, "huge.txt"), 20<<20, "needle")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		// No literal and no early match: the regexp must read the whole
		// line, slowly, unless the cancellation stops it.
		_, err := Search(ctx, Options{Pattern: `[^x]y$`, Path: root})
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("search did not stop when cancelled")
	}
}

// searchWithDeadline runs Search, failing the test rather than hanging
// if a regression opens a FIFO; the FIFO is then opened for writing to
// let the search go.
func searchWithDeadline(t *testing.T, o Options, fifo string) ([]File, error) {
	t.Helper()
	type result struct {
		files []File
		err   error
	}
	done := make(chan result, 1)
	go func() {
		files, err := Search(context.Background(), o)
		done <- result{files, err}
	}()
	select {
	case r := <-done:
		return r.files, r.err
	case <-time.After(time.Minute):
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		t.Fatal("search blocked on a FIFO")
		return nil, nil
	}
}

func TestSearchSkipsSpecialFiles(t *testing.T) {
	root := t.TempDir()
	fifo := filepath.Join(root, "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for name, target := range map[string]string{"pipe-link": "pipe", "null-link": os.DevNull} {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "a.txt"), []byte("foo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rg, _ := exec.LookPath("rg")
	for _, engine := range []string{"", rg} {
		files, err := searchWithDeadline(t, Options{Pattern: "foo", Path: root, RG: engine}, fifo)
		if err != nil || render(root, files) != "\"a.txt\":1\n" {
			t.Errorf("engine %q: got %q, %v; want a.txt alone", engine, render(root, files), err)
		}
		for _, p := range []string{fifo, filepath.Join(root, "pipe-link"), os.DevNull} {
			_, err := searchWithDeadline(t, Options{Pattern: "foo", Path: p, RG: engine}, fifo)
			var in *InputError
			if !errors.As(err, &in) || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("engine %q, path %s: got %v, want an InputError saying it is not a regular file", engine, p, err)
			}
		}
		if rg == "" {
			break
		}
	}
}

func TestSearchMultilineTooLarge(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "big.txt")
	writeHuge(t, path, maxMultilineFile+1<<20, "needle")
	rg, _ := exec.LookPath("rg")
	for _, engine := range []string{"", rg} {
		_, err := Search(context.Background(), Options{Pattern: `x\ny`, Multiline: true, Path: path, RG: engine})
		var in *InputError
		if !errors.As(err, &in) || !strings.Contains(err.Error(), "too large for a multiline search") {
			t.Errorf("engine %q: got %v, want an InputError", engine, err)
		}
		// In a directory both engines skip it.
		files, err := Search(context.Background(), Options{Pattern: `needle\n`, Multiline: true, Path: root, RG: engine})
		if err != nil || len(files) != 0 {
			t.Errorf("engine %q: got %v, %v; want the file skipped", engine, render(root, files), err)
		}
		if rg == "" {
			break
		}
	}
}

// TestDecodeRGLongMessage feeds decodeRG messages longer than it parses
// whole, with escapes, invalid UTF-8 (sent as base64) and a match whose
// text is huge too, and checks that it keeps what a short one gives.
func TestDecodeRGLongMessage(t *testing.T) {
	for name, s := range map[string]string{
		"escapes": "\"quoted\"\t\\ é \u2028 \U0001F600 <&>" + strings.Repeat("\x01z", maxRGMessage),
		"bytes":   "caf\xe9 " + strings.Repeat("x", 2*maxRGMessage),
	} {
		t.Run(name, func(t *testing.T) {
			// ripgrep's order of fields, which maps would not keep.
			type text struct {
				Text  string `json:"text,omitempty"`
				Bytes []byte `json:"bytes,omitempty"`
			}
			type sub struct {
				Match      text `json:"match"`
				Start, End int
			}
			type data struct {
				Path         text   `json:"path"`
				Lines        *text  `json:"lines,omitempty"`
				LineNumber   int    `json:"line_number,omitempty"`
				Submatches   []sub  `json:"submatches,omitempty"`
				BinaryOffset *int64 `json:"binary_offset"`
			}
			type message struct {
				Type string `json:"type"`
				Data data   `json:"data"`
			}
			lines := text{Text: s + "\n"}
			if !utf8.ValidString(s) {
				lines = text{Bytes: []byte(s + "\n")}
			}
			var out bytes.Buffer
			enc := json.NewEncoder(&out)
			for _, m := range []message{
				{Type: "begin", Data: data{Path: text{Text: "f"}}},
				{Type: "match", Data: data{Path: text{Text: "f"}, Lines: &lines, LineNumber: 7, Submatches: []sub{{lines, 0, len(s)}}}},
				{Type: "end", Data: data{Path: text{Text: "f"}}},
			} {
				if err := enc.Encode(m); err != nil {
					t.Fatal(err)
				}
			}
			files, err := decodeRG(&out, true, false)
			if err != nil {
				t.Fatal(err)
			}
			want := Line{Number: 7, Text: s[:MaxLineText], Match: true}
			if len(files) != 1 || files[0].Matches != 1 || len(files[0].Lines) != 1 || files[0].Lines[0] != want {
				t.Fatalf("got %.200v, want %.200v", files, want)
			}
		})
	}
}

// TestDecodeRGCounts reads rg --count --null output whose names hold
// what a name can: line breaks, colons, digits after them, stray bytes.
func TestDecodeRGCounts(t *testing.T) {
	out := "/t/new\nline:3\x00" + "12\n" + "/t/raw\xff:\x00" + "1\n"
	files, err := decodeRGCounts(strings.NewReader(out))
	want := []File{{Path: "/t/new\nline:3", Matches: 12}, {Path: "/t/raw\xff:", Matches: 1}}
	if err != nil || !slices.EqualFunc(files, want, func(a, b File) bool { return a.Path == b.Path && a.Matches == b.Matches }) {
		t.Fatalf("got %v, %v; want %v", files, err, want)
	}
	for _, bad := range []string{"/t/a\x001", "/t/a", "/t/a\x00x\n", "/t/a\x000\n"} {
		if files, err := decodeRGCounts(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: got %+v, want an error", bad, files)
		}
	}
}

// TestSearchCancelKillsRG checks that cancelling a search ends the
// ripgrep process, here one that would run for ten minutes.
func TestSearchCancelKillsRG(t *testing.T) {
	dir := t.TempDir()
	started := filepath.Join(dir, "started")
	if err := syscall.Mkfifo(started, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	fake := filepath.Join(dir, "rg")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho started > '"+started+"'\nexec sleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := Search(ctx, Options{Pattern: "x", Path: dir, RG: fake})
		done <- err
	}()
	// The FIFO reads to its end once the fake ripgrep has written to it
	// and closed it, just before it becomes the sleep.
	f, err := os.Open(started)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("ripgrep kept running after the search was cancelled")
	}
}

// FuzzPrefilter checks the prefilter's one promise on any pattern and
// line: a line the pattern matches is never rejected, and an exact
// prefilter accepts nothing else.
func FuzzPrefilter(f *testing.F) {
	for _, p := range []string{"foo", "(?i)ok", `\bfoo\b|ba[rz]+`, "(cat|dog)s?", "caf.", "ſtraſſe", `a{0,3}b`, `\x{212A}`} {
		f.Add(p, "the cat sat on the mat, ok? straße café Kelvin")
	}
	f.Fuzz(func(t *testing.T, pattern, line string) {
		expr := "(?m)" + pattern
		tree, err := syntax.Parse(expr, syntax.Perl)
		if err != nil {
			return
		}
		re, err := regexp.Compile(expr)
		if err != nil || strings.Contains(line, "\n") {
			return
		}
		p := newPrefilter(tree)
		if p == nil {
			return
		}
		matched := re.MatchString(line)
		if matched && !p.contains([]byte(line)) {
			t.Fatalf("%q matches %q but the prefilter %q rejects it", expr, line, p.lits)
		}
		if p.exact && !matched && p.contains([]byte(line)) {
			t.Fatalf("exact prefilter %q accepts %q, which %q does not match", p.lits, line, expr)
		}
	})
}
