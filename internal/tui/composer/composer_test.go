package composer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/lathe-dev/lathe/internal/slash"
	"github.com/lathe-dev/lathe/internal/tui/palette"
)

// press returns the key press that s names: "enter", "ctrl+j",
// "shift+enter", "up", or a single printable character.
func press(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "shift+enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter, Mod: tea.ModShift}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	}
	if c, ok := strings.CutPrefix(s, "ctrl+"); ok {
		return tea.KeyPressMsg{Code: rune(c[0]), Mod: tea.ModCtrl}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

// typeText sends each character of s, then the named keys.
func typeText(m Model, s string, keys ...string) (Model, []tea.Msg) {
	var msgs []tea.Msg
	for _, r := range s {
		m, msgs = send(m, msgs, press(string(r)))
	}
	for _, k := range keys {
		m, msgs = send(m, msgs, press(k))
	}
	return m, msgs
}

// send updates m with msg and runs the commands it returns, as the
// program would: the composer's own messages go back to it, the others
// are collected.
func send(m Model, msgs []tea.Msg, msg tea.Msg) (Model, []tea.Msg) {
	var cmd tea.Cmd
	m, cmd = m.Update(msg)
	pending := []tea.Cmd{cmd}
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		if c == nil {
			continue
		}
		switch out := c().(type) {
		case nil:
		case tea.BatchMsg:
			pending = append(pending, out...)
		case atMatches, indexReady, editorDone:
			m, c = m.Update(out)
			pending = append(pending, c)
		default:
			msgs = append(msgs, out)
		}
	}
	return m, msgs
}

func submitted(t *testing.T, msgs []tea.Msg) string {
	t.Helper()
	for _, msg := range msgs {
		if s, ok := msg.(Submitted); ok {
			return s.Text
		}
	}
	t.Fatalf("nothing submitted: %v", msgs)
	return ""
}

func TestEnterSubmits(t *testing.T) {
	m := New(Options{})
	m, msgs := typeText(m, "fix the tests", "enter")
	if got := submitted(t, msgs); got != "fix the tests" {
		t.Errorf("submitted %q", got)
	}
	if m.Value() != "" {
		t.Errorf("composer holds %q after submitting", m.Value())
	}
	// A blurred composer takes no keys.
	m = m.Blur()
	if m, msgs := typeText(m, "x", "enter"); len(msgs) != 0 || m.Value() != "" {
		t.Errorf("blurred: %v, %q", msgs, m.Value())
	}
	m = m.Focus()
	// A blank composer sends nothing.
	if _, msgs := typeText(m, "  ", "enter"); len(msgs) != 0 {
		t.Errorf("blank input sent %v", msgs)
	}
}

func TestNewlines(t *testing.T) {
	m := New(Options{})
	m, _ = typeText(m, "one", "ctrl+j")
	m, _ = typeText(m, "two", "shift+enter")
	m, _ = typeText(m, `three\`, "enter")
	m, msgs := typeText(m, "four", "enter")
	if got := submitted(t, msgs); got != "one\ntwo\nthree\nfour" {
		t.Errorf("submitted %q", got)
	}
	// A backslash that is not before the cursor is text.
	m, _ = typeText(m, `a\b`, "enter")
	_ = m
}

func TestPasteChip(t *testing.T) {
	m := New(Options{})
	m, _ = typeText(m, "look: ")
	small := "short paste\r\nline two"
	m, _ = m.Update(tea.PasteMsg{Content: small})
	long := strings.Repeat("0123456789abcdefghij\n", 60) // 1,260 characters, 60 lines
	m, _ = m.Update(tea.PasteMsg{Content: long})
	long2 := strings.Repeat("é", PasteThreshold+1) // over in characters, one line
	m, _ = m.Update(tea.PasteMsg{Content: long2})
	view := ansi.Strip(m.View())
	if !strings.Contains(view, "[Pasted text #1 +60 lines]") || !strings.Contains(view, "[Pasted text #2 +1 lines]") {
		t.Fatalf("no chips in view:\n%s", view)
	}
	if strings.Contains(view, "0123456789") {
		t.Errorf("the long paste is shown in full:\n%s", view)
	}
	m, msgs := typeText(m, " end", "enter")
	want := "look: short paste\nline two" + long + long2 + " end"
	if got := submitted(t, msgs); got != want {
		t.Errorf("submitted %q…, want the pastes in full", got[:min(len(got), 80)])
	}
	// Chip numbers go on across prompts; Backspace deletes a chip whole.
	m, _ = typeText(m, "a ")
	m, _ = m.Update(tea.PasteMsg{Content: long})
	if got := m.Value(); got != "a "+long {
		t.Errorf("third paste = %q", got)
	}
	if !strings.Contains(ansi.Strip(m.View()), "[Pasted text #3 +60 lines]") {
		t.Errorf("third chip:\n%s", ansi.Strip(m.View()))
	}
	m, _ = typeText(m, "", "backspace")
	if got := m.Value(); got != "a " {
		t.Errorf("after backspace = %q", got)
	}
	// A chip edited in the middle is text, sent as typed.
	m, _ = m.Update(tea.PasteMsg{Content: long})
	m, _ = typeText(m, "", "left", "backspace")
	if got := m.Value(); got != "a [Pasted text #4 +60 line]" {
		t.Errorf("edited chip = %q", got)
	}
}

// TestHugePaste: a 10 MB paste is a chip; the text area never holds it.
func TestHugePaste(t *testing.T) {
	huge := strings.Repeat(strings.Repeat("x", 99)+"\n", 100_000) // 10 MB
	m := New(Options{})
	m, _ = m.Update(tea.PasteMsg{Content: huge})
	if n := len(m.ta.Value()); n > 100 {
		t.Fatalf("text area holds %d bytes", n)
	}
	m, _ = typeText(m, "!")
	_, msgs := typeText(m, "", "enter")
	if got := submitted(t, msgs); len(got) != len(huge)+1 {
		t.Errorf("submitted %d bytes, want %d", len(got), len(huge)+1)
	}
}

// BenchmarkKeyAfterHugePaste is BenchmarkKeystroke next to the chip of
// a 10 MB paste.
func BenchmarkKeyAfterHugePaste(b *testing.B) {
	huge := strings.Repeat(strings.Repeat("x", 99)+"\n", 100_000)
	m := New(Options{})
	m, _ = m.Update(tea.PasteMsg{Content: huge})
	// A key and its undoing, so that the text does not grow with b.N.
	for b.Loop() {
		m, _ = m.Update(press("a"))
		_ = m.View()
		m, _ = m.Update(press("backspace"))
		_ = m.View()
	}
}

func BenchmarkHugePaste(b *testing.B) {
	huge := strings.Repeat(strings.Repeat("x", 99)+"\n", 100_000)
	for b.Loop() {
		m := New(Options{})
		m, _ = m.Update(tea.PasteMsg{Content: huge})
		_ = m.View()
	}
}

func TestCommands(t *testing.T) {
	set := slash.NewSet([]slash.Command{{Name: "review", Body: "Review $ARGUMENTS."}})
	h, _ := OpenHistory("")
	m := New(Options{Commands: set, History: h})
	m, _ = typeText(m, "/cmpct")
	if !m.Completing() || !strings.Contains(ansi.Strip(m.View()), "› /compact") {
		t.Fatalf("palette not open on /cmpct:\n%s", ansi.Strip(m.View()))
	}
	m, msgs := typeText(m, "", "enter")
	if len(msgs) != 1 || msgs[0].(palette.Chosen).Command.Name != slash.Compact || m.Value() != "" {
		t.Fatalf("enter on /cmpct: %v, left %q", msgs, m.Value())
	}
	if h.Len() != 1 || h.At(1) != "/compact" {
		t.Errorf("history keeps %q", h.At(1))
	}
	// Tab completes the name; the arguments follow.
	m, _ = typeText(m, "/rev", "tab")
	if m.Value() != "/review " || m.Completing() {
		t.Fatalf("tab made %q", m.Value())
	}
	m, msgs = typeText(m, "internal/x.go", "enter")
	ch := msgs[0].(palette.Chosen)
	if ch.Command.Name != "review" || ch.Args != "internal/x.go" || ch.Command.Expand(ch.Args) != "Review internal/x.go." {
		t.Errorf("chosen %+v", ch)
	}
	// An unknown command stays, with the error shown.
	m, msgs = typeText(m, "/cmpact now", "enter")
	if len(msgs) != 0 || m.Value() != "/cmpact now" || !strings.Contains(ansi.Strip(m.View()), "did you mean /compact?") {
		t.Errorf("unknown command: %v, %q\n%s", msgs, m.Value(), ansi.Strip(m.View()))
	}
	// Esc dismisses the palette; Enter then sends what is typed.
	m = m.Reset()
	m, _ = typeText(m, "/mod", "esc")
	if m.Completing() {
		t.Error("palette open after esc")
	}
	// A path is a prompt, not a command.
	m = m.Reset()
	_, msgs = typeText(m, "/usr/bin/env is broken", "enter")
	if got := submitted(t, msgs); got != "/usr/bin/env is broken" {
		t.Errorf("submitted %q", got)
	}
}

func TestShellLine(t *testing.T) {
	m := New(Options{})
	m, _ = typeText(m, "!")
	if !strings.HasPrefix(ansi.Strip(m.View()), "! !") {
		t.Errorf("shell prompt not shown:\n%s", ansi.Strip(m.View()))
	}
	m, msgs := typeText(m, " git status ", "enter")
	if len(msgs) != 1 || msgs[0] != (Shell{Command: "git status"}) {
		t.Fatalf("sent %#v", msgs)
	}
	if !strings.HasPrefix(ansi.Strip(m.View()), "› ") {
		t.Errorf("prompt not back:\n%s", ansi.Strip(m.View()))
	}
	// "!" alone is a prompt.
	if _, msgs := typeText(m, "!", "enter"); submitted(t, msgs) != "!" {
		t.Errorf("sent %#v", msgs)
	}
}

func TestHistory(t *testing.T) {
	path, err := HistoryPath(t.TempDir(), "/some/workspace")
	if err != nil {
		t.Fatal(err)
	}
	h, err := OpenHistory(path)
	if err != nil || h.Len() != 0 {
		t.Fatalf("new history: %v, %d", err, h.Len())
	}
	m := New(Options{History: h})
	for _, s := range []string{"first", "second\nline", "third"} {
		m, _ = typeText(m, "", "ctrl+j") // a blank line is not kept
		m = m.SetValue(s)
		m, _ = typeText(m, "", "enter")
	}
	m, _ = typeText(m, "third", "enter") // the same again is kept once
	m, _ = typeText(m, "draft")
	steps := []struct{ key, want string }{
		{"up", "third"}, {"up", "second\nline"},
		{"up", "second\nline"}, // the cursor moves to the first line first
		{"up", "first"}, {"up", "first"},
		{"down", "second\nline"}, {"down", "third"}, {"down", "draft"},
	}
	for i, st := range steps {
		m, _ = typeText(m, "", st.key)
		if m.Value() != st.want {
			t.Fatalf("step %d (%s): %q, want %q", i, st.key, m.Value(), st.want)
		}
	}
	// The file keeps them for the next session.
	h2, err := OpenHistory(path)
	if err != nil || h2.Len() != 3 || h2.At(1) != "third" || h2.At(3) != "first" {
		t.Fatalf("reopened: %v, %d", err, h2.Len())
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("history file: %v, %v", fi, err)
	}
	// A line cut short by a crash is skipped.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"t":1,"text":"cut`)
	f.Close()
	if h3, err := OpenHistory(path); err != nil || h3.Len() != 3 {
		t.Errorf("after a torn line: %v, %d", err, h3.Len())
	}
}

// TestHistoryHugeEntry: an entry too long for the text area comes back
// from the history as a chip, whole.
func TestHistoryHugeEntry(t *testing.T) {
	h, _ := OpenHistory("")
	huge := strings.Repeat("line\n", 20_000)
	h.Add(huge)
	m := New(Options{History: h})
	m, _ = typeText(m, "", "up")
	if !strings.Contains(ansi.Strip(m.View()), "[Pasted text #1 +20000 lines]") {
		t.Fatalf("view:\n%s", ansi.Strip(m.View()))
	}
	_, msgs := typeText(m, "", "enter")
	if got := submitted(t, msgs); got != huge {
		t.Errorf("submitted %d bytes, want %d", len(got), len(huge))
	}
}

func TestHistorySearch(t *testing.T) {
	h, _ := OpenHistory("")
	for _, s := range []string{"go test ./...", "fix the parser", "go vet ./..."} {
		h.Add(s)
	}
	m := New(Options{History: h})
	m, _ = typeText(m, "draft", "ctrl+r")
	m, _ = typeText(m, "go")
	if m.Value() != "go vet ./..." || !strings.Contains(ansi.Strip(m.View()), "search history: go") {
		t.Fatalf("search go: %q\n%s", m.Value(), m.View())
	}
	m, _ = typeText(m, "", "ctrl+r")
	if m.Value() != "go test ./..." {
		t.Fatalf("ctrl+r again: %q", m.Value())
	}
	m, _ = typeText(m, "", "ctrl+r") // no older match: stays
	if m.Value() != "go test ./..." {
		t.Fatalf("ctrl+r past the last: %q", m.Value())
	}
	m, _ = typeText(m, "", "esc")
	if m.Value() != "draft" || m.Completing() {
		t.Fatalf("esc: %q", m.Value())
	}
	m, _ = typeText(m, "", "ctrl+r")
	m, _ = typeText(m, "PARSER")
	m, msgs := typeText(m, "", "enter")
	if len(msgs) != 0 || m.Value() != "fix the parser" || m.Completing() {
		t.Fatalf("enter keeps the match for editing: %v, %q", msgs, m.Value())
	}
	m, _ = typeText(m, "", "ctrl+r")
	m, _ = typeText(m, "zzz")
	if !strings.Contains(ansi.Strip(m.View()), "no match") || m.Value() != "fix the parser" {
		t.Errorf("no match: %q\n%s", m.Value(), ansi.Strip(m.View()))
	}
}

func TestHistoryFileUnwritable(t *testing.T) {
	dir := t.TempDir()
	// The history directory's place is taken by a file.
	if err := os.WriteFile(filepath.Join(dir, "history"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	path, _ := HistoryPath(dir, "/w")
	h, err := OpenHistory(path)
	if err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("open: %v", err)
	}
	m := New(Options{History: h})
	m, msgs := typeText(m, "still sent", "enter")
	if submitted(t, msgs) != "still sent" || !strings.Contains(m.View(), "history:") || h.Len() != 1 {
		t.Errorf("unwritable history: %v\n%s", msgs, m.View())
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestAtCompletion(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, ".gitignore"), []byte("build/\n*.log\n"))
	writeFile(t, filepath.Join(root, "internal", "tui", "composer", "composer.go"), []byte("package composer\n"))
	writeFile(t, filepath.Join(root, "internal", "compact", "compact.go"), []byte("package compact\n"))
	writeFile(t, filepath.Join(root, "build", "composer.go"), []byte("ignored\n"))
	writeFile(t, filepath.Join(root, "composer.log"), []byte("ignored\n"))
	writeFile(t, filepath.Join(root, "composer.bin"), []byte("\x00\x01\x02binary"))
	writeFile(t, filepath.Join(root, "README.md"), []byte("# hi\n"))
	writeFile(t, filepath.Join(root, "evil\x1b]0;x\x07.md"), []byte("a name that is a terminal title\n"))
	writeFile(t, filepath.Join(root, "bad\xff", "in.go"), []byte("package in\n"))

	msg := BuildIndex(context.Background(), root)()
	ix := msg.(indexReady).ix
	want := []string{".gitignore", "README.md", "internal/", "internal/compact/", "internal/compact/compact.go", "internal/tui/", "internal/tui/composer/", "internal/tui/composer/composer.go"}
	if strings.Join(ix.Paths, " ") != strings.Join(want, " ") {
		t.Fatalf("index = %q, want %q", ix.Paths, want)
	}

	m := New(Options{})
	m, _ = m.Update(msg)
	m, _ = typeText(m, "look at @comp")
	view := ansi.Strip(m.View())
	if !m.Completing() || !strings.Contains(view, "› @internal/compact/") || !strings.Contains(view, "@internal/tui/composer/composer.go") {
		t.Fatalf("completion list:\n%s", view)
	}
	m, _ = typeText(m, "oser.go", "tab")
	if m.Value() != "look at @internal/tui/composer/composer.go " || m.Completing() {
		t.Fatalf("after tab: %q", m.Value())
	}
	// Completing a directory leaves the word open for its entries.
	m = m.Reset()
	m, _ = typeText(m, "@inter", "enter")
	if m.Value() != "@internal/" || !m.Completing() {
		t.Fatalf("directory: %q", m.Value())
	}
	m, _ = typeText(m, "", "esc")
	if m.Completing() {
		t.Error("esc left the list open")
	}
	_, msgs := typeText(m, "", "enter")
	if got := submitted(t, msgs); got != "@internal/" {
		t.Errorf("submitted %q", got)
	}
}

func TestEditor(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "ed.sh")
	writeFile(t, script, []byte("#!/bin/sh\nprintf ' and more\\n' >> \"$1\"\n"))
	if err := os.Chmod(script, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VISUAL", "")
	t.Setenv("EDITOR", script)
	m := New(Options{})
	m, _ = typeText(m, "draft")
	c, path, err := EditCmd(m.Value(), "lathe-prompt-*.md")
	if err != nil {
		t.Fatal(err)
	}
	m, _ = m.Update(editorDone{path: path, err: c.Run()})
	if m.Value() != "draft and more" {
		t.Errorf("after the editor: %q", m.Value())
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the temporary file is left: %v", err)
	}
	// Text too long for the text area comes back as a chip, whole.
	big := filepath.Join(dir, "big.sh")
	writeFile(t, big, []byte("#!/bin/sh\nseq 1 20000 > \"$1\"\n"))
	if err := os.Chmod(big, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("EDITOR", big)
	c, path, _ = EditCmd(m.Value(), "lathe-prompt-*.md")
	mm, _ := m.Update(editorDone{path: path, err: c.Run()})
	if v := mm.Value(); !strings.HasPrefix(v, "1\n2\n") || !strings.HasSuffix(v, "\n20000") || !strings.Contains(ansi.Strip(mm.View()), "+20000 lines]") {
		t.Errorf("big edit: %d bytes\n%s", len(v), ansi.Strip(mm.View()))
	}
	// A failing editor leaves the text as it was, and says so.
	t.Setenv("EDITOR", "false")
	c, path, _ = EditCmd(m.Value(), "lathe-prompt-*.md")
	m, _ = m.Update(editorDone{path: path, err: c.Run()})
	if m.Value() != "draft and more" || !strings.Contains(m.View(), "the text is unchanged") {
		t.Errorf("failed editor: %q\n%s", m.Value(), m.View())
	}
}

// TestGoldenComposer pins the composer's frames at 80 columns: the
// palette over the text, a chip among lines, an error under the text.
func TestGoldenComposer(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func(m Model) Model
	}{
		{"palette", func(m Model) Model { m, _ = typeText(m, "/co"); return m }},
		{"chip", func(m Model) Model {
			m, _ = typeText(m, "explain this log:", "ctrl+j")
			m, _ = m.Update(tea.PasteMsg{Content: strings.Repeat("ERROR something failed\n", 80)})
			m, _ = typeText(m, "", "ctrl+j")
			m, _ = typeText(m, "and fix it")
			return m
		}},
		{"unknown", func(m Model) Model { m, _ = typeText(m, "/cmpact", "enter"); return m }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden.RequireEqual(t, tc.do(New(Options{}).SetWidth(80)).View())
		})
	}
}

// BenchmarkKeystroke is two keystrokes and two frames in a composer of
// two lines.
func BenchmarkKeystroke(b *testing.B) {
	m := New(Options{})
	m, _ = typeText(m, strings.Repeat("some text typed in the composer ", 3), "ctrl+j")
	m, _ = typeText(m, "more")
	// A key and its undoing, so that the text does not grow with b.N.
	for b.Loop() {
		m, _ = m.Update(press("a"))
		_ = m.View()
		m, _ = m.Update(press("backspace"))
		_ = m.View()
	}
}

// BenchmarkAtKeystroke is a keystroke's cost on the UI goroutine while
// "@" completes over a large repository: the matching is not on it.
func BenchmarkAtKeystroke(b *testing.B) {
	paths := make([]string, 100_000)
	for i := range paths {
		paths[i] = fmt.Sprintf("pkg%03d/sub%02d/file%04d.go", i%1000, i%97, i)
	}
	m := New(Options{Files: NewIndex(paths)})
	m, _ = typeText(m, "@fil")
	for b.Loop() {
		m, _ = m.Update(press("e"))
		m, _ = m.Update(press("backspace"))
	}
}

// BenchmarkAtCompletion is two keystrokes and their matches over 100k
// paths.
func BenchmarkAtCompletion(b *testing.B) {
	paths := make([]string, 100_000)
	for i := range paths {
		paths[i] = fmt.Sprintf("pkg%03d/sub%02d/file%04d.go", i%1000, i%97, i)
	}
	m := New(Options{Files: NewIndex(paths)})
	m, _ = typeText(m, "@fil")
	for b.Loop() {
		m, _ = send(m, nil, press("e"))
		m, _ = send(m, nil, press("backspace"))
	}
}

// TestNoTimers: idle means idle; typing, moving and pasting start no
// command (a blinking cursor would be a timer).
func TestNoTimers(t *testing.T) {
	m := New(Options{})
	for _, msg := range []tea.Msg{press("a"), press("left"), press("ctrl+j"), press("b"), press("backspace"), tea.PasteMsg{Content: "x"}, tea.WindowSizeMsg{Width: 60, Height: 20}, tea.FocusMsg{}} {
		var cmd tea.Cmd
		if m, cmd = m.Update(msg); cmd != nil {
			t.Errorf("%T %v started a command", msg, msg)
		}
	}
}

// TestAtIndexRefresh: with a root, the composer builds its own index when
// a completion starts, and again when it is older than indexMaxAge, so
// that files made since show up.
func TestAtIndexRefresh(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "alpha.go"), []byte("package a\n"))
	clock := time.Unix(1_000_000, 0)
	m := New(Options{Root: root})
	m.now = func() time.Time { return clock }
	m, _ = typeText(m, "@alp")
	if !strings.Contains(ansi.Strip(m.View()), "› @alpha.go") {
		t.Fatalf("first completion:\n%s", ansi.Strip(m.View()))
	}
	writeFile(t, filepath.Join(root, "alpine.go"), []byte("package a\n"))
	m = m.Reset()
	m, _ = typeText(m, "@alpi")
	if m.Completing() {
		t.Fatalf("a fresh index was built again:\n%s", ansi.Strip(m.View()))
	}
	clock = clock.Add(indexMaxAge + time.Second)
	m = m.Reset()
	m, _ = typeText(m, "@alpi")
	if !strings.Contains(ansi.Strip(m.View()), "› @alpine.go") {
		t.Fatalf("after %v:\n%s", indexMaxAge, ansi.Strip(m.View()))
	}
	// An index that cannot be built says so, once the completion starts.
	m = New(Options{Root: filepath.Join(root, "nope")})
	m, _ = typeText(m, "@x")
	if !strings.Contains(m.View(), "file completion:") {
		t.Errorf("no error shown:\n%s", m.View())
	}
}

func TestHelp(t *testing.T) {
	out := Help(40)
	for _, want := range []string{"Keys", "Ctrl+R", "Ctrl+G", "Shift+Enter, Ctrl+J, \\ Enter  new line"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(Help(20), "\n") {
		if ansi.StringWidth(line) > 20 {
			t.Errorf("line %q wider than 20", line)
		}
	}
}
