package tool

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// fileEnv is a workspace in a fresh temporary directory.
func fileEnv(t *testing.T) *Env {
	t.Helper()
	return &Env{Dir: t.TempDir(), Reads: NewReadTracker()}
}

// runTool calls tl with args, a JSON string or a value to marshal, and
// fails the test on a harness error.
func runTool(t *testing.T, tl Tool, env *Env, args any) Result {
	t.Helper()
	input, ok := args.(string)
	if !ok {
		b, err := json.Marshal(args)
		if err != nil {
			t.Fatal(err)
		}
		input = string(b)
	}
	res, err := tl.Run(context.Background(), env, json.RawMessage(input))
	if err != nil {
		t.Fatalf("%s(%s): harness error: %v", tl.Def().Name, input, err)
	}
	return res
}

// put writes a file, creating its directory.
func put(t *testing.T, path, content string, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const latin1Note = "(This file is not UTF-8: it is shown decoded as Latin-1 (ISO 8859-1). Edits keep its encoding byte for byte, so new text may use only characters up to U+00FF.)"

func numbered(lines ...string) string {
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%6d\t%s", i+1, l)
	}
	return b.String()
}

func TestRead(t *testing.T) {
	env := fileEnv(t)
	ten := ""
	for i := 1; i <= 10; i++ {
		ten += fmt.Sprintf("line %d\n", i)
	}
	big := strings.Repeat(strings.Repeat("y", 99)+"\n", 2000)
	for _, tc := range []struct {
		name    string
		file    string // created in the workspace unless empty
		content string
		args    map[string]any
		want    string
		isError bool
	}{
		{name: "whole file", file: "a.txt", content: "alpha\n\tbeta\n", want: numbered("alpha", "\tbeta")},
		{name: "no final newline", file: "b.txt", content: "one\ntwo", want: numbered("one", "two")},
		{name: "crlf and bom hidden", file: "crlf.txt", content: "\uFEFFone\r\ntwo\r\n", want: numbered("one", "two")},
		{name: "offset and limit", file: "ten.txt", content: ten, args: map[string]any{"offset": 3, "limit": 2},
			want: "     3\tline 3\n     4\tline 4\n\n(Showing lines 3-4 of 10. To read more, use offset=5.)"},
		{name: "offset to the end", file: "ten.txt", content: ten, args: map[string]any{"offset": 9},
			want: "     9\tline 9\n    10\tline 10"},
		{name: "offset zero is the start", file: "ten.txt", content: ten, args: map[string]any{"offset": 0, "limit": 1},
			want: "     1\tline 1\n\n(Showing lines 1-1 of 10. To read more, use offset=2.)"},
		{name: "offset past the end", file: "ten.txt", content: ten, args: map[string]any{"offset": 11},
			want: "Warning: the file exists but is shorter than the provided offset (11). The file has 10 lines."},
		{name: "empty file", file: "empty.txt", want: "Warning: the file exists but the contents are empty."},
		{name: "long line cut", file: "long.txt", content: strings.Repeat("x", 2500) + "\nshort\n",
			want: numbered(strings.Repeat("x", 2000)+"… [line truncated]", "short")},
		{name: "cut at a character boundary", file: "wide.txt", content: "a" + strings.Repeat("é", 1500) + "\n",
			want: numbered("a" + strings.Repeat("é", 999) + "… [line truncated]")},
		{name: "output size cap", file: "big.txt", content: big},
		{name: "space and newline in name", file: "dir with space/new\nline.txt", content: "ok\n", want: numbered("ok")},
		{name: "latin-1 text is decoded", file: "latin1.txt", content: "caf\xe9\n", want: numbered("café") + "\n\n" + latin1Note},
		{name: "binary refused", file: "bin.dat", content: "PK\x03\x04\x00\x00", isError: true,
			want: "it is a binary file (application/zip)"},
		{name: "directory refused", file: "", args: map[string]any{"file_path": "."}, isError: true,
			want: "is a directory, not a file. Use Glob, or ls with Bash, to list it."},
		{name: "missing file", args: map[string]any{"file_path": "nope.txt"}, isError: true,
			want: "File does not exist. Note: your current working directory is " + env.Dir + "."},
		{name: "negative offset", file: "a.txt", content: "x\n", args: map[string]any{"offset": -1}, isError: true,
			want: "offset must be a line number, 1 or greater"},
		{name: "zero limit", file: "a.txt", content: "x\n", args: map[string]any{"limit": 0}, isError: true,
			want: "limit must be a number of lines, 1 or greater"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := map[string]any{}
			if tc.file != "" {
				path := filepath.Join(env.Dir, tc.file)
				put(t, path, tc.content, 0o644)
				args["file_path"] = path
			}
			for k, v := range tc.args {
				args[k] = v
			}
			res := runTool(t, NewRead(), env, args)
			if res.IsError != tc.isError {
				t.Fatalf("IsError = %v, content %q", res.IsError, res.Content)
			}
			if tc.name == "output size cap" {
				if !regexp.MustCompile(`\n\n\(Showing lines 1-(\d+) of 2000; output size limit reached. To read more, use offset=\d+.\)$`).MatchString(res.Content) || len(res.Content) > readMaxBytes+200 {
					t.Errorf("capped output ends %q (%d bytes)", res.Content[max(0, len(res.Content)-120):], len(res.Content))
				}
				return
			}
			if tc.isError && !strings.Contains(res.Content, tc.want) || !tc.isError && res.Content != tc.want {
				t.Errorf("content:\n%q\nwant:\n%q", res.Content, tc.want)
			}
		})
	}
}

func TestReadRecordsWhatItSaw(t *testing.T) {
	env := fileEnv(t)
	path := filepath.Join(env.Dir, "f.txt")
	content := "\uFEFFa\r\n" + strings.Repeat("b\r\n", 5000)
	put(t, path, content, 0o644)
	// A window of the file still records the hash of all of it.
	res := runTool(t, NewRead(), env, map[string]any{"file_path": "f.txt", "offset": 10, "limit": 1})
	if res.IsError || !strings.Contains(res.Content, "of 5001") {
		t.Fatalf("read: %+v", res)
	}
	sum, ok := env.Reads.Seen(path)
	if !ok || sum != sha256.Sum256([]byte(content)) {
		t.Fatalf("tracker has %x, %v; want the file's hash", sum, ok)
	}
	if res.Summary != "read f.txt lines 10-10 of 5001" {
		t.Errorf("summary %q", res.Summary)
	}
}

func TestEachLine(t *testing.T) {
	// A 16-byte buffer makes lines and "\r\n" straddle reads.
	long := strings.Repeat("z", 40)
	for _, tc := range []struct {
		in   string
		max  int
		want []string // head/size
	}{
		{"a\nb", 10, []string{"a/1", "b/1"}},
		{"a\r\nb\r\n", 10, []string{"a/1", "b/1"}},
		{"", 10, nil},
		{"\n\n", 10, []string{"/0", "/0"}},
		{long + "\r\nx\n", 5, []string{"zzzzz/40", "x/1"}},
		{strings.Repeat("q", 15) + "\r\nr", 20, []string{strings.Repeat("q", 15) + "/15", "r/1"}},
		{strings.Repeat("q", 16) + "\r\n", 20, []string{strings.Repeat("q", 16) + "/16"}},
		{"cr\ronly\n", 20, []string{"cr\ronly/7"}},
	} {
		var got []string
		err := eachLine(bufio.NewReaderSize(strings.NewReader(tc.in), 16), tc.max, func(head []byte, size int) error {
			got = append(got, fmt.Sprintf("%s/%d", head, size))
			return nil
		})
		if err != nil || strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("eachLine(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func umask() fs.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return fs.FileMode(m)
}

func TestWrite(t *testing.T) {
	env := fileEnv(t)
	w := NewWrite()

	// A new file, in new directories, respects the umask.
	path := filepath.Join(env.Dir, "new dir", "a\nb.txt")
	res := runTool(t, w, env, map[string]any{"file_path": path, "content": "hello\n"})
	if res.IsError || res.Content != "File created successfully at: "+path {
		t.Fatalf("create: %+v", res)
	}
	if got := get(t, path); got != "hello\n" {
		t.Errorf("content %q", got)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o666&^umask() {
		t.Errorf("mode %v, want %v", fi.Mode().Perm(), 0o666&^umask())
	}
	if res.Summary != `created "new dir/a\nb.txt" (1 line)` {
		t.Errorf("summary %q", res.Summary)
	}

	// Our own write does not make the file stale.
	res = runTool(t, w, env, map[string]any{"file_path": path, "content": "again\n"})
	if res.IsError || res.Content != "The file "+path+" has been updated successfully." || get(t, path) != "again\n" {
		t.Fatalf("rewrite: %+v", res)
	}

	// An existing CRLF file with a BOM and mode 0755 keeps all three.
	script := filepath.Join(env.Dir, "run.cmd")
	put(t, script, "\uFEFF@echo off\r\nexit\r\n", 0o755)
	res = runTool(t, w, env, map[string]any{"file_path": "run.cmd", "content": "@echo on\nexit 1\n"})
	if res.IsError {
		t.Fatalf("write script: %+v", res)
	}
	if got := get(t, script); got != "\uFEFF@echo on\r\nexit 1\r\n" {
		t.Errorf("encoding not kept: %q", got)
	}
	if fi, _ := os.Stat(script); fi.Mode().Perm() != 0o755 {
		t.Errorf("mode %v, want 0755", fi.Mode().Perm())
	}

	// A directory is not a file.
	res = runTool(t, w, env, map[string]any{"file_path": "new dir", "content": "x"})
	if !res.IsError || !strings.Contains(res.Content, "is a directory") {
		t.Errorf("directory: %+v", res)
	}

	// A file under a file cannot be created.
	res = runTool(t, w, env, map[string]any{"file_path": "run.cmd/x", "content": "x"})
	if !res.IsError {
		t.Errorf("file under a file: %+v", res)
	}
}

func TestWriteThroughSymlinkKeepsLink(t *testing.T) {
	env := fileEnv(t)
	target := filepath.Join(env.Dir, "AGENTS.md")
	put(t, target, "old\n", 0o644)
	link := filepath.Join(env.Dir, "CLAUDE.md")
	if err := os.Symlink("AGENTS.md", link); err != nil {
		t.Fatal(err)
	}
	runTool(t, NewRead(), env, map[string]any{"file_path": link})
	if res := runTool(t, NewWrite(), env, map[string]any{"file_path": link, "content": "new\n"}); res.IsError {
		t.Fatalf("write: %+v", res)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("link replaced by a file")
	}
	if got := get(t, target); got != "new\n" {
		t.Errorf("target %q", got)
	}
	// The file has one entry whichever name reads it.
	if res := runTool(t, NewEdit(), env, map[string]any{"file_path": target, "old_string": "new", "new_string": "newer"}); res.IsError {
		t.Errorf("edit via target after write via link: %+v", res)
	}
}

// TestFreshness checks the read-before-write and staleness rules, which
// Write and Edit share.
func TestFreshness(t *testing.T) {
	outside := t.TempDir()
	for _, tl := range []Tool{NewWrite(), NewEdit()} {
		name := tl.Def().Name
		change := func(path string) map[string]any {
			if name == "Write" {
				return map[string]any{"file_path": path, "content": "changed\n"}
			}
			return map[string]any{"file_path": path, "old_string": "one", "new_string": "changed"}
		}
		t.Run(name, func(t *testing.T) {
			env := fileEnv(t)

			// Inside the workspace, an unread file may be changed.
			inside := filepath.Join(env.Dir, "in.txt")
			put(t, inside, "one\n", 0o644)
			if res := runTool(t, tl, env, change(inside)); res.IsError {
				t.Fatalf("unread file in workspace: %+v", res)
			}

			// Outside it, the file must be read first.
			out := filepath.Join(outside, name+".txt")
			put(t, out, "one\n", 0o644)
			res := runTool(t, tl, env, change(out))
			if !res.IsError || res.Content != msgNotRead {
				t.Fatalf("unread file outside: %+v", res)
			}
			runTool(t, NewRead(), env, map[string]any{"file_path": out})
			if res := runTool(t, tl, env, change(out)); res.IsError {
				t.Fatalf("read file outside: %+v", res)
			}

			// A file changed behind the model's back is refused until it is
			// read again, even with its modification time put back.
			stale := filepath.Join(env.Dir, "stale.txt")
			put(t, stale, "one\n", 0o644)
			runTool(t, NewRead(), env, map[string]any{"file_path": stale})
			fi, _ := os.Stat(stale)
			put(t, stale, "one\ntwo\n", 0o644)
			if err := os.Chtimes(stale, fi.ModTime(), fi.ModTime()); err != nil {
				t.Fatal(err)
			}
			res = runTool(t, tl, env, change(stale))
			if !res.IsError || res.Content != msgStale {
				t.Fatalf("stale file: %+v", res)
			}
			if got := get(t, stale); got != "one\ntwo\n" {
				t.Fatalf("stale file was changed: %q", got)
			}
			runTool(t, NewRead(), env, map[string]any{"file_path": stale})
			if res := runTool(t, tl, env, change(stale)); res.IsError {
				t.Fatalf("re-read file: %+v", res)
			}
		})
	}
}

func TestEdit(t *testing.T) {
	const multi = "Found 2 matches of the string to replace, but replace_all is false. To replace all occurrences, set replace_all to true. To replace only one occurrence, please provide more context to uniquely identify the instance.\nString: x := 1"
	for _, tc := range []struct {
		name     string
		file     string // initial content; "-" for no file
		mode     fs.FileMode
		args     map[string]any
		want     string // file content afterwards
		content  string // result content, or its prefix when it ends in "…"
		summary  string
		isError  bool
		filename string
		others   map[string]string // more files to create
	}{
		{
			name: "unique", file: "a\nb\nc\n",
			args: map[string]any{"old_string": "b", "new_string": "B1\nB2"},
			want: "a\nB1\nB2\nc\n", summary: "edited f.go (+2 -1)",
			content: "The file $F has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n" + numbered("a", "B1", "B2", "c"),
		},
		{
			name: "not found", file: "a\n", isError: true,
			args:    map[string]any{"old_string": "zzz", "new_string": "y"},
			content: "String to replace not found in file.\nString: zzz", want: "a\n",
		},
		{
			name: "several matches", file: "x := 1\nx := 1\n", isError: true,
			args:    map[string]any{"old_string": "x := 1", "new_string": "x := 2"},
			content: multi, want: "x := 1\nx := 1\n",
		},
		{
			name: "replace all", file: "foo(1)\nbar\nfoo(2)\n",
			args: map[string]any{"old_string": "foo", "new_string": "baz", "replace_all": true},
			want: "baz(1)\nbar\nbaz(2)\n", summary: "edited f.go (+2 -2)",
			content: "The file $F has been updated. All 2 occurrences of old_string were replaced with new_string.",
		},
		{
			name: "replace all with one match", file: "foo\n",
			args: map[string]any{"old_string": "foo", "new_string": "bar", "replace_all": true},
			want: "bar\n", content: "The file $F has been updated. Here's…",
		},
		{
			name: "same strings", file: "a\n", isError: true,
			args:    map[string]any{"old_string": "a", "new_string": "a"},
			content: "No changes to make: old_string and new_string are exactly the same.", want: "a\n",
		},
		{
			name: "empty old_string on a file", file: "a\n", isError: true,
			args:    map[string]any{"old_string": "", "new_string": "b"},
			content: "Cannot create new file - file already exists.", want: "a\n",
		},
		{
			name: "empty old_string creates", file: "-",
			args: map[string]any{"old_string": "", "new_string": "new\nfile\n"},
			want: "new\nfile\n", content: "File created successfully at: $F", summary: "created f.go (+2)",
		},
		{
			name: "empty old_string fills a blank file", file: "\n",
			args: map[string]any{"old_string": "", "new_string": "filled\n"},
			want: "filled\n", content: "The file $F has been updated. Here's…",
		},
		{
			name: "cannot create under a file", file: "-", filename: "f.go/sub.go", isError: true,
			others:  map[string]string{"f.go": "a file\n"},
			args:    map[string]any{"old_string": "", "new_string": "x"},
			content: "Cannot open $F: not a directory",
		},
		{
			name: "missing file", file: "-", isError: true,
			args:    map[string]any{"old_string": "a", "new_string": "b"},
			content: "File does not exist. Note: your current working directory is…",
		},
		{
			name: "crlf kept", file: "one\r\ntwo\r\nthree\r\n",
			args: map[string]any{"old_string": "two\nthree", "new_string": "2\n3\n4"},
			want: "one\r\n2\r\n3\r\n4\r\n",
		},
		{
			name: "crlf in old_string matches a crlf file", file: "one\r\ntwo\r\n",
			args: map[string]any{"old_string": "one\r\ntwo", "new_string": "1\r\n2"},
			want: "1\r\n2\r\n",
		},
		{
			name: "bom kept", file: "\uFEFFpackage a\n",
			args: map[string]any{"old_string": "package a", "new_string": "package b"},
			want: "\uFEFFpackage b\n",
		},
		{
			name: "mode kept", file: "#!/bin/sh\necho hi\n", mode: 0o755,
			args: map[string]any{"old_string": "hi", "new_string": "bye"},
			want: "#!/bin/sh\necho bye\n",
		},
		{
			name: "curly quotes are kept as written", file: "say “hi”\n",
			args: map[string]any{"old_string": "“hi”", "new_string": "‘bye’"},
			want: "say ‘bye’\n",
		},
		{
			name: "binary refused", file: "a\x00b", isError: true,
			args:    map[string]any{"old_string": "a", "new_string": "b"},
			content: "Cannot edit $F: it is a binary file.", want: "a\x00b",
		},
		{
			name: "space and newline in name", file: "x\n", filename: "my dir/odd\nname.txt",
			args: map[string]any{"old_string": "x", "new_string": "y"},
			want: "y\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := fileEnv(t)
			filename := cmpOr(tc.filename, "f.go")
			path := filepath.Join(env.Dir, filename)
			if tc.file != "-" {
				put(t, path, tc.file, cmpOr(tc.mode, 0o644))
			}
			for name, content := range tc.others {
				put(t, filepath.Join(env.Dir, name), content, 0o644)
			}
			args := map[string]any{"file_path": path}
			for k, v := range tc.args {
				args[k] = v
			}
			res := runTool(t, NewEdit(), env, args)
			if res.IsError != tc.isError {
				t.Fatalf("IsError = %v: %q", res.IsError, res.Content)
			}
			want := strings.ReplaceAll(tc.content, "$F", path)
			if prefix, ok := strings.CutSuffix(want, "…"); ok {
				if !strings.HasPrefix(res.Content, prefix) {
					t.Errorf("content %q, want prefix %q", res.Content, prefix)
				}
			} else if want != "" && res.Content != want {
				t.Errorf("content:\n%q\nwant:\n%q", res.Content, want)
			}
			if tc.summary != "" && res.Summary != tc.summary {
				t.Errorf("summary %q, want %q", res.Summary, tc.summary)
			}
			if tc.want != "" {
				if got := get(t, path); got != tc.want {
					t.Errorf("file %q, want %q", got, tc.want)
				}
			}
			if tc.mode != 0 {
				if fi, _ := os.Stat(path); fi.Mode().Perm() != tc.mode {
					t.Errorf("mode %v, want %v", fi.Mode().Perm(), tc.mode)
				}
			}
		})
	}
}

func TestEditSnippetIsCompact(t *testing.T) {
	env := fileEnv(t)
	path := filepath.Join(env.Dir, "big.txt")
	var lines []string
	for i := 1; i <= 100; i++ {
		lines = append(lines, fmt.Sprint(i))
	}
	put(t, path, strings.Join(lines, "\n")+"\n", 0o644)
	res := runTool(t, NewEdit(), env, map[string]any{"file_path": path, "old_string": "\n50\n", "new_string": "\nfifty\n"})
	_, snip, _ := strings.Cut(res.Content, ":\n")
	if want := "    46\t46\n    47\t47\n    48\t48\n    49\t49\n    50\tfifty\n    51\t51\n    52\t52\n    53\t53\n    54\t54"; snip != want {
		t.Errorf("snippet:\n%s\nwant:\n%s", snip, want)
	}
	res = runTool(t, NewEdit(), env, map[string]any{"file_path": path, "old_string": "1\n2\n", "new_string": strings.Repeat("x\n", 100)})
	if n := strings.Count(res.Content, "\n"); n != snippetMax {
		t.Errorf("snippet of a large edit has %d lines, want %d", n, snippetMax)
	}
}

func TestWriteEditPaths(t *testing.T) {
	env := fileEnv(t)
	for _, c := range []struct {
		tool  Tool
		input string
	}{
		{NewWrite(), `{"file_path":"sub/x.go","content":""}`},
		{NewEdit(), `{"file_path":"sub/x.go","old_string":"","new_string":"x"}`},
	} {
		if got := writes(t, c.tool, env, c.input); len(got) != 1 || got[0] != filepath.Join(env.Dir, "sub", "x.go") {
			t.Errorf("%s writes %q", c.tool.Def().Name, got)
		}
		if _, err := c.tool.(preparer).Prepare(env, json.RawMessage(`not json`)); err == nil || !strings.Contains(err.Error(), "invalid tool arguments") {
			t.Errorf("%s.Prepare(bad input) = %v, want invalid tool arguments", c.tool.Def().Name, err)
		}
	}
}

// preparer is the agent's interface for tools that prepare their calls.
type preparer interface {
	Prepare(env *Env, input json.RawMessage) (Prepared, error)
}

// writes prepares a call to tl and returns the paths the policy is told
// it writes, failing the test if the call does not prepare.
func writes(t *testing.T, tl Tool, env *Env, input string) []string {
	t.Helper()
	p, err := tl.(preparer).Prepare(env, json.RawMessage(input))
	if err != nil {
		t.Fatalf("%s.Prepare(%s): %v", tl.Def().Name, input, err)
	}
	return p.Access.Writes
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// BenchmarkReadLargeFile reads a window of a 64 MiB file; allocations
// stay near the window's size, not the file's.
func BenchmarkReadLargeFile(b *testing.B) {
	env := &Env{Dir: b.TempDir(), Reads: NewReadTracker()}
	path := filepath.Join(env.Dir, "big.txt")
	line := strings.Repeat("x", 127) + "\n"
	if err := os.WriteFile(path, []byte(strings.Repeat(line, 64<<20/len(line))), 0o644); err != nil {
		b.Fatal(err)
	}
	input := json.RawMessage(`{"file_path": "big.txt", "offset": 1000, "limit": 100}`)
	b.ReportAllocs()
	for b.Loop() {
		if res, err := NewRead().Run(context.Background(), env, input); err != nil || res.IsError {
			b.Fatal(res, err)
		}
	}
}

func TestReadCancelled(t *testing.T) {
	env := fileEnv(t)
	put(t, filepath.Join(env.Dir, "f.txt"), "a\n", 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewRead().Run(ctx, env, json.RawMessage(`{"file_path": "f.txt"}`)); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled as a harness error", err)
	}
}
