package patch

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// wrap puts hunks in a patch envelope.
func wrap(hunks string) string {
	return "*** Begin Patch\n" + hunks + "\n*** End Patch"
}

// writeTree creates the files of tree, path to content, under dir.
func writeTree(t *testing.T, dir string, tree map[string]string) {
	t.Helper()
	for name, content := range tree {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// loose is the note for chunk 1 of f matched at level l.
func loose(l fuzz) string {
	return "chunk 1 matched f only when " + l.String() + "; its context lines were kept as they are in the file, and its added lines were given the file's indentation"
}

func TestUpdateText(t *testing.T) {
	const ambiguous = "chunk 1 matched the first of 3 occurrences in f; add an @@ line or more context if another was meant"
	tests := []struct {
		name      string
		text      string
		body      string // the lines after "*** Update File: f"
		want      string
		wantNotes []string
		wantErr   string
	}{
		{name: "replace", text: "foo\nbar\n", body: "@@\n foo\n-bar\n+baz", want: "foo\nbaz\n"},
		{name: "delete only", text: "1\n2\n3\n", body: "@@\n 1\n-2\n 3", want: "1\n3\n"},
		{name: "chunks in order", text: "a\nb\nc\nd\ne\nf\n", body: "@@\n a\n-b\n+B\n@@\n c\n d\n-e\n+E\n@@\n f\n+g\n*** End of File", want: "a\nB\nc\nd\nE\nf\ng\n"},
		{name: "anchor narrows the search", text: "def a():\n    pass\ndef b():\n    pass\n", body: "@@ def b():\n-    pass\n+    return 1", want: "def a():\n    pass\ndef b():\n    return 1\n"},
		{name: "anchor not found", text: "a\n", body: "@@ def nope():\n-a", wantErr: "apply_patch verification failed: Failed to find context 'def nope():' in f"},
		{name: "lines not found", text: "line1\nline2\n", body: "@@\n-missing\n-lines\n+x", wantErr: "apply_patch verification failed: Failed to find expected lines in f:\nmissing\nlines"},
		{name: "lines before the previous chunk are not found", text: "a\nb\n", body: "@@\n-b\n+B\n@@\n-a\n+A", wantErr: "apply_patch verification failed: Failed to find expected lines in f:\na"},
		{name: "anchored addition goes after the anchor", text: "import (\n\t\"os\"\n)\n\nfunc main() {}\n", body: "@@ import (\n+\t\"fmt\"", want: "import (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() {}\n"},
		{name: "unanchored addition is appended", text: "line1\nline2\n", body: "@@\n+added 1\n+added 2", want: "line1\nline2\nadded 1\nadded 2\n"},
		{name: "addition goes before a final blank line", text: "a\n\n", body: "@@\n+x", want: "a\nx\n\n"},
		{name: "anchored addition at end of file", text: "a\nb\n", body: "@@ a\n+z\n*** End of File", want: "a\nb\nz\n"},
		{name: "appended addition then a replacement above", text: "line1\nline2\nline3\n", body: "@@\n+after-context\n+second-line\n@@\n line1\n-line2\n-line3\n+line2-replacement", want: "line1\nline2-replacement\nafter-context\nsecond-line\n"},
		{name: "trailing empty context stands for the final newline", text: "foo\nbar\n", body: "@@\n foo\n-bar\n+BAR\n", want: "foo\nBAR\n"},
		{name: "missing final newline is added", text: "no newline", body: "@@\n-no newline\n+first\n+second", want: "first\nsecond\n"},
		{name: "final blank line is kept", text: "a\nb\n\n", body: "@@\n-b\n+B", want: "a\nB\n\n"},
		{name: "emptied file stays empty", text: "a\n", body: "@@\n-a", want: ""},
		{name: "fuzzy match replaces the file's line", text: "x = \u201cq\u201d  \n", body: "@@\n-x = \"q\"\n+x = 'q'", want: "x = 'q'\n", wantNotes: []string{loose(normalized)}},
		{name: "fuzzy match keeps tabs", text: "func f() {\n\tif x {\n\t\treturn\n\t}\n}\n",
			body: "@@\n     if x {\n-        return\n+        log()\n+            deeper()\n+        return\n     }",
			want: "func f() {\n\tif x {\n\t\tlog()\n\t\t\tdeeper()\n\t\treturn\n\t}\n}\n", wantNotes: []string{loose(trimBoth)}},
		{name: "fuzzy match keeps spaces", text: "if x:\n    a\n", body: "@@\n if x:\n-\ta\n+\tb\n+\t\tc",
			want: "if x:\n    b\n        c\n", wantNotes: []string{loose(trimBoth)}},
		{name: "fuzzy match keeps context lines", text: "a  \nsay(\u201chi\u201d)\nb\n", body: "@@\n a\n say(\"hi\")\n-b\n+B",
			want: "a  \nsay(\u201chi\u201d)\nB\n", wantNotes: []string{loose(normalized)}},
		{name: "exact match is not noted", text: "\tx\n", body: "@@\n-\tx\n+  y", want: "  y\n"},
		{name: "ambiguous match is noted", text: "x\nx\nx\n", body: "@@\n-x\n+y", want: "y\nx\nx\n", wantNotes: []string{ambiguous}},
		{name: "anchored match is not noted", text: "x\nx\nx\n", body: "@@ x\n-x\n+y", want: "x\ny\nx\n"},
		{name: "end of file match is not noted", text: "x\nx\nx\n", body: "@@\n-x\n+y\n*** End of File", want: "x\nx\ny\n"},
		{name: "occurrences before the search are not counted", text: "x\nx\ny\nx\n", body: "@@\n-y\n+Y\n@@\n-x\n+X", want: "x\nx\nY\nX\n"},
		{name: "first of several chunks is numbered", text: "k\nx\nx\n", body: "@@\n-k\n+K\n@@\n-x\n+y", want: "K\ny\nx\n", wantNotes: []string{"chunk 2 matched the first of 2 occurrences in f; add an @@ line or more context if another was meant"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(wrap("*** Update File: f\n" + tt.body))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, notes, err := updateText(tt.text, p.Hunks[0].Chunks, "f")
			if tt.wantErr != "" {
				var perr *Error
				if !errors.As(err, &perr) || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want *Error %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("text = %q, want %q", got, tt.want)
			}
			if !reflect.DeepEqual(notes, tt.wantNotes) {
				t.Errorf("notes = %q, want %q", notes, tt.wantNotes)
			}
		})
	}
}

func TestApply(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"modify.txt": "line1\nline2\n",
		"delete.txt": "obsolete\n",
		"old/a.txt":  "from\n",
		"dup.txt":    "x\nx\n",
	})
	res, err := Apply(context.Background(), dir, wrap(`*** Add File: nested/new.txt
+created
*** Delete File: delete.txt
*** Update File: modify.txt
@@
-line2
+changed
*** Update File: old/a.txt
*** Move to: new/b.txt
@@
-from
+to
*** Update File: dup.txt
-x
+y`))
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want := "Success. Updated the following files:\nA nested/new.txt\nM modify.txt\nM new/b.txt\nM dup.txt\nD delete.txt\n" +
		"note: chunk 1 matched the first of 2 occurrences in dup.txt; add an @@ line or more context if another was meant"
	if res.String() != want {
		t.Errorf("Result =\n%s\nwant\n%s", res, want)
	}
	got := snapshot(t, dir)
	wantTree := map[string]string{
		"modify.txt":     "file:line1\nchanged\n",
		"nested":         "dir",
		"nested/new.txt": "file:created\n",
		"old":            "dir",
		"new":            "dir",
		"new/b.txt":      "file:to\n",
		"dup.txt":        "file:y\nx\n",
	}
	if !maps.Equal(got, wantTree) {
		t.Errorf("tree = %q, want %q", got, wantTree)
	}
}

func TestApplyHunksSeeEarlierHunks(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"gone.txt": "old\n", "same.txt": "keep\n"})
	_, err := Apply(context.Background(), dir, wrap(`*** Add File: a.txt
+one
*** Update File: a.txt
@@
-one
+two
*** Delete File: gone.txt
*** Add File: gone.txt
+new
*** Add File: tmp.txt
+x
*** Delete File: tmp.txt
*** Update File: same.txt
*** Move to: same.txt
@@
-keep
+kept`))
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want := map[string]string{"a.txt": "file:two\n", "gone.txt": "file:new\n", "same.txt": "file:kept\n"}
	if got := snapshot(t, dir); !maps.Equal(got, want) {
		t.Errorf("tree = %q, want %q", got, want)
	}
}

func TestApplyPaths(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	abs := filepath.Join(other, "abs.txt")
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := Apply(context.Background(), sub, wrap("*** Add File: "+abs+"\n+a\n*** Add File: ../up.txt\n+b"))
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := readFile(t, abs); got != "a\n" {
		t.Errorf("absolute path: %q", got)
	}
	if got := readFile(t, filepath.Join(dir, "up.txt")); got != "b\n" {
		t.Errorf("relative path: %q", got)
	}
	if want := []string{abs, "../up.txt"}; !reflect.DeepEqual(res.Added, want) {
		t.Errorf("Added = %q, want the paths as written, %q", res.Added, want)
	}
}

func TestApplyKeepsEncoding(t *testing.T) {
	tests := []struct {
		name, before, hunk, after string
	}{
		{
			name:   "CRLF update",
			before: "a\r\nb\r\nc\r\n",
			hunk:   "*** Update File: f.txt\n@@\n a\n-b\n+B\n@@\n c\n+d\n*** End of File",
			after:  "a\r\nB\r\nc\r\nd\r\n",
		},
		{
			name:   "BOM update",
			before: "\ufeffa\nb\n",
			hunk:   "*** Update File: f.txt\n@@\n-a\n+A",
			after:  "\ufeffA\nb\n",
		},
		{
			name:   "BOM and CRLF update",
			before: "\ufeffa\r\nb",
			hunk:   "*** Update File: f.txt\n@@\n-b\n+B",
			after:  "\ufeffa\r\nB\r\n",
		},
		{
			name:   "mixed endings are left alone",
			before: "a\r\nb\nc\r\n",
			hunk:   "*** Update File: f.txt\n@@\n-b\n+B",
			after:  "a\r\nB\nc\r\n",
		},
		{
			name:   "CRLF overwrite",
			before: "old\r\n",
			hunk:   "*** Add File: f.txt\n+new\n+lines",
			after:  "new\r\nlines\r\n",
		},
		{
			name:   "CRLF move",
			before: "\ufeffx\r\n",
			hunk:   "*** Update File: f.txt\n*** Move to: g.txt\n@@\n-x\n+y",
			after:  "\ufeffy\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{"f.txt": tt.before})
			res, err := Apply(context.Background(), dir, wrap(tt.hunk))
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			name := "f.txt"
			if len(res.Modified) > 0 {
				name = res.Modified[0]
			}
			if got := readFile(t, filepath.Join(dir, name)); got != tt.after {
				t.Errorf("%s = %q, want %q", name, got, tt.after)
			}
		})
	}
}

func TestApplyKeepsMode(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"run.sh", "move.sh"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Apply(context.Background(), dir, wrap(`*** Update File: run.sh
@@
-echo hi
+echo bye
*** Update File: move.sh
*** Move to: bin/moved.sh
@@
-echo hi
+echo moved
*** Add File: plain.txt
+text`))
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	for name, want := range map[string]fs.FileMode{"run.sh": 0o755, "bin/moved.sh": 0o755} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode = %v, want %v", name, fi.Mode().Perm(), want)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "plain.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o111 != 0 {
		t.Errorf("added file mode = %v, want it not executable", fi.Mode().Perm())
	}
}

func TestApplyThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"real.txt": "a\n", "other.txt": "o\n"})
	for link, target := range map[string]string{"link.txt": "real.txt", "link2.txt": "other.txt"} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("nowhere", filepath.Join(dir, "dangling")); err != nil {
		t.Fatal(err)
	}
	_, err := Apply(context.Background(), dir, wrap("*** Update File: link.txt\n@@\n-a\n+b\n*** Delete File: link2.txt\n*** Delete File: dangling"))
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "link.txt")); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("link.txt is no longer a symlink (%v)", err)
	}
	if got := readFile(t, filepath.Join(dir, "real.txt")); got != "b\n" {
		t.Errorf("real.txt = %q, want the update written through the link", got)
	}
	if _, err := os.Lstat(filepath.Join(dir, "link2.txt")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("link2.txt still exists (%v)", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "dangling")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("dangling link still exists (%v)", err)
	}
	if got := readFile(t, filepath.Join(dir, "other.txt")); got != "o\n" {
		t.Errorf("deleting a link changed its target: %q", got)
	}
}

// TestApplyRejects checks that patches whose preconditions fail are
// reported as Codex words it and change nothing.
func TestApplyRejects(t *testing.T) {
	const prefix = "apply_patch verification failed: "
	tests := []struct {
		name, hunks, wantErr string
	}{
		{"empty patch", "", "No files were modified."},
		{"missing file to update", "*** Update File: missing.txt\n@@\n-a\n+b", prefix + "Failed to read file to update missing.txt: no such file or directory"},
		{"missing file to delete", "*** Delete File: missing.txt", prefix + "Failed to read missing.txt: no such file or directory"},
		{"file deleted twice", "*** Delete File: a.txt\n*** Delete File: a.txt", prefix + "Failed to read a.txt: no such file or directory"},
		{"delete a directory", "*** Delete File: dir", prefix + "Failed to read dir: is a directory"},
		{"update a directory", "*** Update File: dir\n@@\n-a", prefix + "Failed to read file to update dir: is a directory"},
		{"add over a directory", "*** Add File: dir\n+x", prefix + "Failed to write file dir: is a directory"},
		{"move onto a directory", "*** Update File: a.txt\n*** Move to: dir\n@@\n-a\n+b", prefix + "Failed to write file dir: is a directory"},
		{"add through a dangling link", "*** Add File: dangling\n+x", prefix + "Failed to write file dangling: not a regular file"},
		{"update a read-only file", "*** Add File: new.txt\n+x\n*** Update File: ro.txt\n@@\n-a\n+b", prefix + "Failed to write file ro.txt: $DIR/ro.txt is read-only (mode -r--r--r--): it was not changed; if it should be, make it writable first (chmod u+w)"},
		{"add over a read-only file", "*** Add File: ro.txt\n+x", prefix + "Failed to write file ro.txt: $DIR/ro.txt is read-only (mode -r--r--r--): it was not changed; if it should be, make it writable first (chmod u+w)"},
		{"binary file", "*** Update File: bin.dat\n@@\n-a\n+b", prefix + "Failed to read file to update bin.dat: stream did not contain valid UTF-8"},
		{"later hunk fails", "*** Add File: new.txt\n+x\n*** Update File: a.txt\n@@\n-nope\n+b", prefix + "Failed to find expected lines in a.txt:\nnope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{"a.txt": "a\n", "dir/f.txt": "f\n", "bin.dat": "a\n\xff\x00\xfe\n", "ro.txt": "a\n"})
			if err := os.Symlink("nowhere", filepath.Join(dir, "dangling")); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(filepath.Join(dir, "ro.txt"), 0o444); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, dir)
			text := wrap(tt.hunks)
			if tt.hunks == "" {
				text = "*** Begin Patch\n*** End Patch\n"
			}
			_, err := Apply(context.Background(), dir, text)
			var perr *Error
			if want := strings.ReplaceAll(tt.wantErr, "$DIR", dir); !errors.As(err, &perr) || err.Error() != want {
				t.Fatalf("Apply error = %v\nwant *Error %q", err, want)
			}
			if after := snapshot(t, dir); !maps.Equal(after, before) {
				t.Errorf("tree changed:\n%q\nwant\n%q", after, before)
			}
		})
	}
}

// TestApplyRollsBack makes a write fail after others succeeded, in ways that
// fail for root too, and checks that the tree is left exactly as it was.
func TestApplyRollsBack(t *testing.T) {
	// Each patch updates, moves, deletes and creates files, including in
	// new directories, before its last operation fails.
	const done = `*** Update File: keep.txt
@@
-keep
+changed
*** Update File: src/moved.txt
*** Move to: dst/deep/moved.txt
@@
-m
+M
*** Delete File: gone.txt
*** Delete File: link.txt
*** Add File: new/dir/x.txt
+x
`
	tests := []struct {
		name, last, wantErr string
	}{
		{
			name:    "parent is a file",
			last:    "*** Add File: blocker.txt/sub/y.txt\n+y",
			wantErr: "Failed to create parent directories for blocker.txt/sub/y.txt: not a directory",
		},
		{
			name:    "parent is created as a file by the patch",
			last:    "*** Add File: made.txt\n+m\n*** Add File: made.txt/y.txt\n+y",
			wantErr: "Failed to write file made.txt/y.txt: not a directory",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{
				"keep.txt":      "keep\n",
				"src/moved.txt": "m\n",
				"gone.txt":      "gone\n",
				"blocker.txt":   "b\n",
			})
			if err := os.Symlink("keep.txt", filepath.Join(dir, "link.txt")); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, dir)
			_, err := Apply(context.Background(), dir, wrap(done+tt.last))
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Apply error = %v, want a *Error", err)
			}
			want := tt.wantErr + "\nNo files were changed: the patch was rolled back."
			if err.Error() != want {
				t.Errorf("Apply error =\n%s\nwant\n%s", err, want)
			}
			if after := snapshot(t, dir); !maps.Equal(after, before) {
				t.Errorf("tree after rollback:\n%q\nwant\n%q", after, before)
			}
			if fi, err := os.Lstat(filepath.Join(dir, "link.txt")); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
				t.Errorf("deleted symlink not restored as a symlink (%v)", err)
			}
		})
	}
}

func TestApplyCancelled(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a.txt": "a\n"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Apply(ctx, dir, wrap("*** Update File: a.txt\n@@\n-a\n+b"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Apply error = %v, want context.Canceled", err)
	}
	if got := readFile(t, filepath.Join(dir, "a.txt")); got != "a\n" {
		t.Errorf("a.txt = %q after a cancelled patch", got)
	}
}

// FuzzUpdateText checks that matching and applying chunks never panics
// and always leaves text that ends with a newline.
func FuzzUpdateText(f *testing.F) {
	f.Add("a\nb\nc\n", "@@ a\n b\n-c\n+d\n*** End of File")
	f.Add("x\n\n\ny", "\n+z\n@@\n-\n")
	f.Add("", "@@\n+only")
	f.Fuzz(func(t *testing.T, text, body string) {
		p, err := Parse(wrap("*** Update File: f\n" + body))
		if err != nil || len(p.Hunks) == 0 || p.Hunks[0].Op != OpUpdate {
			return
		}
		got, _, err := updateText(text, p.Hunks[0].Chunks, "f")
		if err == nil && got != "" && !strings.HasSuffix(got, "\n") {
			t.Fatalf("updateText(%q) = %q, which does not end with a newline", text, got)
		}
	})
}
