package tool

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lathe-dev/lathe/internal/policy"
)

// TestPrepare pins what each tool tells the policy before it runs: the
// kind of call, the paths it reads and writes (links resolved), the
// command and the directory, and for a shell call that applies a patch,
// the apply_patch call that runs in its place.
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
		runDir  string // the directory a replacing call runs in
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
		{"Bash", NewBash(), map[string]any{"command": "go test ./..."},
			want{kind: policy.Exec, dir: env.Dir, command: "go test ./..."}},
		{"shell script", NewShell(), map[string]any{"command": []string{"bash", "-lc", "go test ./..."}, "workdir": "sub"},
			want{kind: policy.Exec, dir: sub, command: "go test ./..."}},
		{"shell argv is quoted", NewShell(), map[string]any{"command": []string{"rm", "-rf", "my dir"}},
			want{kind: policy.Exec, dir: env.Dir, command: "rm -rf 'my dir'"}},
		{"shell with a missing workdir", NewShell(), map[string]any{"command": []string{"ls"}, "workdir": "nowhere"},
			want{kind: policy.Exec, dir: filepath.Join(env.Dir, "nowhere"), command: "ls"}},
		{"shell heredoc in workdir is apply_patch", NewShell(), map[string]any{"command": []string{"bash", "-lc", heredoc("")}, "workdir": "sub"},
			want{tool: "apply_patch", kind: policy.Edit, dir: sub, runDir: sub, writes: []string{filepath.Join(sub, "n.txt"), filepath.Join(sub, "a.txt"), filepath.Join(env.Dir, "m.txt")}}},
		{"shell heredoc after cd is apply_patch", NewShell(), map[string]any{"command": []string{"bash", "-lc", heredoc("cd sub && ")}},
			want{tool: "apply_patch", kind: policy.Edit, dir: sub, runDir: sub, writes: []string{filepath.Join(sub, "n.txt"), filepath.Join(sub, "a.txt"), filepath.Join(env.Dir, "m.txt")}}},
		{"shell argv apply_patch", NewShell(), map[string]any{"command": []string{"apply_patch", "*** Begin Patch\n*** Delete File: g/config\n*** End Patch\n"}},
			want{tool: "apply_patch", kind: policy.Edit, dir: env.Dir, runDir: env.Dir, writes: []string{filepath.Join(env.Dir, ".git", "config")}}},
		{"shell heredoc into a link outside", NewShell(), map[string]any{"command": []string{"bash", "-lc", "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: out/x\n+x\n*** End Patch\nEOF\n"}},
			want{tool: "apply_patch", kind: policy.Edit, dir: env.Dir, runDir: env.Dir, writes: []string{filepath.Join(realOutside, "x")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input, err := json.Marshal(tt.input)
			if err != nil {
				t.Fatal(err)
			}
			p := tt.tool.(interface {
				Prepare(*Env, json.RawMessage) Prepared
			}).Prepare(env, input)
			a := p.Access
			if a.Tool != tt.want.tool || a.Kind != tt.want.kind || a.Command != tt.want.command || a.Dir != tt.want.dir ||
				!slices.Equal(a.Reads, tt.want.reads) || !slices.Equal(a.Writes, tt.want.writes) {
				t.Errorf("Prepare = %+v\nwant %+v", a, tt.want)
			}
			if (p.Tool != nil) != (tt.want.tool != "") {
				t.Fatalf("replacing tool = %v, want one named %q", p.Tool, tt.want.tool)
			}
			if p.Tool == nil {
				return
			}
			if name := p.Tool.Def().Name; name != tt.want.tool {
				t.Errorf("runs as %s, want %s", name, tt.want.tool)
			}
			if p.Env.Dir != tt.want.runDir || p.Env.Reads != env.Reads {
				t.Errorf("runs in %s (reads %p), want %s (reads %p)", p.Env.Dir, p.Env.Reads, tt.want.runDir, env.Reads)
			}
		})
	}
}
