package agent

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/sandbox"
	"github.com/lathe-dev/lathe/internal/tool"
)

// An approver may take its time: the call waits for the answer, which
// arrives from another goroutine, and then runs.
func TestApproverAnswersAfterADelay(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "touch approved"}}]}},
	  {"expect": {"tool_results": [{"call": 0, "is_error": false}]}, "reply": {"text": "done"}}]}`)
	h.cfg.Policy = &policy.Policy{Mode: policy.AcceptEdits, Workspace: h.dir}
	asked := make(chan *Approval)
	answers := make(chan Answer)
	h.cfg.Approver = ApproverFunc(func(ctx context.Context, req *Approval) (Answer, error) {
		asked <- req
		select {
		case ans := <-answers:
			return ans, nil
		case <-ctx.Done():
			return Answer{}, ctx.Err()
		}
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		req := <-asked
		if req.Name != "Bash" || req.Call.Command != "touch approved" || req.Call.Script == nil || req.Decision.Verdict != policy.Ask {
			t.Errorf("asked about %+v (%+v)", req.Call, req.Decision)
		}
		answers <- Answer{Grant: Once}
	}()
	o := h.run(t.Context(), "go")
	<-done
	h.check()
	if o.Kind != event.Success || len(o.Denied) != 0 {
		t.Fatalf("outcome = %v (%v), denied = %+v", o.Kind, o.Err, o.Denied)
	}
	if _, err := os.Stat(filepath.Join(h.dir, "approved")); err != nil {
		t.Errorf("the approved command did not run: %v", err)
	}
	if got := approvalEvents(h.events); got != "tool.start approval.requested approval.resolved:once tool.end" {
		t.Errorf("events = %s", got)
	}
}

// approvalEvents lists the tool and approval events in order.
func approvalEvents(events []event.Event) string {
	var got []string
	for _, e := range events {
		switch e.Type {
		case event.ToolStart, event.ToolEnd, event.ApprovalRequested:
			got = append(got, string(e.Type))
		case event.ApprovalResolved:
			got = append(got, string(e.Type)+":"+string(e.Approval))
		}
	}
	return strings.Join(got, " ")
}

// With nobody to ask, a call that needs approval is denied with the words
// headless runs have always used, listed in the outcome, and no approval
// event is emitted: nobody was asked.
func TestHeadlessDeniesWithoutAsking(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "touch never"}}]}},
	  {"expect": {"tool_results": [{"call": 0, "is_error": true,
	     "contains": ["Permission denied: Bash runs commands, which needs approval in acceptEdits mode. Nobody can approve it in this non-interactive run. Do not retry this call; continue without it, or finish and explain what you need."]}]},
	   "reply": {"text": "done"}}]}`)
	h.cfg.Policy = &policy.Policy{Mode: policy.AcceptEdits, Workspace: h.dir}
	o := h.run(t.Context(), "go")
	h.check()
	if o.Kind != event.Success || len(o.Denied) != 1 || o.Denied[0].Reason != "Bash runs commands, which needs approval in acceptEdits mode" {
		t.Fatalf("outcome = %v (%v), denied = %+v", o.Kind, o.Err, o.Denied)
	}
	if got := approvalEvents(h.events); got != "tool.start tool.end" {
		t.Errorf("events = %s", got)
	}
}

// When the run is cancelled while a person is being asked, the approver
// returns, the call does not run, and the transcript gets an interrupted
// result for it, so that it stays a valid conversation.
func TestApproverCancelled(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "touch never"}}]}}]}`)
	h.cfg.Policy = &policy.Policy{Mode: policy.AcceptEdits, Workspace: h.dir}
	ctx, cancel := context.WithCancel(t.Context())
	h.cfg.Approver = ApproverFunc(func(actx context.Context, req *Approval) (Answer, error) {
		cancel()
		<-actx.Done()
		return Answer{}, actx.Err()
	})
	o := h.run(ctx, "go")
	if o.Kind != event.Interrupted {
		t.Fatalf("outcome = %v (%v), want interrupted", o.Kind, o.Err)
	}
	if _, err := os.Stat(filepath.Join(h.dir, "never")); err == nil {
		t.Error("a call whose approval was interrupted ran")
	}
	tr := h.transcript()
	if len(tr.Messages) != 3 {
		t.Fatalf("transcript has %d messages, want 3: %+v", len(tr.Messages), tr.Messages)
	}
	if p := tr.Messages[2].Parts[0]; p.Kind != llm.PartToolResult || !p.IsError || !strings.Contains(p.Text, "Interrupted") {
		t.Errorf("result = %+v, want an interrupted error result", p)
	}
}

// A grant for the session is remembered apart from the policy: the same
// call again is allowed without asking, a different one is asked about.
// A refusal's message reaches the model.
func TestSessionGrants(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo x | tee -a log"}}]}},
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo x | tee -a log"}}, {"name": "Bash", "input": {"command": "touch other"}}]}},
	  {"expect": {"tool_results": [{"call": 0, "is_error": false}, {"call": 1, "contains": ["Permission denied", "use the Makefile", "Do not retry"], "is_error": true}]},
	   "reply": {"text": "done"}}]}`)
	h.cfg.Policy = &policy.Policy{Mode: policy.AcceptEdits, Workspace: h.dir}
	var asked []string
	h.cfg.Approver = ApproverFunc(func(ctx context.Context, req *Approval) (Answer, error) {
		asked = append(asked, req.Call.Command)
		if req.Call.Command == "touch other" {
			return Answer{Grant: No, Message: "use the Makefile."}, nil
		}
		return Answer{Grant: Session}, nil
	})
	o := h.run(t.Context(), "go")
	h.check()
	if o.Kind != event.Success || len(o.Denied) != 1 || o.Denied[0].Name != "Bash" {
		t.Fatalf("outcome = %v (%v), denied = %+v", o.Kind, o.Err, o.Denied)
	}
	if len(asked) != 2 || asked[0] != "echo x | tee -a log" || asked[1] != "touch other" {
		t.Errorf("asked about %q, want the first command once and the other", asked)
	}
	if got := h.read("log"); got != "x\nx\n" {
		t.Errorf("log = %q, want the granted command run twice", got)
	}
	const want = "tool.start approval.requested approval.resolved:session tool.end " +
		"tool.start tool.end tool.start approval.requested approval.resolved:deny tool.end"
	if got := approvalEvents(h.events); got != want {
		t.Errorf("events = %s\nwant %s", got, want)
	}
}

// A Codex shell call that applies a patch through a here-document is
// decided as the apply_patch call it stands for, on the files the patch
// writes, and what was decided is what runs: approved, it writes outside
// the workspace, through apply_patch.
func TestShellPatchDecidedAndRunAsApplyPatch(t *testing.T) {
	outside := t.TempDir()
	real, err := filepath.EvalSymlinks(outside)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "shell", "input": {"command": ["bash", "-lc", "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: out/x.txt\n+x\n*** End Patch\nEOF\n"], "workdir": "sub"}}]}},
	  {"expect": {"tool_results": [{"call": 0, "is_error": false}]}, "reply": {"text": "done"}}]}`)
	if err := os.MkdirAll(filepath.Join(h.dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The link is where the patch writes; the policy sees where it leads.
	if err := os.Symlink(outside, filepath.Join(h.dir, "sub", "out")); err != nil {
		t.Fatal(err)
	}
	h.cfg.Tools = tool.Set(tool.DialectCodex, false)
	h.cfg.Policy = &policy.Policy{Mode: policy.AcceptEdits, Workspace: h.dir}
	var req *Approval
	h.cfg.Approver = ApproverFunc(func(ctx context.Context, r *Approval) (Answer, error) {
		req = r
		return Answer{Grant: Once}, nil
	})
	o := h.run(t.Context(), "go")
	h.check()
	if o.Kind != event.Success {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
	want := filepath.Join(real, "x.txt")
	if req == nil || req.Name != "shell" || req.Call.Tool != "apply_patch" || req.Call.Kind != policy.Edit ||
		req.Call.Dir != filepath.Join(h.dir, "sub") || len(req.Call.Writes) != 1 || req.Call.Writes[0] != want ||
		!strings.Contains(req.Decision.Reason, "outside the workspace") {
		t.Fatalf("asked about %+v", req)
	}
	if b, err := os.ReadFile(want); err != nil || string(b) != "x\n" {
		t.Errorf("%s = %q, %v; want the patch applied", want, b, err)
	}
	for _, e := range h.events {
		if e.Type == event.ToolEnd && (len(e.Changes) != 1 || e.Changes[0].Kind != event.ChangeAdd) {
			t.Errorf("tool.end changes = %+v, want the patch's one added file", e.Changes)
		}
	}
}

// Of several approvers, the first to answer wins; the others are told,
// through their context, that the question was answered elsewhere.
func TestFirstAnswer(t *testing.T) {
	lost := make(chan error, 1)
	waiting := make(chan struct{})
	slow := ApproverFunc(func(ctx context.Context, req *Approval) (Answer, error) {
		close(waiting)
		<-ctx.Done()
		lost <- context.Cause(ctx)
		return Answer{}, ctx.Err()
	})
	fast := ApproverFunc(func(ctx context.Context, req *Approval) (Answer, error) {
		<-waiting // both are asking
		return Answer{Grant: Session}, nil
	})
	ans, err := FirstAnswer(slow, fast).Approve(t.Context(), &Approval{Name: "Bash"})
	if err != nil || ans.Grant != Session {
		t.Fatalf("FirstAnswer = %+v, %v; want the fast answer", ans, err)
	}
	// FirstAnswer returned, so the loser has returned too.
	select {
	case cause := <-lost:
		if !errors.Is(cause, ErrAnsweredElsewhere) {
			t.Errorf("loser's cause = %v, want ErrAnsweredElsewhere", cause)
		}
	default:
		t.Error("FirstAnswer returned before the loser did")
	}

	failed := errors.New("terminal closed")
	ans, err = FirstAnswer(
		ApproverFunc(func(context.Context, *Approval) (Answer, error) { return Answer{Grant: Always}, failed }),
		ApproverFunc(func(context.Context, *Approval) (Answer, error) { return Answer{}, failed }),
	).Approve(t.Context(), &Approval{})
	if !errors.Is(err, failed) || ans.Grant != No {
		t.Errorf("FirstAnswer of failing approvers = %+v, %v; want a denial with the error", ans, err)
	}
}

// profileProbe is a tool that reports the sandbox profile its call runs
// under.
type profileProbe struct{ got chan sandbox.Profile }

func (profileProbe) Def() llm.ToolDef {
	return llm.ToolDef{Name: "Probe", Description: "test", Schema: json.RawMessage(`{"type":"object"}`)}
}
func (profileProbe) ReadOnly() bool { return false }
func (p profileProbe) Run(ctx context.Context, _ *tool.Env, _ json.RawMessage) (tool.Result, error) {
	prof, _ := sandbox.ProfileFrom(ctx)
	p.got <- prof
	return tool.Result{Content: "ok"}, nil
}

// The profile a decision gives is the one the call's processes run
// under: the run step carries it to the tool through the context.
func TestDecisionProfileReachesTheTool(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Probe", "input": {}}]}},
	  {"reply": {"text": "done"}}]}`)
	probe := profileProbe{got: make(chan sandbox.Profile, 1)}
	h.cfg.Tools = []tool.Tool{probe}
	h.cfg.Policy = deciderFunc(func(ctx context.Context, c *policy.Call) policy.Decision {
		return policy.Decision{Verdict: policy.Allow, Profile: sandbox.Profile{HideEnv: []string{"SECRET"}}}
	})
	if o := h.run(t.Context(), "go"); o.Kind != event.Success {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
	if got := <-probe.got; len(got.HideEnv) != 1 || got.HideEnv[0] != "SECRET" {
		t.Errorf("tool ran under %+v, want the decision's profile", got)
	}
}

type deciderFunc func(context.Context, *policy.Call) policy.Decision

func (f deciderFunc) Decide(ctx context.Context, c *policy.Call) policy.Decision { return f(ctx, c) }
