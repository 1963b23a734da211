package tui

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/lathe-dev/lathe/internal/event"
)

// BenchmarkKeystroke is the UI's cost of a typed letter, Update and the
// frame's View, with nothing before it and with a 100k-line transcript:
// the two must cost the same, the transcript rendering only what shows.
func BenchmarkKeystroke(b *testing.B) {
	for _, lines := range []int{0, 100_000} {
		b.Run(fmt.Sprintf("lines=%d", lines), func(b *testing.B) {
			m := newModel(context.Background(), stub{}, newFeed(), Options{})
			m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
			if lines > 0 {
				var sb strings.Builder
				for i := range lines {
					fmt.Fprintf(&sb, "line %d of the long answer, with some words to wrap\n", i)
				}
				m.apply([]event.Event{{Type: event.Text, Text: sb.String()}})
			}
			m.View()
			b.ResetTimer()
			for i := range b.N {
				m.Update(tea.KeyPressMsg{Code: rune('a' + i%26), Text: string(rune('a' + i%26))})
				m.View()
				if i%64 == 63 {
					m.composer = m.composer.Reset()
				}
			}
		})
	}
}

// BenchmarkStreamDelta is the UI's cost of one streamed text delta, taken
// from the feed and drawn, at the start of a session and after 100k lines
// of earlier cells.
func BenchmarkStreamDelta(b *testing.B) {
	for _, cells := range []int{0, 100_000} {
		b.Run(fmt.Sprintf("cells=%d", cells), func(b *testing.B) {
			m := newModel(context.Background(), stub{}, newFeed(), Options{})
			m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
			for i := range cells {
				m.apply([]event.Event{{Type: event.Text, Text: fmt.Sprintf("earlier answer %d", i)}})
			}
			m.View()
			b.ResetTimer()
			for i := range b.N {
				m.apply([]event.Event{{Type: event.TextDelta, Text: "a few words of streamed text "}})
				m.View()
				if i%200 == 199 {
					m.apply([]event.Event{{Type: event.Text, Text: "done"}})
				}
			}
		})
	}
}

// signalWriter discards what is written and says when something was.
type signalWriter chan struct{}

func (w signalWriter) Write(p []byte) (int, error) {
	select {
	case w <- struct{}{}:
	default:
	}
	return len(p), nil
}

// BenchmarkKeyToFrame is keystroke → first byte of its frame inside the
// process: a letter written to the program's input, read, parsed, given to
// the model, rendered and drawn by the real program and renderer, with
// nothing before it and with a 100k-line transcript. It is what the raw
// pty figure of bench/ measures, less the kernel's and the reader's part.
func BenchmarkKeyToFrame(b *testing.B) {
	for _, lines := range []int{0, 100_000} {
		b.Run(fmt.Sprintf("lines=%d", lines), func(b *testing.B) {
			m := newModel(context.Background(), stub{}, newFeed(), Options{})
			if lines > 0 {
				var sb strings.Builder
				for i := range lines {
					fmt.Fprintf(&sb, "line %d of the long answer, with some words to wrap\n", i)
				}
				m.apply([]event.Event{{Type: event.Text, Text: sb.String()}})
			}
			// Rendered once at the program's size, as a transcript that
			// arrived while the UI ran would have been.
			m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
			m.View()
			inR, inW := io.Pipe()
			out := make(signalWriter, 1)
			p := newProgram(m, inR, out, tea.WithWindowSize(120, 40), tea.WithoutSignalHandler())
			done := make(chan error, 1)
			go func() {
				_, err := p.Run()
				done <- err
			}()
			// The terminal's setup and the first frame, which renders the
			// transcript, are out once nothing was written for a while.
			for quiet := false; !quiet; {
				select {
				case <-out:
				case <-time.After(200 * time.Millisecond):
					quiet = true
				}
			}
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				// Past the frame's coalescing, and whatever is still
				// being drawn is out.
				time.Sleep(time.Second / fps)
				for len(out) > 0 {
					<-out
				}
				key := "abcdefghijklmnopqrstuvwxyz"[i%26 : i%26+1]
				if i%64 == 63 {
					key = "\x15" // Ctrl+U empties the composer
				}
				b.StartTimer()
				if _, err := io.WriteString(inW, key); err != nil {
					b.Fatal(err)
				}
				<-out
			}
			b.StopTimer()
			p.Quit()
			if err := inW.Close(); err != nil {
				b.Fatal(err)
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		})
	}
}
