// Package tui is Lathe's interactive terminal UI. It is a front end of an
// app.App like the headless printer: it subscribes to the session's
// events and renders them, runs the user's prompts, steers and interrupts
// them, and answers approvals; it never reaches into the agent's loop.
//
// The program is Bubble Tea's. Events reach it through a [feed], one
// batch per frame, so the agent never waits for the screen. The
// transcript renders only the cells in view, each cached until it
// changes. Nothing runs on a timer while nothing is in flight.
package tui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	tea "charm.land/bubbletea/v2"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/tui/approve"
	"github.com/lathe-dev/lathe/internal/tui/cells"
	"github.com/lathe-dev/lathe/internal/tui/composer"
)

// Session is what the TUI drives; *app.App is one.
//
// Concurrency: Prompt, Compact, Recap and Shell are called from one goroutine
// at a time (a run ends before the next starts); Steer, Subscribe and
// ContextStatus from any.
// Close is called once, after the last Prompt has returned.
type Session interface {
	Subscribe(name string, handle func(event.Event), opts ...event.SubscribeOption) *event.Subscription
	Start()
	Prompt(ctx context.Context, text string, images ...llm.Part) app.Result
	Steer(text string) bool
	Compact(ctx context.Context, focus string) app.Result
	Recap(ctx context.Context) app.Result
	// Shell runs a command the user typed after "!" (app.App.Shell).
	Shell(ctx context.Context, command string) agent.UserCommand
	ContextStatus() (used, window int)
	// History is the conversation a resumed session's log holds, as the
	// events the live stream carries (and app.Prompt for a prompt); it
	// is called on session.start.
	History() ([]event.Event, error)
	// SessionID and RewindPoints are for /resume, /clear and /rewind;
	// RewindPoints is called while no prompt runs.
	SessionID() string
	RewindPoints(ctx context.Context) ([]app.RewindPoint, error)
	Close() error
}

// Options are how the TUI runs.
type Options struct {
	// Input and Output are the terminal.
	Input  *os.File
	Output *os.File
	// Inline runs in the normal screen, finished cells printed above a
	// small live region (--no-alt-screen); else the UI takes the
	// alternate screen and prints the transcript when it exits.
	Inline bool
	// Prompt, if not empty, is sent when the UI starts.
	Prompt string
	// Link is the session's approver and warner, which the UI serves;
	// Run needs it.
	Link *Link
	// Branch is the git branch shown on the status line; it is called
	// off the UI goroutine, at the start and after each run.
	Branch func() string
	// Composer configures the input (composer.Load); its Context and
	// Placeholder are the UI's.
	Composer composer.Options
	// Dir is the working directory, which paths are shown relative to.
	Dir string
	// CellStyles paint the transcript; the zero value paints nothing.
	CellStyles cells.Styles
	// Animations lets the activity indicator move while a run goes on
	// (ui.animations); without, it stands still and no timer runs.
	Animations bool
	// ApproveStyles, Notify and Home are the approval dialog's
	// (approve.Options).
	ApproveStyles approve.Styles
	Notify        approve.Notify
	Home          string
	// Sessions lists the sessions /resume offers; nil, /resume says it
	// cannot.
	Sessions Sessions
	// Notices are shown first, such as what the UI before this one
	// asked for (the session it cleared, the rewind); Draft is put in
	// the composer, such as the prompt a rewind went back to.
	Notices []string
	Draft   string
}

// Run runs the UI on s until the user quits or a signal (SIGTERM, SIGHUP,
// SIGINT) ends it, then interrupts what still runs, closes s and prints
// to the native scrollback every cell of the transcript not printed yet.
// The terminal is restored before Run returns, after a panic in the UI
// too. Next is what the user asked for that needs s closed: another
// session, a rewind; the caller does it and runs the UI again. The error
// is the program's and s.Close's.
func Run(ctx context.Context, s Session, opts Options) (Next, error) {
	f := opts.Link.feed
	defer f.close()
	s.Subscribe("tui", f.add)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := newModel(ctx, s, f, opts)
	p := newProgram(m, opts.Input, opts.Output, tea.WithoutSignalHandler())
	opts.Link.attach(p.Send)

	// The program's own handler would quit on SIGTERM but leave SIGHUP
	// fatal; both, and SIGINT when the terminal sends one, end the UI
	// the same way: the session saved, the terminal restored.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	stopSignals := make(chan struct{})
	signalsDone := make(chan struct{})
	go func() {
		defer close(signalsDone)
		select {
		case sig := <-sigs:
			p.Send(signalMsg{sig})
		case <-stopSignals:
		}
	}()
	defer func() {
		signal.Stop(sigs)
		close(stopSignals)
		<-signalsDone
	}()

	s.Start()
	_, runErr := p.Run()
	if errors.Is(runErr, tea.ErrProgramPanic) {
		fmt.Fprintln(opts.Output, "lathe: the terminal UI crashed; the session is saved")
	}
	// Interrupt the run still going, wait for it to record its result,
	// and close the session, which delivers every event published
	// before.
	cancel()
	m.runs.Wait()
	closeErr := s.Close()
	f.close()
	m.apply(f.take())
	if err := m.printRest(opts.Output); err != nil {
		runErr = errors.Join(runErr, err)
	}
	if m.signaled != nil {
		runErr = errors.Join(runErr, fmt.Errorf("%w by %v", ErrInterrupted, m.signaled))
		m.next = Next{}
	}
	return m.next, errors.Join(runErr, closeErr)
}

// ErrInterrupted is what Run returns, wrapped, when a signal ended the UI.
var ErrInterrupted = errors.New("interrupted")

// signalMsg says the process got a signal that ends the UI.
type signalMsg struct{ sig os.Signal }

// printRest writes the cells not printed yet to w, at the terminal's
// width, each once.
func (m *model) printRest(w io.Writer) error {
	var b strings.Builder
	for i := m.printed; i < len(m.tr.cells); i++ {
		for _, l := range m.tr.cell(i).lines(cmp.Or(m.width, 80)) {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	m.printed = len(m.tr.cells)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("print the transcript: %w", err)
	}
	return nil
}
