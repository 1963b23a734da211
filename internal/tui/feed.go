package tui

import (
	"sync"

	tea "charm.land/bubbletea/v2"

	"github.com/lathe-dev/lathe/internal/event"
)

// feed carries the session's events from the bus to the program, one
// batch per frame: the bus's goroutine adds, never waiting for the UI, and
// the program takes everything that arrived since it last looked.
//
// Consecutive deltas of one stream (text, thinking, one call's command
// output) are merged as they arrive, so a batch holds at most a few
// events per stream however fast the model streams while a frame is
// drawn: what waits is bounded by what was streamed, not by how many
// deltas carried it. The ready channel holds one token, so a burst of
// events wakes the program once.
//
// Concurrency: add may be called from any goroutine; wait's command runs
// on a goroutine of the program's and returns once there is a batch or
// the feed is closed.
type feed struct {
	mu      sync.Mutex
	pending []event.Event
	ready   chan struct{}
	done    chan struct{}
	once    sync.Once
}

func newFeed() *feed {
	return &feed{ready: make(chan struct{}, 1), done: make(chan struct{})}
}

// feedReady says the feed has events for the program to take. The
// program takes them itself, on its own goroutine, so that none is lost
// in a message the program quits before reading: what it did not take
// stays for Run to take after it.
type feedReady struct{}

// add queues e, merging it into the last queued event when both are
// deltas of the same stream.
func (f *feed) add(e event.Event) {
	f.mu.Lock()
	if n := len(f.pending); n > 0 && mergeable(f.pending[n-1], e) {
		f.pending[n-1].Text += e.Text
	} else {
		f.pending = append(f.pending, e)
	}
	f.mu.Unlock()
	select {
	case f.ready <- struct{}{}:
	default:
	}
}

// mergeable reports whether b continues the delta a, so that one event
// can carry both.
func mergeable(a, b event.Event) bool {
	return a.Type == b.Type && b.Type.Streaming() && a.AgentID == b.AgentID && a.Turn == b.Turn && a.CallID == b.CallID
}

// take returns what was queued and empties the queue.
func (f *feed) take() []event.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	batch := f.pending
	f.pending = nil
	return batch
}

// wait is the command that says there are events to take; the model
// asks for it again after taking them. It returns nil once the feed is
// closed.
func (f *feed) wait() tea.Cmd {
	return func() tea.Msg {
		select {
		case <-f.ready:
			return feedReady{}
		case <-f.done:
			return nil
		}
	}
}

// close releases a waiting command; events added later stay queued for
// take.
func (f *feed) close() { f.once.Do(func() { close(f.done) }) }
