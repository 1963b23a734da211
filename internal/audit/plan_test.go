package audit

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/lathe-dev/lathe/internal/event"
)

// TestLogModeAfterPlan: once a plan-mode run's plan is approved (--then),
// a call its mode decides is recorded as decided by that mode, not plan.
func TestLogModeAfterPlan(t *testing.T) {
	l, err := Open(t.TempDir(), sid, Info{})
	if err != nil {
		t.Fatal(err)
	}
	l.Emit(event.Event{Type: event.SessionStart, SessionID: sid, PermissionMode: "plan"})
	decide := func(id string) {
		l.Emit(event.Event{Type: event.ToolStart, CallID: id, Name: "Read", Input: json.RawMessage(`{"file_path":"a"}`)})
		l.Emit(event.Event{Type: event.Decision, CallID: id, Name: "Read", Verdict: event.Allowed, DecidedBy: event.ByMode, Kind: "read"})
		l.Emit(event.Event{Type: event.ToolEnd, CallID: id, Name: "Read"})
	}
	decide("c1")
	l.Emit(event.Event{Type: event.PlanSubmitted, CallID: "c2", Name: "ExitPlanMode", Text: "1. x", PermissionMode: "acceptEdits"})
	decide("c3")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	var modes []string
	for _, r := range records(t, data) {
		if r.Type == TypeDecision {
			modes = append(modes, r.Mode)
		}
	}
	if want := []string{"plan", "acceptEdits"}; !slices.Equal(modes, want) {
		t.Errorf("modes of the decisions = %v, want %v", modes, want)
	}
}
