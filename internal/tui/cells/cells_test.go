package cells

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/todo"
	"github.com/lathe-dev/lathe/internal/tool"
)

const dir = "/work/repo"

// call returns a finished call of tool name with input, ended by end.
func call(name, input string, end event.Event) ToolCall {
	c := NewToolCall(event.Event{Type: event.ToolStart, CallID: "call_1", Name: name, Input: json.RawMessage(input)}, dir)
	end.Type, end.CallID, end.Name = event.ToolEnd, "call_1", name
	c.End(end)
	return c
}

func exit(n int) *int { return &n }

// runTool runs a real tool in a temporary workspace holding files and
// returns its call, as the events would make it.
func runTool(t *testing.T, t0 tool.Tool, files map[string]string, input string) ToolCall {
	t.Helper()
	env := &tool.Env{Dir: t.TempDir(), Reads: tool.NewReadTracker()}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(env.Dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := t0.Run(context.Background(), env, json.RawMessage(input))
	if err != nil {
		t.Fatal(err)
	}
	c := NewToolCall(event.Event{CallID: "c", Name: t0.Def().Name, Input: json.RawMessage(input)}, env.Dir)
	c.End(event.Event{Output: res.Content, IsError: res.IsError, Summary: res.Summary, ExitCode: res.ExitCode, Changes: res.Changes})
	return c
}

// numbered returns n lines "line 1" ... "line n".
func numbered(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

func TestToolCallLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		call ToolCall
		want string
	}{
		{"bash failed", call("Bash", `{"command":"go test ./..."}`, event.Event{IsError: true, ExitCode: exit(1), Summary: "exit 1, 5 lines, 1.2s"}), "Bash go test ./... ✗ exit 1"},
		{"bash ok", call("Bash", `{"command":"make"}`, event.Event{ExitCode: exit(0), Summary: "exit 0, 1 line, 3ms"}), "Bash make ✓"},
		{"shell argv", call("shell", `{"command":["bash","-lc","ls -la"]}`, event.Event{ExitCode: exit(0)}), "Bash ls -la ✓"},
		{"shell plain argv", call("shell", `{"command":["git","status"]}`, event.Event{ExitCode: exit(0)}), "Bash git status ✓"},
		{"multi-line command", call("Bash", `{"command":"cd x\nmake"}`, event.Event{ExitCode: exit(0)}), "Bash cd x … ✓"},
		{"running", NewToolCall(event.Event{Name: "Bash", Input: json.RawMessage(`{"command":"sleep 9"}`)}, dir), "Bash sleep 9 …"},
		{"denied", call("Bash", `{"command":"rm -rf /"}`, event.Event{IsError: true, Denied: true, Output: "Permission denied"}), "Bash rm -rf / ✗ denied"},
		{"edit summary", call("Edit", `{"file_path":"/work/repo/internal/x.go","old_string":"a","new_string":"b"}`, event.Event{Summary: "edited internal/x.go (+1 -1)", IsError: true, Output: "String to replace not found in file.\nString: a"}), "Edit internal/x.go ✗ String to replace not found in file. …"},
		{"edit replace all", call("Edit", `{"file_path":"/work/repo/x.go","old_string":"a\nb\n","new_string":"a\nc\nd\n","replace_all":true}`, event.Event{Summary: "edited x.go (+6 -4)"}), "Edit x.go +2 −1"},
		{"write over", call("Write", `{"file_path":"/work/repo/x.go","content":"a\n"}`, event.Event{Summary: "wrote x.go (1 line)"}), "Write x.go 1 line"},
		{"write new", call("Write", `{"file_path":"/work/repo/x.go","content":"a\nb\n"}`, event.Event{Summary: "created x.go (2 lines)"}), "Write x.go +2"},
		{"read", call("Read", `{"file_path":"/work/repo/README.md"}`, event.Event{Summary: "read README.md (120 lines)"}), "Read README.md 120 lines"},
		{"read outside", call("Read", `{"file_path":"/etc/passwd"}`, event.Event{Summary: "read /etc/passwd (9 lines)"}), "Read /etc/passwd 9 lines"},
		{"grep in", call("Grep", `{"pattern":"func main","path":"/work/repo/cmd"}`, event.Event{Summary: "3 files"}), "Search func main in cmd"},
		{"unknown tool", call("mcp__x\x1b[2J", `{}`, event.Event{IsError: true, Output: "unknown tool"}), "mcp__x ✗ unknown tool"},
		{"escapes in command", call("Bash", `{"command":"echo \u001b]0;pwned\u0007hi"}`, event.Event{ExitCode: exit(0)}), "Bash echo hi ✓"},
		{"interrupted", call("Bash", `{"command":"make"}`, event.Event{IsError: true, Summary: "interrupted", Output: "The user interrupted the command."}), "Bash make ✗ interrupted"},
		{"task", call("Task", `{"description":"find the bug","prompt":"..."}`, event.Event{Summary: "done"}), "Task find the bug"},
		{"patch", call("apply_patch", `"*** Begin Patch\n*** Update File: a.go\n@@ func f\n-x\n+y\n+z\n*** Add File: b.go\n+new\n*** End Patch"`, event.Event{Summary: "M a.go, A b.go"}), "Edit a.go, b.go +3 −1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.call.Line(80, Styles{}); got != tc.want {
				t.Errorf("Line = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestToolCallLineWidth checks that a line never takes more than its
// width, and that the outcome survives a cut target.
func TestToolCallLineWidth(t *testing.T) {
	c := call("Bash", `{"command":"`+strings.Repeat("世界", 60)+`"}`, event.Event{IsError: true, ExitCode: exit(2)})
	for w := 1; w <= 90; w++ {
		for _, st := range []Styles{{}, DefaultStyles()} {
			got := c.Line(w, st)
			if n := displayWidth(got); n > w {
				t.Fatalf("width %d: %q is %d columns", w, got, n)
			}
			if w >= 20 && !strings.Contains(got, "✗ exit 2") {
				t.Fatalf("width %d: %q lost the outcome", w, got)
			}
		}
	}
}

// TestToolCallGolden pins the one-line and expanded cells of a task's
// calls at 80 columns, plain and in colour.
func TestToolCallGolden(t *testing.T) {
	calls := []ToolCall{
		call("Read", `{"file_path":"/work/repo/internal/pager/pager.go"}`, event.Event{Summary: "read internal/pager/pager.go (212 lines)"}),
		call("Bash", `{"command":"go test ./pager/"}`, event.Event{IsError: true, ExitCode: exit(1), Output: "--- FAIL: TestPage (0.00s)\n\tpager_test.go:12: got 2 pages, want 3\nFAIL\nExit code: 1"}),
		call("Edit", `{"file_path":"/work/repo/internal/pager/pager.go","old_string":"\tn := len(items) / size\n\treturn n","new_string":"\tn := (len(items) + size - 1) / size\n\treturn n"}`, event.Event{Summary: "edited internal/pager/pager.go (+2 -2)", Output: "The file /work/repo/internal/pager/pager.go has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n    39\t\tif size <= 0 {\n    40\t\t\treturn 0\n    41\t\t}\n    42\t\tn := (len(items) + size - 1) / size\n    43\t\treturn n\n    44\t}"}),
		call("Bash", `{"command":"go test ./pager/"}`, event.Event{ExitCode: exit(0), Output: "ok  \tpager\t0.01s"}),
	}
	for _, st := range []struct {
		name string
		st   Styles
	}{{"plain", Styles{}}, {"colour", DefaultStyles()}} {
		t.Run(st.name, func(t *testing.T) {
			var b strings.Builder
			for _, expanded := range []bool{false, true} {
				for _, c := range calls {
					b.WriteString(c.Render(80, expanded, st.st) + "\n")
				}
				b.WriteString("\n")
			}
			b.WriteString(Group{Calls: []ToolCall{calls[0], calls[0], call("Read", `{"file_path":"/work/repo/go.mod"}`, event.Event{}), call("Grep", `{"pattern":"Pages"}`, event.Event{})}}.Render(80, true, st.st) + "\n")
			golden.RequireEqual(t, b.String())
		})
	}
}

func TestGroupLine(t *testing.T) {
	read := func(p string) ToolCall {
		return call("Read", `{"file_path":"`+p+`"}`, event.Event{Summary: "read x (3 lines)"})
	}
	running := NewToolCall(event.Event{Name: "list_dir", Input: json.RawMessage(`{"dir_path":"/work/repo/cmd"}`)}, dir)
	failed := call("read_file", `{"file_path":"nope"}`, event.Event{IsError: true, Output: "no such file"})
	for _, tc := range []struct {
		calls []ToolCall
		want  string
	}{
		{[]ToolCall{read("/a"), read("/b"), read("/c")}, "Read 3 files"},
		{[]ToolCall{read("/a"), read("/a")}, "Read 1 file"},
		{[]ToolCall{read("/a"), call("Glob", `{"pattern":"*.go"}`, event.Event{}), call("Grep", `{"pattern":"x"}`, event.Event{})}, "Read 1 file, searched 2 patterns"},
		{[]ToolCall{read("/a"), running}, "Read 1 file, listed 1 directory …"},
		{[]ToolCall{read("/a"), failed}, "Read 2 files ✗ 1 failed"},
	} {
		if got := (Group{Calls: tc.calls}).Line(80, Styles{}); got != tc.want {
			t.Errorf("Line = %q, want %q", got, tc.want)
		}
	}
	for name, want := range map[string]bool{"Read": true, "read_file": true, "Glob": true, "Grep": true, "grep_files": true, "list_dir": true, "Bash": false, "Edit": false, "WebFetch": false, "mcp__x": false} {
		if got := Groupable(ToolCall{Name: name}); got != want {
			t.Errorf("Groupable(%s) = %v, want %v", name, got, want)
		}
	}
}

// TestEditDiffFromTool runs the real Edit tool and checks that the cell's
// diff numbers the lines as they are in the file, wherever the edit is.
func TestEditDiffFromTool(t *testing.T) {
	for _, tc := range []struct {
		name     string
		file     string
		old, new string
		first    int // the number of the first changed line
	}{
		{"top", numbered(20), "line 1\n", "first\n", 1},
		{"second", numbered(20), "line 2\nline 3", "two\nthree", 2},
		{"fourth", numbered(20), "line 4", "four", 4},
		{"middle", numbered(20), "line 10\nline 11", "ten\neleven\nmore", 10},
		{"mid-line", numbered(20), "ne 12", "NE 12", 12},
		{"last", numbered(20), "line 20\n", "twenty\n", 20},
		{"context repeats the edit", "y\ny\nx\n", "x", "y", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, _ := json.Marshal(map[string]any{"file_path": "f.txt", "old_string": tc.old, "new_string": tc.new})
			c := runTool(t, tool.NewEdit(), map[string]string{"f.txt": tc.file}, string(in))
			if c.IsError {
				t.Fatal(c.Output)
			}
			diffs := c.Diffs()
			if len(diffs) != 1 || len(diffs[0].Hunks) == 0 {
				t.Fatalf("diffs = %+v", diffs)
			}
			h := diffs[0].Hunks[0]
			n := h.OldStart
			for _, l := range h.Lines {
				if l.Op != Context {
					break
				}
				n++
			}
			if n != tc.first {
				t.Errorf("first changed line %d, want %d\n%s", n, tc.first, diffs[0].Unified(80, Styles{}))
			}
			if diffs[0].Path != "f.txt" {
				t.Errorf("path %q, want f.txt", diffs[0].Path)
			}
		})
	}
}

func TestNewDiff(t *testing.T) {
	d := NewDiff("x", numbered(10), strings.Replace(numbered(10), "line 5\n", "five\n5\n", 1), 1)
	if len(d.Hunks) != 1 {
		t.Fatalf("%d hunks", len(d.Hunks))
	}
	h := d.Hunks[0]
	if h.OldStart != 2 || h.NewStart != 2 {
		t.Errorf("hunk starts at %d/%d, want 2/2", h.OldStart, h.NewStart)
	}
	if a, del := d.Stat(); a != 2 || del != 1 {
		t.Errorf("Stat = +%d −%d, want +2 −1", a, del)
	}
	// A fragment without a final newline: text put after its last line
	// is an added line, not the line changed.
	d = NewDiff("x", "a", "a\nb", 7)
	if a, del := d.Stat(); a != 1 || del != 0 {
		t.Errorf("fragment Stat = +%d −%d, want +1 −0:\n%s", a, del, d.Unified(80, Styles{}))
	}
	if NewDiff("x", "same\n", "same\n", 1).Hunks != nil {
		t.Error("equal texts have hunks")
	}
}

// diffFixture is a change to a Go file with two hunks, a tab-indented
// body, a line too long for 80 columns and a line with an escape sequence.
func diffFixture() Diff {
	var old, new strings.Builder
	for i := 1; i <= 40; i++ {
		switch i {
		case 5:
			old.WriteString("func Pages(items []Item, size int) int {\n")
			new.WriteString("func Pages(items []Item, size int) (int, error) {\n")
		case 7:
			old.WriteString("\treturn len(items) / size\n")
			new.WriteString("\tif size <= 0 {\n\t\treturn 0, errors.New(\"pager: size must be positive\")\n\t}\n\treturn (len(items) + size - 1) / size, nil\n")
		case 30:
			old.WriteString("// " + strings.Repeat("a long comment that goes on ", 8) + "\n")
			new.WriteString("// \x1b[31mred\x1b[0m and \x1b]0;title\x07 gone\n")
		case 33:
			old.WriteString("\tdelete(m, k)\n")
		default:
			fmt.Fprintf(&old, "\t_ = %d\n", i)
			fmt.Fprintf(&new, "\t_ = %d\n", i)
		}
	}
	return NewDiff("internal/pager/pager.go", old.String(), new.String(), 1)
}

// TestDiffGolden pins the diff at 80 columns (unified) and 160 (split),
// plain and in colour.
func TestDiffGolden(t *testing.T) {
	d := diffFixture()
	for _, w := range []int{80, 160} {
		for _, st := range []struct {
			name string
			st   Styles
		}{{"plain", Styles{}}, {"colour", DefaultStyles()}} {
			t.Run(fmt.Sprintf("%d_%s", w, st.name), func(t *testing.T) {
				out := d.Render(w, st.st)
				for i, row := range strings.Split(out, "\n") {
					if n := displayWidth(row); n > w {
						t.Errorf("row %d is %d columns: %q", i, n, row)
					}
				}
				golden.RequireEqual(t, out+"\n")
			})
		}
	}
}

// TestDiffNarrow renders at every width from 1 up, unified and split: no
// row is wider than the width, and nothing panics.
func TestDiffNarrow(t *testing.T) {
	d := diffFixture()
	for w := 1; w <= 200; w++ {
		for i, row := range strings.Split(d.Render(w, Styles{}), "\n") {
			if n := displayWidth(row); n > w {
				t.Fatalf("width %d: row %d is %d columns: %q", w, i, n, row)
			}
		}
		for i, row := range strings.Split(d.Split(w, DefaultStyles()), "\n") {
			if n := displayWidth(row); n > w {
				t.Fatalf("split at %d: row %d is %d columns: %q", w, i, n, row)
			}
		}
	}
}

func TestPatchDiff(t *testing.T) {
	c := call("apply_patch", `{"input":"*** Begin Patch\n*** Update File: a.go\n*** Move to: b.go\n@@ func f() {\n ctx\n-x\n+y\n*** Delete File: c.go\n*** End Patch"}`, event.Event{Summary: "M b.go, D c.go"})
	got := c.Render(80, false, Styles{})
	want := "Edit a.go, c.go +1 −1\n  a.go → b.go\n  @@ func f() {\n    ctx\n  - x\n  + y\n  c.go"
	if got != want {
		t.Errorf("Render =\n%s\nwant\n%s", got, want)
	}
}

func TestExpandedOutputCapped(t *testing.T) {
	c := call("Bash", `{"command":"seq 1000"}`, event.Event{ExitCode: exit(0), Output: numbered(1000)})
	rows := strings.Split(c.Render(40, true, Styles{}), "\n")
	if len(rows) != 1+expandedRows+1 {
		t.Fatalf("%d rows", len(rows))
	}
	if last := rows[len(rows)-1]; last != "  … +800 lines" {
		t.Errorf("last row %q", last)
	}
	if c.Render(40, false, Styles{}) != "Bash seq 1000 ✓" {
		t.Error("collapsed call shows its output")
	}
	c = call("Bash", `{"command":"make"}`, event.Event{ExitCode: exit(0), Output: "head\n[… cut …]\ntail", SavedOutput: "/s/outputs/3.txt"})
	if got, want := c.Render(40, true, Styles{}), "Bash make ✓\n  head\n  [… cut …]\n  tail\n  whole output in /s/outputs/3.txt"; got != want {
		t.Errorf("saved output:\n%q\nwant\n%q", got, want)
	}
}

func TestNotice(t *testing.T) {
	got := Notice{Level: Warning, Text: "the session log is not writable: \x1b[2Jdisk full; nothing recorded is lost"}.Render(30, Styles{})
	want := "! the session log is not\n  writable: disk full; nothing\n  recorded is lost"
	if got != want {
		t.Errorf("Render =\n%q\nwant\n%q", got, want)
	}
}

func TestCompaction(t *testing.T) {
	c := NewCompaction(event.Event{Type: event.CompactionStart, Reason: "auto", TokensBefore: 182_400})
	if got, want := c.Render(40, Styles{}), "── compacting (auto) 182k tokens… ──────"; got != want {
		t.Errorf("running: %q, want %q", got, want)
	}
	c.End(event.Event{Type: event.CompactionEnd, TokensAfter: 24_120})
	if got, want := c.Render(40, Styles{}), "── compacted (auto) 182k → 24k tokens ──"; got != want {
		t.Errorf("done: %q, want %q", got, want)
	}
	c.LedgerOnly, c.Error = true, "the summary was empty"
	got := c.Render(60, Styles{})
	want := "── compacted (auto) 182k → 24k tokens, without a summary ───\n! the summary was empty"
	if got != want {
		t.Errorf("ledger only:\n%q\nwant\n%q", got, want)
	}
	for n, want := range map[int]string{950: "950", 1000: "1k", 12_345: "12k", 1_500_000: "1.5M", 2_000_000: "2M"} {
		if got := tokens(n); got != want {
			t.Errorf("tokens(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestToolCallLive(t *testing.T) {
	c := NewToolCall(event.Event{Name: "Bash", Input: json.RawMessage(`{"command":"make"}`)}, dir)
	c.AppendOutput("building a\nbuilding b\n")
	c.AppendOutput("building c\n\x1b[31mwarning\x1b[0m\n 10%\r 50%\r 90%")
	want := "Bash make …\n  building c\n  warning\n   90%"
	if got := c.Render(40, false, Styles{}); got != want {
		t.Errorf("running:\n%q\nwant\n%q", got, want)
	}
	for range 2000 {
		c.AppendOutput("a line of output that goes on\n")
	}
	if len(c.Live) > liveKeep {
		t.Errorf("kept %d bytes of live output", len(c.Live))
	}
	if !strings.HasPrefix(c.Live, "a line") {
		t.Errorf("live output cut mid-line: %.20q", c.Live)
	}
	c.End(event.Event{ExitCode: exit(0), Output: "done"})
	if got := c.Render(40, false, Styles{}); got != "Bash make ✓" {
		t.Errorf("finished: %q", got)
	}
}

func TestTodos(t *testing.T) {
	td := NewTodos(event.Event{Type: event.TodoUpdated, Explanation: "tests first", Todos: []todo.Item{
		{Text: "Run the tests", Status: todo.Completed},
		{Text: "Fix the pager", Active: "Fixing the pager", Status: todo.InProgress},
		{Text: "Update the README with the new \x1b[2Jflag and its default", Status: todo.Pending},
	}})
	want := "Todo 1/3 done\n  tests first\n  ☑ Run the tests\n  ▶ Fixing the pager\n  ☐ Update the README with the new\n    flag and its default"
	if got := td.Render(36, Styles{}); got != want {
		t.Errorf("Render =\n%s\nwant\n%s", got, want)
	}
}

// bigWrite is a Write call that created a file of n lines.
func bigWrite(n int) ToolCall {
	in, _ := json.Marshal(map[string]string{"file_path": "/work/repo/big.txt", "content": numbered(n)})
	return call("Write", string(in), event.Event{Summary: fmt.Sprintf("created big.txt (%d lines)", n)})
}

func TestBigDiffCapped(t *testing.T) {
	c := bigWrite(100_000)
	for _, tc := range []struct {
		expanded bool
		rows     int
		more     string
	}{{false, collapsedDiffRows, "… +99984 lines"}, {true, expandedRows, "… +99800 lines"}} {
		rows := strings.Split(c.Render(80, tc.expanded, Styles{}), "\n")
		if rows[0] != "Write big.txt +100000" {
			t.Errorf("line %q", rows[0])
		}
		if len(rows) != 1+tc.rows+1 || rows[len(rows)-1] != "  "+tc.more {
			t.Errorf("expanded %v: %d rows, last %q", tc.expanded, len(rows), rows[len(rows)-1])
		}
	}
}

// BenchmarkToolCallRender is the cost of rendering a tool call cell
// whose diff is a new file of 20 and of 100k lines: what shows is the
// same, and so should the cost be, but for the diff itself.
func BenchmarkToolCallRender(b *testing.B) {
	for _, n := range []int{20, 100_000} {
		c := bigWrite(n)
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.Render(120, false, DefaultStyles())
			}
		})
	}
}
