package tool

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/policy"
)

// TestPrepare pins what each tool tells the policy before it runs: the
// kind of call, the paths it reads and writes (links resolved), the
// command and the directory, and for a shell call that applies a patch,
// the apply_patch call that runs in its place, in the directory decided.
func TestPrepare(t *testing.T) {
	env := fileEnv(t)
	outside := t.TempDir()
	realOutside, err := filepath.EvalSymlinks(outside)
	if err != nil {
		t.Fatal(err)
	}
	put(t, filepath.Join(env.Dir, "sub", "a.txt"), "a\n", 0o644)
	put(t, filepath.Join(env.Dir, ".git", "config"), "", 0o644)
	if err := os.Symlink(outside, filepath.Join(env.Dir, "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(env.Dir, ".git"), filepath.Join(env.Dir, "g")); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(env.Dir, "sub")
	const patch = "*** Begin Patch\n*** Add File: n.txt\n+n\n*** Update File: a.txt\n*** Move to: ../m.txt\n@@\n-a\n+b\n*** End Patch\n"
	heredoc := func(prefix string) string { return prefix + "apply_patch <<'EOF'\n" + patch + "EOF\n" }
	type want struct {
		tool    string // "" for the tool itself
		kind    policy.Kind
		command string
		dir     string
		reads   []string
		writes  []string
	}
	tests := []struct {
		name  string
		tool  Tool
		input any
		want  want
	}{
		{"Read", NewRead(), map[string]any{"file_path": "sub/a.txt"},
			want{kind: policy.Read, dir: env.Dir, reads: []string{filepath.Join(sub, "a.txt")}}},
		{"read_file through a link", NewReadFile(), map[string]any{"file_path": "out/x"},
			want{kind: policy.Read, dir: env.Dir, reads: []string{filepath.Join(realOutside, "x")}}},
		{"Write through a link is decided on its target", NewWrite(), map[string]any{"file_path": "out/x", "content": "x"},
			want{kind: policy.Edit, dir: env.Dir, writes: []string{filepath.Join(realOutside, "x")}}},
		{"Edit through a link into .git", NewEdit(), map[string]any{"file_path": "g/config", "old_string": "a", "new_string": "b"},
			want{kind: policy.Edit, dir: env.Dir, writes: []string{filepath.Join(env.Dir, ".git", "config")}}},
		{"apply_patch", NewApplyPatch(false), map[string]any{"input": patch},
			want{kind: policy.Edit, dir: env.Dir, writes: []string{filepath.Join(env.Dir, "n.txt"), filepath.Join(env.Dir, "a.txt"), filepath.Join(filepath.Dir(env.Dir), "m.txt")}}},
		{"Grep searches the workspace", NewGrep(), map[string]any{"pattern": "x"},
			want{kind: policy.Read, dir: env.Dir, reads: []string{env.Dir}}},
		{"Grep through a link", NewGrep(), map[string]any{"pattern": "x", "path": "out"},
			want{kind: policy.Read, dir: env.Dir, reads: []string{realOutside}}},
		{"Glob in a directory", NewGlob(), map[string]any{"pattern": "*", "path": "sub"},
			want{kind: policy.Read, dir: env.Dir, reads: []string{sub}}},
		{"list_dir", NewListDir(), map[string]any{"dir_path": "sub"},
			want{kind: policy.Read, dir: env.Dir, reads: []string{sub}}},
		{"grep_files", NewGrepFiles(), map[string]any{"pattern": "x", "path": "sub/a.txt"},
			want{kind: policy.Read, dir: env.Dir, reads: []string{filepath.Join(sub, "a.txt")}}},
		{"Bash", NewBash(), map[string]any{"command": "go test ./..."},
			want{kind: policy.Exec, dir: env.Dir, command: "go test ./..."}},
		{"shell script", NewShell(), map[string]any{"command": []string{"bash", "-lc", "go test ./..."}, "workdir": "sub"},
			want{kind: policy.Exec, dir: sub, command: "go test ./..."}},
		{"shell argv is quoted", NewShell(), map[string]any{"command": []string{"rm", "-rf", "my dir"}},
			want{kind: policy.Exec, dir: env.Dir, command: "rm -rf 'my dir'"}},
		{"shell with a missing workdir", NewShell(), map[string]any{"command": []string{"ls"}, "workdir": "nowhere"},
			want{kind: policy.Exec, dir: filepath.Join(env.Dir, "nowhere"), command: "ls"}},
		{"shell heredoc in workdir is apply_patch", NewShell(), map[string]any{"command": []string{"bash", "-lc", heredoc("")}, "workdir": "sub"},
			want{tool: "apply_patch", kind: policy.Edit, dir: sub, writes: []string{filepath.Join(sub, "n.txt"), filepath.Join(sub, "a.txt"), filepath.Join(env.Dir, "m.txt")}}},
		{"shell heredoc after cd is apply_patch", NewShell(), map[string]any{"command": []string{"bash", "-lc", heredoc("cd sub && ")}},
			want{tool: "apply_patch", kind: policy.Edit, dir: sub, writes: []string{filepath.Join(sub, "n.txt"), filepath.Join(sub, "a.txt"), filepath.Join(env.Dir, "m.txt")}}},
		{"shell argv apply_patch", NewShell(), map[string]any{"command": []string{"apply_patch", "*** Begin Patch\n*** Delete File: g/config\n*** End Patch\n"}},
			want{tool: "apply_patch", kind: policy.Edit, dir: env.Dir, writes: []string{filepath.Join(env.Dir, ".git", "config")}}},
		{"shell heredoc into a link outside", NewShell(), map[string]any{"command": []string{"bash", "-lc", "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: out/x\n+x\n*** End Patch\nEOF\n"}},
			want{tool: "apply_patch", kind: policy.Edit, dir: env.Dir, writes: []string{filepath.Join(realOutside, "x")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input, err := json.Marshal(tt.input)
			if err != nil {
				t.Fatal(err)
			}
			p, err := tt.tool.(preparer).Prepare(env, input)
			if err != nil {
				t.Fatal(err)
			}
			a := p.Access
			if a.Tool != tt.want.tool || a.Kind != tt.want.kind || a.Command != tt.want.command || a.Dir != tt.want.dir ||
				!slices.Equal(a.Reads, tt.want.reads) || !slices.Equal(a.Writes, tt.want.writes) {
				t.Errorf("Prepare = %+v\nwant %+v", a, tt.want)
			}
			if p.Run == nil {
				t.Error("Prepare gave no Run")
			}
			if len(a.LexicalReads) != len(a.Reads) || len(a.LexicalWrites) != len(a.Writes) {
				t.Errorf("lexical paths %q %q do not pair with %q %q", a.LexicalReads, a.LexicalWrites, a.Reads, a.Writes)
			}
		})
	}
}

// A prepared call runs on what the policy decided: on the arguments as
// Prepare decoded them, even if the input's bytes change afterwards, and
// on the file Prepare resolved, even if a symbolic link on the way is
// retargeted before the call runs, so that the link cannot redirect a
// write or read to a file the policy never saw.
func TestPreparedRunsWhatWasDecided(t *testing.T) {
	// Each call runs in a workspace of its own, the same in each:
	// decided/f.txt and other/f.txt, and link leading to decided/.
	var env *Env
	var decided, other, link string
	workspace := func(t *testing.T) {
		env = shellEnv(t)
		env.Reads = NewReadTracker()
		decided, other = filepath.Join(env.Dir, "decided"), filepath.Join(env.Dir, "other")
		for _, dir := range []string{decided, other} {
			put(t, filepath.Join(dir, "f.txt"), "old "+filepath.Base(dir)+"\n", 0o644)
		}
		link = filepath.Join(env.Dir, "link")
	}
	retarget := func(t *testing.T, to string) {
		t.Helper()
		if err := os.Remove(link); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if err := os.Symlink(to, link); err != nil {
			t.Fatal(err)
		}
	}
	read := func(t *testing.T, p string) string {
		t.Helper()
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name  string
		tool  Tool
		input string
		check func(t *testing.T, p Prepared, res Result)
	}{
		{"Write", NewWrite(), `{"file_path":"link/f.txt","content":"new\n"}`, func(t *testing.T, p Prepared, res Result) {
			if got := read(t, filepath.Join(decided, "f.txt")); got != "new\n" {
				t.Errorf("decided file holds %q, want the write", got)
			}
			if got := read(t, filepath.Join(other, "f.txt")); got != "old other\n" {
				t.Errorf("file behind the retargeted link holds %q, want it untouched", got)
			}
		}},
		{"Edit", NewEdit(), `{"file_path":"link/f.txt","old_string":"old","new_string":"new"}`, func(t *testing.T, p Prepared, res Result) {
			if got := read(t, filepath.Join(decided, "f.txt")); got != "new decided\n" {
				t.Errorf("decided file holds %q, want the edit", got)
			}
			if got := read(t, filepath.Join(other, "f.txt")); got != "old other\n" {
				t.Errorf("file behind the retargeted link holds %q, want it untouched", got)
			}
		}},
		{"Read", NewRead(), `{"file_path":"link/f.txt"}`, func(t *testing.T, p Prepared, res Result) {
			if !strings.Contains(res.Content, "old decided") {
				t.Errorf("Read = %q, want the decided file", res.Content)
			}
		}},
		{"read_file", NewReadFile(), `{"file_path":"link/f.txt"}`, func(t *testing.T, p Prepared, res Result) {
			if !strings.Contains(res.Content, "old decided") {
				t.Errorf("read_file = %q, want the decided file", res.Content)
			}
		}},
		{"Bash", NewBash(), `{"command":"echo decided"}`, func(t *testing.T, p Prepared, res Result) {
			if strings.TrimSpace(res.Content) != "decided" {
				t.Errorf("Bash = %q, want the decided command's output", res.Content)
			}
		}},
		{"shell", NewShell(), `{"command":["sh","-c","pwd"],"workdir":"decided"}`, func(t *testing.T, p Prepared, res Result) {
			if !strings.Contains(res.Content, "Output:\n"+decided+"\n") {
				t.Errorf("shell = %q, want it run in %s", res.Content, decided)
			}
		}},
		{"shell apply_patch", NewShell(), `{"command":["apply_patch","*** Begin Patch\n*** Add File: n.txt\n+n\n*** End Patch\n"],"workdir":"decided"}`, func(t *testing.T, p Prepared, res Result) {
			if got := read(t, filepath.Join(decided, "n.txt")); got != "n\n" {
				t.Errorf("patched file holds %q, want the patch's", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			workspace(t)
			retarget(t, decided)
			input := []byte(tt.input)
			p, err := tt.tool.(preparer).Prepare(env, input)
			if err != nil {
				t.Fatal(err)
			}
			for _, paths := range [][]string{p.Access.Reads, p.Access.Writes} {
				for _, path := range paths {
					if !strings.HasPrefix(path, decided+string(filepath.Separator)) {
						t.Errorf("decided on %s, want a path in %s", path, decided)
					}
				}
			}
			// The model's input is gone and the link leads elsewhere: the
			// call runs as decided all the same.
			for i := range input {
				input[i] = ' '
			}
			retarget(t, other)
			res, err := p.Run(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if res.IsError {
				t.Fatalf("run failed: %s", res.Content)
			}
			tt.check(t, p, res)
		})
	}
}
