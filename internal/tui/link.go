package tui

import (
	"context"
	"errors"
	"fmt"
	"sync"

	tea "charm.land/bubbletea/v2"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/tui/approve"
)

// Link carries to the UI what the session says outside its event bus:
// approval requests (it is the session's agent.Approver) and warnings
// (its app.Options.Warn). It is made before the session opens, since
// app.Open needs both, and serves the program Run starts.
//
// Concurrency: Approve and Warn may be called from any goroutine, Approve
// for several calls at once, each waiting for its own answer or its ctx;
// Warn never blocks.
type Link struct {
	feed *feed

	mu   sync.Mutex
	send func(tea.Msg)
}

// NewLink returns a link with no program attached yet.
func NewLink() *Link { return &Link{feed: newFeed()} }

// errNoUI is the error with which a call is denied that was to be
// approved while no program runs.
var errNoUI = errors.New("no terminal UI is running to ask")

// warning is the type of the feed's events that carry a warning (Error):
// the UI's own, never published on the bus.
const warning event.Type = "tui.warning"

// Warn shows err in the transcript, as a notice.
func (l *Link) Warn(err error) { l.feed.add(event.Event{Type: warning, Error: err.Error()}) }

// attach makes send, which must not block for long, the way requests
// reach the program.
func (l *Link) attach(send func(tea.Msg)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.send = send
}

// approvalMsg asks the person about req; the answer goes to reply, which
// has room for it.
type approvalMsg struct {
	req *agent.Approval
	// changes are what the call would do to files, worked out on the
	// approver's goroutine since it reads them.
	changes []approve.Change
	reply   chan<- agent.Answer
}

// withdrawnMsg says the approval of a call is no longer wanted: its run
// was interrupted, or another front end answered.
type withdrawnMsg struct{ callID string }

// Approve implements agent.Approver.
func (l *Link) Approve(ctx context.Context, req *agent.Approval) (agent.Answer, error) {
	l.mu.Lock()
	send := l.send
	l.mu.Unlock()
	if send == nil {
		return agent.Answer{}, errNoUI
	}
	reply := make(chan agent.Answer, 1)
	send(approvalMsg{req: req, changes: approve.Changes(req), reply: reply})
	select {
	case ans := <-reply:
		return ans, nil
	case <-ctx.Done():
		send(withdrawnMsg{callID: req.CallID})
		return agent.Answer{}, fmt.Errorf("approval of %s: %w", req.Name, context.Cause(ctx))
	}
}
