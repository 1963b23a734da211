package tui

import (
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/tui/picker"
)

// Next is what the person asked for that needs the session closed: Run
// returns it, and its caller opens the session it names and runs the UI
// again in the same terminal.
type Next struct {
	Kind NextKind
	// Session is the session to resume or fork, or to rewind (the one
	// the UI ran).
	Session string
	// Point is the prompt to rewind to; Code says to restore the
	// workspace to its checkpoint, Conversation to go on from the
	// conversation before it (a fork cut there).
	Point              app.RewindPoint
	Code, Conversation bool
}

// NextKind says what [Next] asks for.
type NextKind int

const (
	// Quit ends the UI.
	Quit NextKind = iota
	// Clear starts a new session in the same directory (/clear).
	Clear
	// Resume goes on with Next.Session; Fork starts a new session with
	// its conversation (/resume).
	Resume
	Fork
	// Rewind goes back to Next.Point (/rewind, Esc Esc).
	Rewind
)

// Sessions lists the sessions /resume offers: the directory's, newest
// first. The CLI's session store is one.
type Sessions interface {
	List() ([]SessionInfo, error)
}

// SessionInfo describes a session for /resume. Title comes from the
// session's log: the picker shows its control characters, never obeys
// them.
type SessionInfo struct {
	ID, Title string
	Updated   time.Time
	Tokens    int64
	Cost      float64
	// InUse says another lathe process runs the session.
	InUse bool
}

// The pickers' IDs.
const (
	resumePicker     = "resume"
	rewindPicker     = "rewind"
	rewindModePicker = "rewind-mode"
)

// sessionsMsg carries the sessions /resume lists, read off the UI
// goroutine; pointsMsg the prompts /rewind lists.
type sessionsMsg struct {
	list []SessionInfo
	err  error
}

type pointsMsg struct {
	points []app.RewindPoint
	err    error
}

// idle reports whether the session can be switched now, and says why
// not when a prompt runs; a dialog or a picker open takes the keys that
// would ask.
func (m *model) idle(what string) bool {
	switch {
	case m.running():
		m.errorf("%s waits for the running prompt: press Esc to interrupt it, then try again", what)
		return false
	case m.dialog != nil || m.picker != nil:
		return false
	}
	return true
}

// clear asks for a new session, this one saved.
func (m *model) clear() tea.Cmd {
	if !m.idle("/clear") {
		return nil
	}
	return m.restart(Next{Kind: Clear, Session: m.sess.SessionID()})
}

// resume resumes session id, or with none lists the directory's
// sessions to resume or fork one.
func (m *model) resume(id string) tea.Cmd {
	if id != "" {
		if !m.idle("/resume") {
			return nil
		}
		if id == m.sess.SessionID() {
			m.errorf("/resume: session %s is this one", id)
			return nil
		}
		return m.restart(Next{Kind: Resume, Session: id})
	}
	if m.opts.Sessions == nil {
		m.errorf("/resume cannot list sessions here: start lathe with --resume ID instead")
		return nil
	}
	if !m.idle("/resume") {
		return nil
	}
	list := m.opts.Sessions
	return func() tea.Msg {
		l, err := list.List()
		return sessionsMsg{l, err}
	}
}

// rewind lists the session's prompts to go back to one.
func (m *model) rewind() tea.Cmd {
	if !m.idle("/rewind") {
		return nil
	}
	sess, ctx := m.sess, m.ctx
	return func() tea.Msg {
		p, err := sess.RewindPoints(ctx)
		return pointsMsg{p, err}
	}
}

// pickerSize is the room the picker gets: most of the screen, leaving
// the status line and a few lines of transcript.
func (m *model) pickerSize() (int, int) {
	return m.width, min(max(m.height-6, 4), 16)
}

func (m *model) openPicker(o picker.Options) {
	o.Width, o.Height = m.pickerSize()
	p := picker.New(o)
	m.picker = &p
	m.composer = m.composer.Blur()
}

func (m *model) closePicker() {
	m.picker = nil
	m.composer = m.composer.Focus()
}

// showSessions opens the /resume picker.
func (m *model) showSessions(msg sessionsMsg) {
	if msg.err != nil {
		m.errorf("/resume: %v", msg.err)
		return
	}
	m.sessions = msg.list
	current := m.sess.SessionID()
	now := time.Now()
	items := make([]picker.Item, len(msg.list))
	for i, s := range msg.list {
		it := picker.Item{Title: s.Title, Detail: age(now, s.Updated) + " · " + tokens(s.Tokens) + " tokens · $" + strconv.FormatFloat(s.Cost, 'f', 2, 64)}
		if it.Title == "" {
			it.Title = "(no prompt) " + s.ID
		}
		switch {
		case s.ID == current:
			it.Mark, it.Disabled = "current", "it is this session"
		case s.InUse:
			it.Disabled = "in use by another lathe process; it can be resumed once that ends"
		}
		items[i] = it
	}
	m.openPicker(picker.Options{
		ID: resumePicker, Title: "Resume a session of this directory", Items: items,
		Empty:   "No sessions in this directory yet.",
		Actions: []picker.Action{{Key: "enter", Name: "resume", Help: "resume"}, {Key: "ctrl+f", Name: "fork", Help: "fork"}},
	})
}

// showPoints opens the /rewind picker.
func (m *model) showPoints(msg pointsMsg) {
	if msg.err != nil {
		m.errorf("/rewind: %v", msg.err)
		return
	}
	m.points = msg.points
	items := make([]picker.Item, len(msg.points))
	for i, p := range msg.points {
		it := picker.Item{Title: p.Prompt, Detail: codeDetail(p)}
		if p.Messages < 0 {
			it.Detail += " · conversation compacted since"
			if !canRestoreCode(p) {
				it.Disabled = "a compaction has folded it into a summary, and its files are as it found them"
			}
		}
		items[i] = it
	}
	m.openPicker(picker.Options{
		ID: rewindPicker, Title: "Rewind to before a prompt", Items: items,
		Empty:   "No prompts to go back to yet.",
		Actions: []picker.Action{{Key: "enter", Name: "choose", Help: "choose"}},
	})
}

// codeDetail says what restoring the code before p would do.
func codeDetail(p app.RewindPoint) string {
	switch {
	case p.Err != "":
		return "code cannot be restored: " + p.Err
	case len(p.Changes) == 0:
		return "no file changes since"
	case len(p.Changes) == 1:
		return "restores 1 file"
	}
	return "restores " + strconv.Itoa(len(p.Changes)) + " files"
}

func canRestoreCode(p app.RewindPoint) bool { return p.Err == "" && len(p.Changes) > 0 }

// rewindModes are the second picker's choices, in its order.
var rewindModes = []struct {
	title              string
	code, conversation bool
}{
	{"Restore code and conversation", true, true},
	{"Restore conversation only", false, true},
	{"Restore code only", true, false},
}

// showModes asks what of point p to restore.
func (m *model) showModes(p app.RewindPoint) {
	m.point = p
	items := make([]picker.Item, len(rewindModes))
	for i, md := range rewindModes {
		it := picker.Item{Title: md.title}
		switch {
		case md.conversation && p.Messages < 0:
			it.Disabled = "a compaction has folded that prompt into a summary"
		case md.code && !md.conversation && !canRestoreCode(p):
			it.Disabled = codeDetail(p)
		}
		if md.code && it.Disabled == "" {
			it.Detail = codeDetail(p)
		}
		items[i] = it
	}
	m.openPicker(picker.Options{
		ID: rewindModePicker, Title: "Rewind to before: " + oneLine(p.Prompt), Items: items,
		Actions: []picker.Action{{Key: "enter", Name: "choose", Help: "rewind"}},
	})
}

// picked takes a choice in a picker.
func (m *model) picked(c picker.Chosen) tea.Cmd {
	m.closePicker()
	switch c.ID {
	case resumePicker:
		kind := Resume
		if c.Action == "fork" {
			kind = Fork
		}
		return m.restart(Next{Kind: kind, Session: m.sessions[c.Index].ID})
	case rewindPicker:
		m.showModes(m.points[c.Index])
	case rewindModePicker:
		md := rewindModes[c.Index]
		if md.code && !canRestoreCode(m.point) {
			// The files are as the prompt found them: only the
			// conversation goes back.
			md.code = false
		}
		return m.restart(Next{Kind: Rewind, Session: m.sess.SessionID(), Point: m.point, Code: md.code, Conversation: md.conversation})
	}
	return nil
}

// restart ends this UI with next for Run's caller to do.
func (m *model) restart(next Next) tea.Cmd {
	m.next = next
	return m.quit()
}

// toPicker hands a key or a paste to the open picker.
func (m *model) toPicker(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	*m.picker, cmd = m.picker.Update(msg)
	return cmd
}

// escape takes an Esc on an empty composer with nothing open: the second
// in a row opens the rewind picker, as does one after an Esc that
// interrupted a run, once that run has ended.
func (m *model) escape(armed bool) tea.Cmd {
	if m.running() {
		m.rewindAfterRun = armed
		m.escArmed = true
		return nil
	}
	if armed {
		return m.rewind()
	}
	m.escArmed = true
	return nil
}

// afterRun opens what was asked for while the run ended.
func (m *model) afterRun() tea.Cmd {
	if !m.rewindAfterRun || m.quitting {
		return nil
	}
	m.rewindAfterRun = false
	return m.rewind()
}

// startNotices shows what Run's caller did before this UI: the session
// it cleared, the rewind it made.
func (m *model) startNotices() {
	for _, n := range m.opts.Notices {
		m.notice(n)
	}
	if m.opts.Draft != "" {
		m.composer = m.composer.SetValue(m.opts.Draft)
	}
}

// age says how long ago t was, as people say it.
func age(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "min") + " ago"
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	}
	// Calendar days, in the local zone: 23:00 yesterday is yesterday
	// at 01:00 today.
	day := func(t time.Time) time.Time {
		y, mo, d := t.Date()
		return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
	}
	days := int(day(now).Sub(day(t)).Hours() / 24)
	switch {
	case days <= 1:
		return "yesterday"
	case days < 30:
		return strconv.Itoa(days) + " days ago"
	}
	return t.Format("2 Jan 2006")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
