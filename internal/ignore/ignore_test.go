package ignore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestRulesMatch(t *testing.T) {
	for _, tc := range []struct {
		rules string
		path  string
		isDir bool
		want  Match
	}{
		{"*.log", "a.log", false, Ignore},
		{"*.log", "x/y/a.log", false, Ignore},
		{"*.log", "a.txt", false, None},
		{"*.log\n!keep.log", "keep.log", false, Whitelist},
		{"!keep.log\n*.log", "keep.log", false, Ignore}, // last match wins
		{"build/", "build", true, Ignore},
		{"build/", "build", false, None}, // directory-only
		{"build/", "x/build", true, Ignore},
		{"/root.txt", "root.txt", false, Ignore},
		{"/root.txt", "sub/root.txt", false, None},
		{"doc/*.txt", "doc/a.txt", false, Ignore},
		{"doc/*.txt", "doc/x/a.txt", false, None}, // * does not cross /
		{"doc/*.txt", "x/doc/a.txt", false, None}, // a slash anchors
		{"a/**/b", "a/b", false, Ignore},
		{"a/**/b", "a/x/y/b", false, Ignore},
		{"**/foo", "x/foo", true, Ignore},
		{"gen/**", "gen", true, None}, // the contents, not the directory
		{"gen/**", "gen/x/y.go", false, Ignore},
		{"*.{js,ts}", "x/a.ts", false, Ignore},
		{"[!a]b", "cb", false, Ignore},
		{`\#notcomment`, "#notcomment", false, Ignore},
		{`\!bang`, "!bang", false, Ignore},
		{"# comment\n\n   \n", "# comment", false, None},
		{"trail   ", "trail", false, Ignore},
		{"crlf\r\n", "crlf", false, Ignore},
		{"\uFEFFbom", "bom", false, Ignore},
		{"[unclosed", "[unclosed", false, None}, // invalid lines are dropped
	} {
		got := ParseRules([]byte(tc.rules)).Match(tc.path, tc.isDir)
		if got != tc.want {
			t.Errorf("rules %q, path %q (dir %v): got %v, want %v", tc.rules, tc.path, tc.isDir, got, tc.want)
		}
	}
}

func TestOverrides(t *testing.T) {
	for _, tc := range []struct {
		globs []string
		path  string
		isDir bool
		want  Match
	}{
		{nil, "a.go", false, None},
		{[]string{"*.go"}, "x/a.go", false, Whitelist},
		{[]string{"*.go"}, "a.txt", false, Ignore}, // unselected file
		{[]string{"*.go"}, "dir", true, None},      // directories are not
		{[]string{"!*.go"}, "a.go", false, Ignore},
		{[]string{"!*.go"}, "a.txt", false, None},
		{[]string{"*.go", "!gen/*.go"}, "gen/a.go", false, Ignore},
		{[]string{"src/*.go"}, "src/a.go", false, Whitelist},
		{[]string{"src/*.go"}, "x/src/a.go", false, Ignore},
	} {
		o, err := NewOverrides(tc.globs)
		if err != nil {
			t.Fatal(err)
		}
		if got := o.Match(tc.path, tc.isDir); got != tc.want {
			t.Errorf("globs %q, path %q: got %v, want %v", tc.globs, tc.path, got, tc.want)
		}
	}
	if _, err := NewOverrides([]string{"[a"}); err == nil || err.Error() != `invalid glob "[a"` {
		t.Errorf("bad glob: got %v", err)
	}
}

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func walkAll(t *testing.T, root string, opts Options) []string {
	t.Helper()
	var got []string
	err := Walk(context.Background(), root, opts, func(_, rel string, d fs.DirEntry) error {
		if d.IsDir() {
			rel += "/"
		}
		got = append(got, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// walkParallelAll is walkAll by WalkParallel, sorted as Walk orders it.
func walkParallelAll(t *testing.T, root string, opts Options) []string {
	t.Helper()
	got, err := parallelRels(root, opts)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func parallelRels(root string, opts Options) ([]string, error) {
	var (
		mu  sync.Mutex
		got []string
	)
	err := WalkParallel(context.Background(), root, opts, func(e *Entry) error {
		rel := e.Rel
		if e.IsDir() {
			rel += "/"
		}
		mu.Lock()
		got = append(got, rel)
		mu.Unlock()
		return nil
	})
	slices.Sort(got)
	return got, err
}

// exampleTree writes a tree of nested repositories and ignore files,
// with negations, hidden files and symbolic links, under root.
func exampleTree(t *testing.T, root string) {
	t.Helper()
	writeFiles(t, root, map[string]string{
		"repo/.git/HEAD":            "",
		"repo/.git/info/exclude":    "secret\n",
		"repo/.gitignore":           "*.log\nout/\n",
		"repo/a.go":                 "",
		"repo/a.log":                "",
		"repo/secret":               "",
		"repo/out/x":                "",
		"repo/.env":                 "",
		"repo/sub/.gitignore":       "!b.log\n",
		"repo/sub/b.log":            "",
		"repo/sub/c.log":            "",
		"repo/nested/.git":          "gitdir: elsewhere\n",
		"repo/nested/d.log":         "",
		"repo/.ignore":              "ignored-too\n",
		"repo/ignored-too":          "",
		"norepo/.gitignore":         "*.txt\n",
		"norepo/a.txt":              "",
		"norepo/.ignore":            "*.md\n",
		"norepo/b.md":               "",
		"norepo/c.go":               "",
		"repo/deep/er/est/file.go":  "",
		"repo/deep/er/est/file.log": "",
		"repo/sub/space name.go":    "",
		"repo/sub/new\nline.go":     "",
		"repo/sub/.rgignore":        "*.go\n",
		"repo/sub/.ignore":          "!*.go\n", // .rgignore wins
		"repo/sub/keep/.gitignore":  "",
		"repo/sub/keep/kept.md":     "",
		"repo/plain/inside.file":    "",
	})
	if err := os.Symlink("a.go", filepath.Join(root, "repo", "link.go")); err != nil {
		t.Fatal(err)
	}
}

func TestWalk(t *testing.T) {
	root := t.TempDir()
	exampleTree(t, root)

	got := walkAll(t, filepath.Join(root, "repo"), Options{})
	want := []string{
		".env", ".gitignore", ".ignore", "a.go", "deep/", "deep/er/", "deep/er/est/",
		"deep/er/est/file.go", "link.go", "nested/", "nested/d.log", "plain/", "plain/inside.file",
		"sub/", "sub/.gitignore", "sub/.ignore", "sub/.rgignore", "sub/b.log", "sub/keep/",
		"sub/keep/.gitignore", "sub/keep/kept.md",
	}
	if !slices.Equal(got, want) {
		t.Errorf("repo walk:\n got %q\nwant %q", got, want)
	}

	// Outside a repository .gitignore does not apply; .ignore does.
	if got, want := walkAll(t, filepath.Join(root, "norepo"), Options{}), []string{".gitignore", ".ignore", "a.txt", "c.go"}; !slices.Equal(got, want) {
		t.Errorf("norepo walk: got %q, want %q", got, want)
	}

	// Rules of parent directories apply below the walk's root.
	if got, want := walkAll(t, filepath.Join(root, "repo", "deep"), Options{}), []string{"er/", "er/est/", "er/est/file.go"}; !slices.Equal(got, want) {
		t.Errorf("subdirectory walk: got %q, want %q", got, want)
	}

	if got, want := walkAll(t, filepath.Join(root, "repo"), Options{MaxDepth: 1}), []string{".env", ".gitignore", ".ignore", "a.go", "deep/", "link.go", "nested/", "plain/", "sub/"}; !slices.Equal(got, want) {
		t.Errorf("depth 1: got %q, want %q", got, want)
	}

	ov, err := NewOverrides([]string{"*.log"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := walkAll(t, filepath.Join(root, "repo"), Options{Overrides: ov, MaxDepth: 1}), []string{"a.log", "deep/", "nested/", "plain/", "sub/"}; !slices.Equal(got, want) {
		t.Errorf("overrides: got %q, want %q", got, want)
	}

	sel := func(name string) bool { return filepath.Ext(name) == ".go" }
	if got, want := walkAll(t, filepath.Join(root, "repo", "deep"), Options{Select: sel}), []string{"er/", "er/est/", "er/est/file.go"}; !slices.Equal(got, want) {
		t.Errorf("select: got %q, want %q", got, want)
	}
}

func TestWalkSkipAndStop(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"a/1": "", "a/2": "", "b/3": "", "c": ""})
	var got []string
	err := Walk(context.Background(), root, Options{}, func(_, rel string, d fs.DirEntry) error {
		got = append(got, rel)
		switch rel {
		case "a/1":
			return fs.SkipDir // skips a/2
		case "b":
			return fs.SkipDir
		}
		return nil
	})
	if err != nil || !slices.Equal(got, []string{"a", "a/1", "b", "c"}) {
		t.Errorf("skip: got %q, %v", got, err)
	}

	boom := errors.New("boom")
	err = Walk(context.Background(), root, Options{}, func(string, string, fs.DirEntry) error { return boom })
	if !errors.Is(err, boom) {
		t.Errorf("stop: got %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Walk(ctx, root, Options{}, func(string, string, fs.DirEntry) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v", err)
	}

	if err := Walk(context.Background(), filepath.Join(root, "missing"), Options{}, nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing root: got %v", err)
	}
}

// TestWalkSpecialIgnoreFiles checks that ignore files which are FIFOs are
// skipped unopened: reading one would block the walk until a writer came.
func TestWalkSpecialIgnoreFiles(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{".git/HEAD": "", "a.go": "", "sub/b.go": ""})
	for _, name := range []string{".gitignore", ".ignore", "sub/.rgignore", ".git/info/exclude"} {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
	}
	done := make(chan []string, 2)
	go func() {
		var got []string
		_ = Walk(context.Background(), root, Options{}, func(_, rel string, d fs.DirEntry) error {
			if d.IsDir() {
				rel += "/"
			}
			got = append(got, rel)
			return nil
		})
		done <- got
		got, _ = parallelRels(root, Options{})
		done <- got
	}()
	for range 2 {
		select {
		case got := <-done:
			if want := []string{".gitignore", ".ignore", "a.go", "sub/", "sub/.rgignore", "sub/b.go"}; !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
			continue
		case <-time.After(time.Minute):
		}
		// Let a blocked open go, so that the test binary can end.
		for _, name := range []string{".gitignore", ".ignore", "sub/.rgignore", ".git/info/exclude"} {
			if w, err := os.OpenFile(filepath.Join(root, name), os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				w.Close()
			}
		}
		t.Fatal("a walk blocked on a FIFO ignore file")
	}
}

func TestJoinIsFilepathJoin(t *testing.T) {
	for _, dir := range []string{"/", "/a", "a", ".", "/a/b", "..", "../x"} {
		for _, name := range []string{"x", ".x", "x y", "..x", "x.."} {
			if got, want := join(dir, name), filepath.Join(dir, name); got != want {
				t.Errorf("join(%q, %q) = %q, want %q", dir, name, got, want)
			}
		}
	}
}

// TestWalkSkipReleasesReadAhead checks that directories read ahead and
// then skipped no longer count against the read-ahead bound, which would
// otherwise fill up and leave the walk reading everything itself.
func TestWalkSkipReleasesReadAhead(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{}
	for i := range 2 * maxAhead {
		files[fmt.Sprintf("d%03d/sub/f", i)] = ""
		files[fmt.Sprintf("e%03d/f", i)] = ""
		files[fmt.Sprintf("e%03d/g/h", i)] = ""
	}
	writeFiles(t, root, files)
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	w := newWalker(context.Background(), Options{}, func(_, rel string, d fs.DirEntry) error {
		switch {
		case strings.HasPrefix(rel, "d") && d.IsDir():
			return fs.SkipDir // a directory
		case strings.HasPrefix(rel, "e") && !d.IsDir():
			return fs.SkipDir // the rest of the directory, g/ included
		}
		return nil
	})
	defer w.stop()
	if err := w.dir(root, "", root, entries, nil, 1); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ahead != 0 {
		t.Errorf("%d directories still count as read ahead", w.ahead)
	}
}

// TestWalkParallelSameAsWalk checks that the parallel walk visits exactly
// what the ordered one does, with every option, on trees of nested
// ignore files with negations, hidden files and symbolic links (to a
// file, to a directory, dangling), from the top and from inside.
func TestWalkParallelSameAsWalk(t *testing.T) {
	root := t.TempDir()
	exampleTree(t, root)
	writeFiles(t, root, map[string]string{
		"repo/sub/deeper/.gitignore":     "*\n!*.go\n!*/\n",
		"repo/sub/deeper/a.go":           "",
		"repo/sub/deeper/a.txt":          "",
		"repo/sub/deeper/more/b.go":      "",
		"repo/sub/deeper/more/b.md":      "",
		"repo/.hidden/x.go":              "",
		"repo/.hidden/.gitignore":        "/x.go\n",
		"repo/nested/.ignore":            "!d.log\n",
		"repo/nested/inner/.gitignore":   "z\n",
		"repo/nested/inner/z":            "",
		"repo/nested/inner/y":            "",
		"norepo/.git/info/exclude":       "c.go\n",
		"norepo/deep/.rgignore":          "!*.txt\n",
		"norepo/deep/e.txt":              "",
		"norepo/deep/f.md":               "",
		"repo/plain/many/1/2/3/4/5/6.go": "",
	})
	for _, link := range [][2]string{
		{"sub", "repo/linkdir"},
		{"missing", "repo/dangling.go"},
		{"../repo", "norepo/up"},
	} {
		if err := os.Symlink(link[0], filepath.Join(root, filepath.FromSlash(link[1]))); err != nil {
			t.Fatal(err)
		}
	}
	ov, err := NewOverrides([]string{"*.log", "!sub/c.log"})
	if err != nil {
		t.Fatal(err)
	}
	sel := func(name string) bool { return filepath.Ext(name) == ".go" }
	for _, dir := range []string{"repo", "norepo", "repo/sub", "repo/nested", "repo/.hidden", "repo/plain/many"} {
		for _, opts := range []Options{{}, {MaxDepth: 1}, {MaxDepth: 3}, {Overrides: ov}, {Select: sel}, {Overrides: ov, Select: sel, MaxDepth: 2}} {
			want := walkAll(t, filepath.Join(root, dir), opts)
			if len(want) == 0 && opts.MaxDepth == 0 && opts.Overrides == nil && opts.Select == nil {
				t.Errorf("%s: the ordered walk found nothing", dir)
			}
			got := walkParallelAll(t, filepath.Join(root, dir), opts)
			if !slices.Equal(got, want) {
				t.Errorf("%s, %+v:\nparallel %q\n ordered %q", dir, opts, got, want)
			}
		}
	}
}

func TestWalkParallelSkipAndStop(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"a/1": "", "a/2": "", "b/3": "", "b/c/4": "", "c": ""})
	var (
		mu  sync.Mutex
		got []string
	)
	err := WalkParallel(context.Background(), root, Options{}, func(e *Entry) error {
		mu.Lock()
		got = append(got, e.Rel)
		mu.Unlock()
		switch e.Rel {
		case "a/1", "a/2":
			return fs.SkipDir // skips the other
		case "b":
			return fs.SkipDir
		}
		return nil
	})
	slices.Sort(got)
	if err != nil || (!slices.Equal(got, []string{"a", "a/1", "b", "c"}) && !slices.Equal(got, []string{"a", "a/2", "b", "c"})) {
		t.Errorf("skip: got %q, %v", got, err)
	}

	boom := errors.New("boom")
	if err := WalkParallel(context.Background(), root, Options{}, func(e *Entry) error {
		if e.Rel == "b/c" {
			return boom
		}
		return nil
	}); !errors.Is(err, boom) {
		t.Errorf("stop: got %v", err)
	}

	var calls sync.Map
	if err := WalkParallel(context.Background(), root, Options{}, func(e *Entry) error {
		calls.Store(e.Rel, true)
		if e.Rel == "b" {
			return fs.SkipAll
		}
		return nil
	}); err != nil {
		t.Errorf("skip all: got %v", err)
	}
	if _, ok := calls.Load("b/3"); ok {
		t.Error("skip all: the walk went on into b")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := WalkParallel(ctx, root, Options{}, func(*Entry) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v", err)
	}

	// Cancelled during the walk: no directory is listed after.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	var afterCancel sync.Map
	if err := WalkParallel(ctx, root, Options{}, func(e *Entry) error {
		if e.Rel == "b" {
			cancel()
		}
		if strings.HasPrefix(e.Rel, "b/c/") {
			afterCancel.Store(e.Rel, true)
		}
		return nil
	}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled during the walk: got %v", err)
	}
	if _, ok := afterCancel.Load("b/c/4"); ok {
		t.Error("cancelled during the walk: b/c was listed after the cancel")
	}

	if err := WalkParallel(context.Background(), filepath.Join(root, "missing"), Options{}, nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing root: got %v", err)
	}
}

// TestEntryModTime checks that an entry's time is os.Stat's: a symbolic
// link's is its target's, and a dangling one has none.
func TestEntryModTime(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"sub/f": "x"})
	old := time.Date(2001, 2, 3, 4, 5, 6, 7000, time.UTC)
	if err := os.Chtimes(filepath.Join(root, "sub", "f"), old, old); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"sub/l": "f", "sub/dangling": "nowhere"} {
		if err := os.Symlink(target, filepath.Join(root, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu   sync.Mutex
		got  = map[string]int64{}
		errs = map[string]error{}
	)
	if err := WalkParallel(context.Background(), root, Options{}, func(e *Entry) error {
		if e.IsDir() {
			return nil
		}
		mtime, err := e.ModTime()
		mu.Lock()
		got[e.Rel], errs[e.Rel] = mtime, err
		mu.Unlock()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"sub/f", "sub/l"} {
		if got[rel] != old.UnixNano() || errs[rel] != nil {
			t.Errorf("%s: got %v, %v, want %v", rel, time.Unix(0, got[rel]).UTC(), errs[rel], old)
		}
	}
	if !errors.Is(errs["sub/dangling"], fs.ErrNotExist) {
		t.Errorf("dangling link: got %v, want ErrNotExist", errs["sub/dangling"])
	}
}
