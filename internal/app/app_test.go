package app

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/event/eventtest"
	"github.com/lathe-dev/lathe/internal/fakeapi"
	"github.com/lathe-dev/lathe/internal/session"
)

// isolate gives the test its own home, config and state, and no provider
// keys from the environment; it returns the workspace.
func isolate(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(home, "state"))
	for _, k := range []string{"ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL"} {
		t.Setenv(k, "")
	}
	return t.TempDir()
}

// fake starts the fake Anthropic API with script and points the default
// provider at it.
func fake(t *testing.T, script string) *fakeapi.Server {
	t.Helper()
	s, err := fakeapi.ParseScript([]byte(script))
	if err != nil {
		t.Fatal(err)
	}
	srv := fakeapi.NewServer(s)
	t.Cleanup(srv.Close)
	t.Setenv("ANTHROPIC_BASE_URL", srv.URL())
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-test")
	return srv
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestOpenUsageErrors checks that what the user must fix comes back from
// Open as a UsageError with the message the command line prints, and
// leaves no session behind.
func TestOpenUsageErrors(t *testing.T) {
	two := 2
	tests := []struct {
		name   string
		opts   func(dir string) Options
		config string // the project's .lathe/config.toml
		key    bool   // ANTHROPIC_API_KEY is set
		want   string
	}{
		{"no directory", func(dir string) Options { return Options{Dir: filepath.Join(dir, "nope")} }, "", true, "is not a directory"},
		{"bad config", func(dir string) Options { return Options{Dir: dir} }, "max_turns = \"many\"\n", true, "config.toml"},
		{"bad mode", func(dir string) Options { return Options{Dir: dir, PermissionMode: "yolo"} }, "", true, "yolo"},
		{"unknown provider", func(dir string) Options { return Options{Dir: dir, Provider: "nosuch"} }, "", true, "nosuch"},
		{"no key", func(dir string) Options { return Options{Dir: dir, MaxTurns: &two} }, "", false,
			"no API key for provider anthropic: set ANTHROPIC_API_KEY, or choose another provider with --provider (see lathe --help)"},
		{"continue and resume", func(dir string) Options { return Options{Dir: dir, Continue: true, Resume: "x"} }, "", true,
			"--continue and --resume cannot be used together"},
		{"repair alone", func(dir string) Options { return Options{Dir: dir, Repair: true} }, "", true,
			"--repair repairs a session to resume: use it with --resume ID or --continue"},
		{"no such session", func(dir string) Options { return Options{Dir: dir, Resume: "nosuch"} }, "", true,
			"no session nosuch (see lathe sessions)"},
		{"nothing to continue", func(dir string) Options { return Options{Dir: dir, Continue: true} }, "", true, "nothing to continue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := isolate(t)
			if tt.key {
				t.Setenv("ANTHROPIC_API_KEY", "sk-ant-test")
			}
			if tt.config != "" {
				writeFile(t, filepath.Join(dir, ".lathe", "config.toml"), tt.config)
			}
			a, err := Open(tt.opts(dir))
			var ue UsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
				if a != nil {
					a.Close()
				}
				t.Fatalf("Open = %v, want a UsageError containing %q", err, tt.want)
			}
			store, err := Store(nil)
			if err != nil {
				t.Fatal(err)
			}
			if list, err := store.List(); err != nil || len(list) > 0 {
				t.Errorf("a failed Open left sessions %v (%v)", list, err)
			}
		})
	}
}

// TestOpenResumePlace checks the place check through Open: a session
// resumes in its own directory, is refused in another, and resumes there
// when the directory is chosen on purpose.
func TestOpenResumePlace(t *testing.T) {
	dir := isolate(t)
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-test")
	store, err := Store(nil)
	if err != nil {
		t.Fatal(err)
	}
	log, err := store.Create(session.Meta{Cwd: dir, Model: "claude-sonnet-4-5"})
	if err != nil {
		t.Fatal(err)
	}
	id := log.ID()
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()

	_, err = Open(Options{Dir: other, Resume: id})
	var ue UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "session "+id+" belongs to "+dir+", not "+other) {
		t.Fatalf("resume elsewhere: Open = %v, want a refusal naming both directories", err)
	}
	for _, opts := range []Options{{Dir: dir, Resume: id}, {Dir: dir, Continue: true}, {Dir: other, DirGiven: true, Resume: id}} {
		a, err := Open(opts)
		if err != nil {
			t.Fatalf("Open(%+v): %v", opts, err)
		}
		if a.SessionID() != id || !a.resumed {
			t.Errorf("Open(%+v) opened session %s (resumed %v), want %s resumed", opts, a.SessionID(), a.resumed, id)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// runPrompt opens an App with opts, runs one prompt on it with a lossless
// subscriber, closes it, and reports what the fake API srv (if any)
// found wrong.
func runPrompt(t *testing.T, srv *fakeapi.Server, opts Options, text string) (*App, Result, *eventtest.Collector) {
	t.Helper()
	a, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	got := new(eventtest.Collector)
	a.Subscribe("test", got.Handle, event.Lossless())
	a.Start()
	res := a.Prompt(t.Context(), text)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if srv != nil {
		for _, f := range srv.Failures() {
			t.Error("fakeapi: " + f)
		}
	}
	return a, res, got
}

// TestPrompt runs a prompt with a tool call through an App against the
// fake API: the subscriber sees session.start first and the result last,
// the result is recorded in the session log, and the headless approver
// denies the command, which makes the exit code ExitDenied.
func TestPrompt(t *testing.T) {
	dir := isolate(t)
	// The Bash call asks, as it does wherever the sandbox cannot run it.
	withSandbox(t, false)
	srv := fake(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Write", "input": {"file_path": "notes.txt", "content": "hi\n"}},
	                            {"name": "Bash", "input": {"command": "touch pwned"}}]}},
	  {"expect": {"tool_results": [{"call": 0, "is_error": false},
	                               {"call": 1, "contains": ["Nobody can approve it"], "is_error": true}]},
	   "reply": {"text": "Wrote the notes."}}]}`)
	a, res, got := runPrompt(t, srv, Options{Dir: dir, Version: "test", Approver: agent.Headless}, "take notes")
	if res.ExitCode != ExitDenied || res.Kind != event.Success || res.Answer != "Wrote the notes." {
		t.Errorf("Prompt = %+v, want a success with the answer and exit code %d", res, ExitDenied)
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Error("the denied command ran")
	}
	types := got.Types()
	if len(types) < 2 || types[0] != event.SessionStart || types[len(types)-1] != event.Result {
		t.Fatalf("events %v: want session.start first and result last", types)
	}
	all := got.Events()
	start, result := all[0], all[len(all)-1]
	if start.SessionID != a.SessionID() || start.Version != "test" || start.Resumed {
		t.Errorf("session.start = %+v", start)
	}
	if *result.ExitCode != ExitDenied || len(result.DeniedCalls) != 1 || result.DeniedCalls[0].Name != "Bash" {
		t.Errorf("result event = %+v, want exit code %d and the Bash call denied", result, ExitDenied)
	}

	// Resumed, the session has the conversation and the recorded result.
	store, err := Store(nil)
	if err != nil {
		t.Fatal(err)
	}
	list, err := store.List()
	if err != nil || len(list) != 1 || list[0].SessionID != a.SessionID() || list[0].Turns != 2 {
		t.Fatalf("sessions = %+v (%v), want this one with 2 turns", list, err)
	}
}

// TestSecondPrompt checks that an App's prompts continue one
// conversation: the second request extends the first prompt's, each
// prompt's result is recorded and published, and the background command
// the first prompt left running is stopped and listed in its result while
// the second prompt can still run commands.
func TestSecondPrompt(t *testing.T) {
	dir := isolate(t)
	srv := fake(t, `{"steps": [
	  {"expect": {"user_contains": ["first"]},
	   "reply": {"tool_calls": [{"name": "Bash", "input": {"command": "sleep 30", "run_in_background": true}}]}},
	  {"expect": {"tool_results": [{"call": 0, "is_error": false}]}, "reply": {"text": "Started it."}},
	  {"expect": {"user_contains": ["second"], "extends_previous": true},
	   "reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo two > two.txt"}}]}},
	  {"expect": {"tool_results": [{"call": 0, "is_error": false}], "extends_previous": true}, "reply": {"text": "Wrote it."}}]}`)
	a, err := Open(Options{Dir: dir, PermissionMode: "bypassPermissions"})
	if err != nil {
		t.Fatal(err)
	}
	var got eventtest.Collector
	a.Subscribe("test", got.Handle, event.Lossless())
	a.Start()
	first := a.Prompt(context.Background(), "the first")
	second := a.Prompt(context.Background(), "the second")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	for _, f := range srv.Failures() {
		t.Error("fakeapi: " + f)
	}
	if first.ExitCode != ExitOK || first.Answer != "Started it." || second.ExitCode != ExitOK || second.Answer != "Wrote it." {
		t.Errorf("prompts = %+v, %+v; want both done with their answers", first, second)
	}
	if _, err := os.Stat(filepath.Join(dir, "two.txt")); err != nil {
		t.Errorf("the second prompt's command did not run: %v", err)
	}
	var results []event.Event
	for _, e := range got.Events() {
		if e.Type == event.Result {
			results = append(results, e)
		}
	}
	if len(results) != 2 {
		t.Fatalf("%d result events, want one per prompt", len(results))
	}
	if k := results[0].KilledBackground; len(k) != 1 || k[0].ID != "bash_1" || k[0].Command != "sleep 30" {
		t.Errorf("first result killed %+v, want bash_1 (sleep 30)", k)
	}
	if k := results[1].KilledBackground; len(k) != 0 {
		t.Errorf("second result killed %+v, want nothing", k)
	}
	if rs := recordedResults(t, a.LogPath()); len(rs) != 2 || rs[0].Status != "success" || rs[1].Status != "success" {
		t.Errorf("the log records results %+v, want two successes", rs)
	}

	store, err := Store(nil)
	if err != nil {
		t.Fatal(err)
	}
	log, tr, err := store.Open(a.SessionID())
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	if n := len(tr.Messages); n != 8 {
		t.Errorf("the log has %d messages, want 8: two prompts of a user turn, a call, its result and an answer", n)
	}
}

// TestResumeContinuesConversation checks that a session opened again with
// Continue sends its recorded conversation with the next prompt.
func TestResumeContinuesConversation(t *testing.T) {
	dir := isolate(t)
	srv := fake(t, `{"steps": [
	  {"reply": {"text": "One."}},
	  {"expect": {"user_contains": ["again"], "extends_previous": true}, "reply": {"text": "Two."}}]}`)
	var ids []string
	for i, opts := range []Options{{Dir: dir}, {Dir: dir, Continue: true}} {
		a, err := Open(opts)
		if err != nil {
			t.Fatal(err)
		}
		a.Start()
		res := a.Prompt(context.Background(), []string{"once", "again"}[i])
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		if res.ExitCode != ExitOK || a.resumed != (i == 1) {
			t.Errorf("prompt %d = %+v, resumed %v", i, res, a.resumed)
		}
		ids = append(ids, a.SessionID())
	}
	for _, f := range srv.Failures() {
		t.Error("fakeapi: " + f)
	}
	if ids[0] != ids[1] {
		t.Errorf("Continue opened session %s, want %s", ids[1], ids[0])
	}
}

// TestPromptInterrupted checks that a prompt whose context is done ends
// interrupted, with its result recorded and published.
func TestPromptInterrupted(t *testing.T) {
	dir := isolate(t)
	srv := fake(t, `{"steps": []}`)
	a, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var got eventtest.Collector
	a.Subscribe("test", got.Handle, event.Lossless())
	a.Start()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := a.Prompt(ctx, "go")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("an interrupted prompt sent %d requests", n)
	}
	all := got.Events()
	last := all[len(all)-1]
	if res.ExitCode != ExitInterrupted || last.Type != event.Result || *last.ExitCode != ExitInterrupted || last.Outcome != event.Interrupted {
		t.Errorf("Prompt = %+v, last event %+v; want interrupted, exit %d", res, last, ExitInterrupted)
	}
	if rs := recordedResults(t, a.LogPath()); len(rs) != 1 || rs[0].Status != string(event.Interrupted) {
		t.Errorf("the log records results %+v, want one, interrupted", rs)
	}
}

// recordedResults reads the results a session log records.
func recordedResults(t *testing.T, path string) []session.Result {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rs []session.Result
	for line := range strings.Lines(string(b)) {
		var rec struct {
			Type string
			session.Result
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if rec.Type == "result" {
			rs = append(rs, rec.Result)
		}
	}
	return rs
}

// TestPromptApprover checks that the approver a front end passes is the
// one asked, and that what it grants runs.
func TestPromptApprover(t *testing.T) {
	dir := isolate(t)
	withSandbox(t, false)
	srv := fake(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "touch ran"}}]}},
	  {"expect": {"tool_results": [{"call": 0, "is_error": false}]}, "reply": {"text": "Ran it."}}]}`)
	var asked []string
	approve := agent.ApproverFunc(func(_ context.Context, req *agent.Approval) (agent.Answer, error) {
		asked = append(asked, req.Name)
		return agent.Answer{Grant: agent.Once}, nil
	})
	_, res, _ := runPrompt(t, srv, Options{Dir: dir, Approver: approve}, "run it")
	if res.ExitCode != ExitOK || len(asked) != 1 || asked[0] != "Bash" {
		t.Errorf("Prompt = %+v with approvals asked for %v, want exit 0 after one for Bash", res, asked)
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err != nil {
		t.Errorf("the approved command did not run: %v", err)
	}
}

// TestSteer checks that text steered into a running prompt reaches the
// model with the results of the calls running then: the approver, asked
// in the middle of the prompt, steers.
func TestSteer(t *testing.T) {
	dir := isolate(t)
	// Without a sandbox a command outside the read-only set asks.
	withSandbox(t, false)
	srv := fake(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "touch steered"}}]}},
	  {"expect": {"tool_results": [{"call": 0, "is_error": false}], "user_contains": ["use tabs"]}, "reply": {"text": "Noted."}}]}`)
	var a *App
	steered := false
	approve := agent.ApproverFunc(func(context.Context, *agent.Approval) (agent.Answer, error) {
		steered = a.Steer("use tabs")
		return agent.Answer{Grant: agent.Once}, nil
	})
	a, err := Open(Options{Dir: dir, Approver: approve})
	if err != nil {
		t.Fatal(err)
	}
	if a.Steer("too early") {
		t.Error("Steer with no prompt running queued the text")
	}
	var got eventtest.Collector
	a.Subscribe("test", got.Handle, event.Lossless())
	a.Start()
	res := a.Prompt(context.Background(), "go")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	for _, f := range srv.Failures() {
		t.Error("fakeapi: " + f)
	}
	if !steered || res.ExitCode != ExitOK || len(res.Undelivered) != 0 {
		t.Errorf("steered %v; Prompt = %+v, want done with nothing undelivered", steered, res)
	}
	if !slices.Contains(got.Types(), event.SteeringDelivered) {
		t.Errorf("events %v: want steering.delivered", got.Types())
	}
}

// TestExitCode pins the mapping from how a run ended to its exit code.
func TestExitCode(t *testing.T) {
	tests := []struct {
		o    agent.Outcome
		want int
	}{
		{agent.Outcome{Kind: event.Success}, ExitOK},
		{agent.Outcome{Kind: event.Success, Denied: []event.DeniedCall{{Name: "Bash"}}}, ExitDenied},
		{agent.Outcome{Kind: event.ProviderError}, ExitProvider},
		{agent.Outcome{Kind: event.MaxTurns}, ExitLimit},
		{agent.Outcome{Kind: event.MaxBudget}, ExitLimit},
		{agent.Outcome{Kind: event.ContextWindow}, ExitLimit},
		{agent.Outcome{Kind: event.OutputLimit}, ExitLimit},
		{agent.Outcome{Kind: event.Interrupted}, ExitInterrupted},
		{agent.Outcome{Kind: event.Failed}, ExitFailed},
	}
	for _, tt := range tests {
		if got := exitCode(tt.o); got != tt.want {
			t.Errorf("exitCode(%s, %d denied) = %d, want %d", tt.o.Kind, len(tt.o.Denied), got, tt.want)
		}
	}
}

// TestMain checks that an App leaves no goroutine behind once closed:
// the bus's subscribers, the runner's jobs and the provider's streams
// all have owners that end them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
