package tui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/tui/cells"
)

func press(s string) tea.KeyPressMsg {
	switch s {
	case "ctrl+o":
		return tea.KeyPressMsg{Code: 'o', Mod: tea.ModCtrl}
	case "alt+o":
		return tea.KeyPressMsg{Code: 'o', Mod: tea.ModAlt}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	}
	r := []rune(s)
	if len(r) != 1 {
		panic("no key " + s)
	}
	return tea.KeyPressMsg{Code: r[0], Text: s}
}

// typeKeys sends each of keys: a named key, or text one rune at a time.
func typeKeys(m *model, keys ...string) {
	for _, k := range keys {
		switch k {
		case "ctrl+o", "alt+o", "esc", "enter", "pgup", "backspace":
			m.Update(press(k))
			continue
		}
		for _, r := range k {
			m.Update(press(string(r)))
		}
	}
}

// bash adds a finished Bash call with output to m's transcript.
func bash(m *model, id, command, output string) {
	input, _ := json.Marshal(map[string]string{"command": command})
	zero := 0
	m.apply([]event.Event{
		{Type: event.ToolStart, CallID: id, Name: "Bash", Input: input},
		{Type: event.ToolEnd, CallID: id, Name: "Bash", Output: output, ExitCode: &zero},
	})
}

// pagerModel is a model at w×h with a transcript of n notices, each
// "notice I", and a Bash call whose output only the pager shows.
func pagerModel(t *testing.T, w, h, n int) *model {
	t.Helper()
	m := newModel(context.Background(), stub{}, newFeed(), Options{})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	for i := range n {
		m.notice(fmt.Sprintf("notice %d", i))
		if i == n/2 {
			bash(m, "1", "make test", "ok  needle in the output\nFAIL Needle upper")
		}
	}
	return m
}

func frame(m *model) string { return ansi.Strip(m.View().Content) }

// TestPagerExpands checks that transcript mode shows a call's output,
// which the normal view does not, and closes with Esc, q and Ctrl+O.
func TestPagerExpands(t *testing.T) {
	for _, closer := range []string{"esc", "q", "ctrl+o"} {
		t.Run(closer, func(t *testing.T) {
			m := pagerModel(t, 80, 20, 4)
			if strings.Contains(frame(m), "needle in the output") {
				t.Fatalf("the normal view shows the output:\n%s", frame(m))
			}
			typeKeys(m, "ctrl+o")
			f := frame(m)
			if !strings.Contains(f, "needle in the output") || !strings.Contains(f, "Transcript ·") {
				t.Errorf("transcript mode:\n%s", f)
			}
			typeKeys(m, closer)
			if m.pager != nil || strings.Contains(frame(m), "Transcript ·") {
				t.Errorf("%s did not close transcript mode:\n%s", closer, frame(m))
			}
		})
	}
}

// TestPagerKeepsPlace checks that the normal view is where it was, and
// not following, after scrolling in transcript mode; and that a
// following view still follows.
func TestPagerKeepsPlace(t *testing.T) {
	m := pagerModel(t, 60, 12, 40)
	typeKeys(m, "pgup")
	before := frame(m)
	typeKeys(m, "ctrl+o", "g", "j", "j", "/", "notice 39", "enter", "q")
	if got := frame(m); got != before || m.tr.follow {
		t.Errorf("after transcript mode (follow %v):\n%s\nwant:\n%s", m.tr.follow, got, before)
	}
	m.tr.end()
	typeKeys(m, "ctrl+o", "g", "q")
	if !m.tr.follow {
		t.Error("the following view stopped following")
	}
}

// TestPagerFollows checks that transcript mode at the end shows the
// cells that arrive, and scrolled up does not move.
func TestPagerFollows(t *testing.T) {
	m := pagerModel(t, 60, 12, 30)
	typeKeys(m, "ctrl+o")
	m.notice("fresh cell")
	if f := frame(m); !strings.Contains(f, "fresh cell") || !strings.Contains(f, "(END)") {
		t.Errorf("following transcript mode:\n%s", f)
	}
	typeKeys(m, "k", "k", "k")
	f := frame(m)
	m.notice("another cell")
	if got := frame(m); got != f {
		t.Errorf("scrolled-up transcript mode moved:\n%s\nwas:\n%s", got, f)
	}
	typeKeys(m, "G")
	if !strings.Contains(frame(m), "another cell") {
		t.Errorf("G did not go to the end:\n%s", frame(m))
	}
}

// TestPagerSearch drives / n N: matches from the window's top, wrap at
// either end with a notice, smart case, and no match.
func TestPagerSearch(t *testing.T) {
	m := pagerModel(t, 60, 8, 20)
	hit := func() string {
		t.Helper()
		if !m.pager.hasHit {
			t.Fatalf("no hit; footer %q", m.pagerFooter())
		}
		h := m.pager.hit
		return fmt.Sprintf("%d:%d", h.cell, h.line)
	}
	typeKeys(m, "ctrl+o", "g", "/", "notice 1", "enter")
	// "notice 1", "notice 10" … "notice 19" match: cells 1, 10 and 12
	// to 20 (the call is cell 11), on the line after each one's gap.
	if got := hit(); got != "1:1" {
		t.Errorf("first hit %s", got)
	}
	typeKeys(m, "n")
	if got := hit(); got != "10:1" {
		t.Errorf("n: hit %s", got)
	}
	if !strings.Contains(m.View().Content, "\x1b[7mnotice 1\x1b[27m0") {
		t.Errorf("the hit is not in reverse video:\n%q", m.View().Content)
	}
	typeKeys(m, "N", "N")
	if got, ft := hit(), m.pagerFooter(); got != "20:1" || !strings.Contains(ft, "search hit TOP, continuing at BOTTOM") {
		t.Errorf("N past the top: hit %s, footer %q", got, ft)
	}
	typeKeys(m, "n")
	if got, ft := hit(), m.pagerFooter(); got != "1:1" || !strings.Contains(ft, "search hit BOTTOM, continuing at TOP") {
		t.Errorf("n past the bottom: hit %s, footer %q", got, ft)
	}
	// Lower case matches either case; upper case only itself.
	typeKeys(m, "/", "needle", "enter")
	if got := hit(); got != "11:2" {
		t.Errorf("needle: hit %s", got)
	}
	typeKeys(m, "n")
	if got := hit(); got != "11:3" {
		t.Errorf("needle, n: hit %s, want the upper-case one", got)
	}
	typeKeys(m, "/", "Needle", "enter", "n")
	if got := hit(); got != "11:3" {
		t.Errorf("Needle: hit %s, want only the upper-case one", got)
	}
	typeKeys(m, "/", "absent", "enter")
	if m.pager.hasHit || !strings.Contains(m.pagerFooter(), "no match for absent") {
		t.Errorf("absent: footer %q", m.pagerFooter())
	}
	// Enter on an empty query repeats the last search; Esc gives up.
	typeKeys(m, "/", "enter")
	if !strings.Contains(m.pagerFooter(), "no match for absent") {
		t.Errorf("empty query: footer %q", m.pagerFooter())
	}
	typeKeys(m, "/", "x", "esc")
	if m.pager.typing || m.pager.pattern != "absent" {
		t.Errorf("Esc on the query: typing %v, pattern %q", m.pager.typing, m.pager.pattern)
	}
}

// TestPagerSearchTeatest drives transcript mode through a running
// program: open, search, see the match shown, go back.
func TestPagerSearchTeatest(t *testing.T) {
	m := pagerModel(t, 70, 10, 40)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(70, 10))
	tm.Send(press("ctrl+o"))
	tm.Send(press("g"))
	tm.Type("/needle")
	tm.Send(press("enter"))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return bytes.Contains(b, []byte("needle in the output"))
	}, teatest.WithDuration(20*time.Second))
	tm.Send(press("q"))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return bytes.Contains(b, []byte("no model yet"))
	}, teatest.WithDuration(20*time.Second))
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(20*time.Second)).(*model)
	if fm.pager != nil || !fm.tr.follow {
		t.Errorf("after q: pager %v, follow %v", fm.pager, fm.tr.follow)
	}
}

// TestPagerGolden pins transcript mode at 80 columns with a search hit:
// the call expanded, the hit in reverse video, the other match
// underlined.
func TestPagerGolden(t *testing.T) {
	m := pagerModel(t, 80, 14, 6)
	typeKeys(m, "ctrl+o", "g", "/", "needle", "enter")
	golden.RequireEqual(t, m.View().Content+"\n")
}

// TestHighlight checks the marks of matches in styled lines: the styles
// kept around them, wide characters counted by their columns.
func TestHighlight(t *testing.T) {
	for _, tc := range []struct {
		line, query string
		cur         [2]int
		want        string
	}{
		{"abc abc", "abc", [2]int{4, 7}, "\x1b[4mabc\x1b[24m \x1b[7mabc\x1b[27m"},
		{"\x1b[1mbold\x1b[m tail", "tail", [2]int{}, "\x1b[1mbold\x1b[m \x1b[4mtail\x1b[24m"},
		{"界x界x", "x", [2]int{5, 6}, "界\x1b[4mx\x1b[24m界\x1b[7mx\x1b[27m"},
		{"ABC", "abc", [2]int{0, 3}, "\x1b[7mABC\x1b[27m"},
		{"abc", "Abc", [2]int{}, "abc"},
	} {
		if got := highlight(tc.line, newMatcher(tc.query), tc.cur); got != tc.want {
			t.Errorf("highlight(%q, %q) = %q, want %q", tc.line, tc.query, got, tc.want)
		}
	}
}

// TestWriteAllOnce checks that cells written to the scrollback from
// transcript mode are not printed again at exit, and that cells that
// came after, or were running, are: each cell exactly once.
func TestWriteAllOnce(t *testing.T) {
	m := pagerModel(t, 80, 20, 3)
	typeKeys(m, "ctrl+o")
	cmd := m.writeAll()
	if cmd == nil || m.printed != len(m.tr.cells) || !strings.Contains(m.pagerFooter(), "wrote 4 cells") {
		t.Fatalf("write all: printed %d of %d, footer %q", m.printed, len(m.tr.cells), m.pagerFooter())
	}
	if m.writeAll() != nil || !strings.Contains(m.pagerFooter(), "already") {
		t.Errorf("a second write: footer %q", m.pagerFooter())
	}
	m.notice("MARK after the write")
	var out strings.Builder
	if err := m.printRest(&out); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); strings.Contains(got, "notice 0") || strings.Count(got, "MARK after the write") != 1 {
		t.Errorf("printed at exit:\n%s", got)
	}
	// A write that failed counts its cells as not printed.
	m = pagerModel(t, 80, 20, 3)
	typeKeys(m, "ctrl+o")
	m.writeAll()
	m.Update(writtenMsg{err: io.ErrShortWrite, first: 0, next: m.printed})
	if m.printed != 0 || !strings.Contains(m.pagerFooter(), "short write") {
		t.Errorf("after a failed write: printed %d, footer %q", m.printed, m.pagerFooter())
	}
}

// TestScrollbackExec checks the exec write-all runs: it prints the text
// to the terminal the program hands over, and returns at once.
func TestScrollbackExec(t *testing.T) {
	var out strings.Builder
	e := &scrollbackExec{text: "cell one\ncell two\n"}
	e.SetStdout(&out)
	if err := e.Run(); err != nil || out.String() != "cell one\ncell two\n" {
		t.Errorf("Run: %v, wrote %q", err, out.String())
	}
}

// TestEditTranscript opens the transcript in $EDITOR: a script that
// copies its file shows the text plain, expanded, from a 0600 file that
// is gone afterwards.
func TestEditTranscript(t *testing.T) {
	dir := t.TempDir()
	copyTo := filepath.Join(dir, "seen.txt")
	script := filepath.Join(dir, "ed.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nstat -c %a \"$1\" > "+copyTo+".mode\ncp \"$1\" "+copyTo+"\necho \"$1\" > "+copyTo+".path\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VISUAL", "")
	t.Setenv("EDITOR", script)
	m := newModel(context.Background(), stub{}, newFeed(), Options{CellStyles: cells.DefaultStyles()})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 20})
	bash(m, "1", "make test", "ok  needle in the output")
	typeKeys(m, "ctrl+o")
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 20))
	tm.Send(press("v"))
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, err := os.ReadFile(copyTo + ".path"); err == nil && len(b) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the editor did not run")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	tm.FinalModel(t, teatest.WithFinalTimeout(20*time.Second))
	seen, _ := os.ReadFile(copyTo)
	if !strings.Contains(string(seen), "needle in the output") || strings.Contains(string(seen), "\x1b") {
		t.Errorf("the editor saw %q", seen)
	}
	if mode, _ := os.ReadFile(copyTo + ".mode"); strings.TrimSpace(string(mode)) != "600" {
		t.Errorf("the file's mode is %s", mode)
	}
}

// TestClickToggles clicks a tool call's line in the normal view: it
// expands, shows its output, and a second click folds it; a click on
// another cell toggles nothing.
func TestClickToggles(t *testing.T) {
	m := pagerModel(t, 80, 20, 4)
	lines := strings.Split(frame(m), "\n")
	row := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "Bash make test") {
			row = i
		}
	}
	if row < 0 {
		t.Fatalf("no call line:\n%s", frame(m))
	}
	click := func(y int) { m.Update(tea.MouseClickMsg{X: 3, Y: y, Button: tea.MouseLeft}) }
	click(row - 1)
	if strings.Contains(frame(m), "needle in the output") {
		t.Fatalf("a click on the notice above expanded the call:\n%s", frame(m))
	}
	click(row)
	if !strings.Contains(frame(m), "needle in the output") {
		t.Fatalf("a click on the call did not expand it:\n%s", frame(m))
	}
	// The transcript follows: expanded, the call's line moved up.
	lines = strings.Split(frame(m), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "Bash make test") {
			row = i
		}
	}
	click(row)
	if strings.Contains(frame(m), "needle in the output") {
		t.Errorf("a second click did not fold the call:\n%s", frame(m))
	}
	typeKeys(m, "alt+o")
	if !strings.Contains(frame(m), "needle in the output") {
		t.Errorf("Alt+O did not expand the last call:\n%s", frame(m))
	}
}
