package tool

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bmatcuk/doublestar/v4"
)

// searchEnv is a workspace with ignored, hidden, binary, CRLF and oddly
// named files whose modification times give a known newest-first order.
func searchEnv(t *testing.T) *Env {
	t.Helper()
	env := fileEnv(t)
	now := time.Now()
	for i, f := range []struct{ name, content string }{
		{"main.go", "package main\n\nfunc main() {\n\tprintln(\"hello\")\n}\n"},
		{"util/strings.go", "package util\n\n// Hello says hello.\nfunc Hello() string { return \"hello\" }\n"},
		{"util/strings_test.go", "package util\n"},
		{"README.md", "# Hello\r\nworld\r\n"},
		{".hidden.txt", "hello hidden\n"},
		{"odd name.txt", "hello\n"},
		{"new\nline.txt", "hello\n"},
		{"ctx/ctx.txt", "1\nmatch\n3\n4\n5\n6\n7\nmatch\n9\n"},
		{".gitignore", "*.log\nvendor/\n"},
		{".git/HEAD", "hello\n"},
		{"debug.log", "hello\n"},
		{"vendor/lib.go", "package lib // hello\n"},
		{"bin.dat", "hello\x00\n"},
	} {
		path := filepath.Join(env.Dir, f.name)
		put(t, path, f.content, 0o644)
		mtime := now.Add(-time.Duration(i+1) * time.Hour)
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("main.go", filepath.Join(env.Dir, "link.go")); err != nil {
		t.Fatal(err)
	}
	return env
}

// engines returns the Grep engines to test: always the Go engine, and
// ripgrep when installed (required on CI).
func engines(t *testing.T) map[string]func() string {
	t.Helper()
	e := map[string]func() string{"go": func() string { return "" }}
	rg, err := exec.LookPath("rg")
	switch {
	case err == nil:
		e["rg"] = func() string { return rg }
	case os.Getenv("CI") == "true":
		t.Fatal("rg is not installed; CI must test the ripgrep engine")
	default:
		t.Log("rg is not installed; testing the Go engine only")
	}
	return e
}

func TestGrep(t *testing.T) {
	env := searchEnv(t)
	abs := func(p string) string { return filepath.Join(env.Dir, p) }
	cases := []struct {
		name    string
		args    map[string]any
		want    string
		isError bool
	}{
		{"files newest first", map[string]any{"pattern": "hello"},
			"Found 5 files\nmain.go\nutil/strings.go\n.hidden.txt\nodd name.txt\n\"new\\nline.txt\"", false},
		{"ignore case", map[string]any{"pattern": "hello", "-i": true, "path": "."},
			"Found 6 files\nmain.go\nutil/strings.go\nREADME.md\n.hidden.txt\nodd name.txt\n\"new\\nline.txt\"", false},
		{"content", map[string]any{"pattern": "hello", "output_mode": "content", "glob": "*.go"},
			"main.go:4:\tprintln(\"hello\")\nutil/strings.go:3:// Hello says hello.\nutil/strings.go:4:func Hello() string { return \"hello\" }", false},
		{"content with context", map[string]any{"pattern": "says", "output_mode": "content", "path": "util", "-C": 1},
			"util/strings.go-2-\nutil/strings.go:3:// Hello says hello.\nutil/strings.go-4-func Hello() string { return \"hello\" }", false},
		{"groups apart are separated", map[string]any{"pattern": "match", "output_mode": "content", "-B": 1},
			"ctx/ctx.txt-1-1\nctx/ctx.txt:2:match\n--\nctx/ctx.txt-7-7\nctx/ctx.txt:8:match", false},
		{"single file without numbers", map[string]any{"pattern": "hello", "output_mode": "content", "path": abs("main.go"), "-n": false},
			"\tprintln(\"hello\")", false},
		{"crlf not shown", map[string]any{"pattern": "world$|Hello", "output_mode": "content", "type": "md"},
			"README.md:1:# Hello", false},
		{"count", map[string]any{"pattern": "hello", "output_mode": "count"},
			".hidden.txt:1\nmain.go:1\n\"new\\nline.txt\":1\nodd name.txt:1\nutil/strings.go:2\n\nFound 6 total occurrences across 5 files.", false},
		{"count one", map[string]any{"pattern": "says", "output_mode": "count"},
			"util/strings.go:1\n\nFound 1 total occurrence across 1 file.", false},
		{"head_limit", map[string]any{"pattern": "hello", "head_limit": 2},
			"Found 5 files\nmain.go\nutil/strings.go\n\n(Showing 1-2 of 5. Use offset=2 to see more.)", false},
		{"offset", map[string]any{"pattern": "hello", "head_limit": 2, "offset": 2},
			"Found 5 files\n.hidden.txt\nodd name.txt\n\n(Showing 3-4 of 5. Use offset=4 to see more.)", false},
		{"offset to the end", map[string]any{"pattern": "hello", "offset": 4, "head_limit": 0},
			"Found 5 files\n\"new\\nline.txt\"", false},
		{"type", map[string]any{"pattern": "^package", "type": "go"},
			"Found 3 files\nmain.go\nutil/strings.go\nutil/strings_test.go", false},
		{"globs split on commas", map[string]any{"pattern": "hello", "glob": "*.md,*.txt", "-i": true},
			"Found 4 files\nREADME.md\n.hidden.txt\nodd name.txt\n\"new\\nline.txt\"", false},
		{"glob overrides gitignore", map[string]any{"pattern": "hello", "glob": "*.log"},
			"Found 1 file\ndebug.log", false},
		{"multiline", map[string]any{"pattern": `says hello\.\nfunc`, "multiline": true, "output_mode": "content"},
			"util/strings.go:3:// Hello says hello.\nutil/strings.go:4:func Hello() string { return \"hello\" }", false},
		{"no files", map[string]any{"pattern": "absent"}, "No files found", false},
		{"no lines", map[string]any{"pattern": "absent", "output_mode": "content"}, "No matches found", false},
		{"no counts", map[string]any{"pattern": "absent", "output_mode": "count"}, "No matches found", false},
		{"bad regex", map[string]any{"pattern": "(x"}, "invalid regular expression: missing closing ): `(x`", true},
		{"newline needs multiline", map[string]any{"pattern": `a\nb`}, "the pattern matches a line break, which needs multiline mode", true},
		{"unknown type", map[string]any{"pattern": "x", "type": "nosuch"}, `unknown file type "nosuch"`, true},
		{"bad glob", map[string]any{"pattern": "x", "glob": "[a"}, `invalid glob "[a"`, true},
		{"bad mode", map[string]any{"pattern": "x", "output_mode": "lines"}, `output_mode must be "content", "files_with_matches" or "count", not "lines"`, true},
		{"negative context", map[string]any{"pattern": "x", "-A": -1}, "-A must not be negative", true},
		{"missing path", map[string]any{"pattern": "x", "path": "nope"}, "Path does not exist: " + abs("nope"), true},
	}
	results := map[string][]string{}
	for engine, rg := range engines(t) {
		for _, tc := range cases {
			t.Run(engine+"/"+tc.name, func(t *testing.T) {
				res := runTool(t, grepTool{rg: rg}, env, tc.args)
				if res.IsError != tc.isError {
					t.Fatalf("IsError = %v: %q", res.IsError, res.Content)
				}
				if tc.isError && !strings.HasPrefix(res.Content, tc.want) || !tc.isError && res.Content != tc.want {
					t.Errorf("content:\n%s\nwant:\n%s", res.Content, tc.want)
				}
				results[tc.name] = append(results[tc.name], res.Content)
			})
		}
	}
	for name, outs := range results {
		if len(slices.Compact(outs)) != 1 {
			t.Errorf("%s: engines disagree: %q", name, outs)
		}
	}
}

// TestGrepSpecialFilesAndLongLines checks with both engines that a FIFO
// named as the path is refused without being opened, that one in the tree
// is skipped, and that a line longer than the Go engine's buffer is cut
// the same way.
func TestGrepSpecialFilesAndLongLines(t *testing.T) {
	env := fileEnv(t)
	fifo := filepath.Join(env.Dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	long := strings.Repeat("é", 5<<20) + " needle\n"
	put(t, filepath.Join(env.Dir, "long.txt"), long, 0o644)
	wantLine := "long.txt:1:" + strings.Repeat("é", grepMaxLine/2) + "… [line truncated]"
	for engine, rg := range engines(t) {
		t.Run(engine, func(t *testing.T) {
			done := make(chan struct{})
			go func() {
				defer close(done)
				for _, tl := range []Tool{grepTool{rg: rg}, grepFilesTool{rg: rg}} {
					res := runTool(t, tl, env, map[string]any{"pattern": "needle", "path": "pipe"})
					if !res.IsError || !strings.Contains(res.Content, "is a FIFO (named pipe), not a regular file") {
						t.Errorf("%s on a FIFO: %+v", tl.Def().Name, res)
					}
				}
				res := runTool(t, grepTool{rg: rg}, env, map[string]any{"pattern": "needle", "output_mode": "content"})
				if res.IsError || res.Content != wantLine {
					t.Errorf("got %.300q, want %.300q", res.Content, wantLine)
				}
			}()
			select {
			case <-done:
			case <-time.After(time.Minute):
				if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					w.Close()
				}
				t.Fatal("Grep blocked on a FIFO")
			}
		})
	}
}

func TestGrepFiles(t *testing.T) {
	env := searchEnv(t)
	abs := func(p string) string { return filepath.Join(env.Dir, p) }
	for engine, rg := range engines(t) {
		for _, tc := range []struct {
			args    map[string]any
			want    string
			isError bool
		}{
			{map[string]any{"pattern": "hello"}, strings.Join([]string{abs("main.go"), abs("util/strings.go"), abs(".hidden.txt"), abs("odd name.txt"), fmt.Sprintf("%q", abs("new\nline.txt"))}, "\n"), false},
			{map[string]any{"pattern": " hello ", "limit": 2}, abs("main.go") + "\n" + abs("util/strings.go"), false},
			{map[string]any{"pattern": "hello", "include": "*.txt", "path": "."}, abs(".hidden.txt") + "\n" + abs("odd name.txt") + "\n" + fmt.Sprintf("%q", abs("new\nline.txt")), false},
			{map[string]any{"pattern": "package", "path": abs("util")}, abs("util/strings.go") + "\n" + abs("util/strings_test.go"), false},
			{map[string]any{"pattern": "absent"}, "No matches found.", false},
			{map[string]any{"pattern": "  "}, "pattern must not be empty", true},
			{map[string]any{"pattern": "x", "limit": 0}, "limit must be greater than zero", true},
			{map[string]any{"pattern": "x", "path": "nope"}, "unable to access `" + abs("nope") + "`: ", true},
			{map[string]any{"pattern": "(x"}, "invalid regular expression", true},
		} {
			res := runTool(t, grepFilesTool{rg: rg}, env, tc.args)
			if res.IsError != tc.isError || !strings.HasPrefix(res.Content, tc.want) || !tc.isError && res.Content != tc.want {
				t.Errorf("%s: grep_files(%v) = %+v\nwant %q", engine, tc.args, res, tc.want)
			}
		}
	}
}

func TestGlob(t *testing.T) {
	env := searchEnv(t)
	for _, tc := range []struct {
		args    map[string]any
		want    string
		isError bool
	}{
		{map[string]any{"pattern": "**/*.go"}, "link.go\nmain.go\nutil/strings.go\nutil/strings_test.go", false}, // a link has its target's time
		{map[string]any{"pattern": "*.go"}, "link.go\nmain.go", false},
		{map[string]any{"pattern": "*.go", "path": "util"}, "util/strings.go\nutil/strings_test.go", false},
		{map[string]any{"pattern": filepath.Join(env.Dir, "util", "*_test.go")}, "util/strings_test.go", false},
		{map[string]any{"pattern": "./**/*.{txt,md}"}, "README.md\n.hidden.txt\nodd name.txt\n\"new\\nline.txt\"\nctx/ctx.txt", false},
		{map[string]any{"pattern": "**/*.log"}, "No files found", false},
		{map[string]any{"pattern": "[a"}, `Invalid glob pattern: "[a"`, true},
		{map[string]any{"pattern": "*", "path": "nope"}, "Path does not exist: " + filepath.Join(env.Dir, "nope"), true},
		{map[string]any{"pattern": "*", "path": "main.go"}, "Path is not a directory: " + filepath.Join(env.Dir, "main.go"), true},
	} {
		res := runTool(t, NewGlob(), env, tc.args)
		if res.IsError != tc.isError || !strings.HasPrefix(res.Content, tc.want) || !tc.isError && res.Content != tc.want {
			t.Errorf("Glob(%v) = %+v\nwant %q", tc.args, res, tc.want)
		}
	}
}

func TestGlobTruncates(t *testing.T) {
	env := fileEnv(t)
	for i := range 120 {
		put(t, filepath.Join(env.Dir, fmt.Sprintf("f%03d.txt", i)), "", 0o644)
	}
	res := runTool(t, NewGlob(), env, map[string]any{"pattern": "*.txt"})
	lines := strings.Split(res.Content, "\n")
	if len(lines) != globLimit+1 || lines[globLimit] != "(Results are truncated. Consider using a more specific path or pattern.)" || res.Summary != "120 files" {
		t.Errorf("got %d lines ending %q, summary %q", len(lines), lines[len(lines)-1], res.Summary)
	}
}

func TestListDir(t *testing.T) {
	env := searchEnv(t)
	head := "Absolute path: " + env.Dir + "\n"
	for _, tc := range []struct {
		args    map[string]any
		want    string
		isError bool
	}{
		{map[string]any{"dir_path": env.Dir, "depth": 1},
			head + ".gitignore\n.hidden.txt\nREADME.md\nbin.dat\nctx/\nlink.go@\nmain.go\n\"new\\nline.txt\"\nodd name.txt\nutil/", false},
		{map[string]any{"dir_path": "."},
			head + ".gitignore\n.hidden.txt\nREADME.md\nbin.dat\nctx/\n  ctx.txt\nlink.go@\nmain.go\n\"new\\nline.txt\"\nodd name.txt\nutil/\n  strings.go\n  strings_test.go", false},
		{map[string]any{"dir_path": env.Dir, "depth": 1, "offset": 2, "limit": 3},
			head + ".hidden.txt\nREADME.md\nbin.dat\nMore than 3 entries found", false},
		{map[string]any{"dir_path": "util"}, "Absolute path: " + filepath.Join(env.Dir, "util") + "\nstrings.go\nstrings_test.go", false},
		{map[string]any{"dir_path": env.Dir, "offset": 50}, "offset exceeds directory entry count", true},
		{map[string]any{"dir_path": env.Dir, "offset": 0}, "offset must be a 1-indexed entry number", true},
		{map[string]any{"dir_path": env.Dir, "limit": 0}, "limit must be greater than zero", true},
		{map[string]any{"dir_path": env.Dir, "depth": 0}, "depth must be greater than zero", true},
		{map[string]any{"dir_path": "main.go"}, "failed to read directory: Path is not a directory", true},
		{map[string]any{"dir_path": "nope"}, "failed to read directory: Path does not exist", true},
	} {
		res := runTool(t, NewListDir(), env, tc.args)
		if res.IsError != tc.isError || !strings.HasPrefix(res.Content, tc.want) || !tc.isError && res.Content != tc.want {
			t.Errorf("list_dir(%v) = %+v\nwant %q", tc.args, res, tc.want)
		}
	}
	empty := filepath.Join(env.Dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if res := runTool(t, NewListDir(), env, map[string]any{"dir_path": empty}); res.Content != "Absolute path: "+empty {
		t.Errorf("empty directory: %+v", res)
	}
}

func TestReadFile(t *testing.T) {
	env := searchEnv(t)
	put(t, filepath.Join(env.Dir, "long.txt"), strings.Repeat("é", 300)+"\n", 0o644)
	put(t, filepath.Join(env.Dir, "empty.txt"), "", 0o644)
	for _, tc := range []struct {
		args    map[string]any
		want    string
		isError bool
	}{
		{map[string]any{"file_path": filepath.Join(env.Dir, "main.go")}, "L1: package main\nL2: \nL3: func main() {\nL4: \tprintln(\"hello\")\nL5: }", false},
		{map[string]any{"file_path": "main.go", "offset": 2, "limit": 2}, "L2: \nL3: func main() {", false},
		{map[string]any{"file_path": "README.md"}, "L1: # Hello\nL2: world", false},
		{map[string]any{"file_path": "long.txt"}, "L1: " + strings.Repeat("é", 250), false},
		{map[string]any{"file_path": "empty.txt"}, "The file is empty.", false},
		{map[string]any{"file_path": "main.go", "offset": 6}, "offset exceeds file length", true},
		{map[string]any{"file_path": "main.go", "offset": 0}, "offset must be a 1-indexed line number", true},
		{map[string]any{"file_path": "main.go", "limit": 0}, "limit must be greater than zero", true},
		{map[string]any{"file_path": "bin.dat"}, "Cannot read " + filepath.Join(env.Dir, "bin.dat") + ": it is a binary file", true},
		{map[string]any{"file_path": "util"}, filepath.Join(env.Dir, "util") + " is a directory, not a file. Use list_dir to list it.", true},
		{map[string]any{"file_path": "nope"}, "File does not exist.", true},
	} {
		res := runTool(t, NewReadFile(), env, tc.args)
		if res.IsError != tc.isError || !strings.HasPrefix(res.Content, tc.want) || !tc.isError && res.Content != tc.want {
			t.Errorf("read_file(%v) = %+v\nwant %q", tc.args, res, tc.want)
		}
	}
	if _, ok := env.Reads.Seen(filepath.Join(env.Dir, "main.go")); !ok {
		t.Error("read_file did not record the file as read")
	}
}

func fileTools() []Tool {
	return []Tool{NewRead(), NewWrite(), NewEdit(), NewGlob(), NewGrep(), NewReadFile(), NewListDir(), NewGrepFiles()}
}

func TestFileToolDefs(t *testing.T) {
	writes := map[string]bool{"Write": true, "Edit": true}
	for _, tl := range fileTools() {
		def := tl.Def()
		if def.Description == "" || len(strings.Fields(def.Description)) > 180 {
			t.Errorf("%s: description of %d words", def.Name, len(strings.Fields(def.Description)))
		}
		var schema struct {
			Type                 string                     `json:"type"`
			Properties           map[string]json.RawMessage `json:"properties"`
			Required             []string                   `json:"required"`
			AdditionalProperties *bool                      `json:"additionalProperties"`
		}
		if err := json.Unmarshal(def.Schema, &schema); err != nil {
			t.Errorf("%s: schema: %v", def.Name, err)
			continue
		}
		if schema.Type != "object" || schema.AdditionalProperties == nil || *schema.AdditionalProperties || len(schema.Required) == 0 {
			t.Errorf("%s: schema %s", def.Name, def.Schema)
		}
		for _, r := range schema.Required {
			if _, ok := schema.Properties[r]; !ok {
				t.Errorf("%s: required %q is not a property", def.Name, r)
			}
		}
		if tl.ReadOnly() == writes[def.Name] {
			t.Errorf("%s: ReadOnly() = %v", def.Name, tl.ReadOnly())
		}
	}
}

func TestFileToolsRejectBadArguments(t *testing.T) {
	env := fileEnv(t)
	for _, tl := range fileTools() {
		for _, input := range []string{`not json`, `[]`, `null`, `{}`, `{"file_path": 5, "dir_path": 5, "pattern": 5}`, `{"file_path": "", "dir_path": "", "pattern": "x", "content": "", "old_string": "a", "new_string": "b"}`, `{"unknown": 1}`} {
			res := runTool(t, tl, env, input)
			if !res.IsError || res.Content == "" {
				t.Errorf("%s(%s) = %+v, want an error result", tl.Def().Name, input, res)
			}
		}
	}
}

// TestLiteralSuffixNeverRejects checks that every path a pattern matches
// ends with the suffix Glob checks first.
func TestLiteralSuffixNeverRejects(t *testing.T) {
	names := []string{"a.go", "x/a.go", "a.go/b", "ago", "a", "x/y/z_test.go", "a*b", `a\b`, "[a].txt", "{x}", "c.md", "d.txt", "ab.c"}
	for _, pattern := range []string{"**/*.go", "*.go", "a", "x/**", "*.{txt,md}", `a\*b`, `\[a\].txt`, "**/*_test.go", "a?.c", "[ab]*", "{x}"} {
		suffix := literalSuffix(pattern)
		for _, name := range names {
			if ok, err := doublestar.Match(pattern, name); err != nil || ok && !strings.HasSuffix(name, suffix) {
				t.Errorf("pattern %q matches %q (%v), which does not end with %q", pattern, name, err, suffix)
			}
		}
	}
}
