package tui

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"

	"charm.land/bubbles/v2/textarea"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/event"
)

// model is the program's state. Its methods run on the program's
// goroutine only; the commands it returns run elsewhere and report back
// as messages.
type model struct {
	ctx  context.Context
	sess Session
	feed *feed
	opts Options
	// runs owns the goroutines that run prompts: Run waits for them.
	runs *sync.WaitGroup

	width, height int
	tr            *transcript
	// printed is how many cells, from the first, are in the native
	// scrollback (inline mode, and at exit).
	printed int

	composer textarea.Model
	// queue is what the user queued (Tab) for after the running prompt.
	queue []string
	// cancel interrupts the running prompt; nil when none runs.
	cancel context.CancelFunc
	// interrupted says the user interrupted the running prompt, so the
	// queue is sent when it ends.
	interrupted bool

	approvals []approvalMsg
	status    status
	// quitArmed says the last key was a Ctrl+C that did not quit.
	quitArmed bool
	quitting  bool
	// signaled is the signal that ended the UI.
	signaled os.Signal

	// streams are the cells the model's text and thinking deltas go to,
	// by agent; tools the calls still running, by call id.
	streams map[streamKey]*cell
	tools   map[string]*cell
}

type streamKey struct {
	agent string
	typ   event.Type
}

func newModel(ctx context.Context, s Session, f *feed, opts Options) *model {
	ta := textarea.New()
	ta.Placeholder = "Ask Lathe to do something…  (Enter sends, Ctrl+J new line)"
	ta.Prompt = "> "
	ta.ShowLineNumbers = false
	ta.DynamicHeight = true
	ta.MinHeight = 1
	ta.MaxHeight = 8
	ta.CharLimit = 0
	// A real cursor: the virtual one blinks, on a timer.
	ta.SetVirtualCursor(false)
	ta.KeyMap.InsertNewline.SetKeys("ctrl+j", "shift+enter")
	ta.Focus()
	return &model{
		ctx: ctx, sess: s, feed: f, opts: opts, runs: &sync.WaitGroup{},
		width: 80, height: 24,
		tr: newTranscript(), composer: ta,
		streams: map[streamKey]*cell{}, tools: map[string]*cell{},
	}
}

// Init implements tea.Model.
func (m *model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.feed.wait(), m.refreshBranch()}
	if m.opts.Prompt != "" {
		cmds = append(cmds, m.send(m.opts.Prompt))
	}
	return tea.Batch(cmds...)
}

// promptDone says the running prompt ended.
type promptDone struct{ res app.Result }

// branchMsg carries the git branch, looked up off the UI goroutine.
type branchMsg string

func (m *model) refreshBranch() tea.Cmd {
	if m.opts.Branch == nil {
		return nil
	}
	branch := m.opts.Branch
	return func() tea.Msg { return branchMsg(branch()) }
}

// running reports whether a prompt runs.
func (m *model) running() bool { return m.cancel != nil }

// send starts a prompt with text.
func (m *model) send(text string) tea.Cmd {
	m.tr.add(&cell{kind: userCell, text: text, done: true})
	m.tr.end()
	ctx, cancel := context.WithCancel(m.ctx)
	m.cancel, m.interrupted = cancel, false
	m.status.running = true
	sess, runs := m.sess, m.runs
	runs.Add(1)
	return func() tea.Msg {
		defer runs.Done()
		defer cancel()
		return promptDone{res: sess.Prompt(ctx, text)}
	}
}

// Update implements tea.Model.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case feedReady:
		m.apply(m.feed.take())
		return m, tea.Batch(m.feed.wait(), m.flush())
	case promptDone:
		return m, m.ended(msg.res)
	case branchMsg:
		m.status.branch = string(msg)
		return m, nil
	case approvalMsg:
		m.approvals = append(m.approvals, msg)
		return m, nil
	case withdrawnMsg:
		m.withdraw(msg.callID)
		return m, nil
	case signalMsg:
		m.signaled = msg.sig
		return m, m.quit()
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.composer.SetWidth(msg.Width)
		// Every render is at the new width; the program repaints the
		// whole screen.
		return m, tea.ClearScreen
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			m.scroll(-3)
		case tea.MouseWheelDown:
			m.scroll(3)
		}
		return m, nil
	case tea.KeyPressMsg:
		return m, m.key(msg)
	case tea.PasteMsg:
		var cmd tea.Cmd
		m.composer, cmd = m.composer.Update(msg)
		return m, cmd
	}
	return m, nil
}

// key handles a key press.
func (m *model) key(k tea.KeyPressMsg) tea.Cmd {
	armed := m.quitArmed
	m.quitArmed = false
	if len(m.approvals) > 0 {
		return m.answerKey(k)
	}
	switch k.String() {
	case "ctrl+c":
		if armed {
			return m.quit()
		}
		m.quitArmed = true
		if m.running() {
			m.interrupt()
		}
		m.composer.Reset()
		return nil
	case "ctrl+d":
		if m.composer.Value() == "" {
			return m.quit()
		}
	case "enter":
		return m.submit()
	case "tab":
		if m.running() {
			if text := m.composer.Value(); strings.TrimSpace(text) != "" {
				m.queue = append(m.queue, text)
				m.composer.Reset()
			}
			return nil
		}
	case "esc":
		if m.running() {
			m.interrupt()
		}
		return nil
	case "up":
		if m.composer.Value() == "" && len(m.queue) > 0 {
			last := m.queue[len(m.queue)-1]
			m.queue = m.queue[:len(m.queue)-1]
			m.composer.SetValue(last)
			return nil
		}
	case "pgup":
		m.scroll(-m.transcriptHeight())
		return nil
	case "pgdown":
		m.scroll(m.transcriptHeight())
		return nil
	case "home":
		if m.composer.Value() == "" {
			m.tr.home(m.printed)
			return nil
		}
	case "end":
		if m.composer.Value() == "" {
			m.tr.end()
			return nil
		}
	case "ctrl+o":
		m.toggleLast()
		return nil
	}
	var cmd tea.Cmd
	m.composer, cmd = m.composer.Update(k)
	return cmd
}

// submit sends the composer's text: as a prompt when none runs, else into
// the running one, delivered at its next tool boundary.
func (m *model) submit() tea.Cmd {
	text := m.composer.Value()
	if strings.TrimSpace(text) == "" {
		return nil
	}
	m.composer.Reset()
	if !m.running() {
		return m.send(text)
	}
	if !m.sess.Steer(text) {
		// The run is ending: the text is the next prompt.
		m.queue = append(m.queue, text)
		return nil
	}
	m.tr.add(&cell{kind: steerCell, text: text, done: true})
	m.tr.end()
	return nil
}

// interrupt cancels the running prompt; the queue is sent once it ends.
func (m *model) interrupt() {
	m.cancel()
	m.interrupted = true
}

// ended takes the end of a run: the steering it did not deliver goes back
// to the front of the queue, and the queue is sent.
func (m *model) ended(res app.Result) tea.Cmd {
	m.cancel = nil
	m.status.running = false
	m.status.used, m.status.window = m.sess.ContextStatus()
	m.queue = append(append([]string(nil), res.Undelivered...), m.queue...)
	cmds := []tea.Cmd{m.refreshBranch(), m.flush()}
	if len(m.queue) > 0 && !m.quitting {
		text := strings.Join(m.queue, "\n\n")
		m.queue = nil
		cmds = append(cmds, m.send(text))
	}
	return tea.Batch(cmds...)
}

// quit ends the UI: the running prompt is interrupted (Run waits for it)
// and the last frame is blank, for the transcript printed after it.
func (m *model) quit() tea.Cmd {
	m.quitting = true
	if m.running() {
		m.cancel()
	}
	for _, a := range m.approvals {
		a.reply <- agent.Answer{Grant: agent.No, Message: "The user quit Lathe."}
	}
	m.approvals = nil
	return tea.Quit
}

// answerKey answers the first pending approval.
func (m *model) answerKey(k tea.KeyPressMsg) tea.Cmd {
	var ans agent.Answer
	switch k.String() {
	case "y":
		ans.Grant = agent.Once
	case "s":
		ans.Grant = agent.Session
	case "a":
		ans.Grant = agent.Always
	case "n", "esc":
		ans.Grant = agent.No
	case "ctrl+c":
		m.quitArmed = true
		if m.running() {
			m.interrupt()
		}
		return nil
	default:
		return nil
	}
	m.approvals[0].reply <- ans
	m.approvals = m.approvals[1:]
	return nil
}

// withdraw drops the pending approval of callID.
func (m *model) withdraw(callID string) {
	for i, a := range m.approvals {
		if a.req.CallID == callID {
			m.approvals = append(m.approvals[:i], m.approvals[i+1:]...)
			return
		}
	}
}

// toggleLast expands or collapses the last finished tool or thinking
// cell.
func (m *model) toggleLast() {
	for i := len(m.tr.cells) - 1; i >= m.printed; i-- {
		if c := m.tr.cells[i]; c.kind == toolCell || c.kind == thinkingCell {
			c.expanded = !c.expanded
			return
		}
	}
}

func (m *model) scroll(delta int) {
	if m.opts.Inline {
		// The terminal's own scrollback holds the history.
		return
	}
	m.tr.scroll(delta, m.printed, m.width, m.transcriptHeight())
}

// flush prints, in inline mode, the finished cells at the start of the
// live region to the scrollback, in order, each once.
func (m *model) flush() tea.Cmd {
	if !m.opts.Inline {
		return nil
	}
	var lines []string
	for m.printed < len(m.tr.cells) && m.tr.cells[m.printed].done {
		lines = append(lines, m.tr.cells[m.printed].lines(m.width)...)
		m.printed++
	}
	if len(lines) == 0 {
		return nil
	}
	return tea.Println(strings.Join(lines, "\n"))
}

// bottom renders what is below the transcript: the queue, the composer or
// the approval asked, the status line.
func (m *model) bottom() []string {
	var out []string
	if n := m.tr.unseen(); n > 0 {
		out = append(out, ansi.Truncate(plural(n, "new cell")+" below · End to follow", m.width, "…"))
	}
	for _, q := range m.queue {
		out = append(out, ansi.Truncate("queued: "+strings.ReplaceAll(q, "\n", " ⏎ "), m.width, "…"))
	}
	if len(m.approvals) > 0 {
		out = append(out, m.approvalLines()...)
	} else {
		out = append(out, strings.Split(m.composer.View(), "\n")...)
	}
	if m.quitArmed {
		out = append(out, "Press Ctrl+C again to quit.")
	}
	return append(out, m.status.line(m.width))
}

func (m *model) approvalLines() []string {
	a := m.approvals[0]
	q := "Allow " + a.req.Name
	if target := callTarget(a.req.Name, a.req.Input); target != "" {
		q += ": " + target
	}
	lines := wrapPrefixed("? ", "  ", q, m.width)
	if a.req.Decision.Reason != "" {
		lines = append(lines, wrapPrefixed("  ", "  ", a.req.Decision.Reason, m.width)...)
	}
	return append(lines, "  [y] yes once  [s] yes for this session  [a] always  [n] no")
}

func (m *model) transcriptHeight() int {
	return max(m.height-len(m.bottom()), 1)
}

// minWidth and minHeight are the smallest terminal the UI draws in.
const minWidth, minHeight = 20, 5

// View implements tea.Model.
func (m *model) View() tea.View {
	var v tea.View
	v.AltScreen = !m.opts.Inline
	if !m.opts.Inline {
		v.MouseMode = tea.MouseModeCellMotion
	}
	if m.quitting {
		return v
	}
	if m.width < minWidth || m.height < minHeight {
		v.SetContent("Terminal too small; make it at least 20×5.")
		return v
	}
	bottom := m.bottom()
	height := max(m.height-len(bottom), 1)
	lines := m.tr.view(m.printed, m.width, height)
	if !m.opts.Inline {
		// The transcript fills the screen above the composer.
		for len(lines) < height {
			lines = append(lines, "")
		}
	}
	composerTop := len(lines) + len(bottom) - 1 - m.composer.Height()
	if m.quitArmed {
		composerTop--
	}
	v.SetContent(strings.Join(append(lines, bottom...), "\n"))
	if len(m.approvals) == 0 {
		if c := m.composer.Cursor(); c != nil {
			c.Position.Y += composerTop
			v.Cursor = c
		}
	}
	return v
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
