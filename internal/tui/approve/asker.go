package approve

import (
	"context"
	"sync"

	tea "charm.land/bubbletea/v2"

	"github.com/lathe-dev/lathe/internal/agent"
)

// Asked asks the UI to show Dialog, the question of one approval. The UI
// shows one dialog at a time, in the order they are asked, and hands the
// Answered each one returns to [Asker.Answer].
type Asked struct {
	Dialog Model
}

// Withdrawn says that the approval of a dialog is no longer waited for:
// the turn was interrupted, or another front end answered (Cause is
// then agent.ErrAnsweredElsewhere). The UI drops the dialog it names
// ([Withdrawn.Withdraws]), shown or queued.
type Withdrawn struct {
	CallID string
	Cause  error
	ticket uint64
}

// Withdraws reports whether w withdraws the dialog m.
func (w Withdrawn) Withdraws(m Model) bool { return w.ticket == m.ticket }

// Asker is the UI's approver (app.Options.Approver): it puts each
// approval to the person as a dialog sent to the UI program and waits
// for the answer.
//
// Approve runs on the agent's goroutines, concurrently for the calls of
// one response; it works out the dialog's diff there, off the UI
// goroutine. Answer is called by the UI goroutine.
type Asker struct {
	send func(tea.Msg)
	opts Options

	mu      sync.Mutex
	next    uint64
	waiting map[uint64]chan agent.Answer
}

// NewAsker returns an approver that sends its dialogs with send (the
// program's Send), each made with opts and the call's changes. The UI
// sets each dialog's size and focus as it shows it ([Model.SetSize],
// [Model.SetFocused]).
func NewAsker(send func(tea.Msg), opts Options) *Asker {
	return &Asker{send: send, opts: opts, waiting: make(map[uint64]chan agent.Answer)}
}

// Approve asks the person about req and waits for the answer, or until
// ctx is done, when it withdraws the dialog and returns ctx's cause.
func (a *Asker) Approve(ctx context.Context, req *agent.Approval) (agent.Answer, error) {
	opts := a.opts
	opts.Changes = Changes(req)
	m := New(req, opts)
	reply := make(chan agent.Answer, 1)
	a.mu.Lock()
	a.next++
	m.ticket = a.next
	a.waiting[m.ticket] = reply
	a.mu.Unlock()
	a.send(Asked{Dialog: m})
	select {
	case ans := <-reply:
		return ans, nil
	case <-ctx.Done():
		a.mu.Lock()
		delete(a.waiting, m.ticket)
		a.mu.Unlock()
		a.send(Withdrawn{CallID: req.CallID, Cause: context.Cause(ctx), ticket: m.ticket})
		return agent.Answer{}, context.Cause(ctx)
	}
}

// Answer hands ans to the approval waiting for it and reports whether
// one was: false when it was withdrawn meanwhile.
func (a *Asker) Answer(ans Answered) bool {
	a.mu.Lock()
	reply, ok := a.waiting[ans.ticket]
	delete(a.waiting, ans.ticket)
	a.mu.Unlock()
	if ok {
		reply <- ans.Answer
	}
	return ok
}
