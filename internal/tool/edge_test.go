package tool

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/lathe-dev/lathe/internal/textfile"
)

// special makes, at path, a file that is not regular: opening one for
// reading blocks (a FIFO), never ends (/dev/zero) or fails (a socket).
var special = map[string]func(t *testing.T, path string){
	"fifo": func(t *testing.T, path string) {
		if err := syscall.Mkfifo(path, 0o644); err != nil {
			t.Fatal(err)
		}
	},
	"link to /dev/zero": func(t *testing.T, path string) {
		if err := os.Symlink("/dev/zero", path); err != nil {
			t.Fatal(err)
		}
	},
	"link to /dev/tty": func(t *testing.T, path string) {
		if err := os.Symlink("/dev/tty", path); err != nil {
			t.Fatal(err)
		}
	},
	"link to a fifo": func(t *testing.T, path string) {
		fifo := path + ".fifo"
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(fifo, path); err != nil {
			t.Fatal(err)
		}
	},
	"socket": func(t *testing.T, path string) {
		l, err := net.Listen("unix", path)
		if err != nil {
			t.Skipf("cannot make a socket: %v", err)
		}
		t.Cleanup(func() { l.Close() })
	},
}

func TestFileToolsRefuseSpecialFiles(t *testing.T) {
	calls := []struct {
		tool Tool
		args func(path string) map[string]any
	}{
		{NewRead(), func(p string) map[string]any { return map[string]any{"file_path": p} }},
		{NewReadFile(), func(p string) map[string]any { return map[string]any{"file_path": p} }},
		{NewEdit(), func(p string) map[string]any {
			return map[string]any{"file_path": p, "old_string": "a", "new_string": "b"}
		}},
		{NewWrite(), func(p string) map[string]any { return map[string]any{"file_path": p, "content": "x"} }},
		{NewApplyPatch(false), func(p string) map[string]any {
			return map[string]any{"input": "*** Begin Patch\n*** Update File: " + p + "\n@@\n-a\n+b\n*** End Patch"}
		}},
		{NewApplyPatch(false), func(p string) map[string]any {
			return map[string]any{"input": "*** Begin Patch\n*** Add File: " + p + "\n+b\n*** End Patch"}
		}},
	}
	for kind, make := range special {
		t.Run(kind, func(t *testing.T) {
			env := fileEnv(t)
			path := filepath.Join(env.Dir, "f")
			make(t, path)
			for _, c := range calls {
				res := runTool(t, c.tool, env, c.args(path))
				if !res.IsError || !strings.Contains(res.Content, "not a regular file") {
					t.Errorf("%s: %+v, want an error saying it is not a regular file", c.tool.Def().Name, res)
				}
			}
		})
	}
}

func TestEditWriteRefuseHugeFiles(t *testing.T) {
	env := fileEnv(t)
	path := filepath.Join(env.Dir, "huge.log")
	put(t, path, "", 0o644)
	// Sparse: 2 GiB that take no room, and must not be read.
	if err := os.Truncate(path, 2<<30); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tool Tool
		args map[string]any
		want string
	}{
		{NewEdit(), map[string]any{"file_path": path, "old_string": "a", "new_string": "b"}, "it is 2.0 GiB, more than the 64.0 MiB that Edit and Write load"},
		{NewWrite(), map[string]any{"file_path": path, "content": "x"}, "it is 2.0 GiB, more than the 64.0 MiB that Edit and Write load"},
		{NewApplyPatch(false), map[string]any{"input": "*** Begin Patch\n*** Update File: huge.log\n@@\n-a\n+b\n*** End Patch"}, "is too large: 2.0 GiB, more than the limit of 64.0 MiB"},
	} {
		res := runTool(t, c.tool, env, c.args)
		if !res.IsError || !strings.Contains(res.Content, c.want) {
			t.Errorf("%s: %+v, want %q", c.tool.Def().Name, res, c.want)
		}
	}
}

func TestReadHugeLine(t *testing.T) {
	env := fileEnv(t)
	path := filepath.Join(env.Dir, "min.js")
	put(t, path, strings.Repeat("x", 50<<20)+"\nend\n", 0o644)
	res := runTool(t, NewRead(), env, map[string]any{"file_path": path})
	if res.IsError || len(res.Content) > 3*readMaxLine || !strings.Contains(res.Content, "… [line truncated]\n     2\tend") {
		t.Errorf("Read: %d bytes: %.200q", len(res.Content), res.Content)
	}
	res = runTool(t, NewReadFile(), env, map[string]any{"file_path": path})
	if res.IsError || len(res.Content) > 2*readFileMaxLine || !strings.HasSuffix(res.Content, "\nL2: end") {
		t.Errorf("read_file: %d bytes: %.200q", len(res.Content), res.Content)
	}
}

func TestEditWriteRefuseReadOnly(t *testing.T) {
	env := fileEnv(t)
	path := filepath.Join(env.Dir, "ro.txt")
	put(t, path, "a\n", 0o444)
	for _, c := range []struct {
		tool Tool
		args map[string]any
	}{
		{NewEdit(), map[string]any{"file_path": path, "old_string": "a", "new_string": "b"}},
		{NewWrite(), map[string]any{"file_path": path, "content": "b\n"}},
		{NewApplyPatch(false), map[string]any{"input": "*** Begin Patch\n*** Update File: ro.txt\n@@\n-a\n+b\n*** End Patch"}},
	} {
		res := runTool(t, c.tool, env, c.args)
		if !res.IsError || !strings.Contains(res.Content, "is read-only") {
			t.Errorf("%s: %+v, want a read-only refusal", c.tool.Def().Name, res)
		}
	}
	if got := get(t, path); got != "a\n" {
		t.Errorf("content = %q", got)
	}
}

func TestEditKeepsHardLinks(t *testing.T) {
	env := fileEnv(t)
	path := filepath.Join(env.Dir, "f.txt")
	twin := filepath.Join(env.Dir, "twin.txt")
	put(t, path, "one\ntwo\n", 0o600)
	if err := os.Link(path, twin); err != nil {
		t.Fatal(err)
	}
	res := runTool(t, NewEdit(), env, map[string]any{"file_path": path, "old_string": "two", "new_string": "2"})
	if res.IsError {
		t.Fatal(res.Content)
	}
	if got := get(t, twin); got != "one\n2\n" {
		t.Errorf("twin = %q, want the edit", got)
	}
	if fi, _ := os.Stat(path); fi.Sys().(*syscall.Stat_t).Nlink != 2 || fi.Mode().Perm() != 0o600 {
		t.Errorf("links %d, mode %v", fi.Sys().(*syscall.Stat_t).Nlink, fi.Mode().Perm())
	}
}

func TestWriteRefusesDanglingLink(t *testing.T) {
	env := fileEnv(t)
	link := filepath.Join(env.Dir, "link")
	if err := os.Symlink("gone.txt", link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tool Tool
		args map[string]any
	}{
		{NewWrite(), map[string]any{"file_path": link, "content": "x"}},
		{NewEdit(), map[string]any{"file_path": link, "old_string": "", "new_string": "x"}},
		{NewEdit(), map[string]any{"file_path": link, "old_string": "a", "new_string": "x"}},
	} {
		res := runTool(t, c.tool, env, c.args)
		if !res.IsError || !strings.Contains(res.Content, "is a symbolic link to gone.txt, which does not exist") {
			t.Errorf("%s: %+v, want a refusal naming the link's target", c.tool.Def().Name, res)
		}
	}
	// Nor is a file created below it, as if it were a directory.
	if res := runTool(t, NewWrite(), env, map[string]any{"file_path": filepath.Join(link, "new.txt"), "content": "x"}); !res.IsError {
		t.Errorf("Write below the link: %+v", res)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("link replaced: %v, %v", fi.Mode(), err)
	}
	if _, err := os.Lstat(filepath.Join(env.Dir, "gone.txt")); err == nil {
		t.Error("link's target created")
	}
}

// The policy judges the file a write changes, after symbolic links: a
// link inside the workspace to a file outside it is outside.
func TestPathsResolveLinks(t *testing.T) {
	env := fileEnv(t)
	outside := t.TempDir()
	put(t, filepath.Join(outside, "secret"), "s\n", 0o644)
	put(t, filepath.Join(env.Dir, "real.txt"), "r\n", 0o644)
	for name, target := range map[string]string{"out": filepath.Join(outside, "secret"), "in": "real.txt", "outdir": outside} {
		if err := os.Symlink(target, filepath.Join(env.Dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	realOutside, _ := filepath.EvalSymlinks(outside)
	tests := []struct {
		path string
		want string
	}{
		{"out", filepath.Join(realOutside, "secret")},
		{"outdir/new.txt", filepath.Join(realOutside, "new.txt")},
		{"in", filepath.Join(env.Dir, "real.txt")},
		{"sub/new.txt", filepath.Join(env.Dir, "sub", "new.txt")},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			tool  Tool
			input string
		}{
			{NewWrite(), `{"file_path":"` + tt.path + `","content":"x"}`},
			{NewEdit(), `{"file_path":"` + tt.path + `","old_string":"","new_string":"x"}`},
			{NewApplyPatch(false), `{"input":"*** Begin Patch\n*** Add File: ` + tt.path + `\n+x\n*** End Patch"}`},
		} {
			if got := writes(t, c.tool, env, c.input); len(got) != 1 || got[0] != tt.want {
				t.Errorf("%s writes(%s) = %q, want %s", c.tool.Def().Name, tt.path, got, tt.want)
			}
		}
	}
}

func TestLatin1RoundTrip(t *testing.T) {
	env := fileEnv(t)
	path := filepath.Join(env.Dir, "old.txt")
	orig := "caf\xe9\r\nna\xefve \xbb quoted \xab\r\nend\r\n"
	put(t, path, orig, 0o644)

	res := runTool(t, NewRead(), env, map[string]any{"file_path": path})
	if !strings.Contains(res.Content, "     2\tnaïve » quoted «") || !strings.Contains(res.Content, latin1Note) {
		t.Errorf("Read: %q", res.Content)
	}
	res = runTool(t, NewEdit(), env, map[string]any{"file_path": path, "old_string": "naïve »", "new_string": "déjà »"})
	if res.IsError {
		t.Fatal(res.Content)
	}
	want := strings.Replace(orig, "na\xefve", "d\xe9j\xe0", 1)
	if got := get(t, path); got != want {
		t.Errorf("after Edit: %q, want %q", got, want)
	}
	// A character Latin-1 lacks is refused, and the file is kept.
	res = runTool(t, NewEdit(), env, map[string]any{"file_path": path, "old_string": "end", "new_string": "5 €"})
	if !res.IsError || !strings.Contains(res.Content, "cannot represent") {
		t.Errorf("Edit with €: %+v", res)
	}
	if got := get(t, path); got != want {
		t.Errorf("after refused Edit: %q, want %q", got, want)
	}
	res = runTool(t, NewApplyPatch(false), env, map[string]any{"input": "*** Begin Patch\n*** Update File: old.txt\n@@\n-end\n+fin à la\n*** End Patch"})
	if res.IsError {
		t.Fatal(res.Content)
	}
	want = strings.Replace(want, "end", "fin \xe0 la", 1)
	if got := get(t, path); got != want {
		t.Errorf("after apply_patch: %q, want %q", got, want)
	}
}

// A call cancelled while it writes stops, and leaves the file as it was.
func TestWriteCancelledMidway(t *testing.T) {
	env := fileEnv(t)
	path := filepath.Join(env.Dir, "f.txt")
	put(t, path, "old\n", 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := writeText(ctx, env, path, path, textfile.Format{}, func(w io.Writer) error {
		if _, err := io.WriteString(w, "half"); err != nil {
			return err
		}
		cancel()
		_, err := io.WriteString(w, " of the new")
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if got := get(t, path); got != "old\n" {
		t.Errorf("content = %q", got)
	}
	if entries, _ := os.ReadDir(env.Dir); len(entries) != 1 {
		t.Errorf("files left behind: %v", entries)
	}
}

func TestUTF8Check(t *testing.T) {
	texts := []string{"", "ascii", "café ✓ 𝄞 end", "caf\xe9", "cut \xf0\x9d\x84", "\xf0\x9d\x84\x9e", "bad \xc3\x28 pair", "\xed\xa0\x80 surrogate", "ok \uFFFD"}
	for _, text := range texts {
		for size := 1; size <= len(text)+1; size++ {
			var c utf8Check
			for i := 0; i < len(text); i += size {
				c.Write([]byte(text[i:min(i+size, len(text))]))
			}
			if got, want := c.valid(), utf8.ValidString(text); got != want {
				t.Errorf("%q in pieces of %d: valid = %v, want %v", text, size, got, want)
			}
		}
	}
}

// Read and Edit agree on a file's encoding: one that is not UTF-8 as a
// whole is Latin-1 in every line, even a line that would pass for UTF-8.
func TestLatin1IsDecidedForTheWholeFile(t *testing.T) {
	env := fileEnv(t)
	path := filepath.Join(env.Dir, "mixed.txt")
	put(t, path, "looks like UTF-8: \xc3\xa9\nbut this is not: \xe9\n", 0o644)
	res := runTool(t, NewRead(), env, map[string]any{"file_path": path})
	if !strings.Contains(res.Content, "     1\tlooks like UTF-8: Ã©\n     2\tbut this is not: é") {
		t.Errorf("Read: %q", res.Content)
	}
	res = runTool(t, NewEdit(), env, map[string]any{"file_path": path, "old_string": "UTF-8: Ã©", "new_string": "Latin-1: Ã©"})
	if res.IsError {
		t.Fatal(res.Content)
	}
	if got := get(t, path); got != "looks like Latin-1: \xc3\xa9\nbut this is not: \xe9\n" {
		t.Errorf("after Edit: %q", got)
	}
}

// A workspace reached through a symbolic link keeps its own spelling for
// the policy, which compares paths with it, so that its files stay inside.
func TestPathsInLinkedWorkspace(t *testing.T) {
	real := t.TempDir()
	link := filepath.Join(t.TempDir(), "ws")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	env := &Env{Dir: link, Reads: NewReadTracker()}
	input := `{"file_path":"` + filepath.Join(real, "a.txt") + `","content":"x"}`
	if got := writes(t, NewWrite(), env, input); len(got) != 1 || got[0] != filepath.Join(link, "a.txt") {
		t.Errorf("writes = %q, want %s", got, filepath.Join(link, "a.txt"))
	}
}

// A binary file replaced whole has no text encoding to keep: bytes that
// are not UTF-8 make it look like Latin-1, but the new text is written as
// given, in UTF-8, not refused or re-encoded.
func TestReplaceBinaryFileWithText(t *testing.T) {
	const text = "<svg>© 2024 → now</svg>\n"
	for _, c := range []struct {
		tool Tool
		args map[string]any
	}{
		{NewWrite(), map[string]any{"file_path": "logo.svg", "content": text}},
		{NewApplyPatch(false), map[string]any{"input": "*** Begin Patch\n*** Add File: logo.svg\n+" + strings.TrimSuffix(text, "\n") + "\n*** End Patch"}},
	} {
		env := fileEnv(t)
		path := filepath.Join(env.Dir, "logo.svg")
		put(t, path, "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", 0o644)
		if args := c.args; args["file_path"] != nil {
			args["file_path"] = path
		}
		res := runTool(t, c.tool, env, c.args)
		if res.IsError {
			t.Errorf("%s: %s", c.tool.Def().Name, res.Content)
			continue
		}
		if got := get(t, path); got != text {
			t.Errorf("%s wrote %q, want %q", c.tool.Def().Name, got, text)
		}
	}
}
