package tui

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/tui/approve"
	"github.com/lathe-dev/lathe/internal/tui/composer"
	"github.com/lathe-dev/lathe/internal/tui/palette"
	"github.com/lathe-dev/lathe/internal/tui/picker"
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
	// pager is transcript mode (Ctrl+O) while it is open.
	pager *pager
	// printed is how many cells, from the first, are in the native
	// scrollback (inline mode, and at exit).
	printed int

	composer composer.Model
	// queue is what the user queued (Tab) for after the running prompt.
	queue []string
	// cancel interrupts the running prompt; nil when none runs.
	cancel context.CancelFunc

	// approvals wait for the person, the first shown in dialog.
	approvals []approvalMsg
	dialog    *approve.Model
	// picker is the list of /resume or /rewind, open in the composer's
	// place; sessions, points and point are what it lists and chose.
	picker   *picker.Model
	sessions []SessionInfo
	points   []app.RewindPoint
	point    app.RewindPoint
	// next is what Run returns: what to do once the UI has closed.
	next Next
	// escArmed says the last key was an Esc on an empty composer (or one
	// that interrupted): another opens rewind, at once or, when it came
	// while the interrupted run was ending, once it has (rewindAfterRun).
	escArmed, rewindAfterRun bool
	// unfocused says the terminal reported it lost focus.
	unfocused bool

	status status
	// tick schedules a message after a delay: tea.Tick, which tests
	// replace to see what is scheduled. tickGen numbers the runs, so that
	// a tick of an ended run does not start a second chain.
	tick    func(time.Duration, func(time.Time) tea.Msg) tea.Cmd
	tickGen int
	started time.Time
	// quitArmed says the last key was a Ctrl+C that did not quit.
	quitArmed bool
	quitting  bool
	// signaled is the signal that ended the UI.
	signaled os.Signal

	// streams are the cells the model's text and thinking deltas go to,
	// by agent; tools the calls still running, by call id.
	streams map[streamKey]*cell
	tools   map[string]toolRef
	// compaction is the boundary of the compaction under way.
	compaction *cell
}

type streamKey struct {
	agent string
	typ   event.Type
}

func newModel(ctx context.Context, s Session, f *feed, opts Options) *model {
	co := opts.Composer
	co.Context = ctx
	co.Placeholder = "Ask Lathe to do something…  (Enter sends, Ctrl+J new line, / commands)"
	return &model{
		ctx: ctx, sess: s, feed: f, opts: opts, runs: &sync.WaitGroup{},
		width: 80, height: 24,
		tr: newTranscript(), composer: composer.New(co).SetWidth(80),
		streams: map[streamKey]*cell{}, tools: map[string]toolRef{},
		tick: tea.Tick, status: status{animated: opts.Animations},
	}
}

// Init implements tea.Model.
func (m *model) Init() tea.Cmd {
	m.startNotices()
	cmds := []tea.Cmd{m.feed.wait(), m.refreshBranch()}
	if m.opts.Prompt != "" {
		cmds = append(cmds, m.send(m.opts.Prompt))
	}
	return tea.Batch(cmds...)
}

// runDone says the running prompt (or compaction, recap, ! command)
// ended; showAnswer says the result's answer is not in the transcript
// yet, and err is a failure no result event reports.
type runDone struct {
	res        app.Result
	showAnswer bool
	err        error
}

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
func (m *model) send(text string, images ...llm.Part) tea.Cmd {
	m.add(&cell{kind: userCell, text: text, done: true})
	sess := m.sess
	return m.run(false, func(ctx context.Context) app.Result { return sess.Prompt(ctx, text, images...) })
}

// run runs fn, which drives the session to a result, on a goroutine Run
// waits for.
func (m *model) run(showAnswer bool, fn func(context.Context) app.Result) tea.Cmd {
	return m.start(func(ctx context.Context) runDone { return runDone{res: fn(ctx), showAnswer: showAnswer} })
}

// shell runs a command the user typed after "!", as a run of its own: Esc
// and Ctrl+C stop it, and what is typed meanwhile is queued. While a
// prompt runs it is refused, the line given back to the composer: the
// command's output is for the next prompt, and the running one would
// never see it.
func (m *model) shell(command string) tea.Cmd {
	if m.running() {
		m.errorf("A ! command runs between prompts, not during one: wait for this one to end, or press Esc to interrupt it.")
		m.composer = m.composer.SetValue("!" + command)
		return nil
	}
	sess := m.sess
	return m.start(func(ctx context.Context) runDone {
		uc := sess.Shell(ctx, command)
		return runDone{err: uc.Err}
	})
}

// start runs fn on a goroutine Run waits for, as the running prompt.
func (m *model) start(fn func(context.Context) runDone) tea.Cmd {
	m.tr.end()
	ctx, cancel := context.WithCancel(m.ctx)
	m.cancel = cancel
	m.status.running = true
	m.status.frame, m.status.elapsed = 0, 0
	m.started = time.Now()
	m.tickGen++
	runs := m.runs
	runs.Add(1)
	return tea.Batch(func() tea.Msg {
		defer runs.Done()
		defer cancel()
		return fn(ctx)
	}, m.animate())
}

// animTick moves the activity indicator of run gen.
type animTick struct{ gen int }

// animInterval is how often the spinner moves: smooth to the eye, and
// the only timer there is, for as long as a run goes on.
const animInterval = 120 * time.Millisecond

// animate schedules the next frame of the activity indicator while a run
// goes on, unless animations are off: nothing else runs on a timer.
func (m *model) animate() tea.Cmd {
	if !m.opts.Animations || !m.running() {
		return nil
	}
	gen := m.tickGen
	return m.tick(animInterval, func(time.Time) tea.Msg { return animTick{gen} })
}

// Update implements tea.Model.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case feedReady:
		m.apply(m.feed.take())
		return m, tea.Batch(m.feed.wait(), m.flush())
	case runDone:
		if msg.showAnswer && msg.res.Answer != "" {
			m.notice(msg.res.Answer)
		}
		if msg.err != nil {
			m.errorf("%v", msg.err)
		}
		return m, m.ended(msg.res)
	case branchMsg:
		m.status.branch = string(msg)
		return m, nil
	case animTick:
		if msg.gen != m.tickGen || !m.running() || !m.opts.Animations {
			return m, nil
		}
		m.status.frame++
		m.status.elapsed = time.Since(m.started)
		return m, m.animate()
	case approvalMsg:
		m.approvals = append(m.approvals, msg)
		return m, m.showApproval()
	case withdrawnMsg:
		return m, m.withdraw(msg.callID)
	case approve.Answered:
		return m, m.answered(msg)
	case signalMsg:
		m.signaled = msg.sig
		return m, m.quit()
	case composer.Submitted:
		return m, m.submit(msg.Text, msg.Images)
	case composer.Shell:
		return m, m.shell(msg.Command)
	case palette.Chosen:
		return m, m.command(msg)
	case sessionsMsg:
		m.showSessions(msg)
		return m, nil
	case pointsMsg:
		m.showPoints(msg)
		return m, nil
	case picker.Chosen:
		return m, m.picked(msg)
	case picker.Cancelled:
		m.closePicker()
		return m, nil
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.composer = m.composer.SetWidth(msg.Width)
		var cmd tea.Cmd
		if m.dialog != nil {
			*m.dialog, cmd = m.dialog.Update(msg)
		}
		if m.picker != nil {
			*m.picker = m.picker.SetSize(m.pickerSize())
		}
		// Every render is at the new width, and the renderer repaints
		// what it owns. Full screen, the whole screen is cleared too.
		// Inline, the screen above the live region is the terminal's own
		// (the shell's lines, the cells printed): clearing it would lose
		// them, and tmux, like several terminals, scrolls a cleared
		// screen into its history, so an early frame would stay there
		// beside the cells printed after it.
		if m.opts.Inline {
			return m, cmd
		}
		return m, tea.Batch(cmd, tea.ClearScreen)
	case tea.FocusMsg, tea.BlurMsg:
		_, m.unfocused = msg.(tea.BlurMsg)
		if m.dialog != nil {
			var cmd tea.Cmd
			*m.dialog, cmd = m.dialog.Update(msg)
			return m, cmd
		}
		return m, nil
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			m.scroll(-3)
		case tea.MouseWheelDown:
			m.scroll(3)
		}
		return m, nil
	case tea.MouseClickMsg:
		if m.pager == nil {
			m.click(msg)
		}
		return m, nil
	case tea.KeyPressMsg:
		return m, m.key(msg)
	case tea.PasteMsg:
		if m.pager != nil {
			m.pagerPaste(msg.Content)
			return m, nil
		}
		return m, m.toInput(msg)
	case writtenMsg:
		m.written(msg)
		return m, nil
	case transcriptEdited:
		m.transcriptEdited(msg)
		return m, nil
	}
	// The composer's own messages: the path index it built, the editor
	// it ran.
	var cmd tea.Cmd
	m.composer, cmd = m.composer.Update(msg)
	return m, cmd
}

// toInput hands msg to the dialog when one is open, else to the composer.
func (m *model) toInput(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	if m.dialog != nil {
		*m.dialog, cmd = m.dialog.Update(msg)
		return cmd
	}
	if m.picker != nil {
		return m.toPicker(msg)
	}
	m.composer, cmd = m.composer.Update(msg)
	return cmd
}

// key handles a key press: the core's keys first, the rest to the dialog
// or the composer.
func (m *model) key(k tea.KeyPressMsg) tea.Cmd {
	armed, escArmed := m.quitArmed, m.escArmed
	m.quitArmed, m.escArmed = false, false
	if m.picker != nil && k.String() != "ctrl+c" {
		return m.toPicker(k)
	}
	completing := m.dialog == nil && m.composer.Completing()
	empty := m.dialog == nil && m.composer.Value() == ""
	switch k.String() {
	case "ctrl+c":
		if armed {
			return m.quit()
		}
		m.quitArmed = true
		if m.running() {
			m.cancel()
		}
		m.composer = m.composer.Reset()
		return nil
	case "ctrl+z":
		return m.suspend()
	}
	if m.pager != nil {
		return m.pagerKey(k)
	}
	switch k.String() {
	case "ctrl+d":
		if empty {
			return m.quit()
		}
	case "tab":
		if m.running() && !completing && m.dialog == nil {
			if text := m.composer.Value(); strings.TrimSpace(text) != "" {
				m.queue = append(m.queue, text)
				m.composer = m.composer.Reset()
			}
			return nil
		}
	case "esc":
		if m.running() && !completing && m.dialog == nil {
			m.cancel()
			return m.escape(escArmed)
		}
		if empty && !completing {
			return m.escape(escArmed)
		}
	case "up":
		if empty && !completing && len(m.queue) > 0 {
			last := m.queue[len(m.queue)-1]
			m.queue = m.queue[:len(m.queue)-1]
			m.composer = m.composer.SetValue(last)
			return nil
		}
	case "pgup":
		m.scroll(-m.transcriptHeight())
		return nil
	case "pgdown":
		m.scroll(m.transcriptHeight())
		return nil
	case "home":
		if empty {
			m.tr.home(m.from())
			return nil
		}
	case "end":
		if empty {
			m.tr.end()
			return nil
		}
	case "ctrl+o":
		m.openPager()
		return nil
	case "alt+o":
		m.toggleLast()
		return nil
	}
	return m.toInput(k)
}

// submit sends text: as a prompt when none runs, else into the running
// one, delivered at its next tool boundary.
func (m *model) submit(text string, images []llm.Part) tea.Cmd {
	if !m.running() {
		return m.send(text, images...)
	}
	if len(images) > 0 {
		// Steering is text only.
		m.errorf("images go only with a new prompt: send them again when the turn ends")
	}
	if !m.sess.Steer(text) {
		// The run is ending: the text is the next prompt.
		m.queue = append(m.queue, text)
		return nil
	}
	m.add(&cell{kind: steerCell, text: text, done: true})
	m.tr.end()
	return nil
}

// ended takes the end of a run: the steering it did not deliver goes back
// to the front of the queue, and the queue is sent.
func (m *model) ended(res app.Result) tea.Cmd {
	m.cancel = nil
	m.status.running = false
	m.status.used, m.status.window = m.sess.ContextStatus()
	m.queue = append(append([]string(nil), res.Undelivered...), m.queue...)
	cmds := []tea.Cmd{m.refreshBranch(), m.flush(), m.afterRun()}
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
	m.approvals, m.dialog, m.pager = nil, nil, nil
	return tea.Quit
}

// showApproval opens the dialog for the first approval waiting, if none
// is open.
func (m *model) showApproval() tea.Cmd {
	if m.dialog != nil || len(m.approvals) == 0 {
		return nil
	}
	a := m.approvals[0]
	d := approve.New(a.req, approve.Options{
		Width: m.width, Height: m.height, Changes: a.changes,
		Styles: m.opts.ApproveStyles, Unfocused: m.unfocused, Notify: m.opts.Notify, Home: m.opts.Home,
	})
	m.dialog = &d
	m.composer = m.composer.Blur()
	return d.Init()
}

// answered passes the person's answer to the approver waiting for it and
// opens the next dialog.
func (m *model) answered(a approve.Answered) tea.Cmd {
	for i, w := range m.approvals {
		if w.req.CallID == a.CallID {
			w.reply <- a.Answer
			m.approvals = append(m.approvals[:i], m.approvals[i+1:]...)
			break
		}
	}
	return m.closeDialog(a.CallID)
}

// withdraw drops the pending approval of callID.
func (m *model) withdraw(callID string) tea.Cmd {
	for i, a := range m.approvals {
		if a.req.CallID == callID {
			m.approvals = append(m.approvals[:i], m.approvals[i+1:]...)
			break
		}
	}
	return m.closeDialog(callID)
}

// closeDialog closes the dialog of callID, if it is open, and opens the
// next.
func (m *model) closeDialog(callID string) tea.Cmd {
	if m.dialog == nil || m.dialog.CallID() != callID {
		return nil
	}
	m.dialog = nil
	m.composer = m.composer.Focus()
	return m.showApproval()
}

// toggleLast expands or collapses the last tool or thinking cell.
func (m *model) toggleLast() {
	for i := len(m.tr.cells) - 1; i >= m.from(); i-- {
		if c := m.tr.cell(i); c.kind == toolCell || c.kind == thinkingCell {
			c.expanded = !c.expanded
			return
		}
	}
}

func (m *model) scroll(delta int) {
	if m.pager != nil {
		m.pager.scroll(delta, m.width, m.pagerHeight())
		return
	}
	if m.opts.Inline {
		// The terminal's own scrollback holds the history.
		return
	}
	m.tr.scroll(delta, m.from(), m.width, m.transcriptHeight())
}

// from is the first cell the UI shows: inline, the cells before it are
// in the terminal's scrollback; full screen, all are shown.
func (m *model) from() int {
	if m.opts.Inline {
		return m.printed
	}
	return 0
}

// flush prints, in inline mode, the finished cells at the start of the
// live region to the scrollback, in order, each once.
func (m *model) flush() tea.Cmd {
	if !m.opts.Inline {
		return nil
	}
	if lines := m.takeFinished(false); len(lines) > 0 {
		return tea.Println(strings.Join(lines, "\n"))
	}
	return nil
}

// takeFinished renders the finished cells not printed yet, up to the
// first unfinished one, every one expanded if expand, and counts them as
// printed.
func (m *model) takeFinished(expand bool) []string {
	var lines []string
	for m.printed < len(m.tr.cells) && m.tr.cell(m.printed).done {
		c := m.tr.cell(m.printed)
		lines = append(lines, c.linesAt(m.width, c.expanded || expand)...)
		m.printed++
	}
	return lines
}

// bottom renders what is below the transcript: the queue, the composer or
// the approval dialog, the status line.
func (m *model) bottom() []string {
	var out []string
	if n := m.tr.unseen(); n > 0 {
		out = append(out, ansi.Truncate(plural(n, "new cell")+" below · End to follow", m.width, "…"))
	}
	for _, q := range m.queue {
		out = append(out, ansi.Truncate("queued: "+strings.ReplaceAll(q, "\n", " ⏎ "), m.width, "…"))
	}
	switch {
	case m.dialog != nil:
		out = append(out, strings.Split(m.dialog.View(), "\n")...)
	case m.picker != nil:
		out = append(out, strings.Split(m.picker.View(), "\n")...)
	default:
		out = append(out, strings.Split(m.composer.View(), "\n")...)
	}
	if m.quitArmed {
		out = append(out, "Press Ctrl+C again to quit.")
	}
	if m.escArmed && m.picker == nil {
		out = append(out, "Press Esc again to rewind.")
	}
	return append(out, m.status.line(m.width))
}

func (m *model) transcriptHeight() int {
	return max(m.height-len(m.bottom()), 1)
}

// minWidth and minHeight are the smallest terminal the UI draws in.
const minWidth, minHeight = 20, 5

// View implements tea.Model.
func (m *model) View() tea.View {
	var v tea.View
	// Transcript mode takes the whole screen, inline too.
	v.AltScreen = !m.opts.Inline || m.pager != nil
	v.ReportFocus = true
	if v.AltScreen {
		v.MouseMode = tea.MouseModeCellMotion
	}
	if m.quitting {
		return v
	}
	if m.width < minWidth || m.height < minHeight {
		v.SetContent("Terminal too small; make it at least 20×5.")
		return v
	}
	if m.pager != nil {
		v.SetContent(m.pagerView())
		return v
	}
	bottom := m.bottom()
	height := max(m.height-len(bottom), 1)
	lines := m.tr.view(m.from(), m.width, height)
	if !m.opts.Inline {
		// The transcript fills the screen above the composer.
		for len(lines) < height {
			lines = append(lines, "")
		}
	}
	v.SetContent(strings.Join(append(lines, bottom...), "\n"))
	return v
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
