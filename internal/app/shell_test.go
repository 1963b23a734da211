package app

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/config"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/event/eventtest"
)

// TestShellContext runs two commands the user typed, then a prompt: the
// prompt's request carries both commands and their output, in order and
// before the prompt; the calls' events say the user ran them; the
// context figure counts them; and a resumed session sends them again.
func TestShellContext(t *testing.T) {
	dir := isolate(t)
	srv := fake(t, `{"steps": [
	  {"expect": {"user_contains": ["what now"]}, "reply": {"text": "Seen."}},
	  {"expect": {"user_contains": ["and again"], "extends_previous": true}, "reply": {"text": "Still seen."}}]}`)
	a, got := startBypass(t, dir)
	before, _ := a.ContextStatus()
	first := a.Shell(t.Context(), "echo hi; echo oops >&2")
	second := a.Shell(t.Context(), "printf 'two\\n'; exit 3")
	if first.Err != nil || first.Denied || second.Err != nil || second.Denied {
		t.Fatalf("Shell = %+v, %+v; want both run", first, second)
	}
	if code := second.Result.ExitCode; code == nil || *code != 3 || !second.Result.IsError {
		t.Errorf("second command's result %+v, want exit code 3", second.Result)
	}
	if after, _ := a.ContextStatus(); after <= before {
		t.Errorf("context used %d tokens before the commands and %d after, want more", before, after)
	}
	if res := a.Prompt(t.Context(), "what now"); res.ExitCode != ExitOK {
		t.Fatalf("Prompt = %+v", res)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	// The first request has both commands, in order, before the prompt.
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	body := userText(t, reqs[0].Body)
	wants := []string{
		`<bash-input>echo hi; echo oops >&2</bash-input>`, "<bash-stdout>hi\noops</bash-stdout>",
		`<bash-input>printf 'two\n'; exit 3</bash-input>`, "<bash-stdout>two\nExit code: 3</bash-stdout>",
		"what now",
	}
	at := 0
	for _, w := range wants {
		i := strings.Index(body[at:], w)
		if i < 0 {
			t.Fatalf("the request lacks %q after offset %d:\n%s", w, at, body)
		}
		at += i + len(w)
	}

	// Each command's events say the user ran it, and name the same call.
	starts, decisions, ends := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, e := range got.Events() {
		switch {
		case e.Type == event.ToolStart && e.ByUser && e.Name == "Bash":
			starts[e.CallID] = true
		case e.Type == event.Decision && e.ByUser && e.Verdict == event.Allowed:
			decisions[e.CallID] = true
		case e.Type == event.ToolEnd && e.ByUser:
			ends[e.CallID] = true
		}
	}
	for _, id := range []string{first.CallID, second.CallID} {
		if !strings.HasPrefix(id, "user_") || !starts[id] || !decisions[id] || !ends[id] {
			t.Errorf("call %s: tool.start %v, decision %v, tool.end %v by the user; want all three", id, starts[id], decisions[id], ends[id])
		}
	}

	// Resumed, the session sends the commands again: the request
	// extends the first.
	b, err := Open(Options{Dir: dir, Continue: true, PermissionMode: "bypassPermissions"})
	if err != nil {
		t.Fatal(err)
	}
	b.Start()
	res := b.Prompt(t.Context(), "and again")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != ExitOK {
		t.Fatalf("resumed Prompt = %+v", res)
	}
	for _, f := range srv.Failures() {
		t.Error("fakeapi: " + f)
	}
	if body := userText(t, srv.Requests()[1].Body); !strings.Contains(body, `<bash-input>echo hi; echo oops >&2</bash-input>`) {
		t.Errorf("the resumed session's request lacks the command:\n%s", body)
	}
}

// TestShellDenied checks that a command a deny rule matches does not run,
// and is refused with the rule and its file named, and that it adds
// nothing to the conversation.
func TestShellDenied(t *testing.T) {
	dir := isolate(t)
	t.Setenv(config.ManagedEnv, "")
	user := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "lathe", "config.toml")
	writeFile(t, user, "[permissions]\ndeny = [\"Bash(touch:*)\"]\n")
	fake(t, `{"steps": []}`)
	a, got := startBypass(t, dir)
	uc := a.Shell(t.Context(), "touch pwned")
	history := a.agent.History().Len()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if !uc.Denied || uc.Err != nil {
		t.Fatalf("Shell = %+v, want it denied", uc)
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Error("the denied command ran")
	}
	if msg := uc.Result.Content; !strings.Contains(msg, "Bash(touch:*)") || !strings.Contains(msg, user) {
		t.Errorf("refusal %q, want the rule and %s named", msg, user)
	}
	if history != 0 {
		t.Errorf("the conversation has %d messages after a denied command, want none", history)
	}
	var denied bool
	for _, e := range got.Events() {
		denied = denied || e.Type == event.Decision && e.ByUser && e.Verdict == event.Denied && e.Rule == "Bash(touch:*)" && e.RuleSource == user
	}
	if !denied {
		t.Error("no decision event denies the command by the rule")
	}
}

// TestShellAsk checks what an ask decision means for a command the user
// typed: where the command would run confined anyway, typing it is the
// approval, and nobody is asked; where it would run unconfined (no
// sandbox), the session's approver is asked, as for the agent's call,
// and its no keeps it from running. Neither grants anything for later.
func TestShellAsk(t *testing.T) {
	for _, sandboxed := range []bool{true, false} {
		t.Run(map[bool]string{true: "confined", false: "unconfined"}[sandboxed], func(t *testing.T) {
			dir := isolate(t)
			withSandbox(t, sandboxed)
			fake(t, `{"steps": []}`)
			asked := 0
			approver := agent.ApproverFunc(func(context.Context, *agent.Approval) (agent.Answer, error) {
				asked++
				return agent.Answer{Grant: agent.No}, nil
			})
			a, err := Open(Options{Dir: dir, PermissionMode: "default", Approver: approver})
			if err != nil {
				t.Fatal(err)
			}
			a.Start()
			if sandboxed && a.sandbox == nil {
				t.Skip("no sandbox here")
			}
			uc := a.Shell(t.Context(), "echo ran > ran.txt")
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			_, statErr := os.Stat(filepath.Join(dir, "ran.txt"))
			ran := statErr == nil
			if sandboxed && (asked != 0 || !ran || uc.Denied) {
				t.Errorf("confined: asked %d times, ran %v, result %+v; want it run without asking", asked, ran, uc)
			}
			if !sandboxed && (asked != 1 || ran || !uc.Denied) {
				t.Errorf("unconfined: asked %d times, ran %v, result %+v; want the approver asked once and its no kept", asked, ran, uc)
			}
		})
	}
}

// TestShellBusy checks that a command is refused while a prompt holds
// the conversation, at once, not queued behind it: the approver, asked
// in the middle of the prompt, tries one.
func TestShellBusy(t *testing.T) {
	dir := isolate(t)
	withSandbox(t, false)
	fake(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "touch x"}}]}},
	  {"reply": {"text": "Done."}}]}`)
	var a *App
	var uc agent.UserCommand
	approve := agent.ApproverFunc(func(ctx context.Context, _ *agent.Approval) (agent.Answer, error) {
		uc = a.Shell(ctx, "echo hi")
		return agent.Answer{Grant: agent.Once}, nil
	})
	a, err := Open(Options{Dir: dir, Approver: approve})
	if err != nil {
		t.Fatal(err)
	}
	a.Start()
	res := a.Prompt(t.Context(), "work")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(uc.Err, agent.ErrBusy) {
		t.Errorf("Shell during a prompt = %+v, want ErrBusy", uc)
	}
	if res.ExitCode != ExitOK {
		t.Errorf("Prompt = %+v", res)
	}
}

// userText is the text of the user messages of an Anthropic request
// body, one block a line.
func userText(t *testing.T, body []byte) string {
	t.Helper()
	var req struct {
		Messages []struct {
			Role    string `json:"role"`
			Content []struct {
				Text string `json:"text"`
			} `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatalf("request body: %v", err)
	}
	var b strings.Builder
	for _, m := range req.Messages {
		for _, c := range m.Content {
			if m.Role == "user" {
				b.WriteString(c.Text + "\n")
			}
		}
	}
	return b.String()
}

// startBypass opens and starts a session in dir in bypassPermissions
// mode, with a lossless subscriber.
func startBypass(t *testing.T, dir string) (*App, *eventtest.Collector) {
	t.Helper()
	a, err := Open(Options{Dir: dir, PermissionMode: "bypassPermissions"})
	if err != nil {
		t.Fatal(err)
	}
	got := new(eventtest.Collector)
	a.Subscribe("test", got.Handle, event.Lossless())
	a.Start()
	return a, got
}
