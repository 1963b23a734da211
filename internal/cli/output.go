package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/lathe-dev/lathe/internal/audit"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/secret"
	"github.com/lathe-dev/lathe/internal/termsafe"
)

// outputFormats are the values of --output-format.
var outputFormats = []string{"text", "json", "stream-json"}

// newOutput returns the sink that prints a run's events in format.
func newOutput(format string, partial, verbose bool, stdout, stderr io.Writer) (event.Sink, error) {
	switch format {
	case "stream-json":
		return event.SinkFunc(func(e event.Event) {
			if inStream(e.Type, partial) {
				writeJSON(stdout, stderr, e, false)
			}
		}), nil
	case "json":
		return event.SinkFunc(func(e event.Event) {
			if e.Type == event.Result {
				writeJSON(stdout, stderr, e, true)
			}
		}), nil
	case "text":
		return event.SinkFunc(func(e event.Event) { printText(e, verbose, stdout, stderr) }), nil
	}
	return nil, usagef("unknown output format %q (want %s)", format, strings.Join(outputFormats, ", "))
}

// inStream reports whether stream-json prints events of type t. The
// streaming ones (the deltas and command.output) are provisional, and
// printed only with --include-partial-messages (partial). message is never
// printed: it repeats the text events and the tool.start ids, for the
// terminal UI, and the stream stays what it was before there were message
// events. Nor is decision, which the audit log records.
func inStream(t event.Type, partial bool) bool {
	return t != event.Message && t != event.Decision && (partial || !t.Streaming())
}

// writeJSON prints e as one JSON value, its secrets redacted: the
// stream goes to terminals, CI logs and files people share. C0 controls
// are escaped by encoding/json, C1 controls by termsafe, so that a
// terminal showing the stream obeys none of them.
func writeJSON(w, stderr io.Writer, e event.Event, indent bool) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(e); err != nil {
		// An event is plain data; this cannot happen short of a bug, and
		// the session log still has the run.
		fmt.Fprintf(stderr, "lathe: encode %s event: %v\n", e.Type, err)
		return
	}
	// A failed write to stdout (a closed pipe) must not stop the run: the
	// session log still records everything.
	_, _ = w.Write(termsafe.EscapeJSON(audit.RedactJSON(buf.Bytes())))
}

// printText prints the answer on stdout and, with verbose, progress on
// stderr, so `lathe -p ... > answer.txt` captures only the answer.
//
// Everything printed comes from the model, a tool or a server, and goes
// through secret.Redact, and termsafe.String, which removes every escape
// sequence, colours included: an answer is also read from files and
// pipes, where colour codes are noise, and telling harmless SGR from the
// rest would mean trusting a parser with the user's terminal for little
// gain.
func printText(e event.Event, verbose bool, stdout, stderr io.Writer) {
	safe := func(s string) string { return termsafe.String(secret.Redact(s)) }
	switch e.Type {
	case event.Result:
		if e.Answer != "" {
			fmt.Fprintln(stdout, safe(e.Answer))
		}
		if e.Error != "" {
			fmt.Fprintf(stderr, "lathe: %s\n", safe(e.Error))
		}
		for _, d := range e.DeniedCalls {
			fmt.Fprintf(stderr, "lathe: denied %s: %s\n", safe(d.Name), safe(d.Reason))
		}
		for _, k := range e.KilledBackground {
			fmt.Fprintf(stderr, "lathe: killed background command %s: %s\n", k.ID, oneLine(secret.Redact(k.Command), 120))
		}
	case event.RuleAdded:
		fmt.Fprintf(stderr, "lathe: always allowed: added %s to %s\n", safe(e.Rule), safe(e.RuleSource))
	case event.Retry:
		fmt.Fprintf(stderr, "lathe: retrying in %s (attempt %d): %s\n", fmtMS(e.DelayMS), e.Attempt, safe(e.Error))
	case event.Warning:
		fmt.Fprintf(stderr, "lathe: warning: %s: %s\n", safe(e.Text), safe(e.Error))
	case event.ToolStart:
		if verbose {
			fmt.Fprintf(stderr, "→ %s %s\n", safe(e.Name), oneLine(string(audit.RedactJSON(e.Input)), 120))
		}
	case event.ToolEnd:
		if verbose {
			fmt.Fprintf(stderr, "  %s\n", safe(e.Summary))
		}
	case event.Text:
		if verbose {
			fmt.Fprintf(stderr, "%s\n", safe(e.Text))
		}
	}
}

func fmtMS(ms int64) string {
	return fmt.Sprintf("%.1fs", float64(ms)/1000)
}

// oneLine shortens s to one line of at most max characters, with its
// control characters shown as escapes.
func oneLine(s string, max int) string {
	s = termsafe.Quote(strings.Join(strings.Fields(s), " "))
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "…"
	}
	return s
}
