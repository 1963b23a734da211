package tui

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// echo shows what it was typed and what was streamed to it.
type echo struct{ text string }

// streamed is a model update that is not a person's input, as the
// agent's events are.
type streamed string

func (e echo) Init() tea.Cmd { return nil }

func (e echo) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		e.text += msg.Text
	case streamed:
		e.text += string(msg)
	}
	return e, nil
}

func (e echo) View() tea.View { return tea.NewView("> " + e.text) }

// written is the program's output so far.
type written struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *written) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// since is what was written after the first n bytes, and the length now.
func (w *written) since(n int) (string, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf.Bytes()[n:]), w.buf.Len()
}

// TestKeyDrawsBeforeTheNextFrame runs the UI's program on a fake clock
// (testing/synctest), which moves only when the test sleeps: whatever the
// program writes while the clock stands still was not drawn by the frame
// ticker. A key after an idle spell must reach the output then; a second
// key within the same frame, and streamed updates, must wait for the
// tick, so bursts stay coalesced to the frame rate; and an idle program
// writes nothing.
func TestKeyDrawsBeforeTheNextFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inR, inW := io.Pipe()
		out := &written{}
		p := newProgram(echo{}, inR, out, tea.WithWindowSize(40, 5), tea.WithoutSignalHandler())
		done := make(chan error, 1)
		go func() {
			_, err := p.Run()
			done <- err
		}()
		frame := time.Second / fps

		// The first frame is drawn and the renderer, with nothing more to
		// draw, parks.
		time.Sleep(time.Second)
		synctest.Wait()
		first, n := out.since(0)
		if !strings.Contains(first, ">") {
			t.Fatalf("no first frame in %q", first)
		}
		type step struct {
			name    string
			do      func()
			advance time.Duration // of the clock before looking
			want    string        // the text written, escapes and blanks left out; "" wants no bytes
		}
		key := func(s string) func() {
			return func() {
				if _, err := inW.Write([]byte(s)); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, s := range []step{
			{"key after idle, clock stopped", key("a"), 0, "a"},
			{"second key in the same frame, clock stopped", key("b"), 0, ""},
			{"second key, at the tick", func() {}, frame, "b"},
			{"key a frame later, clock stopped", func() { time.Sleep(frame) }, 0, ""},
			{"", key("c"), 0, "c"},
			{"streamed update, clock stopped", func() { p.Send(streamed("d")) }, 0, ""},
			{"streamed update, at the tick", func() {}, frame, "d"},
			{"10 s idle", func() {}, 10 * time.Second, ""},
		} {
			s.do()
			time.Sleep(s.advance)
			synctest.Wait()
			var got string
			got, n = out.since(n)
			if s.want == "" && got != "" {
				t.Errorf("%s: wrote %q, want nothing yet", s.name, got)
			}
			if s.want != "" && strings.TrimSpace(ansi.Strip(got)) != s.want {
				t.Errorf("%s: wrote %q, want %q drawn", s.name, got, s.want)
			}
		}

		p.Quit()
		if err := inW.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("program: %v", err)
		}
	})
}
