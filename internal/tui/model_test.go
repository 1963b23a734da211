package tui

import (
	"context"
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/tui/approve"
)

// TestTooSmall checks that a terminal too small for the UI says so, and
// that the UI draws again once it is large enough.
func TestTooSmall(t *testing.T) {
	m := newModel(context.Background(), stub{}, newFeed(), Options{})
	m.Update(tea.WindowSizeMsg{Width: 15, Height: 4})
	if got := m.View().Content; !strings.Contains(got, "Terminal too small") {
		t.Errorf("15×4 frame = %q", got)
	}
	m.Update(tea.WindowSizeMsg{Width: 60, Height: 12})
	if got := m.View().Content; strings.Contains(got, "too small") || !strings.Contains(got, "no model yet") {
		t.Errorf("60×12 frame = %q", got)
	}
}

// TestNewMarker checks that, scrolled up, the frame stays put and says
// how many cells arrived below; End follows again.
func TestNewMarker(t *testing.T) {
	m := newModel(context.Background(), stub{}, newFeed(), Options{})
	m.Update(tea.WindowSizeMsg{Width: 60, Height: 12})
	for i := range 30 {
		m.notice("notice " + string(rune('A'+i%26)))
	}
	m.Update(tea.KeyPressMsg{Code: tea.KeyPgUp})
	m.apply([]event.Event{{Type: event.Text, Text: "fresh answer"}, {Type: event.Text, Text: "another"}})
	frame := m.View().Content
	if !strings.Contains(frame, "2 new cells below") || strings.Contains(frame, "fresh answer") {
		t.Errorf("scrolled-up frame:\n%s", frame)
	}
	m.Update(tea.KeyPressMsg{Code: tea.KeyEnd})
	frame = m.View().Content
	if strings.Contains(frame, "new cell") || !strings.Contains(frame, "another") {
		t.Errorf("frame after End:\n%s", frame)
	}
}

// TestLinkWithoutUI checks that an approval asked while no program runs
// is denied with an error rather than waiting for nobody.
func TestLinkWithoutUI(t *testing.T) {
	if _, err := NewLink().Approve(context.Background(), &agent.Approval{CallID: "1", Name: "Bash"}); !errors.Is(err, errNoUI) {
		t.Errorf("Approve without a UI: %v, want errNoUI", err)
	}
}

// TestLinkWithdraws checks that an approval whose run is interrupted
// returns with the run's error and withdraws its dialog.
func TestLinkWithdraws(t *testing.T) {
	l := NewLink()
	sent := make(chan tea.Msg, 2)
	l.attach(func(msg tea.Msg) { sent <- msg })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := l.Approve(ctx, &agent.Approval{CallID: "7", Name: "Bash"})
		done <- err
	}()
	if msg := <-sent; msg.(approvalMsg).req.CallID != "7" {
		t.Fatalf("first message %v", msg)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Approve after cancel: %v", err)
	}
	if msg := <-sent; msg != (withdrawnMsg{callID: "7"}) {
		t.Errorf("second message %v, want the withdrawal", msg)
	}
}

// TestApprovalReachesApprover checks the core's side of a dialog: the
// answer it gets goes back to the approver waiting for that call.
func TestApprovalReachesApprover(t *testing.T) {
	m := newModel(context.Background(), stub{}, newFeed(), Options{})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	reply := make(chan agent.Answer, 1)
	req := &agent.Approval{CallID: "9", Name: "Bash", Input: []byte(`{"command":"make"}`)}
	m.Update(approvalMsg{req: req, reply: reply})
	if m.dialog == nil || !strings.Contains(m.View().Content, "Bash needs approval") {
		t.Fatalf("no dialog for the approval:\n%s", m.View().Content)
	}
	m.Update(approve.Answered{CallID: "9", Answer: agent.Answer{Grant: agent.Session}})
	if got := <-reply; got.Grant != agent.Session {
		t.Errorf("approver got %+v", got)
	}
	if m.dialog != nil {
		t.Error("the dialog stayed open after its answer")
	}
}

// TestQueueTakeBack checks Tab and Up while a prompt runs: Tab queues the
// composer's text, Up on an empty composer takes the last queued text
// back.
func TestQueueTakeBack(t *testing.T) {
	m := newModel(context.Background(), stub{}, newFeed(), Options{})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 20})
	m.cancel = func() {} // a prompt runs
	m.composer = m.composer.SetValue("after this, the docs")
	m.Update(tea.KeyPressMsg{Code: tea.KeyTab})
	if len(m.queue) != 1 || m.composer.Value() != "" {
		t.Fatalf("after Tab: queue %q, composer %q", m.queue, m.composer.Value())
	}
	if !strings.Contains(m.View().Content, "queued: after this, the docs") {
		t.Errorf("the frame does not show the queue:\n%s", m.View().Content)
	}
	m.Update(tea.KeyPressMsg{Code: tea.KeyUp})
	if len(m.queue) != 0 || m.composer.Value() != "after this, the docs" {
		t.Errorf("after Up: queue %q, composer %q", m.queue, m.composer.Value())
	}
}

// TestResumedNotice checks that a resumed session says so, since its
// earlier messages are not shown.
func TestResumedNotice(t *testing.T) {
	m := newModel(context.Background(), stub{}, newFeed(), Options{})
	m.apply([]event.Event{{Type: event.SessionStart, SessionID: "s1", Resumed: true, Model: "m"}})
	if got := m.tr.cells; len(got) != 1 || !strings.Contains(got[0].text, "Resumed session s1") {
		t.Errorf("cells after a resumed start: %+v", got)
	}
}

// TestResizeClears checks that a resize clears the whole screen only
// full screen: inline, the screen above the live region is the
// terminal's, and tmux scrolls a cleared screen into its history, where
// a frame drawn before the resize would stay beside the cells printed
// after it.
func TestResizeClears(t *testing.T) {
	clear := tea.ClearScreen()
	for _, inline := range []bool{false, true} {
		m := newModel(context.Background(), stub{}, newFeed(), Options{Inline: inline})
		_, cmd := m.Update(tea.WindowSizeMsg{Width: 60, Height: 12})
		if got := hasMsg(cmd, clear); got == inline {
			t.Errorf("inline %v: resize clears the screen: %v", inline, got)
		}
	}
}

// hasMsg reports whether cmd, run, yields want, directly or in a batch.
func hasMsg(cmd tea.Cmd, want tea.Msg) bool {
	if cmd == nil {
		return false
	}
	msg := cmd()
	if batch, ok := msg.(tea.BatchMsg); ok {
		for _, c := range batch {
			if hasMsg(c, want) {
				return true
			}
		}
		return false
	}
	return msg == want
}
