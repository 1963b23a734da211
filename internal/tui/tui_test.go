package tui

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/fakeapi"
	"github.com/lathe-dev/lathe/internal/llm"
)

// spy is a session that tells the test what the UI did with it, so that
// a test waits for the UI's steps, never for time.
type spy struct {
	*app.App
	steered chan string
	ended   chan app.Result
}

func (s spy) Steer(text string) bool {
	ok := s.App.Steer(text)
	s.steered <- text
	return ok
}

func (s spy) Prompt(ctx context.Context, text string, images ...llm.Part) app.Result {
	res := s.App.Prompt(ctx, text, images...)
	s.ended <- res
	return res
}

// harness is a UI on a real session against the fake API, driven by keys.
type harness struct {
	t   *testing.T
	dir string
	srv *fakeapi.Server
	ses spy
	m   *model
	tm  *teatest.TestModel
}

// start opens a session in a fresh workspace against script, in
// bypassPermissions mode, and runs the UI on it with prompt as its first
// prompt.
func start(t *testing.T, script, prompt string) *harness {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(home, "state"))
	s, err := fakeapi.ParseScript([]byte(script))
	if err != nil {
		t.Fatal(err)
	}
	srv := fakeapi.NewServer(s)
	t.Cleanup(srv.Close)
	t.Setenv("ANTHROPIC_BASE_URL", srv.URL())
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-test")
	dir := t.TempDir()
	link := NewLink()
	a, err := app.Open(app.Options{Dir: dir, PermissionMode: "bypassPermissions", Approver: link, Warn: link.Warn})
	if err != nil {
		t.Fatal(err)
	}
	ses := spy{App: a, steered: make(chan string, 10), ended: make(chan app.Result, 10)}
	ctx, cancel := context.WithCancel(context.Background())
	m := newModel(ctx, ses, link.feed, Options{Link: link, Prompt: prompt, Dir: dir})
	a.Subscribe("tui", link.feed.add)
	a.Start()
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(100, 30))
	link.attach(tm.Send)
	h := &harness{t: t, dir: dir, srv: srv, ses: ses, m: m, tm: tm}
	t.Cleanup(func() {
		cancel()
		m.runs.Wait()
		if err := a.Close(); err != nil {
			t.Error(err)
		}
	})
	return h
}

// waitFile waits for the file name in the workspace, which a command of
// the script makes, to exist.
func (h *harness) waitFile(name string) {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(h.dir, name)); err == nil {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s did not appear", name)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *harness) touch(name string) {
	h.t.Helper()
	if err := os.WriteFile(filepath.Join(h.dir, name), nil, 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func key(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	panic("no key " + s)
}

// ended waits for the next run to end.
func (h *harness) ended() app.Result {
	h.t.Helper()
	select {
	case res := <-h.ses.ended:
		return res
	case <-time.After(30 * time.Second):
		h.t.Fatal("the run did not end")
	}
	return app.Result{}
}

// quit quits with Ctrl+C twice and returns the final model.
func (h *harness) quit() *model {
	h.t.Helper()
	h.tm.Send(key("ctrl+c"))
	h.tm.Send(key("ctrl+c"))
	return h.tm.FinalModel(h.t, teatest.WithFinalTimeout(30*time.Second)).(*model)
}

func (h *harness) checkAPI() {
	h.t.Helper()
	if f := h.srv.Failures(); len(f) > 0 {
		h.t.Errorf("fake API failures:\n%s", strings.Join(f, "\n"))
	}
}

// cellTexts are the texts of the transcript's cells of kind k.
func cellTexts(m *model, k cellKind) []string {
	var out []string
	for _, c := range m.tr.cells {
		if c.kind == k {
			out = append(out, c.text)
		}
	}
	return out
}

// TestSteer types into a running prompt: Enter sends the text into the
// run, which delivers it to the model at the next tool boundary, as the
// fake API's second request shows.
func TestSteer(t *testing.T) {
	h := start(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "touch started; while [ ! -e go ]; do sleep 0.01; done"}}]}},
	  {"expect": {"user_contains": ["also mention the README"], "tool_results": [{"call": 0, "is_error": false}]},
	   "reply": {"text": "Done, README mentioned."}}
	]}`, "do the task")
	h.waitFile("started")
	h.tm.Type("also mention the README")
	h.tm.Send(key("enter"))
	if got := <-h.ses.steered; got != "also mention the README" {
		t.Errorf("steered %q", got)
	}
	h.touch("go")
	if res := h.ended(); res.ExitCode != app.ExitOK {
		t.Fatalf("run ended %v: %v", res.Kind, res.Err)
	}
	m := h.quit()
	h.checkAPI()
	if got := cellTexts(m, steerCell); !slices.Equal(got, []string{"also mention the README"}) {
		t.Errorf("steer cells %q", got)
	}
	if got := cellTexts(m, userCell); !slices.Equal(got, []string{"do the task"}) {
		t.Errorf("user cells %q, want only the prompt: a steer is no prompt of its own", got)
	}
	for _, c := range m.tr.cells {
		if c.kind == steerCell && !c.delivered {
			t.Error("the steer cell does not say it was delivered")
		}
	}
}

// TestQueueInterrupt queues text with Tab while a command runs, then
// interrupts with Esc: the command is killed, the run ends interrupted,
// and the queue is sent as the next prompt.
func TestQueueInterrupt(t *testing.T) {
	h := start(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "touch started; sleep 60"}}]}},
	  {"expect": {"user_contains": ["then do this"], "tool_results": [{"call": 0, "contains": ["Interrupted"], "is_error": true}]},
	   "reply": {"text": "Doing the queued thing."}}
	]}`, "long task")
	h.waitFile("started")
	h.tm.Type("then do this")
	h.tm.Send(key("tab"))
	h.tm.Send(key("esc"))
	if res := h.ended(); res.ExitCode != app.ExitInterrupted {
		t.Errorf("first run exit code %d, want %d", res.ExitCode, app.ExitInterrupted)
	}
	if res := h.ended(); res.ExitCode != app.ExitOK {
		t.Errorf("queued run ended %v: %v", res.Kind, res.Err)
	}
	m := h.quit()
	h.checkAPI()
	if got := cellTexts(m, userCell); !slices.Equal(got, []string{"long task", "then do this"}) {
		t.Errorf("user cells %q", got)
	}
	if len(m.queue) != 0 {
		t.Errorf("queue left: %q", m.queue)
	}
}

// TestCtrlCTwice checks that a first Ctrl+C interrupts the running prompt
// and a second quits, the run's result recorded.
func TestCtrlCTwice(t *testing.T) {
	h := start(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "touch started; sleep 60"}}]}}
	]}`, "long task")
	h.waitFile("started")
	h.tm.Send(key("ctrl+c"))
	if res := h.ended(); res.ExitCode != app.ExitInterrupted || !errors.Is(res.Err, context.Canceled) {
		t.Errorf("run ended with exit code %d (%v), want %d", res.ExitCode, res.Err, app.ExitInterrupted)
	}
	h.tm.Send(key("ctrl+c"))
	m := h.tm.FinalModel(t, teatest.WithFinalTimeout(30*time.Second)).(*model)
	if !m.quitting {
		t.Error("the second Ctrl+C did not quit")
	}
	h.checkAPI()
}
