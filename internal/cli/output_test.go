package cli

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/lathe-dev/lathe/internal/event"
)

// TestOutputFormatsFilterEvents pins which events each output format
// prints: stream-json everything but message and decision, and the provisional events
// (deltas, command.output) only with --include-partial-messages; json and
// text print nothing for the events added with the event bus.
func TestOutputFormatsFilterEvents(t *testing.T) {
	events := []event.Event{
		{Type: event.SessionStart, SessionID: "s"},
		{Type: event.TextDelta, Text: "He"},
		{Type: event.ThinkingDelta, Text: "Hm"},
		{Type: event.Usage},
		{Type: event.Thinking, Text: "Hmm"},
		{Type: event.Text, Text: "Hello"},
		{Type: event.Message, Text: "Hello", CallIDs: []string{"c1"}},
		{Type: event.ToolStart, CallID: "c1", Name: "Bash"},
		{Type: event.Decision, CallID: "c1", Name: "Bash", Verdict: event.Allowed, DecidedBy: event.ByMode, Kind: "exec"},
		{Type: event.CommandOutput, CallID: "c1", Text: "out\n"},
		{Type: event.ToolEnd, CallID: "c1", Name: "Bash", Output: "out"},
		{Type: event.SteeringDelivered, Text: "also"},
		{Type: event.Result, Answer: "Hello"},
	}
	for _, tc := range []struct {
		format  string
		partial bool
		want    []event.Type // printed on stdout, in order
	}{
		{"stream-json", false, []event.Type{event.SessionStart, event.Usage, event.Thinking, event.Text, event.ToolStart, event.ToolEnd, event.SteeringDelivered, event.Result}},
		{"stream-json", true, []event.Type{event.SessionStart, event.TextDelta, event.ThinkingDelta, event.Usage, event.Thinking, event.Text, event.ToolStart, event.CommandOutput, event.ToolEnd, event.SteeringDelivered, event.Result}},
		{"json", true, []event.Type{event.Result}},
	} {
		var stdout, stderr bytes.Buffer
		sink, err := newOutput(tc.format, tc.partial, false, &stdout, &stderr)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			sink.Emit(e)
		}
		var got []event.Type
		dec := json.NewDecoder(&stdout)
		for dec.More() {
			var e event.Event
			if err := dec.Decode(&e); err != nil {
				t.Fatalf("%s: %v", tc.format, err)
			}
			got = append(got, e.Type)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s, partial %v: printed %v, want %v", tc.format, tc.partial, got, tc.want)
		}
		if stderr.Len() != 0 {
			t.Errorf("%s: stderr %q", tc.format, stderr.String())
		}
	}
	// The text format prints the answer, and nothing for the new events,
	// verbose or not.
	for _, verbose := range []bool{false, true} {
		var stdout, stderr bytes.Buffer
		sink, _ := newOutput("text", true, verbose, &stdout, &stderr)
		for _, e := range events {
			if e.Type == event.Message || e.Type == event.CommandOutput || e.Type == event.SteeringDelivered || e.Type == event.Decision {
				sink.Emit(e)
			}
		}
		if stdout.Len()+stderr.Len() != 0 {
			t.Errorf("text, verbose %v: printed %q and %q for message, command.output, steering.delivered and decision, want nothing", verbose, stdout.String(), stderr.String())
		}
	}
}

// TestOutputRedactsSecrets: no output format prints a value that looks
// like a key, wherever in an event it is, and stream-json stays JSON.
func TestOutputRedactsSecrets(t *testing.T) {
	const key = "AKIAIOSFODNN7EXAMPLE"
	events := []event.Event{
		{Type: event.ToolStart, CallID: "c1", Name: "Bash", Input: json.RawMessage(`{"command":"aws --key ` + key + `"}`)},
		{Type: event.ToolEnd, CallID: "c1", Name: "Bash", Output: "key=" + key, Summary: key},
		{Type: event.Text, Text: "The key is " + key},
		{Type: event.Result, Answer: "Found " + key, Error: key,
			DeniedCalls:      []event.DeniedCall{{CallID: "c2", Name: "Bash", Input: json.RawMessage(`{"command":"echo ` + key + `"}`), Reason: key}},
			KilledBackground: []event.BackgroundCommand{{ID: "bash_1", Command: "serve --key " + key}}},
	}
	for _, format := range []string{"stream-json", "json", "text"} {
		var stdout, stderr bytes.Buffer
		sink, err := newOutput(format, true, true, &stdout, &stderr)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			sink.Emit(e)
		}
		out := stdout.String() + stderr.String()
		if bytes.Contains([]byte(out), []byte(key)) {
			t.Errorf("%s printed the key:\n%s", format, out)
		}
		if !bytes.Contains([]byte(out), []byte("[REDACTED:aws-access-key]")) {
			t.Errorf("%s printed no redaction marker:\n%s", format, out)
		}
		if format == "stream-json" {
			dec := json.NewDecoder(&stdout)
			for dec.More() {
				var e event.Event
				if err := dec.Decode(&e); err != nil {
					t.Fatalf("stream-json: %v", err)
				}
			}
		}
	}
}
