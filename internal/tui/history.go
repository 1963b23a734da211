package tui

import (
	"fmt"

	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/tui/cells"
)

// showHistory folds the conversation a resumed or forked session holds
// into the transcript, with the code that folds the live stream, and
// says where it goes on. A log that cannot be read back is said so; the
// session goes on without it on screen.
func (m *model) showHistory(e event.Event) {
	what := fmt.Sprintf("Resumed session %s", e.SessionID)
	if e.ForkedFrom != "" {
		what = fmt.Sprintf("Session %s, forked from %s", e.SessionID, e.ForkedFrom)
	}
	history, err := m.sess.History()
	for _, h := range history {
		if h.Type == app.Prompt {
			m.add(&cell{kind: userCell, text: h.Text, done: true})
			continue
		}
		m.applyOne(h)
	}
	if err != nil {
		m.noticeAt(cells.Warning, fmt.Sprintf("%s: its earlier messages are not all shown: %v", what, err))
		return
	}
	m.notice(what + ": its conversation goes on here.")
}
