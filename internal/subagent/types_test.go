package subagent

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/tool"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		file string
		want Type
		// key and errText, when set, are the error's key and a part of it.
		key, errText string
	}{
		{
			name: "claude code file",
			file: "---\nname: code-reviewer\ndescription: Reviews code: finds bugs.\ntools: Read, Grep, Glob\nmodel: sonnet\ncolor: blue\n---\n\nYou review code.\n",
			want: Type{Name: "code-reviewer", Description: "Reviews code: finds bugs.", Tools: []string{"Read", "Grep", "Glob"}, Model: "sonnet", Prompt: "You review code."},
		},
		{
			name: "tools as a list, inherit, max turns, CRLF and BOM",
			file: "\ufeff---\r\nname: fixer\r\ndescription: \"Fixes: things\"\r\ntools:\r\n  - Bash\r\n  - Edit\r\n  - Bash\r\ndisallowedTools: Write\r\nmodel: inherit\r\nmaxTurns: 7\r\n---\r\nFix it.\r\n",
			want: Type{Name: "fixer", Description: "Fixes: things", Tools: []string{"Bash", "Edit"}, Disallowed: []string{"Write"}, MaxTurns: 7, Prompt: "Fix it."},
		},
		{
			name: "no tools key inherits; empty tools has none",
			file: "---\nname: a\ndescription: d\ntools:\n---\n",
			want: Type{Name: "a", Description: "d", Tools: []string{}},
		},
		{
			name: "multi-line description",
			file: "---\nname: a\ndescription: |\n  Use this agent when\n  things happen.\n---\nbody",
			want: Type{Name: "a", Description: "Use this agent when\nthings happen.", Prompt: "body"},
		},
		{name: "no frontmatter", file: "# Just markdown\n", errText: "no frontmatter"},
		{name: "unclosed", file: "---\nname: a\ndescription: d\n", errText: `no closing "---"`},
		{name: "missing name", file: "---\ndescription: d\n---\n", key: "name", errText: "missing"},
		{name: "missing description", file: "---\nname: a\n---\n", key: "description", errText: "missing"},
		{name: "empty description", file: "---\nname: a\ndescription: \"\"\n---\n", key: "description", errText: "empty"},
		{name: "bad name", file: "---\nname: Code Reviewer\ndescription: d\n---\n", key: "name", errText: "lowercase"},
		{name: "name not a string", file: "---\nname: [a]\ndescription: d\n---\n", key: "name", errText: "line 2: want a string"},
		{name: "bad tools", file: "---\nname: a\ndescription: d\ntools: {Read: 1}\n---\n", key: "tools", errText: "want tool names"},
		{name: "a rule for a tool", file: "---\nname: a\ndescription: d\ntools: Bash(git:*)\n---\n", key: "tools", errText: "permission settings"},
		{name: "bad max turns", file: "---\nname: a\ndescription: d\nmaxTurns: 0\n---\n", key: "maxTurns", errText: "positive"},
		{name: "wider mode refused", file: "---\nname: a\ndescription: d\npermissionMode: bypassPermissions\n---\n", key: "permissionMode", errText: "parent's permission mode"},
		{name: "unknown key", file: "---\nname: a\ndescription: d\ntool: Read\n---\n", key: "tool", errText: "unknown key"},
		{name: "key twice", file: "---\nname: a\nname: b\ndescription: d\n---\n", key: "name", errText: "twice"},
		{name: "invalid yaml names the key", file: "---\nname: a\ndescription: d\ntools: [Read\n---\n", key: "tools", errText: "line 4: invalid YAML"},
		{name: "bad block names the key", file: "---\nname: a\ndescription: |\n  x\n y: [\nmodel: m\n---\n", key: "description", errText: "line 3: invalid YAML"},
		{name: "not a mapping", file: "---\n- a\n---\n", errText: "line 2: want a key"},
		{name: "no colon", file: "---\nname a\n---\n", errText: "line 2: want \"key: value\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.file))
			if tt.errText == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("Parse =\n%#v\nwant\n%#v", got, tt.want)
				}
				return
			}
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse error = %v, want a *FileError", err)
			}
			if fe.Key != tt.key || !strings.Contains(err.Error(), tt.errText) {
				t.Fatalf("Parse error = %q (key %q), want key %q and %q", err, fe.Key, tt.key, tt.errText)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	user, project := t.TempDir(), t.TempDir()
	write := func(dir, name, text string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	write(user, "reviewer.md", "---\nname: reviewer\ndescription: user's\n---\nuser prompt")
	write(user, "notes.txt", "not an agent")
	write(project, "reviewer.md", "---\nname: reviewer\ndescription: project's\ntools: Read\n---\nproject prompt")
	write(project, "explore.md", "---\nname: explore\ndescription: a project's explore\ntools: Read\n---\n")
	bad := write(project, "broken.md", "---\nname: broken\ndescription: d\nmodel: [x]\n---\n")
	write(project, "tester.md", "---\nname: tester\ndescription: runs tests\ntools: Bash\n---\n")
	if err := os.Mkdir(filepath.Join(project, "sub.md"), 0o755); err != nil {
		t.Fatal(err)
	}

	types, problems := Load(user, filepath.Join(user, "missing"), project)
	if len(problems) != 1 {
		t.Fatalf("problems = %v, want the broken file only", problems)
	}
	var fe *FileError
	if !errors.As(problems[0], &fe) || fe.File != bad || fe.Key != "model" {
		t.Fatalf("problem = %v, want %s key model", problems[0], bad)
	}
	var names []string
	byName := map[string]Type{}
	for _, ty := range types {
		names = append(names, ty.Name)
		byName[ty.Name] = ty
	}
	if want := []string{"explore", "general-purpose", "reviewer", "tester"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("names = %v, want %v", names, want)
	}
	if r := byName["reviewer"]; r.Description != "project's" || r.Prompt != "project prompt" || r.Source != filepath.Join(project, "reviewer.md") {
		t.Errorf("reviewer = %+v, want the project's, overriding the user's", r)
	}
	if e := byName["explore"]; e.Source == "" {
		t.Errorf("explore = %+v, want the project's file overriding the built-in", e)
	}
}

func TestDirs(t *testing.T) {
	got := Dirs("/h", "/h/.config/lathe", "/r", "/r/sub")
	want := []string{"/h/.claude/agents", "/h/.config/lathe/agents", "/r/.claude/agents", "/r/.lathe/agents", "/r/sub/.claude/agents", "/r/sub/.lathe/agents"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Dirs = %v, want %v", got, want)
	}
	if got := Dirs("", "", "/r", "/r"); !reflect.DeepEqual(got, []string{"/r/.claude/agents", "/r/.lathe/agents"}) {
		t.Errorf("Dirs at the root = %v", got)
	}
}

func TestSelect(t *testing.T) {
	claude, codex := ChildTools(tool.Set(tool.DialectClaude, false)), ChildTools(tool.Set(tool.DialectCodex, false))
	tests := []struct {
		name        string
		typ         Type
		set         []tool.Tool
		want        []string
		unknown     []string
		wantReadOly bool
	}{
		{name: "explore, claude", typ: Builtins()[0], set: claude, want: []string{"Read", "Glob", "Grep"}, wantReadOly: true},
		{name: "explore, codex", typ: Builtins()[0], set: codex, want: []string{"read_file", "list_dir", "grep_files"}, wantReadOly: true},
		{name: "inherit all", typ: Type{}, set: codex, want: []string{"shell", "apply_patch", "read_file", "list_dir", "grep_files", "web_fetch"}},
		{name: "inherit less disallowed", typ: Type{Disallowed: []string{"Bash", "Write"}}, set: claude, want: []string{"BashOutput", "KillShell", "Read", "Edit", "Glob", "Grep", "WebFetch"}},
		{name: "own names only", typ: Type{Tools: []string{"Edit", "Read"}}, set: claude, want: []string{"Read", "Edit"}},
		{name: "codex names for claude", typ: Type{Tools: []string{"shell", "apply_patch"}}, set: claude, want: []string{"Bash", "BashOutput", "KillShell", "Write", "Edit"}},
		{name: "claude names for codex", typ: Type{Tools: []string{"Edit", "Bash", "LS"}}, set: codex, want: []string{"shell", "apply_patch", "list_dir"}},
		{name: "unknown names", typ: Type{Tools: []string{"Read", "NotebookEdit", "Task"}}, set: claude, want: []string{"Read"}, unknown: []string{"NotebookEdit", "Task"}, wantReadOly: true},
		{name: "no tools", typ: Type{Tools: []string{}}, set: claude, wantReadOly: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, unknown := tt.typ.Select(tt.set)
			var names []string
			for _, tl := range got {
				names = append(names, tl.Def().Name)
			}
			if !reflect.DeepEqual(names, tt.want) || !reflect.DeepEqual(unknown, tt.unknown) {
				t.Errorf("Tools = %v, unknown %v; want %v, unknown %v", names, unknown, tt.want, tt.unknown)
			}
			if ro := ReadOnly(got); ro != tt.wantReadOly {
				t.Errorf("ReadOnly = %t, want %t", ro, tt.wantReadOly)
			}
		})
	}
}

// A child's tools never include the parent's bookkeeping: its todo list,
// its plan, or the tools that start children.
func TestChildTools(t *testing.T) {
	for _, d := range []tool.Dialect{tool.DialectClaude, tool.DialectCodex} {
		set := append(tool.Set(d, false), tool.NewExitPlanMode(""), tool.NewExitPlan(""), NewTool(d, newRunner(nil, nil, Limits{})))
		for _, tl := range ChildTools(set) {
			switch name := tl.Def().Name; name {
			case "TodoWrite", "update_plan", "ExitPlanMode", "exit_plan", "Task", "spawn_agent":
				t.Errorf("%s: a child may get %s", d, name)
			}
		}
		if got, all := len(ChildTools(set)), len(set); got != all-4 {
			t.Errorf("%s: %d of %d tools, want all but the todo, two plan and spawning tools", d, got, all)
		}
	}
}
