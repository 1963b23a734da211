package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"

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
