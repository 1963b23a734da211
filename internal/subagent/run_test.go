package subagent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/tool"
)

// fakeLauncher opens children that run run.
type fakeLauncher struct {
	mu    sync.Mutex
	specs []Spec
	n     int
	err   error
	run   func(ctx context.Context, s Spec, prompt string) agent.Outcome
}

func (l *fakeLauncher) Open(s Spec) (Child, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return nil, l.err
	}
	l.specs = append(l.specs, s)
	l.n++
	return &fakeChild{id: fmt.Sprintf("child-%d", l.n), spec: s, run: l.run}, nil
}

type fakeChild struct {
	id   string
	spec Spec
	run  func(ctx context.Context, s Spec, prompt string) agent.Outcome
}

func (c *fakeChild) ID() string    { return c.id }
func (c *fakeChild) Model() string { return "m" }
func (c *fakeChild) Run(ctx context.Context, prompt string) agent.Outcome {
	return c.run(ctx, c.spec, prompt)
}

// recorder is a Sink that keeps what it is sent.
type recorder struct {
	mu  sync.Mutex
	evs []event.Event
}

func (r *recorder) Emit(e event.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, e)
}

func newRunner(l Launcher, sink event.Sink, limits Limits) *Runner {
	return NewRunner(Config{Launcher: l, Types: Builtins(), Tools: ChildTools(tool.Set(tool.DialectClaude, false)), SessionID: "parent", Sink: sink, Limits: limits})
}

func success(answer string, u llm.Usage, cost float64) agent.Outcome {
	return agent.Outcome{Kind: event.Success, Answer: answer, Turns: 2, Usage: u, CostUSD: cost, CostKnown: true}
}

func footerOf(t *testing.T, content string) footer {
	t.Helper()
	_, rest, ok := strings.Cut(content, "<subagent_report>")
	js, _, ok2 := strings.Cut(rest, "</subagent_report>")
	if !ok || !ok2 {
		t.Fatalf("no footer in %q", content)
	}
	var f footer
	if err := json.Unmarshal([]byte(js), &f); err != nil {
		t.Fatalf("footer %s: %v", js, err)
	}
	return f
}

// A child's events reach the parent's sink tagged with its id, under the
// parent's session, and its report carries its answer, the files it
// changed, the commands it ran and what it spent.
func TestRunReports(t *testing.T) {
	sink := &recorder{}
	exit := 1
	l := &fakeLauncher{run: func(ctx context.Context, s Spec, prompt string) agent.Outcome {
		s.Sink.Emit(event.Event{Type: event.ToolStart, SessionID: "child", CallID: "c1", Name: "Bash", Input: json.RawMessage(`{"command":"go test ./..."}`)})
		s.Sink.Emit(event.Event{Type: event.ToolEnd, SessionID: "child", CallID: "c1", Name: "Bash", ExitCode: &exit})
		s.Sink.Emit(event.Event{Type: event.ToolStart, SessionID: "child", CallID: "c2", Name: "shell", Input: json.RawMessage(`{"command":["bash","-lc","make"]}`)})
		s.Sink.Emit(event.Event{Type: event.ToolEnd, SessionID: "child", CallID: "c2", Name: "shell"})
		s.Sink.Emit(event.Event{Type: event.ToolEnd, SessionID: "child", CallID: "c3", Name: "Write", Changes: []event.FileChange{{Path: "/w/a.go", Kind: event.ChangeAdd}}})
		s.Sink.Emit(event.Event{Type: event.ToolEnd, SessionID: "child", CallID: "c4", Name: "Edit", Changes: []event.FileChange{{Path: "/w/a.go", Kind: event.ChangeUpdate}, {Path: "/w/b.go", Kind: event.ChangeUpdate}}})
		return success("  Fixed it.\n", llm.Usage{Input: 100, Output: 10}, 0.5)
	}}
	r := newRunner(l, sink, Limits{})
	res := r.Run(t.Context(), "general-purpose", "fix", "fix the bug")
	if res.IsError || !strings.HasPrefix(res.Content, "Fixed it.\n\n<subagent_report>") {
		t.Fatalf("result = %+v", res)
	}
	f := footerOf(t, res.Content)
	if f.AgentID != "child-1" || f.Type != "general-purpose" || f.Outcome != "success" || f.Turns != 2 ||
		strings.Join(f.FilesChanged, " ") != "/w/a.go /w/b.go" || len(f.Commands) != 2 ||
		f.Commands[0].Command != "go test ./..." || *f.Commands[0].ExitCode != 1 || f.Commands[1].Command != "make" || f.Commands[1].ExitCode != nil ||
		f.Tokens.Input != 100 || f.CostUSD == nil || *f.CostUSD != 0.5 {
		t.Errorf("footer = %+v", f)
	}
	if len(res.Changes) != 2 || res.Changes[0].Kind != event.ChangeUpdate {
		t.Errorf("changes = %+v, want a.go and b.go as last changed", res.Changes)
	}
	if s := res.Spend; s == nil || s.Usage.Input != 100 || s.CostUSD != 0.5 || !s.CostKnown {
		t.Errorf("spend = %+v", res.Spend)
	}
	evs := sink.evs
	if evs[0].Type != event.SubagentStart || evs[0].Name != "general-purpose" || evs[0].Text != "fix" || evs[len(evs)-1].Type != event.SubagentEnd {
		t.Errorf("events = %+v, want subagent.start first and subagent.end last", evs)
	}
	for _, e := range evs {
		if e.AgentID != "child-1" || e.SessionID != "parent" {
			t.Errorf("event %s has agent %q, session %q; want child-1 under parent", e.Type, e.AgentID, e.SessionID)
		}
	}
	// The general-purpose type gets every tool it was given.
	if got := len(l.specs[0].Tools); got != len(ChildTools(tool.Set(tool.DialectClaude, false))) || l.specs[0].MaxTurns != DefaultLimits.MaxTurns {
		t.Errorf("spec = %d tools, %d turns", got, l.specs[0].MaxTurns)
	}
}

// A child that cannot start, fails, hangs past the timeout or uses up
// its budget is an error result for the parent, which goes on.
func TestRunFailures(t *testing.T) {
	tests := []struct {
		name    string
		limits  Limits
		openErr error
		run     func(ctx context.Context, s Spec, prompt string) agent.Outcome
		want    []string
	}{
		{name: "cannot start", openErr: errors.New("disk full"), want: []string{"Error: could not start the subagent: disk full.", `"outcome":"error"`}},
		{name: "fails", run: func(context.Context, Spec, string) agent.Outcome {
			return agent.Outcome{Kind: event.Failed, Answer: "half done", Turns: 3, Err: errors.New("stuck"), CostKnown: true}
		}, want: []string{"Error: the subagent stopped (error): stuck. Its last message:\nhalf done", `"turns":3`}},
		{name: "hangs", limits: Limits{Timeout: time.Millisecond}, run: func(ctx context.Context, _ Spec, _ string) agent.Outcome {
			<-ctx.Done()
			return agent.Outcome{Kind: event.Interrupted, Err: ctx.Err(), CostKnown: true}
		}, want: []string{"did not finish within 1ms and was stopped", `"outcome":"interrupted"`}},
		{name: "budget", limits: Limits{MaxTokens: 500}, run: func(context.Context, Spec, string) agent.Outcome {
			return agent.Outcome{Kind: event.ProviderError, Err: fmt.Errorf("x: %w", ErrBudget), CostKnown: true}
		}, want: []string{"used up its budget of 500 tokens"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &recorder{}
			r := newRunner(&fakeLauncher{err: tt.openErr, run: tt.run}, sink, tt.limits)
			res := r.Run(t.Context(), "explore", "", "look")
			if !res.IsError {
				t.Fatalf("result = %+v, want an error", res)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.Content, w) {
					t.Errorf("result %q lacks %q", res.Content, w)
				}
			}
			if res.Spend == nil || !res.Spend.CostKnown {
				t.Errorf("spend = %+v: a failed child must not make the cost unknown", res.Spend)
			}
			if tt.openErr == nil {
				if end := sink.evs[len(sink.evs)-1]; end.Type != event.SubagentEnd || end.Error == "" {
					t.Errorf("last event = %+v, want subagent.end with an error", end)
				}
			}
		})
	}
}

// An unknown type is an error naming the types; past the total cap no
// child starts; at most Concurrent run at once.
func TestRunLimits(t *testing.T) {
	l := &fakeLauncher{run: func(context.Context, Spec, string) agent.Outcome { return success("ok", llm.Usage{}, 0) }}
	r := newRunner(l, &recorder{}, Limits{Total: 2})
	if res := r.Run(t.Context(), "reviewer", "", "x"); !res.IsError || !strings.Contains(res.Content, `unknown agent type "reviewer"; the types are: explore, general-purpose`) {
		t.Errorf("unknown type: %+v", res)
	}
	for i := range 2 {
		if res := r.Run(t.Context(), "Explore", "", "x"); res.IsError {
			t.Fatalf("child %d: %+v", i, res)
		}
	}
	if res := r.Run(t.Context(), "explore", "", "x"); !res.IsError || !strings.Contains(res.Content, "limit of 2 subagents") {
		t.Errorf("third child: %+v", res)
	}

	// Two may run at once: the first waits until a second is running;
	// the third waits for a slot.
	var running, peak int
	var mu sync.Mutex
	both := make(chan struct{})
	var once sync.Once
	l = &fakeLauncher{run: func(ctx context.Context, _ Spec, _ string) agent.Outcome {
		mu.Lock()
		running++
		peak = max(peak, running)
		if running == 2 {
			once.Do(func() { close(both) })
		}
		mu.Unlock()
		select {
		case <-both:
		case <-ctx.Done():
		}
		mu.Lock()
		running--
		mu.Unlock()
		return success("ok", llm.Usage{}, 0)
	}}
	r = newRunner(l, &recorder{}, Limits{Concurrent: 2})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if res := r.Run(ctx, "explore", "", "x"); res.IsError {
				t.Errorf("child: %+v", res)
			}
		})
	}
	wg.Wait()
	if peak != 2 {
		t.Errorf("peak concurrency %d, want 2", peak)
	}
}

// The tool's calls: a read-only type's call is a read, which may run
// alongside others; another type's is a command; bad arguments and an
// unknown type are errors for the model; each dialect has its own shape.
func TestTool(t *testing.T) {
	l := &fakeLauncher{run: func(_ context.Context, s Spec, prompt string) agent.Outcome {
		return success(s.Type.Name+": "+prompt, llm.Usage{}, 0)
	}}
	r := newRunner(l, &recorder{}, Limits{})
	claude, codex := NewTool(tool.DialectClaude, r), NewTool(tool.DialectCodex, r)
	if d := claude.Def(); d.Name != "Task" || !strings.Contains(d.Description, "- explore: Fast read-only agent") || !strings.Contains(d.Description, "(read-only; tools: Read, Glob, Grep)") ||
		!strings.Contains(string(d.Schema), `"enum": ["explore","general-purpose"]`) {
		t.Errorf("Task def = %+v", d)
	}
	if d := codex.Def(); d.Name != "spawn_agent" || !strings.Contains(d.Description, "- general-purpose:") {
		t.Errorf("spawn_agent def = %+v", d)
	}
	env := &tool.Env{Dir: "/w"}
	ro := claude.(interface{ ReadOnlyCall(json.RawMessage) bool })
	tests := []struct {
		t        tool.Tool
		input    string
		readOnly bool
		err      string
		answer   string
	}{
		{t: claude, input: `{"description":"d","prompt":"p","subagent_type":"explore"}`, readOnly: true, answer: "explore: p"},
		{t: claude, input: `{"description":"d","prompt":"p","subagent_type":"general-purpose"}`, answer: "general-purpose: p"},
		{t: claude, input: `{"description":"d","prompt":"p"}`, err: `"subagent_type" is missing`},
		{t: claude, input: `{"description":"d","prompt":" ","subagent_type":"explore"}`, err: `"prompt" is missing or empty`},
		{t: claude, input: `{"prompt":"p","subagent_type":"explore","model":"x"}`, err: `unknown field "model"`},
		{t: claude, input: `{"prompt":"p","subagent_type":"nope"}`, err: `unknown agent type "nope"`},
		{t: codex, input: `{"message":"m"}`, answer: "general-purpose: m"},
		{t: codex, input: `{"message":"m","agent_type":"explore"}`, readOnly: true, answer: "explore: m"},
		{t: codex, input: `{"agent_type":"explore"}`, err: `"message" is missing`},
	}
	for _, tt := range tests {
		name := tt.t.Def().Name + " " + tt.input
		if got := tt.t.(interface{ ReadOnlyCall(json.RawMessage) bool }).ReadOnlyCall(json.RawMessage(tt.input)); got != tt.readOnly {
			t.Errorf("%s: ReadOnlyCall = %t", name, got)
		}
		p, err := tt.t.(interface {
			Prepare(*tool.Env, json.RawMessage) (tool.Prepared, error)
		}).Prepare(env, json.RawMessage(tt.input))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: Prepare error %v, want %q", name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := map[bool]policy.Kind{true: policy.Read, false: policy.Exec}[tt.readOnly]; p.Access.Kind != want {
			t.Errorf("%s: kind %v, want %v", name, p.Access.Kind, want)
		}
		res, err := p.Run(t.Context())
		if err != nil || !strings.HasPrefix(res.Content, tt.answer+"\n\n<subagent_report>") {
			t.Errorf("%s: Run = %+v, %v", name, res, err)
		}
	}
	if ro.ReadOnlyCall(json.RawMessage(`not json`)) {
		t.Error("a call that does not decode is read-only")
	}
}

// Budget refuses requests once the responses' tokens reach the budget.
func TestBudget(t *testing.T) {
	calls := 0
	p := Budget(providerFunc(func(context.Context, *llm.Request, func(llm.Delta)) (*llm.Response, error) {
		calls++
		return &llm.Response{Usage: llm.Usage{Input: 60, CacheRead: 20, Output: 20}}, nil
	}), 200)
	for i := range 2 {
		if _, err := p.Stream(t.Context(), &llm.Request{}, nil); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if _, err := p.Stream(t.Context(), &llm.Request{}, nil); !errors.Is(err, ErrBudget) || calls != 2 {
		t.Errorf("third request: %v after %d calls, want ErrBudget after 2", err, calls)
	}
}

type providerFunc func(context.Context, *llm.Request, func(llm.Delta)) (*llm.Response, error)

func (f providerFunc) Stream(ctx context.Context, r *llm.Request, d func(llm.Delta)) (*llm.Response, error) {
	return f(ctx, r, d)
}
