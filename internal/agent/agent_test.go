package agent

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/fakeapi"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/provider"
	"github.com/lathe-dev/lathe/internal/session"
	"github.com/lathe-dev/lathe/internal/shell"
	"github.com/lathe-dev/lathe/internal/tool"
)

// harness runs the agent against the fake Anthropic API through the real
// provider adapter, with the real tools, policy and session log.
type harness struct {
	t      *testing.T
	dir    string
	server *fakeapi.Server
	log    *session.Log
	store  *session.Store
	events []event.Event
	cfg    Config
}

func newHarness(t *testing.T, script string) *harness {
	t.Helper()
	s, err := fakeapi.ParseScript([]byte(script))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, dir: t.TempDir(), server: fakeapi.NewServer(s)}
	t.Cleanup(h.server.Close)
	p, err := provider.New(provider.KindAnthropic, provider.Options{BaseURL: h.server.URL(), APIKey: "sk-ant-test", IdleTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	h.store = session.NewStore(filepath.Join(t.TempDir(), "sessions"))
	h.log, err = h.store.Create(session.Meta{Cwd: h.dir, Model: "claude-sonnet-4-5"})
	if err != nil {
		t.Fatal(err)
	}
	runner := shell.NewRunner()
	t.Cleanup(func() { runner.Close(); h.log.Close() })
	h.cfg = Config{
		SessionID: h.log.ID(),
		Provider:  p,
		Model:     "claude-sonnet-4-5",
		System:    "You are a test.",
		Tools:     tool.Set(tool.DialectClaude, false),
		Env:       &tool.Env{Dir: h.dir, Reads: tool.NewReadTracker(), Shell: runner},
		Policy:    &policy.Policy{Mode: policy.BypassPermissions, Workspace: h.dir},
		Recorder:  h.log,
		Sink:      event.SinkFunc(func(e event.Event) { h.events = append(h.events, e) }),
	}
	return h
}

func (h *harness) run(ctx context.Context, prompt string) Outcome {
	h.t.Helper()
	return New(h.cfg).Send(ctx, prompt)
}

// check fails the test if the fake saw a request it did not expect, or
// lathe sent something the script's expectations reject.
func (h *harness) check() {
	h.t.Helper()
	for _, f := range h.server.Failures() {
		h.t.Error("fakeapi: " + f)
	}
}

// transcript closes the run's log and reads it back as a resume would.
func (h *harness) transcript() *session.Transcript {
	h.t.Helper()
	h.log.Close()
	_, tr, err := h.store.Open(h.log.ID())
	if err != nil {
		h.t.Fatal(err)
	}
	return tr
}

func (h *harness) write(name, content string) {
	h.t.Helper()
	if err := os.WriteFile(filepath.Join(h.dir, name), []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) read(name string) string {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join(h.dir, name))
	if err != nil {
		h.t.Fatal(err)
	}
	return string(b)
}

func TestMutatingCallsRunInOrder(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [
	    {"name": "Bash", "input": {"command": "echo 1 >> log"}},
	    {"name": "Bash", "input": {"command": "sleep 0.05; echo 2 >> log"}},
	    {"name": "Write", "input": {"file_path": "w", "content": "x"}},
	    {"name": "Bash", "input": {"command": "echo 3 >> log; cat w >> log"}}]}},
	  {"expect": {"tool_results": [{"call": 0, "is_error": false}, {"call": 3, "is_error": false}], "extends_previous": true},
	   "reply": {"text": "done"}}]}`)
	o := h.run(context.Background(), "go")
	h.check()
	if o.Kind != event.Success || o.Answer != "done" {
		t.Fatalf("outcome = %v %q (%v)", o.Kind, o.Answer, o.Err)
	}
	if got := h.read("log"); got != "1\n2\n3\nx" {
		t.Errorf("commands ran out of order: log = %q", got)
	}
}

// barrier is a read-only tool whose calls each wait until n calls are
// running at once; it observes the loop's scheduling, which no real tool
// can do without timing.
type barrier struct {
	n       int
	mu      sync.Mutex
	arrived int
	all     chan struct{}
}

func (b *barrier) Def() llm.ToolDef {
	return llm.ToolDef{Name: "Barrier", Description: "test", Schema: json.RawMessage(`{"type":"object"}`)}
}
func (b *barrier) ReadOnly() bool { return true }
func (b *barrier) Run(ctx context.Context, _ *tool.Env, _ json.RawMessage) (tool.Result, error) {
	b.mu.Lock()
	b.arrived++
	if b.arrived == b.n {
		close(b.all)
	}
	b.mu.Unlock()
	select {
	case <-b.all:
		return tool.Result{Content: "together"}, nil
	case <-time.After(5 * time.Second):
		return tool.Result{Content: "alone", IsError: true}, nil
	}
}

func TestReadOnlyCallsRunConcurrently(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Barrier", "input": {}}, {"name": "Barrier", "input": {}}, {"name": "Barrier", "input": {}}]}},
	  {"expect": {"tool_results": [{"call": 0, "contains": ["together"]}, {"call": 1, "contains": ["together"]}, {"call": 2, "contains": ["together"]}]},
	   "reply": {"text": "ok"}}]}`)
	h.cfg.Tools = append(h.cfg.Tools, &barrier{n: 3, all: make(chan struct{})})
	if o := h.run(context.Background(), "go"); o.Kind != event.Success {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
	h.check()
}

func TestBadCallsBecomeErrorResults(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [
	    {"name": "Frobnicate", "input": {"x": 1}},
	    {"name": "Read", "input": {"file_path": 7}},
	    {"name": "Edit", "input": {"file_path": "a.txt"}},
	    {"name": "Bash", "input": {"command": "echo fine"}}]}},
	  {"expect": {"tool_results": [
	    {"call": 0, "contains": ["Unknown tool \"Frobnicate\"", "Available tools: Bash"], "is_error": true},
	    {"call": 1, "contains": ["invalid tool arguments"], "is_error": true},
	    {"call": 2, "contains": ["required parameter"], "is_error": true},
	    {"call": 3, "contains": ["fine"], "is_error": false}]},
	   "reply": {"text": "recovered"}}]}`)
	o := h.run(context.Background(), "go")
	h.check()
	if o.Kind != event.Success || o.Answer != "recovered" {
		t.Fatalf("outcome = %v %q (%v)", o.Kind, o.Answer, o.Err)
	}
}

func TestRepeatedFailingCallStops(t *testing.T) {
	step := `{"reply": {"tool_calls": [{"name": "Read", "input": {"file_path": "missing.txt"}}]}}`
	h := newHarness(t, `{"steps": [`+step+`,`+step+`,`+step+`]}`)
	o := h.run(context.Background(), "go")
	h.check()
	if o.Kind != event.Failed || o.Turns != 3 {
		t.Fatalf("outcome = %v after %d turns (%v), want error after 3", o.Kind, o.Turns, o.Err)
	}
	if !strings.Contains(o.Err.Error(), "same failing Read call 3 times") {
		t.Errorf("err = %v", o.Err)
	}
}

func TestRepeatedCallWithProgressContinues(t *testing.T) {
	// The same failing call is fine when something changes in between:
	// here a different call succeeds between the failures.
	fail := `{"reply": {"tool_calls": [{"name": "Read", "input": {"file_path": "missing.txt"}}]}}`
	ok := `{"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "true"}}]}}`
	h := newHarness(t, `{"steps": [`+fail+`,`+fail+`,`+ok+`,`+fail+`,`+fail+`, {"reply": {"text": "gave up"}}]}`)
	if o := h.run(context.Background(), "go"); o.Kind != event.Success {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
	h.check()
}

func TestLimits(t *testing.T) {
	call := `{"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "true"}}]}}`
	script := `{"steps": [` + call + `,` + call + `,` + call + `]}`
	t.Run("max turns", func(t *testing.T) {
		h := newHarness(t, script)
		h.cfg.MaxTurns = 2
		o := h.run(context.Background(), "go")
		if o.Kind != event.MaxTurns || o.Turns != 2 {
			t.Fatalf("outcome = %v after %d turns, want max_turns after 2", o.Kind, o.Turns)
		}
	})
	t.Run("budget", func(t *testing.T) {
		h := newHarness(t, script)
		h.cfg.Cost = func(llm.Usage) (float64, bool) { return 0.75, true }
		h.cfg.MaxBudgetUSD = 1
		o := h.run(context.Background(), "go")
		if o.Kind != event.MaxBudget || o.Turns != 2 || o.CostUSD != 1.5 {
			t.Fatalf("outcome = %v after %d turns costing %v, want max_budget after 2 costing 1.5", o.Kind, o.Turns, o.CostUSD)
		}
	})
}

func TestDeniedCallsAreToldToTheModel(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "touch pwned"}}, {"name": "Read", "input": {"file_path": "a.txt"}}]}},
	  {"expect": {"tool_results": [
	    {"call": 0, "contains": ["Permission denied", "plan mode", "Do not retry"], "is_error": true},
	    {"call": 1, "contains": ["hello"], "is_error": false}]},
	   "reply": {"text": "I could only read."}}]}`)
	h.write("a.txt", "hello\n")
	h.cfg.Policy = &policy.Policy{Mode: policy.Plan, Workspace: h.dir}
	o := h.run(context.Background(), "go")
	h.check()
	if o.Kind != event.Success || len(o.Denied) != 1 || o.Denied[0].Name != "Bash" {
		t.Fatalf("outcome = %v, denied = %+v", o.Kind, o.Denied)
	}
	if _, err := os.Stat(filepath.Join(h.dir, "pwned")); err == nil {
		t.Error("a denied command ran")
	}
}

func TestInterruptStopsCommandAndKeepsTranscriptValid(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "sleep 30"}}, {"name": "Bash", "input": {"command": "touch never"}}]}}]}`)
	ctx, cancel := context.WithCancel(context.Background())
	h.cfg.Sink = event.SinkFunc(func(e event.Event) {
		if e.Type == event.ToolStart {
			cancel()
		}
	})
	start := time.Now()
	o := h.run(ctx, "go")
	if o.Kind != event.Interrupted {
		t.Fatalf("outcome = %v (%v), want interrupted", o.Kind, o.Err)
	}
	if time.Since(start) > 10*time.Second {
		t.Error("the running command was not stopped")
	}
	if _, err := os.Stat(filepath.Join(h.dir, "never")); err == nil {
		t.Error("a call after the interrupt ran")
	}
	tr := h.transcript()
	// prompt, assistant with two calls, results for both
	if len(tr.Messages) != 3 {
		t.Fatalf("transcript has %d messages, want 3: %+v", len(tr.Messages), tr.Messages)
	}
	for i, p := range tr.Messages[2].Parts {
		if p.Kind != llm.PartToolResult || !p.IsError || !strings.Contains(p.Text, "Interrupted") {
			t.Errorf("result %d = %+v, want an interrupted error result", i, p)
		}
	}
}

// failingRecorder fails once its budget of appends is spent, like a disk
// filling up.
type failingRecorder struct {
	Recorder
	left int
}

var errDiskFull = errors.New("no space left on device")

func (r *failingRecorder) AppendToolResult(p llm.Part) error {
	if r.left--; r.left < 0 {
		return errDiskFull
	}
	return r.Recorder.AppendToolResult(p)
}

func TestRecorderFailureStopsTheRun(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo 1 >> log"}}]}},
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo 2 >> log"}}]}}]}`)
	h.cfg.Recorder = &failingRecorder{Recorder: h.log, left: 1}
	o := h.run(context.Background(), "go")
	if o.Kind != event.Failed || !errors.Is(o.Err, errDiskFull) {
		t.Fatalf("outcome = %v (%v), want a failure wrapping the disk error", o.Kind, o.Err)
	}
	if got := h.read("log"); got != "1\n2\n" {
		t.Errorf("log = %q", got)
	}
}

func TestUsageAndCostAccumulate(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "true"}}], "usage": {"input_tokens": 100, "output_tokens": 10, "cache_creation_input_tokens": 1000}}},
	  {"reply": {"text": "done", "usage": {"input_tokens": 20, "output_tokens": 5, "cache_read_input_tokens": 1000}}}]}`)
	h.cfg.Cost = func(u llm.Usage) (float64, bool) {
		return float64(u.Input+u.CacheRead+u.CacheWrite+u.Output) / 1e6, true
	}
	o := h.run(context.Background(), "go")
	want := llm.Usage{Input: 120, CacheRead: 1000, CacheWrite: 1000, Output: 15}
	if o.Usage != want {
		t.Errorf("usage = %+v, want %+v", o.Usage, want)
	}
	if o.CostUSD != 2135.0/1e6 || !o.CostKnown {
		t.Errorf("cost = %v (known %v)", o.CostUSD, o.CostKnown)
	}
	var usageEvents int
	for _, e := range h.events {
		if e.Type == event.Usage {
			usageEvents++
		}
	}
	if usageEvents != 2 {
		t.Errorf("%d usage events, want 2", usageEvents)
	}
}

// syncCounter counts the syncs of the log it wraps.
type syncCounter struct {
	Recorder
	syncs int
}

func (r *syncCounter) Sync() error {
	r.syncs++
	return r.Recorder.Sync()
}

func TestLogSyncedAtEachTurnEnd(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "true"}}]}},
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "true"}}]}},
	  {"reply": {"text": "done"}}]}`)
	rec := &syncCounter{Recorder: h.log}
	h.cfg.Recorder = rec
	if o := h.run(context.Background(), "go"); o.Kind != event.Success {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
	if rec.syncs != 3 {
		t.Errorf("%d syncs, want one at the end of each of the 3 turns", rec.syncs)
	}
}

// streamFunc is a provider made of one function.
type streamFunc func(ctx context.Context, onDelta func(llm.Delta)) (*llm.Response, error)

func (f streamFunc) Stream(ctx context.Context, _ *llm.Request, onDelta func(llm.Delta)) (*llm.Response, error) {
	return f(ctx, onDelta)
}

// TestInterruptKeepsPartialText checks that the text streamed before an
// interruption is recorded as a partial assistant message, without the
// deltas of an attempt that a retry voided.
func TestInterruptKeepsPartialText(t *testing.T) {
	h := newHarness(t, `{"steps": []}`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var a *Agent
	h.cfg.Provider = streamFunc(func(ctx context.Context, onDelta func(llm.Delta)) (*llm.Response, error) {
		onDelta(llm.Delta{Kind: llm.DeltaText, Text: "void "})
		a.NoteRetry(1, 0, errors.New("stream cut"))
		onDelta(llm.Delta{Kind: llm.DeltaThinking, Text: "hmm"})
		onDelta(llm.Delta{Kind: llm.DeltaText, Text: "Half of "})
		onDelta(llm.Delta{Kind: llm.DeltaText, Text: "an answer"})
		cancel() // the user presses Ctrl-C
		<-ctx.Done()
		return nil, ctx.Err()
	})
	a = New(h.cfg)
	o := a.Send(ctx, "go")
	if o.Kind != event.Interrupted || !errors.Is(o.Err, context.Canceled) {
		t.Fatalf("outcome = %v (%v), want interrupted", o.Kind, o.Err)
	}
	tr := h.transcript()
	if len(tr.Messages) != 2 || tr.Messages[1].Role != llm.RoleAssistant || tr.Messages[1].Text() != "Half of an answer" || len(tr.Messages[1].Parts) != 1 {
		t.Errorf("transcript %+v, want the prompt and the partial answer \"Half of an answer\" alone", tr.Messages)
	}
}
