package agent

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
)

// The wall-clock limit stops a run in the middle of a command, as its own
// outcome, and the model is told which limit stopped the call.
func TestMaxDurationStopsARunningCommand(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "sleep 60"}}]}}]}`)
	h.cfg.MaxDuration = 200 * time.Millisecond
	o := h.run(context.Background(), "go")
	h.check()
	if o.Kind != event.MaxDuration || o.Err == nil || !strings.Contains(o.Err.Error(), "wall-clock") {
		t.Fatalf("outcome = %v (%v), want max_duration", o.Kind, o.Err)
	}
	var result string
	for _, m := range h.transcript().Messages {
		for _, p := range m.Parts {
			if p.Kind == llm.PartToolResult {
				result = p.Text
			}
		}
	}
	if want := "Interrupted by the run's wall-clock limit (max_duration); the command was stopped."; result != want {
		t.Errorf("recorded result %q, want %q", result, want)
	}
}

// A user's interruption is still one with a limit set.
func TestMaxDurationLeavesUserInterruptions(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "sleep 60"}}]}}]}`)
	h.cfg.MaxDuration = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	h.cfg.Sink = event.SinkFunc(func(e event.Event) {
		if e.Type == event.ToolStart {
			cancel()
		}
	})
	if o := h.run(ctx, "go"); o.Kind != event.Interrupted {
		t.Fatalf("outcome = %v (%v), want interrupted", o.Kind, o.Err)
	}
}
