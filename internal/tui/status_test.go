package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/lathe-dev/lathe/internal/app"
)

// ticking is a model whose scheduled ticks are counted, not run.
func ticking(animations bool) (*model, *[]tea.Msg) {
	m := newModel(context.Background(), stub{}, newFeed(), Options{Animations: animations})
	var ticks []tea.Msg
	m.tick = func(_ time.Duration, fn func(time.Time) tea.Msg) tea.Cmd {
		ticks = append(ticks, fn(time.Now()))
		return nil
	}
	return m, &ticks
}

// TestIdleSchedulesNoTick checks that the only timer, the activity
// indicator's, runs while a prompt runs and at no other time: not at
// start, not on input, not after the run ended, and never with
// animations off.
func TestIdleSchedulesNoTick(t *testing.T) {
	m, ticks := ticking(true)
	m.Init()
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.Update(tea.KeyPressMsg{Code: 'a', Text: "a"})
	if len(*ticks) != 0 {
		t.Fatalf("idle: %d ticks scheduled, want none", len(*ticks))
	}

	m.submit("hello", nil)
	if len(*ticks) != 1 {
		t.Fatalf("running: %d ticks scheduled, want 1", len(*ticks))
	}
	first := (*ticks)[0]
	m.Update(first)
	if len(*ticks) != 2 || m.status.frame != 1 {
		t.Fatalf("after a tick: %d ticks scheduled, frame %d; want the next one, frame 1", len(*ticks), m.status.frame)
	}
	if line := m.status.line(80); !strings.Contains(line, "working") {
		t.Errorf("status line %q says nothing runs", line)
	}

	m.Update(runDone{res: app.Result{}})
	m.Update((*ticks)[1])
	if len(*ticks) != 2 {
		t.Fatalf("after the run: %d ticks scheduled, want no more than the 2 before", len(*ticks))
	}
	// A tick of an earlier run does not start a second chain beside a
	// new run's.
	m.submit("again", nil)
	n := len(*ticks)
	m.Update(first)
	if len(*ticks) != n {
		t.Errorf("a stale tick scheduled another: %d ticks, want %d", len(*ticks), n)
	}

	m, ticks = ticking(false)
	m.Init()
	m.submit("hello", nil)
	m.Update(animTick{gen: m.tickGen})
	m.Update(runDone{res: app.Result{}})
	if len(*ticks) != 0 {
		t.Errorf("animations off: %d ticks scheduled, want none", len(*ticks))
	}
	if m.status.frame != 0 {
		t.Errorf("animations off: the spinner moved to frame %d", m.status.frame)
	}
}
