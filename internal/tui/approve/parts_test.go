package approve

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/tui/cells"
)

// TestHostileText checks that escape sequences, control characters,
// invalid UTF-8 and invisible formatting characters in a command are
// shown as escapes, never sent to the terminal, and that a marked part
// keeps its carets under the right columns.
func TestHostileText(t *testing.T) {
	cmd := "echo \x1b]0;pwned\x07 \xff\u202eexe.sh"
	v := New(bashApproval(t, cmd), Options{Width: 80}).View()
	if strings.ContainsAny(v, "\x1b\x07\u202e") || !strings.Contains(v, `echo \x1b]0;pwned\x07 \xff\u202eexe.sh`) {
		t.Fatalf("view:\n%s", v)
	}
	// A tab expanded, and the carets under the part marked.
	v = New(bashApproval(t, "ls \x1b[2J && make\tall"), Options{Width: 80}).View()
	lines := strings.Split(v, "\n")
	if lines[1] != `  $ ls \x1b[2J && make      all` || lines[2] != "                  ^^^^^^^^^^^^^" {
		t.Errorf("view:\n%s", v)
	}
	// A model's multi-line command: every line shown, and a long line
	// wrapped, never cut.
	long := "make " + strings.Repeat("target ", 20) + "\nnpm test"
	v = New(bashApproval(t, long), Options{Width: 40, Home: "/home/ada"}).View()
	var shown strings.Builder
	for _, l := range strings.Split(v, "\n") {
		if strings.HasPrefix(l, "  $ ") || strings.HasPrefix(l, "    ") && strings.Trim(l, " ^") != "" {
			shown.WriteString(l[4:])
		}
	}
	if nospace := func(s string) string { return strings.Join(strings.Fields(s), "") }; !strings.HasPrefix(nospace(shown.String()), nospace(long)) {
		t.Errorf("command shown as %q; view:\n%s", shown.String(), v)
	}
	if !strings.Contains(v, "in ~/.config/lathe/") {
		t.Errorf("the user file is cut:\n%s", v)
	}
	for _, l := range strings.Split(v, "\n") {
		if w := len([]rune(l)); w > 40 {
			t.Errorf("line of %d columns at width 40: %q", w, l)
		}
	}
}

// TestCannotKeep checks that an "always" that can keep no rule says
// why, and is not offered as an answer.
func TestCannotKeep(t *testing.T) {
	req := bashApproval(t, "eval $CMD")
	if len(req.Keep.Rules) != 0 {
		t.Fatalf("narrowest rules %q", req.Keep.Rules)
	}
	m := press(t, New(req, Options{Width: 80}), "p")
	if m.Done() || m.stage != choosing || !strings.Contains(m.View(), "no rule can allow this call") {
		t.Errorf("always on an unkeepable call: stage %v, view:\n%s", m.stage, m.View())
	}
	req.Keep = nil
	if m := press(t, New(req, Options{Width: 80}), "u"); m.Done() || !strings.Contains(m.View(), "cannot keep rules") {
		t.Errorf("view:\n%s", m.View())
	}
	// A terminal too small says so.
	if v := New(req, Options{Width: 10}).View(); !strings.HasPrefix(v, "terminal") || len(v) > 10+2 {
		t.Errorf("view at width 10: %q", v)
	}
}

// TestChanges checks the diff the dialog works out for each edit tool:
// an Edit as the tool makes it (and one that will fail), a Write of a
// new and of an existing file, and a patch's files.
func TestChanges(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "server.go")
	if err := os.WriteFile(path, []byte(serverGo), 0o644); err != nil {
		t.Fatal(err)
	}
	edit := func(name string, input any, writes ...string) *agent.Approval {
		in, _ := json.Marshal(input)
		return &agent.Approval{Name: name, Input: in, Call: &policy.Call{Tool: name, Kind: policy.Edit, Dir: dir, Writes: writes, LexicalWrites: writes}}
	}
	in := editInput(path)
	want := cells.NewDiff(path, serverGo, strings.Replace(serverGo, in["old_string"], in["new_string"], 1), 1)
	ch := Changes(edit("Edit", in, path))
	if len(ch) != 1 || !reflect.DeepEqual(ch[0].Diff, want) || ch[0].Created || ch[0].Note != "" {
		t.Errorf("Edit: %+v", ch)
	}
	in["old_string"] = "not there"
	if ch := Changes(edit("Edit", in, path)); len(ch) != 1 || ch[0].Diff.Hunks[0].OldStart != 0 || !strings.Contains(ch[0].Note, "will fail") {
		t.Errorf("failing Edit: %+v", ch)
	}
	newFile := filepath.Join(dir, "new.go")
	if ch := Changes(edit("Write", map[string]string{"file_path": newFile, "content": "package web\n"}, newFile)); len(ch) != 1 || !ch[0].Created || !reflect.DeepEqual(ch[0].Diff, cells.NewDiff(newFile, "", "package web\n", 1)) {
		t.Errorf("Write of a new file: %+v", ch)
	}
	if ch := Changes(edit("Write", map[string]string{"file_path": path, "content": "x\n"}, path)); len(ch) != 1 || ch[0].Created || !reflect.DeepEqual(ch[0].Diff, cells.NewDiff(path, serverGo, "x\n", 1)) {
		t.Errorf("Write over a file: %+v", ch)
	}
	p := "*** Begin Patch\n*** Add File: a.txt\n+hello\n*** Update File: server.go\n@@ func Serve(addr string) error {\n-\treturn http.ListenAndServe(addr, mux)\n+\treturn nil\n*** Delete File: server.go\n*** End Patch\n"
	ch = Changes(edit("apply_patch", p, filepath.Join(dir, "a.txt"), path))
	if len(ch) != 3 || !ch[0].Created || ch[0].Path != filepath.Join(dir, "a.txt") ||
		len(ch[1].Diff.Hunks) != 1 || ch[1].Diff.Hunks[0].Header != "func Serve(addr string) error {" || ch[1].Diff.Hunks[0].OldStart != 0 ||
		!ch[2].Deleted {
		t.Errorf("apply_patch: %+v", ch)
	}
	v := New(edit("apply_patch", p, filepath.Join(dir, "a.txt"), path), Options{Width: 80, Changes: ch}).View()
	for _, want := range []string{"a.txt (+1 −0) — new file", "server.go (+1 −1)\n", "server.go (+0 −14) — deleted", "@@ func Serve", "- \treturn http.ListenAndServe"[:2]} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	if Changes(bashApproval(t, "ls")) != nil {
		t.Error("changes of a command")
	}
}

// TestDiffScrolls checks that a diff longer than the screen shows a
// screenful, says how much more there is, and scrolls.
func TestDiffScrolls(t *testing.T) {
	var old, new strings.Builder
	for i := range 200 {
		old.WriteString("line\n")
		if i%2 == 0 {
			new.WriteString("changed\n")
		} else {
			new.WriteString("line\n")
		}
	}
	req, _ := editApproval(t)
	m := New(req, Options{Width: 80, Height: 30, Changes: []Change{wholeChange(testWorkspace+"/x", old.String(), new.String())}})
	v := m.View()
	if !strings.Contains(v, "more lines (pgdn)") || strings.Count(v, "\n") > 40 {
		t.Fatalf("view:\n%s", v)
	}
	if m2 := press(t, m, "pgdown"); m2.View() == v || m2.scroll == 0 {
		t.Error("pgdn did not scroll")
	}
	if n := strings.Count(v, "\n") + 1; n > 30 {
		t.Errorf("%d lines on a 30-line terminal", n)
	}
	// Scrolled to the end, the last line shows and no more.
	for range 50 {
		m = press(t, m, "pgdown")
	}
	if v := m.View(); strings.Contains(v, "more lines") || !strings.Contains(v, "200 200   line") {
		t.Errorf("at the end:\n%s", v)
	}
}

// TestFitsHeight checks that the rules of a long command line shrink to
// a count where the dialog would not fit the terminal, and show when
// their answer is highlighted.
func TestFitsHeight(t *testing.T) {
	req := bashApproval(t, "npm ci && npm run lint && npm run build && npm test && git add -A && git commit -m x && git push")
	if len(req.Keep.Rules) != 7 {
		t.Fatalf("rules %q", req.Keep.Rules)
	}
	m := New(req, Options{Width: 100, Height: 24})
	v := m.View()
	if n := strings.Count(v, "\n") + 1; n > 24 || !strings.Contains(v, "allow 7 rules (highlight to see them)") {
		t.Errorf("%d lines:\n%s", n, v)
	}
	if v := press(t, m, "down", "down").View(); !strings.Contains(v, "Bash(git push)") {
		t.Errorf("highlighted always does not show its rules:\n%s", v)
	}
	if v := New(req, Options{Width: 100, Height: 60}).View(); strings.Contains(v, "highlight to see") {
		t.Errorf("compact on a tall terminal:\n%s", v)
	}
}

// TestNotify checks that the dialog asks the terminal to notify only
// while it is unfocused, once, in the form the terminal understands.
func TestNotify(t *testing.T) {
	req := bashApproval(t, "npm test")
	m := New(req, Options{Width: 80, Notify: NotifyOSC9})
	if cmd := m.Init(); cmd != nil {
		t.Errorf("focused: Init = %v, want no notification", cmd())
	}
	m, cmd := m.Update(tea.BlurMsg{})
	if cmd == nil {
		t.Fatal("no notification on blur")
	}
	if raw, ok := cmd().(tea.RawMsg); !ok || raw.Msg != "\x1b]9;Lathe: Bash wants to run a command — approval needed\x1b\\" {
		t.Errorf("notification %q", cmd())
	}
	m, _ = m.Update(tea.FocusMsg{})
	if _, cmd := m.Update(tea.BlurMsg{}); cmd != nil {
		t.Error("notified twice")
	}
	// Opened unfocused, Init notifies, and a blur later does not again.
	m = New(req, Options{Notify: NotifyBell})
	m.SetFocused(false)
	m.SetSize(160, 50)
	if !m.split {
		t.Error("not split at 160 columns")
	}
	if cmd := m.Init(); cmd == nil || cmd().(tea.RawMsg).Msg != "\a" {
		t.Error("Init did not ring the bell")
	}
	if _, cmd := m.Update(tea.BlurMsg{}); cmd != nil {
		t.Error("notified twice")
	}
	// Opened while unfocused, through a program: the sequence reaches
	// the terminal.
	m = New(req, Options{Width: 80, Notify: NotifyOSC777, Unfocused: true})
	tm := teatest.NewTestModel(t, host{m: m}, teatest.WithInitialTermSize(80, 30))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return strings.Contains(string(b), "\x1b]777;notify;Lathe;Bash wants to run a command — approval needed\x1b\\")
	}, teatest.WithDuration(20*time.Second))
	tm.Send(key("y"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(20*time.Second))
}

func TestDetectNotify(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want Notify
	}{
		{map[string]string{"TERM": "dumb"}, NotifyNone},
		{map[string]string{"TERM": "xterm-256color"}, NotifyBell},
		{map[string]string{"TERM": "xterm-256color", "TERM_PROGRAM": "iTerm.app"}, NotifyOSC9},
		{map[string]string{"TERM": "xterm-kitty"}, NotifyOSC9},
		{map[string]string{"TERM": "xterm-256color", "WT_SESSION": "x"}, NotifyOSC9},
		{map[string]string{"TERM": "foot"}, NotifyOSC777},
		{map[string]string{"TERM": "xterm-256color", "VTE_VERSION": "7600"}, NotifyOSC777},
		{map[string]string{"TERM": "tmux-256color", "TERM_PROGRAM": "iTerm.app", "TMUX": "/tmp/t,1,0"}, NotifyBell},
		{map[string]string{"TERM": "screen"}, NotifyBell},
	}
	for _, tt := range tests {
		if got := DetectNotify(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("DetectNotify(%v) = %v, want %v", tt.env, got, tt.want)
		}
	}
	// What the model wrote cannot end the sequence or start another.
	if got := NotifyOSC777.Sequence("a;b", "x\x1b\\y\x07z\u009c"); got != "\x1b]777;notify;a,b;x \\y z \x1b\\" {
		t.Errorf("Sequence = %q", got)
	}
	if got := NotifyNone.Sequence("a", "b"); got != "" {
		t.Errorf("NotifyNone.Sequence = %q", got)
	}
}

// BenchmarkViewLongDiff measures a redraw of the dialog of a write that
// changes every tenth line of a 20,000-line file, after the first: what
// each key press costs.
func BenchmarkViewLongDiff(b *testing.B) {
	var old, new strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&old, "line %d\n", i)
		if i%10 == 0 {
			fmt.Fprintf(&new, "changed %d\n", i)
		} else {
			fmt.Fprintf(&new, "line %d\n", i)
		}
	}
	t := &testing.T{}
	req, _ := editApproval(t)
	m := New(req, Options{Width: 120, Height: 50, Changes: []Change{wholeChange(testWorkspace+"/big.txt", old.String(), new.String())}})
	m.View()
	b.ReportAllocs()
	for b.Loop() {
		m, _ = m.Update(key("down"))
		_ = m.View()
	}
}

// FuzzCommandView checks that whatever command the model writes, the
// plain dialog sends the terminal no control character but the line
// break, and no line wider than the terminal.
func FuzzCommandView(f *testing.F) {
	for _, s := range []string{"ls", "echo \x1b]0;x\x07", "a\tb\nc", "\xff\xfe", "\u202e\u200b", "x=$(y) z", "日本語 && 🎉", strings.Repeat("w", 300)} {
		f.Add(s, 40)
	}
	f.Fuzz(func(t *testing.T, cmd string, width int) {
		width = 24 + abs(width%200)
		// The policy's judgement is not what is fuzzed: a part in the
		// middle needs approval, and the rule names the whole line.
		ask := policy.Decision{Verdict: policy.Ask, Reason: "asks: " + cmd}
		req := &agent.Approval{
			CallID: "toolu_1", Name: "Bash", Decision: ask,
			Call:  &policy.Call{Tool: "Bash", Kind: policy.Exec, Command: cmd, Dir: testWorkspace},
			Parts: []policy.Part{{What: cmd, Start: len(cmd) / 3, End: 2 * len(cmd) / 3, Decision: ask}},
			Keep:  &agent.Keep{Rules: []string{"Bash(" + cmd + ")", cmd}, Files: map[agent.Scope]string{agent.ProjectScope: testWorkspace + "/" + cmd}},
		}
		v := New(req, Options{Width: width}).View()
		for _, l := range strings.Split(v, "\n") {
			if strings.ContainsFunc(l, func(r rune) bool { return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 }) {
				t.Fatalf("control character in %q", l)
			}
			if w := ansi.StringWidth(l); w > width {
				t.Fatalf("line of %d columns at width %d: %q", w, width, l)
			}
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
