// Package app builds a running Lathe session from configuration and
// options, once, for every front end: the headless command line today,
// the terminal UI, `lathe compact`, subagents and an editor protocol
// later. It resolves the provider (with retries), the tool set for the
// model's dialect, the system prompt, the policy, the approver, the
// session log (created, resumed or repaired), the event bus and the
// tools' environment, and runs prompts on them. A front end parses its
// own input, subscribes to the bus for its output and chooses its
// approver; it never assembles the session itself.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/audit"
	"github.com/lathe-dev/lathe/internal/config"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/instructions"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/pricing"
	"github.com/lathe-dev/lathe/internal/prompt"
	"github.com/lathe-dev/lathe/internal/provider"
	"github.com/lathe-dev/lathe/internal/sandbox"
	"github.com/lathe-dev/lathe/internal/session"
	"github.com/lathe-dev/lathe/internal/spill"
	"github.com/lathe-dev/lathe/internal/textfile"
	"github.com/lathe-dev/lathe/internal/tool"
)

// Options are what a front end asks of a session, as the user gave them;
// the zero value of each field defers to the configuration. The command
// line fills them from its flags, whose names the error messages use.
type Options struct {
	// Dir is the working directory; empty means the process's.
	Dir string
	// DirGiven says the user chose Dir on purpose (--cd), so a session
	// may be resumed there although it started elsewhere.
	DirGiven bool
	// Provider names a provider (built in or in config.toml); Model the
	// model; PermissionMode a policy mode (policy.ParseMode).
	Provider, Model, PermissionMode string
	// Then, in plan mode, is the mode the plan the model submits is
	// carried out in, in the same run (--then); empty, the plan is the
	// run's answer.
	Then string
	// MaxTurns, MaxBudgetUSD and MaxDuration, when not nil, override the
	// configured limits; 0 means no limit.
	MaxTurns     *int
	MaxBudgetUSD *float64
	MaxDuration  *time.Duration
	// Resume names a session to continue; Continue continues the latest
	// session in Dir instead; Repair drops the records of that session
	// that cannot be read rather than refusing to resume it.
	Resume   string
	Continue bool
	Repair   bool
	// Fork starts a new session from the conversation of the one Resume
	// or Continue names, which stays as it was; ForkAt, when not nil,
	// keeps only its first *ForkAt messages (RewindPoint.Messages), to
	// go on from before a prompt.
	Fork   bool
	ForkAt *int
	// Version is Lathe's version, recorded in new sessions and in
	// session.start.
	Version string
	// Warn, if not nil, is told of what does not stop the session: a
	// session log skipped while looking for the latest (during Open), a
	// subscriber dropped from the bus (on the goroutine that published,
	// which may be any of the agent's). It must not block.
	Warn func(error)
	// Approver is asked about calls the policy would have a person
	// approve; nil means nobody can ([agent.Headless]). It is offered
	// what "always" would keep (agent.Approval.Keep), and its "always"
	// answers are kept as rules in the file of their scope
	// (event.RuleAdded).
	Approver agent.Approver
	// Settings are settings files above the project's (--settings); Allow
	// and Deny permission rules above them (--allow, --deny).
	Settings    []string
	Allow, Deny []string
	// TrustWorkspace trusts the project configuration for this session
	// (--trust-workspace), as `lathe trust` does for good.
	TrustWorkspace bool
}

// App is one running session: its log, its conversation, its tools'
// environment and its event bus.
//
// Concurrency: one goroutine drives an App, calling Start, then Prompt
// as often as the user asks, then Close; Steer, Subscribe and the
// accessors may be called from any goroutine. Events reach subscribers on
// goroutines the bus owns, each subscriber in order.
type App struct {
	dir     string
	cfg     *config.Config
	perms   *Permissions
	prov    config.ProviderConfig
	model   string
	version string

	log   *session.Log
	audit *audit.Log
	// todos follows the session's todo list, as the agent's recorder;
	// announce says Start publishes the list a resumed (or forked)
	// session left.
	todos    *todoRecorder
	announce bool
	history  []llm.Message
	resumed  bool
	// forkedFrom names the session a forked one began from.
	forkedFrom string
	// counted is the provider's count of the first countedMessages
	// messages of history, from the resumed session's last response.
	counted, countedMessages int
	dropped                  []session.Problem

	// compaction is the resumed session's last compaction boundary.
	compaction agent.CompactionConfig

	env   *tool.Env
	bus   *event.Bus
	agent *agent.Agent

	// sandbox confines the tools' processes; Close stops its network
	// proxies and removes its private temporary directory.
	sandbox *Sandbox
	// snapshots takes the agent's checkpoints.
	snapshots *checkpoints
	// incomplete says a write to the session log failed and was retried
	// (retryLog).
	incomplete atomic.Bool
	// noImages warns, once, that the model is sent images' paths only.
	noImages sync.Once
}

// Open resolves configuration and opts into a session ready to start.
// An error the user must fix (a flag, config.toml, AGENTS.md, a session
// that cannot be resumed here) is a [UsageError]; on any error nothing is
// left open.
func Open(opts Options) (*App, error) {
	start := time.Now()
	dir := opts.Dir
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		dir = wd
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, usagef("working directory %s is not a directory", dir)
	}
	perms, err := LoadPermissions(context.Background(), dir, &opts)
	if err != nil {
		return nil, err
	}
	cfg := perms.Config
	a := &App{dir: dir, cfg: cfg, perms: perms, version: opts.Version}
	then, err := thenMode(perms, opts.Then)
	if err != nil {
		return nil, err
	}
	maxTurns, maxBudget := cfg.MaxTurns, cfg.MaxBudgetUSD
	if opts.MaxTurns != nil {
		maxTurns = *opts.MaxTurns
	}
	if opts.MaxBudgetUSD != nil {
		maxBudget = *opts.MaxBudgetUSD
	}
	maxDuration := cfg.MaxDuration
	if opts.MaxDuration != nil {
		maxDuration = *opts.MaxDuration
	}

	p, err := a.newProvider(&opts)
	if err != nil {
		return nil, err
	}
	prices := pricing.Default()
	prices.Override(cfg.Prices)

	dialect, freeform := a.dialect()
	system, err := systemPrompt(dir, dialect, start)
	if err != nil {
		return nil, err
	}

	// Store checks that there is a state directory, which the journal
	// needs too.
	store, err := Store(opts.Warn)
	if err != nil {
		return nil, err
	}
	// Remove what interrupted writes left in this workspace.
	if _, err := textfile.UseJournal(filepath.Join(config.StateDir(), "writes"), dir); err != nil {
		return nil, err
	}
	// The session is opened last: only its audit log can fail after it,
	// and should it, the session records nothing, so that a session
	// resumed with lines dropped reports them (Dropped) next time.
	if err := a.openSession(store, &opts); err != nil {
		return nil, err
	}
	if err := a.openAudit(); err != nil {
		a.log.Close()
		return nil, err
	}
	a.todos = &todoRecorder{Recorder: a.log}
	if len(a.history) > 0 {
		if a.announce, err = a.resumeTodos(a.todos); err != nil {
			a.audit.Close()
			a.log.Close()
			return nil, err
		}
	}
	a.env, a.sandbox = NewEnv(dir, cfg.Shell.Timeout, cfg.Providers, a.networkReport(), sandbox.WithIsolateCaches(cfg.Sandbox.IsolateCaches))

	// The session log and the audit log are the records of the session,
	// so they are the bus's synchronous hooks: they miss nothing.
	a.bus = event.NewBus(event.WithHook(event.SinkFunc(a.recordEvent)), event.WithHook(a.audit), event.WithWarn(opts.Warn))
	a.todos.emit = a.emit
	retry := provider.RetryPolicy{
		MaxRetries: cfg.Retry.MaxRetries,
		BaseDelay:  cfg.Retry.BaseDelay,
		MaxDelay:   cfg.Retry.MaxDelay,
	}
	retrying := provider.WithRetry(p, retry, func(rt provider.Retry) { a.agent.NoteRetry(rt.Attempt, rt.Delay, rt.Err) })
	// The snapshots' git is Lathe's own, unconfined by the calls'
	// profiles, but without the providers' keys like every process.
	a.snapshots = &checkpoints{dir: dir, session: a.log.ID(), exec: sandbox.NewHost(sandbox.Profile{HideEnv: credentialEnv(cfg.Providers)}), warn: opts.Warn}
	// WebFetch reaches a private or loopback address only of a host the
	// rules name.
	a.env.NamedHost = tool.NamedHosts(perms.Policy.Rules)
	a.env.Outputs = spill.New(filepath.Join(store.Dir(a.log.ID()), "outputs"))
	tools, execute := a.phases(then, dialect, freeform)
	policy, approver := audited{perms.decider(), a.audit}, a.approver(&opts)
	tools, execute = a.withSubagents(tools, execute, dialect, freeform, &launcher{a: a, provider: p, retry: retry, system: system, approver: approver, prices: prices, budget: maxBudget, store: store}, opts.Warn)
	a.agent = agent.New(agent.Config{
		SessionID: a.log.ID(),
		Provider:  retrying,
		Model:     a.model,
		System:    system,
		Tools:     tools,
		Env:       a.env,
		Policy:    policy,
		Approver:  approver,
		Recorder:  a.todos,
		Sink:      a.bus,
		Cost: func(u llm.Usage) (float64, bool) {
			p, ok := prices.Lookup(a.model)
			return p.Cost(u), ok
		},
		MaxTurns:     maxTurns,
		MaxBudgetUSD: maxBudget,
		MaxDuration:  maxDuration,
		MaxTokens:    a.maxTokensOf(a.model),
		Window:       a.contextWindow(opts.Warn),
		Checkpoints:  a.snapshots,
		History:      llm.NewHistory(a.withoutImages(a.history)...),

		HistoryTokens:  a.counted,
		HistoryCounted: a.countedMessages,
		Compaction:     a.compactionConfig(),
		Execute:        execute,
	})
	return a, nil
}

// approver is the approver of opts, which keeps its "always" answers as
// rules. Nobody answers the headless one.
func (a *App) approver(opts *Options) agent.Approver {
	if opts.Approver == nil || opts.Approver == agent.Headless {
		return opts.Approver
	}
	return alwaysApprover{next: opts.Approver, perms: a.perms, emit: a.bus.Emit, warn: opts.Warn}
}

// Permissions are how the session's calls are decided.
func (a *App) Permissions() *Permissions { return a.perms }

// newProvider resolves the provider and model opts ask for and returns the
// provider's client, without retries.
func (a *App) newProvider(opts *Options) (llm.Provider, error) {
	cfg := a.cfg
	var err error
	name := cmp.Or(opts.Provider, cfg.ProviderName)
	if a.prov, err = cfg.Provider(name); err != nil {
		return nil, UsageError{err.Error()}
	}
	// A provider chosen by the user brings its own default model, which
	// the config's general default must not override.
	a.model = cmp.Or(opts.Model, cfg.Model, a.prov.Model)
	if opts.Provider != "" && opts.Model == "" && a.prov.Model != "" {
		a.model = a.prov.Model
	}
	if a.model == "" {
		return nil, usagef("no model for provider %s: pass --model or set model in config.toml", name)
	}
	key, err := apiKey(a.prov)
	if err != nil {
		return nil, err
	}
	p, err := provider.New(a.prov.Type, provider.Options{
		BaseURL:         a.prov.BaseURL,
		APIKey:          key,
		Headers:         a.prov.Headers,
		MaxTokens:       a.prov.MaxTokens,
		ThinkingBudget:  a.prov.ThinkingBudget,
		ReasoningEffort: a.prov.ReasoningEffort,
		CacheTTL:        a.prov.CacheTTL,
		CacheRetention:  a.prov.PromptCacheRetention,
		Compaction:      a.prov.Compaction,
		IdleTimeout:     cfg.Retry.StreamIdleTimeout,
	})
	if err != nil {
		return nil, UsageError{err.Error()}
	}
	return p, nil
}

// systemPrompt is the system prompt for a session in dir started at
// start: the dialect's prompt, the platform, whether dir is in a git
// repository, and the user's and the project's instructions and memory.
func systemPrompt(dir string, dialect tool.Dialect, start time.Time) (string, error) {
	doc, err := instructions.Load(config.UserDir(), dir)
	if err != nil {
		return "", UsageError{err.Error()}
	}
	memory, err := instructions.LoadMemory(config.UserDir(), dir)
	if err != nil {
		return "", UsageError{err.Error()}
	}
	_, memoryFile := instructions.MemoryFiles(config.UserDir(), dir)
	_, git := config.RepoRoot(dir)
	return prompt.System(prompt.Params{
		Dialect:      string(dialect),
		Cwd:          dir,
		Git:          git,
		Platform:     runtime.GOOS + "/" + runtime.GOARCH,
		Date:         start.Format("2006-01-02"),
		Instructions: doc.Text,
		Memory:       memory.Text,
		MemoryFile:   memoryFile,
		MemoryKiB:    instructions.MaxMemoryBytes >> 10,
	}), nil
}

// apiKey returns the key for a provider, or an error saying exactly what to
// set. An explicit key is always returned for servers that need none, so
// the SDK never falls back to OPENAI_API_KEY and sends it to a third-party
// base URL.
func apiKey(pc config.ProviderConfig) (string, error) {
	env := pc.APIKeyEnv
	if env == "" {
		env = provider.EnvKey(pc.Type)
	}
	if key := os.Getenv(env); key != "" && (pc.APIKeyEnv != "" || pc.BaseURL == "") {
		return key, nil
	}
	if pc.Type == provider.KindOpenAIChat {
		return "none", nil
	}
	if pc.APIKeyEnv != "" {
		return "", usagef("no API key for provider %s: set %s (named by api_key_env in config.toml)", pc.Name, env)
	}
	return "", usagef("no API key for provider %s: set %s, or choose another provider with --provider (see lathe --help)", pc.Name, env)
}

// dialect picks the tools the model gets: those its family was trained on,
// unless config says otherwise for its provider or, more specifically, for
// the model. Only the Responses API can carry a freeform tool.
func (a *App) dialect() (tool.Dialect, bool) {
	d := tool.DialectClaude
	if a.prov.Type == provider.KindOpenAI {
		d = tool.DialectCodex
	}
	if a.prov.Dialect != "" {
		d = a.prov.Dialect
	}
	freeform := a.prov.FreeformTools
	if m, ok := a.cfg.Models[a.model]; ok {
		if m.Dialect != "" {
			d = m.Dialect
		}
		if m.FreeformTools != nil {
			freeform = *m.FreeformTools
		}
	}
	return d, freeform && a.prov.Type == provider.KindOpenAI
}

// UI is the configuration of the terminal UI, for a front end.
func (a *App) UI() config.UI { return a.cfg.UI }

// SessionID is the id of the session's log.
func (a *App) SessionID() string { return a.log.ID() }

// LogPath is the path of the session's log.
func (a *App) LogPath() string { return a.log.Path() }

// Dropped lists the lines of a resumed session's log that Open left out:
// a last line cut short by a crash and, with Repair, every line that could
// not be used. The front end tells the user; the log records that they
// were dropped with the next record.
func (a *App) Dropped() []session.Problem { return a.dropped }

// Subscribe calls handle with every event of the session published from
// now on, as [event.Bus.Subscribe] does; subscribe before Start to see
// session.start. A front end's output is one subscriber.
func (a *App) Subscribe(name string, handle func(event.Event), opts ...event.SubscribeOption) *event.Subscription {
	return a.bus.Subscribe(name, handle, opts...)
}

// Start publishes session.start: which session, model, tools and mode
// the prompts run with, and the mode's notice, if any.
func (a *App) Start() {
	a.bus.Emit(event.Event{
		Type: event.SessionStart, SessionID: a.log.ID(), Provider: a.prov.Name, Model: a.model,
		Cwd: a.dir, Tools: a.agent.ToolNames(), PermissionMode: string(a.perms.Policy.Mode), ModeNotice: a.perms.ModeNotice,
		Resumed: a.resumed, ForkedFrom: a.forkedFrom, Version: a.version,
	})
	if a.announce {
		a.todos.mu.Lock()
		e := a.todos.updated()
		a.todos.mu.Unlock()
		a.emit(e)
	}
}

// emit publishes an event of the session that the agent does not.
func (a *App) emit(e event.Event) {
	e.SessionID = a.log.ID()
	a.bus.Emit(e)
}

// Result is how a prompt ended, as its result event reports it.
type Result struct {
	// Outcome is the agent's, except that a result that could not be
	// recorded turns a success into a failure and adds to Err.
	agent.Outcome
	// ExitCode is the code the result event carries.
	ExitCode int
}

// finish ends a run that started at start and ended as o: it records the
// result in the session log and publishes the result event.
func (a *App) finish(start time.Time, o agent.Outcome) Result {
	// Stop background commands before reporting, so nothing the agent
	// started outlives the run, and the result can say what was stopped.
	var killed []event.BackgroundCommand
	for _, j := range a.env.Shell.Stop() {
		killed = append(killed, event.BackgroundCommand{ID: j.ID(), Command: j.Command()})
	}
	code := exitCode(o)
	errText := ""
	if o.Err != nil {
		errText = o.Err.Error()
	}
	durationMS := time.Since(start).Milliseconds()
	// The result is recorded, and on disk, before it is reported, so that
	// the exit code it reports is the one lathe exits with.
	err := a.log.AppendResult(session.Result{
		Status: string(o.Kind), Turns: o.Turns, CostUSD: o.CostUSD, Usage: o.Usage, Error: errText, DurationMS: durationMS,
	})
	if err == nil {
		err = a.log.Sync()
	}
	if err != nil {
		if code == ExitOK {
			o.Kind, code, errText = event.Failed, ExitFailed, fmt.Sprintf("record result: %v", err)
		} else {
			errText += fmt.Sprintf("; also failed to record the result: %v", err)
		}
		o.Err = errors.Join(o.Err, fmt.Errorf("record result: %w", err))
	}
	if lerr := a.log.Failed(); lerr != nil {
		hint := logHint(lerr)
		errText += "\n" + hint
		o.Err = fmt.Errorf("%w\n%s", o.Err, hint)
	}
	var cached *float64
	if o.Usage.TotalInput() > 0 {
		share := math.Round(o.Usage.CachedShare()*1000) / 1000
		cached = &share
	}
	a.bus.Emit(event.Event{
		Type: event.Result, SessionID: a.log.ID(), Outcome: o.Kind, Answer: o.Answer, Turns: o.Turns,
		DurationMS: durationMS, Usage: &o.Usage, TotalCostUSD: &o.CostUSD, CostKnown: &o.CostKnown, CachedShare: cached,
		DeniedCalls: o.Denied, KilledBackground: killed, ExitCode: &code, Error: errText,
	})
	return Result{Outcome: o, ExitCode: code}
}

// Steer queues text from the user for the running prompt, which delivers
// it at its next tool boundary, as [agent.Agent.Steer] says. It may be
// called from any goroutine, and reports false, queuing nothing, when no
// prompt is running: the text is then the next prompt.
func (a *App) Steer(text string) bool { return a.agent.Steer(text) }

// Close ends the session: it closes the bus, which waits for every
// subscriber to take what was published (the result last), stops what
// the tools left running and closes the session log and the audit log,
// which records the run's end. What fails to close is returned, the
// sandbox's leftovers and the logs' errors alike; the result was on disk
// before it was published.
func (a *App) Close() error {
	a.bus.Close()
	a.env.Shell.Close()
	return errors.Join(a.sandbox.Close(), a.snapshots.Close(), a.log.Close(), a.audit.Close())
}

// AuditLog is the session's audit log, where the sandbox's network
// proxies record each connection.
func (a *App) AuditLog() *audit.Log { return a.audit }
