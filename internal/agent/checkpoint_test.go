package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/policy"
)

// checkpointFunc adapts a function to Checkpointer.
type checkpointFunc func(ctx context.Context) (int, string, error)

func (f checkpointFunc) Checkpoint(ctx context.Context) (int, string, error) { return f(ctx) }

// stepRecorder is a Checkpointer that numbers steps and notes, for each,
// whether the file "log" existed yet, so that a test sees the snapshot
// came before the call ran.
type stepRecorder struct {
	dir   string
	steps []string
	fail  error
}

func (r *stepRecorder) Checkpoint(ctx context.Context) (int, string, error) {
	b, _ := os.ReadFile(filepath.Join(r.dir, "log"))
	r.steps = append(r.steps, string(b))
	if r.fail != nil {
		return len(r.steps), "", r.fail
	}
	return len(r.steps), strings.Repeat("a", 40), nil
}

func checkpointEvents(events []event.Event) []event.Event {
	var cs []event.Event
	for _, e := range events {
		if e.Type == event.Checkpoint {
			e.Seq, e.Time, e.SessionID, e.Turn = 0, "", "", 0
			cs = append(cs, e)
		}
	}
	return cs
}

// Every call that may change the workspace (an edit, a command not known
// to be read-only) is snapshotted before it runs, after the policy
// allowed it; a read-only or denied call is not. The checkpoint event sits between the call's
// tool.start and tool.end and says what the call writes or runs.
func TestCheckpointBeforeMutatingCalls(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [
	    {"name": "Bash", "input": {"command": "echo 1   >> log"}},
	    {"name": "Read", "input": {"file_path": "log"}},
	    {"name": "Bash", "input": {"command": "cat log | wc -l"}},
	    {"name": "Write", "input": {"file_path": "sub/w.txt", "content": "x"}},
	    {"name": "Edit", "input": {"file_path": "log", "old_string": "1", "new_string": "2"}},
	    {"name": "Write", "input": {"file_path": "/elsewhere/x", "content": "x"}}]}},
	  {"reply": {"text": "done"}}]}`)
	h.cfg.Policy = deciderFunc(func(_ context.Context, c *policy.Call) policy.Decision {
		if len(c.Writes) > 0 && strings.HasPrefix(c.Writes[0], "/elsewhere") {
			return policy.Decision{Verdict: policy.Deny, Reason: "outside"}
		}
		return policy.Decision{Verdict: policy.Allow}
	})
	rec := &stepRecorder{dir: h.dir}
	h.cfg.Checkpoints = rec
	o := h.run(t.Context(), "go")
	h.check()
	if o.Kind != event.Success {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
	if want := []string{"", "1\n", "1\n"}; !reflect.DeepEqual(rec.steps, want) {
		t.Errorf("the snapshots saw log = %q, want %q", rec.steps, want)
	}
	id := strings.Repeat("a", 40)
	var got []string
	for _, e := range checkpointEvents(h.events) {
		if e.CheckpointID != id || e.CallID == "" {
			t.Errorf("checkpoint event %+v", e)
		}
		got = append(got, e.Name+" "+strings.Repeat("#", e.Step)+" "+e.Target)
	}
	if want := []string{"Bash # echo 1 >> log", "Write ## " + filepath.Join("sub", "w.txt"), "Edit ### log"}; !reflect.DeepEqual(got, want) {
		t.Errorf("checkpoints %q, want %q", got, want)
	}
	// Between the call's tool.start and tool.end.
	first := checkpointEvents(h.events)[0].CallID
	var order []string
	for _, e := range h.events {
		if e.CallID == first {
			order = append(order, string(e.Type))
		}
	}
	if want := []string{"tool.start", "decision", "checkpoint", "tool.end"}; !reflect.DeepEqual(order, want) {
		t.Errorf("Bash call's events %q, want %q", order, want)
	}
}

// A snapshot that fails does not stop the call: the event says why, and
// the call runs.
func TestCheckpointFailureStillRuns(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo 1 >> log"}}]}},
	  {"expect": {"tool_results": [{"call": 0, "is_error": false}]}, "reply": {"text": "done"}}]}`)
	h.cfg.Checkpoints = &stepRecorder{dir: h.dir, fail: errors.New("no git")}
	o := h.run(t.Context(), "go")
	h.check()
	if o.Kind != event.Success || h.read("log") != "1\n" {
		t.Fatalf("outcome = %v (%v); the call did not run", o.Kind, o.Err)
	}
	cs := checkpointEvents(h.events)
	if len(cs) != 1 || cs[0].Error != "no git" || cs[0].CheckpointID != "" || cs[0].Step != 1 {
		t.Errorf("checkpoint events %+v, want one with the error", cs)
	}
}

// A run cancelled while the snapshot is taken does not run the call.
func TestCheckpointCancelled(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "touch never"}}]}}]}`)
	ctx, cancel := context.WithCancel(t.Context())
	h.cfg.Checkpoints = checkpointFunc(func(cctx context.Context) (int, string, error) {
		cancel()
		<-cctx.Done()
		return 1, "", cctx.Err()
	})
	o := h.run(ctx, "go")
	if o.Kind != event.Interrupted {
		t.Fatalf("outcome = %v (%v), want interrupted", o.Kind, o.Err)
	}
	if _, err := os.Stat(filepath.Join(h.dir, "never")); err == nil {
		t.Error("a call whose checkpoint was interrupted ran")
	}
	if cs := checkpointEvents(h.events); len(cs) != 0 {
		t.Errorf("checkpoint events %+v for an interrupted snapshot", cs)
	}
}

func TestTarget(t *testing.T) {
	long := strings.Repeat("é", 150)
	for _, tc := range []struct {
		call policy.Call
		want string
	}{
		{policy.Call{Kind: policy.Exec, Command: "go test\n  ./...\t-run X"}, "go test ./... -run X"},
		{policy.Call{Kind: policy.Edit, Writes: []string{"/w/a.go", "/w/sub/b.go", "/other/c", "/wx"}}, "a.go, sub/b.go, /other/c, /wx"},
		{policy.Call{Kind: policy.Exec, Command: long}, strings.Repeat("é", 100) + "…"},
	} {
		if got := target("/w", &tc.call); got != tc.want {
			t.Errorf("target(%+v) = %q, want %q", tc.call, got, tc.want)
		}
	}
}
