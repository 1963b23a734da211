package tui

import (
	"io"
	"time"
	_ "unsafe" // go:linkname, below

	tea "charm.land/bubbletea/v2"
)

// Bubble Tea draws a frame only when its frame ticker fires, so a key
// pressed after a quiet spell waits up to a whole frame before anything
// reaches the terminal: half the keystroke → screen budget at 120 frames a
// second. The program has no exported way to draw now; its renderer
// interface is unexported too, so a renderer of our own would mean
// rewriting what the cursed renderer does for the alternate screen, the
// cursor, the keyboard protocol, mouse and focus modes, suspend and exec.
// flushFrame is the one step the ticker runs, "write the queued output,
// then the current frame", and drawing it a little earlier than the ticker
// would is all the fast path needs. It is safe next to the ticker: both
// halves take the program's and the renderer's locks, and a frame already
// drawn makes the next tick a no-op, so the parking of an idle renderer is
// untouched. The name and signature are those of bubbletea v2.2.0
// (tea.go): go.mod pins it, a rename fails the link, and
// TestKeyDrawsBeforeTheNextFrame fails if the path stops drawing.
//
//go:linkname flushFrame charm.land/bubbletea/v2.(*Program).flushFrame
func flushFrame(p *tea.Program) (drew, ok bool)

// fps is the frame rate streamed output is coalesced to; a key's frame
// does not wait for it.
const fps = 120

// newProgram is the UI's Bubble Tea program on in and out: at most fps
// frames a second, except that the frame after a person's input is drawn
// as soon as the model has rendered it.
func newProgram(m tea.Model, in io.Reader, out io.Writer, opts ...tea.ProgramOption) *tea.Program {
	f := &inputFlusher{frame: time.Second / fps}
	opts = append([]tea.ProgramOption{tea.WithInput(in), tea.WithOutput(out), tea.WithFPS(fps), tea.WithFilter(f.filter)}, opts...)
	f.p = tea.NewProgram(m, opts...)
	return f.p
}

// drawNowMsg asks for the frame rendered since it was sent to be drawn at
// once.
type drawNowMsg struct{}

// inputFlusher draws the frame that answers a person's input without
// waiting for the ticker. It runs as the program's filter, which is called
// on the event loop before each Update: an input schedules a drawNowMsg,
// which can only arrive after the program has rendered the input's view,
// and drawing it then shows that view. Inputs closer together than a
// frame (a paste, a held key, a spun wheel) are left to the ticker, so
// bursts still cost at most a frame each.
//
// Its fields belong to the event loop.
type inputFlusher struct {
	p       *tea.Program
	frame   time.Duration
	pending bool      // a drawNowMsg is on its way
	last    time.Time // when the last one was drawn
}

func (f *inputFlusher) filter(_ tea.Model, msg tea.Msg) tea.Msg {
	switch msg.(type) {
	case drawNowMsg:
		f.pending = false
		f.last = time.Now()
		flushFrame(f.p)
		return nil
	case tea.KeyPressMsg, tea.PasteMsg, tea.MouseClickMsg, tea.MouseReleaseMsg, tea.MouseWheelMsg:
		if !f.pending && time.Since(f.last) >= f.frame {
			f.pending = true
			// Send blocks until the event loop takes the message, which
			// is after this one's Update and render.
			go f.p.Send(drawNowMsg{})
		}
	}
	return msg
}
