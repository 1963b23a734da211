package grep

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tree is a workspace exercising every rule both engines must agree on.
var tree = map[string]string{
	".git/HEAD":                 "foo\n",
	".git/info/exclude":         "excluded.txt\n",
	".gitignore":                "*.log\nbuild/\n!keep.log\n/rootonly.txt\ngen/**\n!gen/keep.go\n",
	".ignore":                   "dotignored.txt\n",
	"a.go":                      "package a\n\nfunc Foo() {}\n// foo bar foo\n",
	"b.txt":                     "Foo\nfoo\nFOO\n",
	"app.log":                   "foo\n",
	"keep.log":                  "foo\n",
	"rootonly.txt":              "foo\n",
	"excluded.txt":              "foo\n",
	"dotignored.txt":            "foo\n",
	"build/out.go":              "foo\n",
	"gen/x.go":                  "foo\n",
	"gen/keep.go":               "foo\n",
	"sub/.gitignore":            "*.md\n!README.md\n",
	"sub/notes.md":              "foo\n",
	"sub/README.md":             "foo\n",
	"sub/rootonly.txt":          "foo\n",
	"sub/x.log":                 "foo\n",
	"sub/deep/x.js":             "const foo = 1;\nfoo();\n",
	".hidden/h.txt":             "foo hidden\n",
	"vendor/.git/HEAD":          "",
	"vendor/app.log":            "foo in nested repo\n",
	"bin.dat":                   "foo\x00bar\n",
	"late.bin":                  "foo\n" + strings.Repeat("a", 70000) + "\n\x00\n",
	"crlf.txt":                  "foo\r\nbar foo\r\n",
	"bom.txt":                   "\uFEFFfoo\nbar\n",
	"latin1.txt":                "caf\xe9 foo\n",
	"with space.txt":            "foo\n",
	"new\nline.txt":             "foo\n",
	"co:lon:2:x.txt":            "foo\n",
	"raw\xff\xfe.txt":           "foo\n",
	"sub/ tab\t:1:":             "foo\n",
	"ctx.txt":                   "1\n2\nfoo\n4\n5\n6\n7\nfoo\n9\nfoo\n11\n12\n13\n14\n",
	"multi.txt":                 "start\nfunc x() {\n  body\n}\nend foo\n",
	"noeol.txt":                 "a\nfoo",
	"deep/a/b/c/target.txt":     "needle\n",
	"deep/a/b/c/.ignore":        "",
	"sub/deep/ignored/keep.txt": "foo\n",
	"sub/deep/.ignore":          "ignored/\n",
}

func writeTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range tree {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a.go", filepath.Join(root, "link.go")); err != nil {
		t.Fatal(err)
	}
	return root
}

// render prints results compactly: "path:count" per file, then its lines
// as "N:text" for matches and "N-text" for context.
func render(root string, files []File) string {
	var b strings.Builder
	for _, f := range files {
		rel, _ := filepath.Rel(root, f.Path)
		fmt.Fprintf(&b, "%q:%d\n", filepath.ToSlash(rel), f.Matches)
		for _, l := range f.Lines {
			sep := "-"
			if l.Match {
				sep = ":"
			}
			fmt.Fprintf(&b, "  %d%s%q\n", l.Number, sep, l.Text)
		}
	}
	return b.String()
}

var cases = []struct {
	name string
	o    Options
	path string // relative to the tree; empty is the root
	want string
}{
	{
		name: "default rules",
		o:    Options{Pattern: "foo"},
		want: `".hidden/h.txt":1
"a.go":1
"b.txt":1
"bom.txt":1
"co:lon:2:x.txt":1
"crlf.txt":2
"ctx.txt":3
"gen/keep.go":1
"keep.log":1
"latin1.txt":1
"multi.txt":1
"new\nline.txt":1
"noeol.txt":1
"raw\xff\xfe.txt":1
"sub/ tab\t:1:":1
"sub/README.md":1
"sub/deep/x.js":2
"sub/rootonly.txt":1
"vendor/app.log":1
"with space.txt":1
`,
	},
	{
		name: "ignore case with lines",
		o:    Options{Pattern: "foo", IgnoreCase: true, Lines: true},
		path: "b.txt",
		want: `"b.txt":3
  1:"Foo"
  2:"foo"
  3:"FOO"
`,
	},
	{
		name: "context",
		o:    Options{Pattern: "foo", Lines: true, Before: 1, After: 2},
		path: "ctx.txt",
		want: `"ctx.txt":3
  2-"2"
  3:"foo"
  4-"4"
  5-"5"
  7-"7"
  8:"foo"
  9-"9"
  10:"foo"
  11-"11"
  12-"12"
`,
	},
	{
		name: "line text is raw bytes",
		o:    Options{Pattern: "foo", Lines: true},
		path: "crlf.txt",
		want: `"crlf.txt":2
  1:"foo\r"
  2:"bar foo\r"
`,
	},
	{
		name: "anchors do not see CR or BOM",
		o:    Options{Pattern: "^foo$"},
		want: `"b.txt":1
"co:lon:2:x.txt":1
"ctx.txt":3
"gen/keep.go":1
"keep.log":1
"new\nline.txt":1
"noeol.txt":1
"raw\xff\xfe.txt":1
"sub/ tab\t:1:":1
"sub/README.md":1
"sub/rootonly.txt":1
"with space.txt":1
`,
	},
	{
		name: "glob selects and overrides gitignore",
		o:    Options{Pattern: "foo", Globs: []string{"*.go"}},
		want: `"a.go":1
"gen/keep.go":1
"gen/x.go":1
`,
	},
	{
		name: "glob overrides gitignore but not an ignored directory",
		o:    Options{Pattern: "foo", Globs: []string{"*.log"}},
		want: `"app.log":1
"keep.log":1
"sub/x.log":1
"vendor/app.log":1
`,
	},
	{
		name: "negated glob",
		o:    Options{Pattern: "foo", Globs: []string{"!*.txt", "!sub"}},
		want: `"a.go":1
"gen/keep.go":1
"keep.log":1
"vendor/app.log":1
`,
	},
	{
		name: "anchored glob",
		o:    Options{Pattern: "foo", Globs: []string{"sub/**/*.js", "/*.md"}},
		want: `"sub/deep/x.js":2
`,
	},
	{
		name: "brace glob",
		o:    Options{Pattern: "foo", Globs: []string{"*.{js,md}"}},
		want: `"sub/README.md":1
"sub/deep/x.js":2
"sub/notes.md":1
`,
	},
	{
		name: "type",
		o:    Options{Pattern: "foo", Type: "js"},
		want: `"sub/deep/x.js":2
`,
	},
	{
		name: "glob beats type",
		o:    Options{Pattern: "foo", Type: "go", Globs: []string{"b.txt"}},
		want: `"b.txt":1
`,
	},
	{
		name: "parent ignore files apply to a subdirectory",
		o:    Options{Pattern: "foo"},
		path: "sub",
		want: `"sub/ tab\t:1:":1
"sub/README.md":1
"sub/deep/x.js":2
"sub/rootonly.txt":1
`,
	},
	{
		name: "explicit file ignores the rules",
		o:    Options{Pattern: "foo", Globs: []string{"*.go"}, Type: "go"},
		path: "app.log",
		want: `"app.log":1
`,
	},
	{
		name: "explicit binary file",
		o:    Options{Pattern: "foo"},
		path: "bin.dat",
		want: ``,
	},
	{
		name: "multiline",
		o:    Options{Pattern: `func x\(\) \{.*?\}`, Multiline: true, Lines: true, After: 1},
		path: "multi.txt",
		want: `"multi.txt":1
  2:"func x() {"
  3:"  body"
  4:"}"
  5-"end foo"
`,
	},
	{
		name: "multiline counts matches, not lines",
		o:    Options{Pattern: `o\nb|foo`, Multiline: true, Lines: true, Before: 1},
		path: "crlf.txt",
		want: `"crlf.txt":2
  1:"foo\r"
  2:"bar foo\r"
`,
	},
	{
		name: "multiline across lines",
		o:    Options{Pattern: `foo\n9\nfoo`, Multiline: true, Lines: true, Before: 1, After: 1},
		path: "ctx.txt",
		want: `"ctx.txt":1
  7-"7"
  8:"foo"
  9:"9"
  10:"foo"
  11-"11"
`,
	},
	{
		name: "no trailing newline",
		o:    Options{Pattern: "o+$", Lines: true},
		path: "noeol.txt",
		want: `"noeol.txt":1
  2:"foo"
`,
	},
	{
		name: "invalid UTF-8 text",
		o:    Options{Pattern: "foo", Lines: true},
		path: "latin1.txt",
		want: `"latin1.txt":1
  1:"caf\xe9 foo"
`,
	},
	{
		name: "empty .ignore file and deep tree",
		o:    Options{Pattern: "needle"},
		want: `"deep/a/b/c/target.txt":1
`,
	},
}

func TestSearch(t *testing.T) {
	root := writeTree(t)
	rg, err := exec.LookPath("rg")
	if err != nil {
		rg = ""
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.Path = filepath.Join(root, filepath.FromSlash(tc.path))
			goFiles, err := Search(context.Background(), o)
			if err != nil {
				t.Fatalf("go engine: %v", err)
			}
			if got := render(root, goFiles); got != tc.want {
				t.Errorf("go engine:\n%s\nwant:\n%s", got, tc.want)
			}
			if rg == "" {
				if os.Getenv("CI") == "true" {
					t.Fatal("rg is not installed; CI must test the ripgrep engine")
				}
				t.Skip("rg is not installed; ripgrep engine not compared")
			}
			o.RG = rg
			rgFiles, err := Search(context.Background(), o)
			if err != nil {
				t.Fatalf("ripgrep engine: %v", err)
			}
			if got := render(root, rgFiles); got != tc.want {
				t.Errorf("ripgrep engine:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestSearchInputErrors(t *testing.T) {
	root := writeTree(t)
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"empty pattern", Options{}, "pattern must not be empty"},
		{"bad regex", Options{Pattern: "(foo"}, "invalid regular expression: missing closing ): `(foo`"},
		{"newline without multiline", Options{Pattern: `a\nb`}, "needs multiline mode"},
		{"newline class without multiline", Options{Pattern: `a[\n]b`}, "needs multiline mode"},
		{"unknown type", Options{Pattern: "x", Type: "nosuch"}, `unknown file type "nosuch"`},
		{"bad glob", Options{Pattern: "x", Globs: []string{"[a"}}, `invalid glob "[a"`},
		{"missing path", Options{Pattern: "x", Path: filepath.Join(root, "nope")}, "path does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.o.Path == "" {
				tc.o.Path = root
			}
			_, err := Search(context.Background(), tc.o)
			var in *InputError
			if !errors.As(err, &in) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an InputError containing %q", err, tc.want)
			}
		})
	}
}

func TestSearchMultilineAllowsNewline(t *testing.T) {
	root := writeTree(t)
	files, err := Search(context.Background(), Options{Pattern: `2\nfoo`, Multiline: true, Path: filepath.Join(root, "ctx.txt")})
	if err != nil || len(files) != 1 || files[0].Matches != 1 {
		t.Fatalf("got %v, %v; want one match", files, err)
	}
}

func TestSearchCancelled(t *testing.T) {
	root := writeTree(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Search(ctx, Options{Pattern: "foo", Path: root}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestSearchFallsBackWhenRGCannotStart(t *testing.T) {
	root := writeTree(t)
	files, err := Search(context.Background(), Options{Pattern: "needle", Path: root, RG: filepath.Join(root, "no-such-rg")})
	if err != nil || render(root, files) != "\"deep/a/b/c/target.txt\":1\n" {
		t.Fatalf("got %q, %v", render(root, files), err)
	}
}

// TestEnginesAgree compares the two engines on many patterns and options
// where the expected output would be tedious to spell out.
func TestEnginesAgree(t *testing.T) {
	rg, err := exec.LookPath("rg")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("rg is not installed; CI must test the ripgrep engine")
		}
		t.Skip("rg is not installed")
	}
	root := writeTree(t)
	linePatterns := []string{"foo", "o", "^", "$", "a*", `\bfoo\b`, "f.o", "(?i)FOO", `[^a]oo`, `^\s*$`, "bar|baz", `\d+`, `\x{FEFF}`}
	multiPatterns := append(linePatterns, `o\n`, `\n\n`, `.*\n.*`, `foo.*?4`, `}\s+end`, `\n`)
	type variant struct {
		lines         bool
		before, after int
	}
	variants := []variant{{}, {lines: true}, {lines: true, before: 1}, {lines: true, before: 2, after: 1}}
	for _, multiline := range []bool{false, true} {
		patterns := linePatterns
		if multiline {
			patterns = multiPatterns
		}
		for _, p := range patterns {
			for _, v := range variants {
				o := Options{Pattern: p, Path: root, Multiline: multiline, Lines: v.lines, Before: v.before, After: v.after}
				goFiles, err := Search(context.Background(), o)
				if err != nil {
					t.Fatalf("%+v: go engine: %v", o, err)
				}
				o.RG = rg
				rgFiles, err := Search(context.Background(), o)
				if err != nil {
					t.Fatalf("%+v: ripgrep engine: %v", o, err)
				}
				if g, r := render(root, goFiles), render(root, rgFiles); g != r {
					t.Errorf("pattern %q multiline=%v %+v:\ngo engine:\n%s\nripgrep engine:\n%s", p, multiline, v, g, r)
				}
			}
		}
	}
}
