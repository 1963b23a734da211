package app

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/config"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/pricing"
	"github.com/lathe-dev/lathe/internal/provider"
	"github.com/lathe-dev/lathe/internal/session"
	"github.com/lathe-dev/lathe/internal/subagent"
	"github.com/lathe-dev/lathe/internal/tool"
)

// launcher builds a session's subagents from what its own agent is
// built of: the provider (each child with retries of its own), the
// policy that decides the parent's calls now and its approver — so that
// a child never has more permissions than its parent, and the approvals
// it needs go to the parent's approver —
// the workspace's tools, checkpoints and audit log, and the session
// store, where each child gets a session log of its own that names the
// parent.
type launcher struct {
	a        *App
	provider llm.Provider
	retry    provider.RetryPolicy
	system   string
	approver agent.Approver
	prices   *pricing.Table
	budget   float64
	store    *session.Store
}

// withSubagents adds the tool that starts subagents to the tools of the
// session's first phase and, with plan mode's --then, of the phase after
// the plan: one tool, for one set of limits. The types are those defined
// for the workspace; a child's tools are chosen from the dialect's set
// but for the tools of the parent's own bookkeeping (todo list, plan).
// It tells warn of each agent file it cannot load and of each tool a
// type names that the session does not have.
func (a *App) withSubagents(tools []tool.Tool, next *agent.Phase, dialect tool.Dialect, freeform bool, l *launcher, warn func(error)) ([]tool.Tool, *agent.Phase) {
	root, _ := config.RepoRoot(a.dir)
	types, problems := subagent.Load(subagent.Dirs(os.Getenv("HOME"), config.UserDir(), root, a.dir)...)
	base := subagent.ChildTools(tool.Set(dialect, freeform))
	for _, t := range types {
		if _, unknown := t.Select(base); len(unknown) > 0 && t.Source != "" {
			problems = append(problems, fmt.Errorf("agent file %s: tools %v: no such tool here; the %s agent runs without them", t.Source, unknown, t.Name))
		}
	}
	if warn != nil {
		for _, err := range problems {
			warn(err)
		}
	}
	s := a.cfg.Subagents
	limits := subagent.Limits{Concurrent: s.Concurrent, Total: s.Total, Timeout: s.Timeout, MaxTurns: s.MaxTurns, MaxTokens: int64(s.MaxTokens)}
	r := subagent.NewRunner(subagent.Config{Launcher: l, Types: types, Tools: base, SessionID: a.log.ID(), Sink: a.bus, Limits: limits})
	task := subagent.NewTool(dialect, r)
	if next != nil {
		next.Tools = append(next.Tools[:len(next.Tools):len(next.Tools)], task)
	}
	return append(tools[:len(tools):len(tools)], task), next
}

// claudeAliases are the models Claude Code's agent files name by family.
var claudeAliases = map[string]string{"sonnet": "claude-sonnet-4-5", "opus": "claude-opus-4-5", "haiku": "claude-haiku-4-5"}

// model is the model of a child of a type naming m: the parent's for
// none, or for an alias of Claude's on another provider.
func (l *launcher) model(m string) string {
	if alias, ok := claudeAliases[m]; ok {
		if l.a.prov.Type == provider.KindAnthropic {
			return alias
		}
		return l.a.model
	}
	if m == "" {
		return l.a.model
	}
	return m
}

// Open makes a child's agent and its session log.
func (l *launcher) Open(s subagent.Spec) (subagent.Child, error) {
	a := l.a
	model := l.model(s.Type.Model)
	// A child may spend what is left of the run's budget, no more;
	// children running side by side each get all of what is left, and
	// the parent stops once their spending is counted.
	budget := l.budget
	if budget > 0 {
		if budget -= a.agent.Spent(); budget <= 0 {
			return nil, fmt.Errorf("the run has spent its budget of $%.2f", l.budget)
		}
	}
	log, err := l.store.Create(session.Meta{Cwd: a.dir, Provider: a.prov.Name, Model: model, Version: a.version, Parent: a.log.ID(), AgentType: s.Type.Name})
	if err != nil {
		return nil, err
	}
	// A child has its own context, so what it read is not what the
	// parent has seen: the parent must read a file itself to edit it.
	env := *a.env
	env.Reads = tool.NewReadTracker()
	c := &child{log: log, model: model}
	retrying := provider.WithRetry(l.provider, l.retry, func(rt provider.Retry) { c.agent.NoteRetry(rt.Attempt, rt.Delay, rt.Err) })
	system := l.system
	if s.Type.Prompt != "" {
		system = s.Type.Prompt + "\n\n" + l.system
	}
	c.agent = agent.New(agent.Config{
		SessionID: log.ID(),
		Provider:  subagent.Budget(retrying, s.MaxTokens),
		Model:     model,
		System:    system,
		Tools:     s.Tools,
		Env:       &env,
		Policy:    a.agent,
		Approver:  l.approver,
		Recorder:  log,
		Sink:      s.Sink,
		Cost: func(u llm.Usage) (float64, bool) {
			p, ok := l.prices.Lookup(model)
			return p.Cost(u), ok
		},
		MaxTurns:     s.MaxTurns,
		MaxBudgetUSD: budget,
		MaxTokens:    a.maxTokensOf(model),
		Checkpoints:  a.snapshots,
		// A child long enough to fill its window compacts as its
		// parent would, from a ledger of its own; the parent warned
		// already if its own model's window is a guess.
		Window:     a.windowOf(model, nil),
		Compaction: a.compactionFrom(agent.CompactionConfig{}),
	})
	return c, nil
}

// child is one subagent and its session log.
type child struct {
	log   *session.Log
	model string
	agent *agent.Agent
}

func (c *child) ID() string    { return c.log.ID() }
func (c *child) Model() string { return c.model }

// Run runs the child's prompt and records its result, as Prompt does
// for the parent, then closes its log. A log that cannot be written
// fails the child, which the parent is told.
func (c *child) Run(ctx context.Context, prompt string) agent.Outcome {
	o := c.agent.Send(ctx, prompt)
	errText := ""
	if o.Err != nil {
		errText = o.Err.Error()
	}
	err := c.log.AppendResult(session.Result{Status: string(o.Kind), Turns: o.Turns, CostUSD: o.CostUSD, Usage: o.Usage, Error: errText})
	if cerr := c.log.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		o.Err = errors.Join(o.Err, fmt.Errorf("record the subagent's result: %w", err))
		if o.Kind == event.Success {
			o.Kind = event.Failed
		}
	}
	return o
}
