package tui

import (
	"bytes"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/lathe-dev/lathe/internal/app"
)

// waitScreen waits for the program's output to contain each of texts.
func (h *harness) waitScreen(texts ...string) {
	h.t.Helper()
	teatest.WaitFor(h.t, h.tm.Output(), func(b []byte) bool {
		for _, s := range texts {
			if !bytes.Contains(b, []byte(s)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(30*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
}

// userCalls are the calls of the transcript's tool cells that the user
// ran with "!".
func userCalls(m *model) []string {
	var out []string
	for _, c := range m.tr.cells {
		for _, call := range c.calls {
			if call.ByUser {
				out = append(out, call.Output)
			}
		}
	}
	return out
}

// TestShellThenPrompt types "!echo hi": the command runs as a tool cell
// marked as the user's, and the next prompt's request carries the
// command and its output.
func TestShellThenPrompt(t *testing.T) {
	h := start(t, `{"steps": [
	  {"expect": {"user_contains": ["what now"]}, "reply": {"text": "You printed hi."}}
	]}`, "")
	h.tm.Type("!echo hi-from-shell")
	h.tm.Send(key("enter"))
	h.waitScreen("! echo hi-from-shell", "✓")
	h.tm.Type("what now")
	h.tm.Send(key("enter"))
	if res := h.ended(); res.ExitCode != app.ExitOK {
		t.Fatalf("prompt ended %v: %v", res.Kind, res.Err)
	}
	m := h.quit()
	h.checkAPI()
	if got := userCalls(m); len(got) != 1 || got[0] != "hi-from-shell" {
		t.Errorf("the user's calls have output %q, want one with hi-from-shell", got)
	}
	reqs := h.srv.Requests()
	if len(reqs) != 1 || !strings.Contains(string(reqs[0].Body), `\u003cbash-input\u003eecho hi-from-shell\u003c/bash-input\u003e`) ||
		!strings.Contains(string(reqs[0].Body), `\u003cbash-stdout\u003ehi-from-shell\u003c/bash-stdout\u003e`) {
		t.Errorf("requests %d; the first lacks the command and its output", len(reqs))
	}
}

// TestShellInterrupt stops a running "!" command with Esc: its process
// group is killed, the cell says it was interrupted, and the UI takes
// the next command.
func TestShellInterrupt(t *testing.T) {
	h := start(t, `{"steps": []}`, "")
	h.tm.Type("!touch started; sleep 60")
	h.tm.Send(key("enter"))
	h.waitFile("started")
	h.tm.Send(key("esc"))
	h.waitScreen("interrupted")
	h.tm.Type("!echo after")
	h.tm.Send(key("enter"))
	h.waitScreen("✓")
	m := h.quit()
	got := userCalls(m)
	if len(got) != 2 || !strings.Contains(got[0], "Interrupted by the user") || got[1] != "after" {
		t.Errorf("the user's calls have output %q, want the first interrupted and the second run", got)
	}
}

// TestShellDuringPrompt types a "!" command while a prompt runs: it is
// refused with a notice, and the line goes back to the composer.
func TestShellDuringPrompt(t *testing.T) {
	h := start(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "touch started; while [ ! -e go ]; do sleep 0.01; done"}}]}},
	  {"reply": {"text": "Done."}}
	]}`, "work")
	h.waitFile("started")
	h.tm.Type("!echo hi")
	h.tm.Send(key("enter"))
	h.waitScreen("runs between prompts")
	h.touch("go")
	if res := h.ended(); res.ExitCode != app.ExitOK {
		t.Fatalf("prompt ended %v: %v", res.Kind, res.Err)
	}
	// Ctrl+C would clear the composer: a signal ends the UI as it is.
	h.tm.Send(signalMsg{syscall.SIGTERM})
	m := h.tm.FinalModel(t, teatest.WithFinalTimeout(30*time.Second)).(*model)
	if got := m.composer.Value(); got != "!echo hi" {
		t.Errorf("composer holds %q, want the refused line back", got)
	}
	if got := userCalls(m); len(got) != 0 {
		t.Errorf("the user's calls %q ran during the prompt", got)
	}
}
