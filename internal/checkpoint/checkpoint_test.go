package checkpoint_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/lathe-dev/lathe/internal/checkpoint"
	"github.com/lathe-dev/lathe/internal/sandbox"
	"github.com/lathe-dev/lathe/internal/sandbox/sandboxtest"
)

// TestMain isolates git from the machine's configuration: no global or
// system config, no global excludes file, a fixed identity for the
// test's own commits, and no repository found above the temporary
// directories.
func TestMain(m *testing.M) {
	home, err := os.MkdirTemp("", "checkpoint-home-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for k, v := range map[string]string{
		"HOME":                    home,
		"XDG_CONFIG_HOME":         filepath.Join(home, ".config"),
		"GIT_CONFIG_GLOBAL":       os.DevNull,
		"GIT_CONFIG_NOSYSTEM":     "1",
		"GIT_AUTHOR_NAME":         "Test",
		"GIT_AUTHOR_EMAIL":        "test@example.com",
		"GIT_COMMITTER_NAME":      "Test",
		"GIT_COMMITTER_EMAIL":     "test@example.com",
		"GIT_CEILING_DIRECTORIES": filepath.Dir(home),
	} {
		os.Setenv(k, v)
	}
	for _, k := range []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"} {
		os.Unsetenv(k)
	}
	code := m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}

// run runs git in dir for the test's own setup and inspection, outside
// the Store under test.
func run(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return string(out)
}

func write(t testing.TB, path, content string, mode fs.FileMode) {
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

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

const binary = "\x00\x01\xff\xfebinary\x00\r\n"

// populate writes the files every round trip starts from: tracked text,
// binary, executable and symbolic link files, a file in a directory, an
// ignored file and an untracked one.
func populate(t testing.TB, dir string) {
	write(t, filepath.Join(dir, ".gitignore"), "*.log\nbuild/\n", 0o644)
	write(t, filepath.Join(dir, "a.txt"), "alpha\n", 0o644)
	write(t, filepath.Join(dir, "bin.dat"), binary, 0o644)
	write(t, filepath.Join(dir, "script.sh"), "#!/bin/sh\necho hi\n", 0o755)
	write(t, filepath.Join(dir, "dir", "b.txt"), "beta\n", 0o644)
	must(t, os.Symlink("a.txt", filepath.Join(dir, "link")))
	write(t, filepath.Join(dir, "keep.log"), "ignored\n", 0o644)
	write(t, filepath.Join(dir, "build", "out.o"), "object\n", 0o644)
}

// newRepo returns a repository with populate's files committed, except
// the ignored and the untracked ones; a force-added ignored file is
// tracked.
func newRepo(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	run(t, dir, "init", "-q", "-b", "main")
	populate(t, dir)
	write(t, filepath.Join(dir, "tracked.log"), "tracked though ignored\n", 0o644)
	run(t, dir, "add", "-A")
	run(t, dir, "add", "-f", "tracked.log")
	run(t, dir, "commit", "-q", "-m", "init")
	write(t, filepath.Join(dir, "untracked.txt"), "untracked\n", 0o644)
	return dir
}

func open(t testing.TB, dir string) *checkpoint.Store {
	t.Helper()
	s, err := checkpoint.Open(context.Background(), dir, t.TempDir(), "s1", sandbox.NewHost(sandbox.Profile{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// file is what a test compares of one path: type, permissions, content
// or link target.
type file struct {
	Mode    fs.FileMode
	Content string
}

// tree reads every file and directory under dir but .git.
func tree(t testing.TB, dir string) map[string]file {
	t.Helper()
	files := map[string]file{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		if d.Name() == ".git" {
			return filepath.SkipDir
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		f := file{Mode: fi.Mode()}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			f.Content, err = os.Readlink(p)
		case fi.Mode().IsRegular():
			var b []byte
			b, err = os.ReadFile(p)
			f.Content = string(b)
		}
		files[filepath.ToSlash(rel)] = f
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func diffTrees(got, want map[string]file) string {
	var b strings.Builder
	var paths []string
	for p := range got {
		paths = append(paths, p)
	}
	for p := range want {
		if _, ok := got[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		g, gok := got[p]
		w, wok := want[p]
		switch {
		case !gok:
			fmt.Fprintf(&b, "  %s: missing, want %v %q\n", p, w.Mode, w.Content)
		case !wok:
			fmt.Fprintf(&b, "  %s: %v %q, want none\n", p, g.Mode, g.Content)
		case g != w:
			fmt.Fprintf(&b, "  %s: %v %q, want %v %q\n", p, g.Mode, g.Content, w.Mode, w.Content)
		}
	}
	return b.String()
}

func changeStrings(cs []checkpoint.Change) []string {
	var s []string
	for _, c := range cs {
		s = append(s, c.String())
	}
	return s
}

// roundTrips are the mutations a restore must undo, each with the
// changes the restore reports. Every one also changes the ignored files,
// which the restore must leave as they are.
var roundTrips = []struct {
	name   string
	mutate func(t testing.TB, dir string)
	want   []string
}{
	{"edit", func(t testing.TB, dir string) {
		write(t, filepath.Join(dir, "a.txt"), "alpha edited\n", 0o644)
	}, []string{"update a.txt"}},
	{"delete tracked file", func(t testing.TB, dir string) {
		must(t, os.Remove(filepath.Join(dir, "dir", "b.txt")))
	}, []string{"add dir/b.txt"}},
	{"new untracked file", func(t testing.TB, dir string) {
		write(t, filepath.Join(dir, "new.txt"), "new\n", 0o644)
	}, []string{"delete new.txt"}},
	{"file in new directory", func(t testing.TB, dir string) {
		write(t, filepath.Join(dir, "newdir", "sub", "x.go"), "package x\n", 0o644)
	}, []string{"delete newdir/sub/x.go"}},
	{"chmod +x", func(t testing.TB, dir string) {
		must(t, os.Chmod(filepath.Join(dir, "a.txt"), 0o755))
	}, []string{"mode a.txt 100755 -> 100644"}},
	{"chmod -x", func(t testing.TB, dir string) {
		must(t, os.Chmod(filepath.Join(dir, "script.sh"), 0o644))
	}, []string{"mode script.sh 100644 -> 100755"}},
	{"binary file", func(t testing.TB, dir string) {
		write(t, filepath.Join(dir, "bin.dat"), "\xff\x00changed\x00", 0o644)
	}, []string{"update bin.dat"}},
	{"symlink retargeted", func(t testing.TB, dir string) {
		must(t, os.Remove(filepath.Join(dir, "link")))
		must(t, os.Symlink("dir/b.txt", filepath.Join(dir, "link")))
	}, []string{"update link"}},
	{"symlink replaced by file", func(t testing.TB, dir string) {
		must(t, os.Remove(filepath.Join(dir, "link")))
		write(t, filepath.Join(dir, "link"), "a file now\n", 0o644)
	}, []string{"update link"}},
	{"file replaced by directory", func(t testing.TB, dir string) {
		must(t, os.Remove(filepath.Join(dir, "a.txt")))
		write(t, filepath.Join(dir, "a.txt", "inner"), "inner\n", 0o644)
	}, []string{"add a.txt", "delete a.txt/inner"}},
	{"directory replaced by file", func(t testing.TB, dir string) {
		must(t, os.RemoveAll(filepath.Join(dir, "dir")))
		write(t, filepath.Join(dir, "dir"), "a file now\n", 0o644)
	}, []string{"delete dir", "add dir/b.txt"}},
	{"untracked file edited", func(t testing.TB, dir string) {
		write(t, filepath.Join(dir, "untracked.txt"), "edited\n", 0o644)
	}, []string{"update untracked.txt"}},
	{"untracked file deleted", func(t testing.TB, dir string) {
		must(t, os.Remove(filepath.Join(dir, "untracked.txt")))
	}, []string{"add untracked.txt"}},
	{"shell rm -rf of a directory", func(t testing.TB, dir string) {
		must(t, os.RemoveAll(filepath.Join(dir, "dir")))
	}, []string{"add dir/b.txt"}},
	{"everything at once", func(t testing.TB, dir string) {
		write(t, filepath.Join(dir, "a.txt"), "alpha edited\n", 0o644)
		must(t, os.Remove(filepath.Join(dir, "dir", "b.txt")))
		write(t, filepath.Join(dir, "new.txt"), "new\n", 0o644)
		must(t, os.Chmod(filepath.Join(dir, "script.sh"), 0o600))
	}, []string{"update a.txt", "add dir/b.txt", "delete new.txt", "mode script.sh 100644 -> 100755"}},
}

// changeIgnored changes, adds and deletes ignored files, as a build
// would.
func changeIgnored(t testing.TB, dir string) {
	write(t, filepath.Join(dir, "keep.log"), "ignored, changed\n", 0o644)
	write(t, filepath.Join(dir, "new.log"), "ignored, new\n", 0o644)
	must(t, os.Remove(filepath.Join(dir, "build", "out.o")))
	write(t, filepath.Join(dir, "build", "new.o"), "object\n", 0o644)
}

func TestRestoreUndoesMutationsInRepository(t *testing.T) {
	testRoundTrips(t, newRepo, func(t testing.TB, dir string) {})
}

func TestRestoreUndoesMutationsInPlainDirectory(t *testing.T) {
	plain := func(t testing.TB) string {
		dir := t.TempDir()
		populate(t, dir)
		write(t, filepath.Join(dir, "untracked.txt"), "untracked\n", 0o644)
		return dir
	}
	testRoundTrips(t, plain, func(t testing.TB, dir string) {
		if _, err := os.Lstat(filepath.Join(dir, ".git")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a .git appeared in the plain directory: %v", err)
		}
	})
}

func testRoundTrips(t *testing.T, setup func(testing.TB) string, check func(testing.TB, string)) {
	t.Parallel()
	for _, tc := range roundTrips {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := setup(t)
			s := open(t, dir)
			id, err := s.Snapshot(ctx, 1)
			must(t, err)
			before := tree(t, dir)

			tc.mutate(t, dir)
			changeIgnored(t, dir)
			ignored := tree(t, dir)

			dry, err := s.Restore(ctx, id, true)
			must(t, err)
			if got := tree(t, dir); !reflect.DeepEqual(got, ignored) {
				t.Fatalf("dry run changed the workspace:\n%s", diffTrees(got, ignored))
			}
			done, err := s.Restore(ctx, id, false)
			must(t, err)
			want := slices.Clone(tc.want)
			sort.Slice(want, func(i, j int) bool {
				return strings.Fields(want[i])[1] < strings.Fields(want[j])[1]
			})
			if got := changeStrings(done); !reflect.DeepEqual(got, want) {
				t.Errorf("Restore changed %q, want %q", got, want)
			}
			if !reflect.DeepEqual(dry, done) {
				t.Errorf("dry run listed %q, Restore did %q", changeStrings(dry), changeStrings(done))
			}

			// The workspace is as it was, but for the ignored files.
			for p, f := range ignored {
				if strings.HasSuffix(p, ".log") && p != "tracked.log" || strings.HasPrefix(p, "build") {
					before[p] = f
				}
			}
			delete(before, "build/out.o")
			if got := tree(t, dir); !reflect.DeepEqual(got, before) {
				t.Errorf("after Restore:\n%s", diffTrees(got, before))
			}
			again, err := s.Restore(ctx, id, true)
			must(t, err)
			if len(again) != 0 {
				t.Errorf("a second dry run lists %q", changeStrings(again))
			}
			check(t, dir)
		})
	}
}

// userState is everything of the user's repository a checkpoint must
// leave alone.
type userState struct {
	Head, Index, Config, Stash, Refs, Status string
}

func stateOf(t testing.TB, dir string) userState {
	t.Helper()
	gitDir := strings.TrimSpace(run(t, dir, "rev-parse", "--absolute-git-dir"))
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(gitDir, name))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		return fmt.Sprintf("%x", sha256.Sum256(b))
	}
	var refs []string
	for _, l := range strings.Split(run(t, dir, "for-each-ref"), "\n") {
		if !strings.Contains(l, "refs/lathe/") {
			refs = append(refs, l)
		}
	}
	return userState{
		Head:   run(t, dir, "rev-parse", "HEAD") + read("HEAD"),
		Index:  read("index"),
		Config: read("config"),
		Stash:  run(t, dir, "stash", "list"),
		Refs:   strings.Join(refs, "\n"),
		// --no-optional-locks: status must not refresh the index itself.
		Status: run(t, dir, "--no-optional-locks", "status", "--porcelain=v2", "--branch", "--untracked-files=all", "--ignored"),
	}
}

func TestUserRepositoryUntouched(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := newRepo(t)
	// A staged change, a stash and an unstaged edit, which a snapshot
	// must neither commit, drop nor stage.
	write(t, filepath.Join(dir, "a.txt"), "stash me\n", 0o644)
	run(t, dir, "stash", "-q")
	write(t, filepath.Join(dir, "staged.txt"), "staged\n", 0o644)
	run(t, dir, "add", "staged.txt")
	write(t, filepath.Join(dir, "dir", "b.txt"), "unstaged\n", 0o644)
	start := stateOf(t, dir)

	s := open(t, dir)
	id, err := s.Snapshot(ctx, 1)
	must(t, err)
	if got := stateOf(t, dir); got != start {
		t.Fatalf("Snapshot changed the repository:\n%+v\nwas\n%+v", got, start)
	}
	write(t, filepath.Join(dir, "staged.txt"), "edited\n", 0o644)
	must(t, os.Remove(filepath.Join(dir, "a.txt")))
	write(t, filepath.Join(dir, "new.txt"), "new\n", 0o644)
	_, err = s.Snapshot(ctx, 2)
	must(t, err)
	if _, err := s.Restore(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if got := stateOf(t, dir); got != start {
		t.Errorf("Restore left the repository:\n%+v\nwas\n%+v", got, start)
	}
	refs := run(t, dir, "for-each-ref", "--format=%(refname) %(objecttype)", "refs/lathe/")
	if want := "refs/lathe/s1/1 tree\nrefs/lathe/s1/2 tree\n"; refs != want {
		t.Errorf("refs/lathe = %q, want %q", refs, want)
	}
	if log := run(t, dir, "log", "--all", "--oneline"); strings.Count(log, "\n") != 3 {
		t.Errorf("git log --all shows more than the commit and the stash:\n%s", log)
	}
}

func TestListInStepOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := newRepo(t)
	s := open(t, dir)
	var ids []checkpoint.ID
	var trees []map[string]file
	for i, step := range []int{2, 10, 9, 100} {
		write(t, filepath.Join(dir, "a.txt"), fmt.Sprintf("version %d\n", i), 0o644)
		id, err := s.Snapshot(ctx, step)
		must(t, err)
		ids = append(ids, id)
		trees = append(trees, tree(t, dir))
	}
	list, err := s.List(ctx)
	must(t, err)
	want := []checkpoint.Snapshot{{Step: 2, ID: ids[0]}, {Step: 9, ID: ids[2]}, {Step: 10, ID: ids[1]}, {Step: 100, ID: ids[3]}}
	if !reflect.DeepEqual(list, want) {
		t.Errorf("List = %v, want %v", list, want)
	}
	// Any snapshot, back and forth.
	for _, i := range []int{0, 3, 1, 2} {
		_, err := s.Restore(ctx, ids[i], false)
		must(t, err)
		if got := tree(t, dir); !reflect.DeepEqual(got, trees[i]) {
			t.Errorf("after restoring %d:\n%s", i, diffTrees(got, trees[i]))
		}
	}
	if _, err := s.Snapshot(ctx, 9); err == nil || !strings.Contains(err.Error(), "step 9") {
		t.Errorf("second snapshot of step 9: %v, want an error naming it", err)
	}
	other, err := checkpoint.Open(ctx, dir, t.TempDir(), "s2", sandbox.NewHost(sandbox.Profile{}))
	must(t, err)
	t.Cleanup(func() { other.Close() })
	if list, err := other.List(ctx); err != nil || len(list) != 0 {
		t.Errorf("another session lists %v, %v", list, err)
	}
}

func TestSubdirectoryWorkspace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newRepo(t)
	write(t, filepath.Join(repo, "sub", "s.txt"), "sub\n", 0o644)
	run(t, repo, "add", "sub")
	run(t, repo, "commit", "-q", "-m", "sub")
	// A merge conflict outside the workspace does not stop its
	// snapshots.
	run(t, repo, "checkout", "-q", "-b", "other")
	write(t, filepath.Join(repo, "dir", "b.txt"), "other\n", 0o644)
	run(t, repo, "commit", "-q", "-a", "-m", "other")
	run(t, repo, "checkout", "-q", "main")
	write(t, filepath.Join(repo, "dir", "b.txt"), "main\n", 0o644)
	run(t, repo, "commit", "-q", "-a", "-m", "main")
	if err := exec.Command("git", "-C", repo, "merge", "-q", "other").Run(); err == nil {
		t.Fatal("the merge did not conflict")
	}
	dir := filepath.Join(repo, "sub")
	s := open(t, dir)
	id, err := s.Snapshot(ctx, 1)
	must(t, err)
	before := tree(t, dir)

	write(t, filepath.Join(dir, "s.txt"), "edited\n", 0o644)
	write(t, filepath.Join(dir, "new.txt"), "new\n", 0o644)
	write(t, filepath.Join(dir, "x.log"), "ignored by the repository's .gitignore\n", 0o644)
	write(t, filepath.Join(repo, "a.txt"), "outside the workspace\n", 0o644)
	done, err := s.Restore(ctx, id, false)
	must(t, err)
	if got, want := changeStrings(done), []string{"delete new.txt", "update s.txt"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Restore changed %q, want %q", got, want)
	}
	before["x.log"] = file{Mode: 0o644, Content: "ignored by the repository's .gitignore\n"}
	if got := tree(t, dir); !reflect.DeepEqual(got, before) {
		t.Errorf("after Restore:\n%s", diffTrees(got, before))
	}
	if b, _ := os.ReadFile(filepath.Join(repo, "a.txt")); string(b) != "outside the workspace\n" {
		t.Errorf("a file outside the workspace was restored: %q", b)
	}

	// An empty subdirectory is an empty snapshot.
	empty := filepath.Join(repo, "empty")
	must(t, os.Mkdir(empty, 0o755))
	s, err = checkpoint.Open(ctx, empty, t.TempDir(), "s2", sandbox.NewHost(sandbox.Profile{}))
	must(t, err)
	t.Cleanup(func() { s.Close() })
	id, err = s.Snapshot(ctx, 1)
	must(t, err)
	write(t, filepath.Join(empty, "n.txt"), "n\n", 0o644)
	done, err = s.Restore(ctx, id, false)
	must(t, err)
	if got := changeStrings(done); !reflect.DeepEqual(got, []string{"delete n.txt"}) {
		t.Errorf("Restore of the empty snapshot changed %q", got)
	}
}

func TestLinkedWorktree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newRepo(t)
	wt := filepath.Join(t.TempDir(), "wt")
	run(t, repo, "worktree", "add", "-q", "-b", "side", wt)
	mainBefore := tree(t, repo)
	start := stateOf(t, wt)
	s := open(t, wt)
	id, err := s.Snapshot(ctx, 1)
	must(t, err)
	before := tree(t, wt)
	write(t, filepath.Join(wt, "a.txt"), "edited in the worktree\n", 0o644)
	must(t, os.Remove(filepath.Join(wt, "script.sh")))
	done, err := s.Restore(ctx, id, false)
	must(t, err)
	if got, want := changeStrings(done), []string{"update a.txt", "add script.sh"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Restore changed %q, want %q", got, want)
	}
	if got := tree(t, wt); !reflect.DeepEqual(got, before) {
		t.Errorf("worktree after Restore:\n%s", diffTrees(got, before))
	}
	if got := tree(t, repo); !reflect.DeepEqual(got, mainBefore) {
		t.Errorf("main worktree changed:\n%s", diffTrees(got, mainBefore))
	}
	if got := stateOf(t, wt); got != start {
		t.Errorf("worktree's git state changed:\n%+v\nwas\n%+v", got, start)
	}
	// The refs are the repository's, seen from every worktree.
	if refs := run(t, repo, "for-each-ref", "--format=%(refname)", "refs/lathe/"); refs != "refs/lathe/s1/1\n" {
		t.Errorf("main worktree sees refs %q", refs)
	}
}

func TestStateDirectoryInsideWorkspace(t *testing.T) {
	t.Parallel()
	for _, setup := range []struct {
		name string
		dir  func(testing.TB) string
	}{
		{"repository", newRepo},
		{"plain", func(t testing.TB) string { return t.TempDir() }},
	} {
		t.Run(setup.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := setup.dir(t)
			state := filepath.Join(dir, ".state")
			s, err := checkpoint.Open(ctx, dir, state, "s1", sandbox.NewHost(sandbox.Profile{}))
			must(t, err)
			t.Cleanup(func() { s.Close() })
			id, err := s.Snapshot(ctx, 1)
			must(t, err)
			_, err = s.Snapshot(ctx, 2)
			must(t, err)
			changes, err := s.Restore(ctx, id, false)
			must(t, err)
			if len(changes) != 0 {
				t.Errorf("the state directory is in the snapshots: %q", changeStrings(changes))
			}
			if _, err := os.Stat(filepath.Join(state, "sessions", "s1", "index")); err != nil {
				t.Errorf("the state directory went: %v", err)
			}
		})
	}
}

// TestCRLFAndAttributesInPlainDirectory pins the private store's byte
// for byte storage, whatever .gitattributes say.
func TestCRLFAndAttributesInPlainDirectory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	write(t, filepath.Join(dir, ".gitattributes"), "* text=auto eol=lf\n*.txt ident\n", 0o644)
	write(t, filepath.Join(dir, "crlf.txt"), "one\r\ntwo $Id$\r\n", 0o644)
	before := tree(t, dir)
	s := open(t, dir)
	if !s.Private() {
		t.Fatal("a plain directory does not get a private store")
	}
	id, err := s.Snapshot(ctx, 1)
	must(t, err)
	write(t, filepath.Join(dir, "crlf.txt"), "changed\n", 0o644)
	_, err = s.Restore(ctx, id, false)
	must(t, err)
	if got := tree(t, dir); !reflect.DeepEqual(got, before) {
		t.Errorf("after Restore:\n%s", diffTrees(got, before))
	}
}

// TestSnapshotProcesses pins that every git command starts through the
// executor, with the caller's context, and how many a snapshot takes.
func TestSnapshotProcesses(t *testing.T) {
	t.Parallel()
	ctx := sandbox.WithProfile(context.Background(), sandbox.Profile{HideEnv: []string{"SECRET_KEY"}})
	dir := newRepo(t)
	rec := sandboxtest.NewRecorder()
	s, err := checkpoint.Open(ctx, dir, t.TempDir(), "s1", rec)
	must(t, err)
	t.Cleanup(func() { s.Close() })
	opened := len(rec.Starts())
	_, err = s.Snapshot(ctx, 1)
	must(t, err)
	starts := rec.Starts()[opened:]
	var cmds []string
	for _, st := range starts {
		cmds = append(cmds, gitCommand(st.Args))
		if !st.HasProfile || !slices.Contains(st.Profile.HideEnv, "SECRET_KEY") {
			t.Errorf("%s ran without the context's profile", gitCommand(st.Args))
		}
		if filepath.Base(st.Path) != "git" {
			t.Errorf("started %s", st.Path)
		}
	}
	if want := []string{"add", "write-tree", "update-ref"}; !reflect.DeepEqual(cmds, want) {
		t.Errorf("a snapshot ran git %q, want %q", cmds, want)
	}

	// Later snapshots add only what changed, or nothing, and write a
	// tree only when the index changed; what cannot be told reads
	// everything again.
	for i, tc := range []struct {
		name   string
		mutate func()
		want   []string
	}{
		{"an edit and a new file", func() {
			write(t, filepath.Join(dir, "a.txt"), "edited\n", 0o644)
			write(t, filepath.Join(dir, "dir", "new.txt"), "new\n", 0o644)
		}, []string{"ls-files", "update-index", "write-tree", "update-ref"}},
		{"nothing", func() {}, []string{"update-ref"}},
		{"an ignored file", func() {
			write(t, filepath.Join(dir, "build", "x.o"), "x\n", 0o644)
		}, []string{"ls-files", "update-ref"}},
		{"a directory made and filled", func() {
			write(t, filepath.Join(dir, "n1", "n2", "f.txt"), "f\n", 0o644)
		}, []string{"ls-files", "update-index", "write-tree", "update-ref"}},
		{"a file in the new directory", func() {
			write(t, filepath.Join(dir, "n1", "n2", "g.txt"), "g\n", 0o644)
		}, []string{"ls-files", "update-index", "write-tree", "update-ref"}},
		{"a .gitignore changed", func() {
			write(t, filepath.Join(dir, ".gitignore"), "*.log\nbuild/\n*.tmp\n", 0o644)
		}, []string{"add", "write-tree", "update-ref"}},
		{"a directory moved", func() {
			must(t, os.Rename(filepath.Join(dir, "n1"), filepath.Join(dir, "n3")))
		}, []string{"add", "write-tree", "update-ref"}},
		{"more files than are worth naming", func() {
			for i := range 600 {
				write(t, filepath.Join(dir, "dir", fmt.Sprintf("many%d", i)), "f\n", 0o644)
			}
		}, []string{"add", "write-tree", "update-ref"}},
	} {
		tc.mutate()
		before := len(rec.Starts())
		_, err := s.Snapshot(ctx, i+2)
		must(t, err)
		var cmds []string
		for _, st := range rec.Starts()[before:] {
			cmds = append(cmds, gitCommand(st.Args))
		}
		if !reflect.DeepEqual(cmds, tc.want) {
			t.Errorf("after %s, a snapshot ran git %q, want %q", tc.name, cmds, tc.want)
		}
	}
	// Every snapshot is the workspace as it was.
	ls := run(t, dir, "ls-tree", "-r", "--name-only", "refs/lathe/s1/8")
	for _, p := range []string{"a.txt", "dir/new.txt", "n3/n2/f.txt", "n3/n2/g.txt", "build/x.o"} {
		if strings.Contains(ls, p+"\n") != (p != "build/x.o") {
			t.Errorf("the last snapshot has %q", ls)
		}
	}
}

// gitCommand returns the subcommand of a git command line.
func gitCommand(args []string) string {
	for i := 1; i < len(args); i++ {
		if args[i] == "-c" {
			i++
			continue
		}
		return args[i]
	}
	return ""
}

func TestConcurrentSnapshots(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := newRepo(t)
	s := open(t, dir)
	other, err := checkpoint.Open(ctx, dir, t.TempDir(), "s2", sandbox.NewHost(sandbox.Profile{}))
	must(t, err)
	t.Cleanup(func() { other.Close() })
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for step := range 4 {
		for _, st := range []*checkpoint.Store{s, other} {
			wg.Go(func() {
				_, err := st.Snapshot(ctx, step)
				errs <- err
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for _, st := range []*checkpoint.Store{s, other} {
		list, err := st.List(ctx)
		must(t, err)
		if len(list) != 4 {
			t.Errorf("List = %v, want 4 snapshots", list)
		}
	}
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	dir := newRepo(t)
	s := open(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Snapshot(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Snapshot with a cancelled context: %v", err)
	}
	if _, err := s.Restore(ctx, checkpoint.ID(strings.Repeat("0", 40)), true); !errors.Is(err, context.Canceled) {
		t.Errorf("Restore with a cancelled context: %v", err)
	}
	if _, err := s.Snapshot(context.Background(), 1); err != nil {
		t.Errorf("Snapshot after a cancelled one: %v", err)
	}
}

func TestStaleLockRemovedOnOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := newRepo(t)
	state := t.TempDir()
	open := func() *checkpoint.Store {
		s, err := checkpoint.Open(ctx, dir, state, "s1", sandbox.NewHost(sandbox.Profile{}))
		must(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	}
	_, err := open().Snapshot(ctx, 1)
	must(t, err)
	// What a Lathe killed in the middle of `git add` leaves.
	write(t, filepath.Join(state, "sessions", "s1", "index.lock"), "", 0o644)
	if _, err := open().Snapshot(ctx, 2); err != nil {
		t.Errorf("Snapshot after a crash: %v", err)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := newRepo(t)
	host := sandbox.NewHost(sandbox.Profile{})
	for _, id := range []string{"", "../a", "a/b", ".hidden", "s.lock", "a..b", "a b"} {
		if _, err := checkpoint.Open(ctx, dir, t.TempDir(), id, host); err == nil {
			t.Errorf("Open with session %q succeeded", id)
		}
	}
	if _, err := checkpoint.Open(ctx, filepath.Join(dir, "a.txt"), t.TempDir(), "s1", host); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Open of a file: %v", err)
	}
	s := open(t, dir)
	if _, err := s.Restore(ctx, "HEAD", true); err == nil {
		t.Error("Restore of HEAD succeeded")
	}
	_, err := s.Restore(ctx, checkpoint.ID(strings.Repeat("1", 40)), true)
	if err == nil || !strings.Contains(err.Error(), "git diff-tree") || !strings.Contains(err.Error(), "bad object") {
		t.Errorf("Restore of a missing snapshot: %v, want git's error", err)
	}
	if _, err := s.Snapshot(ctx, -1); err == nil {
		t.Error("Snapshot of step -1 succeeded")
	}
}

func TestNoGit(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PATH", t.TempDir())
	_, err := checkpoint.Open(context.Background(), dir, t.TempDir(), "s1", sandbox.NewHost(sandbox.Profile{}))
	if !errors.Is(err, checkpoint.ErrNoGit) {
		t.Errorf("Open without git: %v, want ErrNoGit", err)
	}
}
