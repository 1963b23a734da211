package event_test

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/event"
)

// session160 is the event sequence of the bench's long session (160
// turns; bench/RESULTS.md), as --include-partial-messages streams it:
// each turn streams its text in 40 deltas, then usage, text, message, a
// tool call whose command writes 8 chunks, and its end.
func session160() []event.Event {
	chunk := strings.Repeat("x", 24)
	evs := []event.Event{{Type: event.SessionStart, SessionID: "s", Model: "m", Tools: []string{"Bash", "Read"}}}
	for turn := 1; turn <= 160; turn++ {
		for range 40 {
			evs = append(evs, event.Event{Type: event.TextDelta, SessionID: "s", Turn: turn, Text: chunk})
		}
		evs = append(evs,
			event.Event{Type: event.Usage, SessionID: "s", Turn: turn},
			event.Event{Type: event.Text, SessionID: "s", Turn: turn, Text: strings.Repeat(chunk, 40)},
			event.Event{Type: event.Message, SessionID: "s", Turn: turn, CallIDs: []string{"toolu_1"}},
			event.Event{Type: event.ToolStart, SessionID: "s", Turn: turn, CallID: "toolu_1", Name: "Read", Input: json.RawMessage(`{"file_path":"a.go"}`)},
		)
		for range 8 {
			evs = append(evs, event.Event{Type: event.CommandOutput, SessionID: "s", Turn: turn, CallID: "toolu_1", Text: chunk})
		}
		evs = append(evs, event.Event{Type: event.ToolEnd, SessionID: "s", Turn: turn, CallID: "toolu_1", Name: "Read", Output: strings.Repeat(chunk, 100)})
	}
	return append(evs, event.Event{Type: event.Result, SessionID: "s", Outcome: event.Success})
}

// BenchmarkBusSession160 is what the publisher (the agent) spends
// publishing a 160-turn session through the bus as the headless CLI builds
// it (a synchronous hook, a stream-json printer), without and with a
// subscriber whose handler never returns, which the bus queues for until
// it is dropped. Publish's time, not the printer's, is measured: each op
// ends when the last Publish returns.
func BenchmarkBusSession160(b *testing.B) {
	evs := session160()
	printer := func(e event.Event) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(e)
		_, _ = io.Discard.Write(buf.Bytes())
	}
	hook := event.SinkFunc(func(e event.Event) {
		if e.Type == event.ToolStart || e.Type == event.ToolEnd {
			_, _ = json.Marshal(e)
		}
	})
	for _, stuck := range []bool{false, true} {
		name := "printer"
		if stuck {
			name = "printer+never-reading"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				bus := event.NewBus(event.WithHook(hook))
				bus.Subscribe("output", printer, event.Lossless())
				release := make(chan struct{})
				if stuck {
					bus.Subscribe("stuck", func(event.Event) { <-release })
				}
				for _, e := range evs {
					bus.Publish(e)
				}
				b.StopTimer()
				close(release)
				bus.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(len(evs)), "events/op")
		})
	}
}
