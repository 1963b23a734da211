package approve

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/lathe-dev/lathe/internal/agent"
)

// queue is the UI's side of an Asker, as the core does it: the dialogs
// asked, shown one at a time, each answer handed back.
type queue struct {
	asker   *Asker
	dialogs []Model
}

func (q *queue) Init() tea.Cmd { return nil }

func (q *queue) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case Asked:
		d := msg.Dialog
		d.SetSize(100, 40)
		d.SetFocused(true)
		q.dialogs = append(q.dialogs, d)
		if len(q.dialogs) == 1 {
			return q, d.Init()
		}
		return q, nil
	case Withdrawn:
		for i, d := range q.dialogs {
			if msg.Withdraws(d) {
				q.dialogs = append(q.dialogs[:i], q.dialogs[i+1:]...)
				break
			}
		}
		return q, nil
	case Answered:
		q.asker.Answer(msg)
		q.dialogs = q.dialogs[1:]
		return q, nil
	case tea.KeyPressMsg:
		if msg.String() == "ctrl+c" {
			return q, tea.Quit
		}
	}
	if len(q.dialogs) == 0 {
		return q, nil
	}
	var cmd tea.Cmd
	q.dialogs[0], cmd = q.dialogs[0].Update(msg)
	return q, cmd
}

func (q *queue) View() tea.View {
	if len(q.dialogs) == 0 {
		return tea.NewView("no approval pending")
	}
	return tea.NewView(q.dialogs[0].View())
}

// TestAsker checks the approver the UI gives the app: concurrent
// approvals are asked one after the other and each gets its own answer;
// one whose turn is interrupted is withdrawn from the screen and
// returns the cause.
func TestAsker(t *testing.T) {
	q := &queue{}
	tm := teatest.NewTestModel(t, q, teatest.WithInitialTermSize(100, 40))
	q.asker = NewAsker(tm.Send, Options{Home: "/home/ada"})
	see := func(s string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(s)) }, teatest.WithDuration(20*time.Second))
	}

	answers := make(map[string]agent.Answer)
	var mu sync.Mutex
	var wg sync.WaitGroup
	ask := func(req *agent.Approval) {
		wg.Go(func() {
			ans, err := q.asker.Approve(t.Context(), req)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			answers[req.CallID] = ans
			mu.Unlock()
		})
	}
	first, second := bashApproval(t, "npm test"), bashApproval(t, "make deploy")
	second.CallID = "toolu_2"
	ask(first)
	see("npm test")
	ask(second)
	tm.Send(key("s"))
	see("make deploy")
	tm.Send(key("n"))
	tm.Type("not today")
	tm.Send(key("enter"))
	see("no approval pending")
	wg.Wait()
	if answers["toolu_1"].Grant != agent.Session || answers["toolu_2"].Grant != agent.No || answers["toolu_2"].Message != "not today" {
		t.Errorf("answers %+v", answers)
	}

	// An approval withdrawn while it is shown.
	ctx, cancel := context.WithCancelCause(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := q.asker.Approve(ctx, bashApproval(t, "rm -rf build"))
		done <- err
	}()
	see("rm -rf build")
	cancel(agent.ErrAnsweredElsewhere)
	if err := <-done; !errors.Is(err, agent.ErrAnsweredElsewhere) {
		t.Errorf("withdrawn approval returned %v", err)
	}
	see("no approval pending")
	// A late answer to it reaches nobody.
	if q.asker.Answer(Answered{CallID: "toolu_1", ticket: 3}) {
		t.Error("an answer to a withdrawn dialog was delivered")
	}
	tm.Send(key("ctrl+c"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(20*time.Second))
	if !strings.Contains(q.View().Content, "no approval pending") {
		t.Error("a dialog is left")
	}
}
