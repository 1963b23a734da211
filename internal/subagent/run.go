package subagent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/tool"
)

// Spec is one child for a [Launcher] to build.
type Spec struct {
	Type Type
	// Tools are the child's tools, chosen from the parent's by the type.
	Tools []tool.Tool
	// MaxTurns bounds the child's model responses, and MaxTokens the
	// tokens of all its requests and responses together ([Budget]).
	MaxTurns  int
	MaxTokens int64
	// Sink takes the child's events, for the parent's stream.
	Sink event.Sink
}

// Launcher builds child agents; internal/app implements it with the
// parent's provider, policy, approver and workspace.
//
// Concurrency: Open is called from any goroutine, concurrently for
// children that run at once.
type Launcher interface {
	// Open makes the child's agent and its session log, ready to run. An
	// error means it could not: the parent is told, and goes on.
	Open(s Spec) (Child, error)
}

// Child is a child agent, opened and ready to run once.
type Child interface {
	// ID names the child: the id of its session log, which is its
	// agent_id in the parent's events.
	ID() string
	// Model is the model it runs on.
	Model() string
	// Run sends the prompt and runs the child to its end, records its
	// result and closes its session log. It returns when ctx is done,
	// with the outcome so far.
	Run(ctx context.Context, prompt string) agent.Outcome
}

// Limits bound the children of a session. A zero field takes the
// default in [DefaultLimits].
type Limits struct {
	// Concurrent is how many children may run at once, and Total how
	// many one session may start.
	Concurrent, Total int
	// Timeout ends a child that has not finished in that time.
	Timeout time.Duration
	// MaxTurns and MaxTokens are each child's budget ([Spec]), unless
	// its type sets fewer turns.
	MaxTurns  int
	MaxTokens int64
}

// DefaultLimits keep a fan-out of children from draining a budget in
// minutes (Codex users' complaint): four at once, 16 a session, each
// for at most ten minutes, 50 turns and two million tokens.
var DefaultLimits = Limits{Concurrent: 4, Total: 16, Timeout: 10 * time.Minute, MaxTurns: 50, MaxTokens: 2_000_000}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.Concurrent > 0 {
		d.Concurrent = l.Concurrent
	}
	if l.Total > 0 {
		d.Total = l.Total
	}
	if l.Timeout > 0 {
		d.Timeout = l.Timeout
	}
	if l.MaxTurns > 0 {
		d.MaxTurns = l.MaxTurns
	}
	if l.MaxTokens > 0 {
		d.MaxTokens = l.MaxTokens
	}
	return d
}

// Runner runs the children of one session: it finds the type a call
// names, keeps to the limits, runs the child through the Launcher and
// words its report for the parent.
//
// Concurrency: Run may be called concurrently; at most
// Limits.Concurrent children run at once, the others wait for a turn.
type Runner struct {
	launcher  Launcher
	types     []Type
	tools     []tool.Tool
	sessionID string
	sink      event.Sink
	limits    Limits
	// slots holds a token per running child.
	slots chan struct{}

	mu      sync.Mutex
	started int
}

// Config is what a Runner needs.
type Config struct {
	Launcher Launcher
	// Types are the types the model may start (see [Load]).
	Types []Type
	// Tools are the parent's tools, less the ones that start children:
	// what a child's tools are chosen from.
	Tools []tool.Tool
	// SessionID is the parent's session, which the children's events in
	// the parent's stream carry, with their own agent_id.
	SessionID string
	// Sink is the parent's event stream.
	Sink   event.Sink
	Limits Limits
}

// NewRunner returns a Runner for cfg.
func NewRunner(cfg Config) *Runner {
	l := cfg.Limits.withDefaults()
	return &Runner{
		launcher: cfg.Launcher, types: cfg.Types, tools: cfg.Tools, sessionID: cfg.SessionID, sink: cfg.Sink,
		limits: l, slots: make(chan struct{}, l.Concurrent),
	}
}

// Types are the types the model may start.
func (r *Runner) Types() []Type { return r.types }

// lookup finds the type named name, without regard to case.
func (r *Runner) lookup(name string) (Type, bool) {
	i := slices.IndexFunc(r.types, func(t Type) bool { return strings.EqualFold(t.Name, name) })
	if i < 0 {
		return Type{}, false
	}
	return r.types[i], true
}

// resolve finds the type named name and the tools a child of it gets;
// the error is for the model.
func (r *Runner) resolve(name string) (Type, []tool.Tool, error) {
	t, ok := r.lookup(name)
	if !ok {
		names := make([]string, len(r.types))
		for i, t := range r.types {
			names[i] = t.Name
		}
		return Type{}, nil, fmt.Errorf("unknown agent type %q; the types are: %s", name, strings.Join(names, ", "))
	}
	tools, _ := t.Select(r.tools)
	return t, tools, nil
}

// Report is how a child's run ended, for the parent.
type Report struct {
	ID, Type, Model string
	Outcome         agent.Outcome
	// Changes are the files the child changed, each once, as it last
	// changed it, and Commands the commands it ran, in order.
	Changes  []event.FileChange
	Commands []Command
	// Err says why the child could not run or did not finish.
	Err error
}

// Command is a command a child ran and how it exited; ExitCode is nil
// for one that did not run to completion.
type Command struct {
	Command  string `json:"command"`
	ExitCode *int   `json:"exit_code,omitempty"`
}

// Run runs a child of type typeName on prompt to its end and reports to
// the parent as a tool result: the child's final message and a footer.
// A child that cannot start, fails, hangs past the timeout or is
// stopped is an error result; the parent goes on. description is the
// caller's short name for the task, for displays.
func (r *Runner) Run(ctx context.Context, typeName, description, prompt string) tool.Result {
	t, tools, err := r.resolve(typeName)
	if err != nil {
		return tool.Errorf("%v", err)
	}
	r.mu.Lock()
	over := r.started >= r.limits.Total
	if !over {
		r.started++
	}
	r.mu.Unlock()
	if over {
		return tool.Errorf("This session has started its limit of %d subagents; do the rest of the work yourself.", r.limits.Total)
	}
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		return tool.Result{Content: "Interrupted by the user before the subagent started.", IsError: true, Summary: "interrupted"}
	}
	defer func() { <-r.slots }()
	rep := r.run(ctx, t, tools, description, prompt)
	return rep.result()
}

// run opens and runs one child, reporting its events to the parent's
// stream, bracketed by subagent.start and subagent.end.
func (r *Runner) run(ctx context.Context, t Type, tools []tool.Tool, description, prompt string) Report {
	turns := r.limits.MaxTurns
	if t.MaxTurns > 0 {
		turns = min(turns, t.MaxTurns)
	}
	sink := &childSink{parent: r.sink, session: r.sessionID}
	child, err := r.launcher.Open(Spec{Type: t, Tools: tools, MaxTurns: turns, MaxTokens: r.limits.MaxTokens, Sink: sink})
	if err != nil {
		return Report{Type: t.Name, Outcome: agent.Outcome{Kind: event.Failed, CostKnown: true}, Err: fmt.Errorf("could not start the subagent: %w", err)}
	}
	sink.id = child.ID()
	rep := Report{ID: child.ID(), Type: t.Name, Model: child.Model()}
	sink.Emit(event.Event{Type: event.SubagentStart, Name: t.Name, Model: rep.Model, Text: description})

	cctx, cancel := context.WithTimeout(ctx, r.limits.Timeout)
	defer cancel()
	rep.Outcome = child.Run(cctx, prompt)
	rep.Changes, rep.Commands = sink.footer()
	switch {
	case rep.Outcome.Kind == event.Success:
	case ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded):
		rep.Err = fmt.Errorf("the subagent did not finish within %s and was stopped", r.limits.Timeout)
	case errors.Is(rep.Outcome.Err, ErrBudget):
		rep.Err = fmt.Errorf("the subagent used up its budget of %d tokens and was stopped", r.limits.MaxTokens)
	case rep.Outcome.Err != nil:
		rep.Err = fmt.Errorf("the subagent stopped (%s): %w", rep.Outcome.Kind, rep.Outcome.Err)
	default:
		rep.Err = fmt.Errorf("the subagent stopped (%s)", rep.Outcome.Kind)
	}
	end := event.Event{Type: event.SubagentEnd, Name: t.Name, Outcome: rep.Outcome.Kind, Turns: rep.Outcome.Turns,
		Usage: &rep.Outcome.Usage, CostUSD: &rep.Outcome.CostUSD}
	if rep.Err != nil {
		end.Error = rep.Err.Error()
	}
	sink.Emit(end)
	return rep
}

// footer is the machine-readable last line of a child's report.
type footer struct {
	AgentID      string    `json:"agent_id,omitempty"`
	Type         string    `json:"type"`
	Model        string    `json:"model,omitempty"`
	Outcome      string    `json:"outcome"`
	Turns        int       `json:"turns"`
	FilesChanged []string  `json:"files_changed"`
	Commands     []Command `json:"commands"`
	Tokens       llm.Usage `json:"tokens"`
	// CostUSD is absent when a price is unknown.
	CostUSD *float64 `json:"cost_usd,omitempty"`
}

// result is the report as the parent's tool result: the child's final
// message (or why there is none) and the footer.
func (rep Report) result() tool.Result {
	o := rep.Outcome
	f := footer{AgentID: rep.ID, Type: rep.Type, Model: rep.Model, Outcome: string(o.Kind), Turns: o.Turns,
		FilesChanged: []string{}, Commands: rep.Commands, Tokens: o.Usage}
	if f.Outcome == "" {
		f.Outcome = string(event.Failed)
	}
	for _, c := range rep.Changes {
		f.FilesChanged = append(f.FilesChanged, c.Path)
	}
	if f.Commands == nil {
		f.Commands = []Command{}
	}
	if o.CostKnown {
		cost := o.CostUSD
		f.CostUSD = &cost
	}
	b, err := json.Marshal(f)
	if err != nil {
		// A footer of strings and numbers always marshals.
		panic(fmt.Sprintf("subagent: marshal footer: %v", err))
	}
	var text strings.Builder
	switch {
	case rep.Err == nil:
		text.WriteString(strings.TrimSpace(o.Answer))
	case o.Answer != "":
		fmt.Fprintf(&text, "Error: %v. Its last message:\n%s", rep.Err, strings.TrimSpace(o.Answer))
	default:
		fmt.Fprintf(&text, "Error: %v.", rep.Err)
	}
	fmt.Fprintf(&text, "\n\n<subagent_report>%s</subagent_report>", b)
	res := tool.Result{
		Content: text.String(), IsError: rep.Err != nil,
		Summary: fmt.Sprintf("%s agent: %s, %d turns", rep.Type, f.Outcome, o.Turns),
		Changes: rep.Changes,
		Spend:   &tool.Spend{Usage: o.Usage, CostUSD: o.CostUSD, CostKnown: o.CostKnown, Denied: o.Denied},
	}
	return res
}

// childSink passes a child's events to the parent's stream, tagged with
// the child's id under the parent's session, and notes what the footer
// reports: the files the child changed and the commands it ran.
//
// Concurrency: the child's agent emits from one goroutine at a time, as
// a Sink's contract has it; the parent's sink takes events from every
// child at once, as the event bus does.
type childSink struct {
	parent  event.Sink
	session string
	id      string

	mu       sync.Mutex
	changes  []event.FileChange
	commands []Command
	// running are the commands of calls started and not yet ended, by
	// call id.
	running map[string]int
}

func (s *childSink) Emit(e event.Event) {
	e.AgentID, e.SessionID = s.id, s.session
	s.note(e)
	s.parent.Emit(e)
}

func (s *childSink) note(e event.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e.Type {
	case event.ToolStart:
		if cmd := commandOf(e.Input); cmd != "" {
			if s.running == nil {
				s.running = map[string]int{}
			}
			s.running[e.CallID] = len(s.commands)
			s.commands = append(s.commands, Command{Command: cmd})
		}
	case event.ToolEnd:
		if i, ok := s.running[e.CallID]; ok {
			s.commands[i].ExitCode = e.ExitCode
			delete(s.running, e.CallID)
		}
		for _, c := range e.Changes {
			if i := slices.IndexFunc(s.changes, func(o event.FileChange) bool { return o.Path == c.Path }); i >= 0 {
				s.changes[i].Kind = c.Kind
			} else {
				s.changes = append(s.changes, c)
			}
		}
	}
}

func (s *childSink) footer() ([]event.FileChange, []Command) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changes, s.commands
}

// commandOf is the command line a call runs: Bash's command, or shell's
// argv, a "bash -lc" script as its script.
func commandOf(input json.RawMessage) string {
	var in struct {
		Command json.RawMessage `json:"command"`
	}
	if json.Unmarshal(input, &in) != nil || len(in.Command) == 0 {
		return ""
	}
	var line string
	if json.Unmarshal(in.Command, &line) == nil {
		return line
	}
	var argv []string
	if json.Unmarshal(in.Command, &argv) != nil || len(argv) == 0 {
		return ""
	}
	if len(argv) == 3 && (argv[1] == "-c" || argv[1] == "-lc") {
		return argv[2]
	}
	return strings.Join(argv, " ")
}

// ErrBudget is wrapped by the error a child's provider returns once the
// child has used up its token budget.
var ErrBudget = errors.New("token budget used up")

// Budget returns a provider that passes requests to p until the tokens
// of all the responses so far (input, cached or not, and output) reach
// max, and then refuses them with an error wrapping [ErrBudget]. It is
// for one child, whose requests come one at a time.
func Budget(p llm.Provider, max int64) llm.Provider {
	return &budget{p: p, max: max}
}

type budget struct {
	p    llm.Provider
	max  int64
	mu   sync.Mutex
	used int64
}

func (b *budget) Stream(ctx context.Context, req *llm.Request, onDelta func(llm.Delta)) (*llm.Response, error) {
	b.mu.Lock()
	used := b.used
	b.mu.Unlock()
	if used >= b.max {
		return nil, fmt.Errorf("%w: %d of %d tokens", ErrBudget, used, b.max)
	}
	resp, err := b.p.Stream(ctx, req, onDelta)
	if resp != nil {
		b.mu.Lock()
		b.used += resp.Usage.TotalInput() + resp.Usage.Output
		b.mu.Unlock()
	}
	return resp, err
}
