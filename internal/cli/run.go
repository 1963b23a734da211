package cli

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/config"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/instructions"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/pricing"
	"github.com/lathe-dev/lathe/internal/prompt"
	"github.com/lathe-dev/lathe/internal/provider"
	"github.com/lathe-dev/lathe/internal/session"
	"github.com/lathe-dev/lathe/internal/shell"
	"github.com/lathe-dev/lathe/internal/textfile"
	"github.com/lathe-dev/lathe/internal/tool"
)

// runHeadless runs one task without a person at the terminal. execCmd is
// set for `lathe exec`, which needs no -p.
func runHeadless(ctx context.Context, args []string, stdio IO, execCmd bool) error {
	fs := newFlagSet("lathe")
	var f runFlags
	f.register(fs)
	pos, err := f.parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case f.help:
		fmt.Fprint(stdio.Stdout, helpText)
		return nil
	case f.version:
		fmt.Fprintf(stdio.Stdout, "lathe %s\n", version())
		return nil
	}
	out, err := newOutput(f.outputFormat, f.partial, f.verbose, stdio.Stdout, stdio.Stderr)
	if err != nil {
		return err
	}
	text, err := readPrompt(pos, stdio)
	if err != nil {
		return err
	}
	if text == "" {
		// Bare `lathe` is how people find out what it does.
		if len(args) == 0 && !execCmd {
			fmt.Fprint(stdio.Stdout, quickstart)
			return nil
		}
		return usagef("no prompt: give it as an argument (lathe -p \"fix the tests\") or on stdin")
	}
	r, err := setup(&f, stdio.Stderr)
	if err != nil {
		return err
	}
	defer r.close()

	// SIGHUP is a closed terminal: like the others, the run stops, records
	// its result and stays resumable rather than dying mid-write.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	return r.run(ctx, text, out, stdio.Stderr)
}

// run is one configured run, ready to start.
type run struct {
	dir       string
	cfg       *config.Config
	prov      config.ProviderConfig
	model     string
	mode      policy.Mode
	log       *session.Log
	history   []llm.Message
	resumed   bool
	llm       llm.Provider
	env       *tool.Env
	closeEnv  func() []*shell.Job
	prices    *pricing.Table
	maxTurns  int
	maxBudget float64
}

// setup resolves configuration and flags into a run. Every error here is
// the user's to fix, so it is a usage error (exit 2). Warnings go to
// stderr.
func setup(f *runFlags, stderr io.Writer) (*run, error) {
	dir := f.dir
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
	cfg, err := config.Load(dir)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	r := &run{dir: dir, cfg: cfg, maxTurns: cfg.MaxTurns, maxBudget: cfg.MaxBudgetUSD}
	if f.given["max-turns"] {
		r.maxTurns = f.maxTurns
	}
	if f.given["max-budget-usd"] {
		r.maxBudget = f.maxBudgetUSD
	}
	r.mode = cfg.PermissionMode
	if f.permissionMode != "" {
		if r.mode, err = policy.ParseMode(f.permissionMode); err != nil {
			return nil, usageError{err.Error()}
		}
	}

	name := cfg.ProviderName
	if f.provider != "" {
		name = f.provider
	}
	if r.prov, err = cfg.Provider(name); err != nil {
		return nil, usageError{err.Error()}
	}
	// A provider chosen on the command line brings its own default model,
	// which the config's general default must not override.
	r.model = cmp.Or(f.model, cfg.Model, r.prov.Model)
	if f.provider != "" && f.model == "" && r.prov.Model != "" {
		r.model = r.prov.Model
	}
	if r.model == "" {
		return nil, usagef("no model for provider %s: pass --model or set model in config.toml", name)
	}
	key, err := apiKey(r.prov)
	if err != nil {
		return nil, err
	}
	p, err := provider.New(r.prov.Type, provider.Options{
		BaseURL:         r.prov.BaseURL,
		APIKey:          key,
		Headers:         r.prov.Headers,
		MaxTokens:       r.prov.MaxTokens,
		ThinkingBudget:  r.prov.ThinkingBudget,
		ReasoningEffort: r.prov.ReasoningEffort,
		IdleTimeout:     cfg.Retry.StreamIdleTimeout,
	})
	if err != nil {
		return nil, usageError{err.Error()}
	}
	r.llm = p
	r.prices = pricing.Default()
	r.prices.Override(cfg.Prices)

	store, err := sessionStore()
	if err != nil {
		return nil, err
	}
	store.Warn = warner(stderr)
	if err := r.openSession(store, f, stderr); err != nil {
		return nil, err
	}
	// Remove what interrupted writes left in this workspace.
	if _, err := textfile.UseJournal(filepath.Join(config.StateDir(), "writes"), dir); err != nil {
		return nil, err
	}
	r.env, r.closeEnv = newEnv(dir, cfg.Shell.Timeout, credentialEnv(cfg.Providers))
	return r, nil
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

func (r *run) openSession(store *session.Store, f *runFlags, stderr io.Writer) error {
	id := f.resume
	if f.continueLast {
		if id != "" {
			return usagef("--continue and --resume cannot be used together")
		}
		latest, err := store.Latest(r.dir)
		if err != nil {
			return usageError{fmt.Sprintf("nothing to continue: %v", err)}
		}
		id = latest
	}
	if id == "" {
		if f.repair {
			return usagef("--repair repairs a session to resume: use it with --resume ID or --continue")
		}
		log, err := store.Create(session.Meta{Cwd: r.dir, Provider: r.prov.Name, Model: r.model, Version: version()})
		if err != nil {
			return err
		}
		r.log = log
		return nil
	}
	open := store.Open
	if f.repair {
		open = store.Repair
	}
	log, tr, err := open(id)
	var corrupt *session.CorruptError
	switch {
	case errors.Is(err, session.ErrNotFound):
		return usagef("no session %s (see lathe sessions)", id)
	case errors.As(err, &corrupt) && corrupt.Newer():
		return usagef("cannot resume session %s: %v\nUpgrade lathe to resume it, or pass --resume %s --repair to drop what this version cannot read.", id, err, id)
	case errors.As(err, &corrupt):
		return usagef("cannot resume session %s: %v\nPass --resume %s --repair to keep every record that is valid and drop the rest.", id, err, id)
	case err != nil:
		return err
	}
	if err := r.checkPlace(id, tr.Meta, f); err != nil {
		log.Close()
		return err
	}
	for _, p := range tr.Dropped {
		if p.Cut {
			fmt.Fprintf(stderr, "lathe: session %s: line %d of %s was cut short, as a crash leaves it; dropped it\n", id, p.Line, log.Path())
		} else {
			fmt.Fprintf(stderr, "lathe: session %s: dropped line %d of %s: %s\n", id, p.Line, log.Path(), p.Msg)
		}
	}
	r.log, r.history, r.resumed = log, tr.Messages, true
	return nil
}

// checkPlace refuses to resume a session in a directory other than its
// own, where its conversation's paths and commands would mean something
// else, unless --cd says where on purpose. A directory deleted and made
// again under the same name is another directory too; only --resume with
// --cd resumes there.
func (r *run) checkPlace(id string, meta session.Meta, f *runFlags) error {
	switch {
	case f.given["cd"] && f.resume != "":
		return nil
	case meta.Cwd != "" && filepath.Clean(meta.Cwd) != r.dir && !f.given["cd"]:
		return usagef("session %s belongs to %s, not %s: pass --cd %s to resume it there, or --cd %s to resume it here anyway",
			id, meta.Cwd, r.dir, shellQuote(meta.Cwd), shellQuote(r.dir))
	case meta.CwdID != "" && !session.SameDir(meta.CwdID, r.dir):
		return usagef("session %s was started in %s, but that directory has been deleted and made again since: pass --resume %s --cd %s to continue it here anyway",
			id, meta.Cwd, id, shellQuote(r.dir))
	}
	return nil
}

// shellQuote quotes s for a command line when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(c rune) bool { return !strings.ContainsRune(shellSafe, c) }) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

const shellSafe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%_-+=:,./"

// warner returns a Store.Warn that prints to stderr.
func warner(stderr io.Writer) func(error) {
	return func(err error) { fmt.Fprintf(stderr, "lathe: warning: %v\n", err) }
}

func (r *run) close() {
	if r.closeEnv != nil {
		r.closeEnv()
	}
	if r.log != nil {
		r.log.Close()
	}
}

func (r *run) run(ctx context.Context, text string, out event.Sink, stderr io.Writer) error {
	start := time.Now()
	dialect, freeform := r.dialect()
	tools := tool.Set(dialect, freeform)
	doc, err := instructions.Load(config.UserDir(), r.dir)
	if err != nil {
		return usageError{err.Error()}
	}
	_, git := config.RepoRoot(r.dir)
	system := prompt.System(prompt.Params{
		Dialect:      string(dialect),
		Cwd:          r.dir,
		Git:          git,
		Platform:     runtime.GOOS + "/" + runtime.GOARCH,
		Date:         start.Format("2006-01-02"),
		Instructions: doc.Text,
	})

	// The session log is the audit trail, so it is the bus's synchronous
	// hook: it misses nothing. The output is a lossless subscriber: a
	// script reading stream-json slowly must still get every event, and
	// closing the bus prints everything before run returns, the result
	// last.
	sink := event.NewBus(event.WithHook(event.SinkFunc(r.recordEvent)), event.WithWarn(warner(stderr)))
	defer sink.Close()
	sink.Subscribe("output", out.Emit, event.Lossless())
	var a *agent.Agent
	retrying := provider.WithRetry(r.llm, provider.RetryPolicy{
		MaxRetries: r.cfg.Retry.MaxRetries,
		BaseDelay:  r.cfg.Retry.BaseDelay,
		MaxDelay:   r.cfg.Retry.MaxDelay,
	}, func(rt provider.Retry) { a.NoteRetry(rt.Attempt, rt.Delay, rt.Err) })
	a = agent.New(agent.Config{
		SessionID: r.log.ID(),
		Provider:  retrying,
		Model:     r.model,
		System:    system,
		Tools:     tools,
		Env:       r.env,
		Policy:    &policy.Policy{Mode: r.mode, Workspace: r.dir},
		Recorder:  r.log,
		Sink:      sink,
		Cost: func(u llm.Usage) (float64, bool) {
			p, ok := r.prices.Lookup(r.model)
			return p.Cost(u), ok
		},
		MaxTurns:     r.maxTurns,
		MaxBudgetUSD: r.maxBudget,
		MaxTokens:    r.prov.MaxTokens,
		History:      llm.NewHistory(r.history...),
	})
	sink.Emit(event.Event{
		Type: event.SessionStart, SessionID: r.log.ID(), Provider: r.prov.Name, Model: r.model,
		Cwd: r.dir, Tools: a.ToolNames(), PermissionMode: string(r.mode), Resumed: r.resumed, Version: version(),
	})

	o := a.Send(ctx, text)
	// Stop background commands before reporting, so nothing the agent
	// started outlives the run, and the result can say what was stopped.
	var killed []event.BackgroundCommand
	for _, j := range r.closeEnv() {
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
	err = r.log.AppendResult(session.Result{
		Status: string(o.Kind), Turns: o.Turns, CostUSD: o.CostUSD, Usage: o.Usage, Error: errText, DurationMS: durationMS,
	})
	if err == nil {
		err = r.log.Sync()
	}
	if err != nil {
		if code == exitOK {
			o.Kind, code, errText = event.Failed, exitFailed, fmt.Sprintf("record result: %v", err)
		} else {
			errText += fmt.Sprintf("; also failed to record the result: %v", err)
		}
	}
	sink.Emit(event.Event{
		Type: event.Result, SessionID: r.log.ID(), Outcome: o.Kind, Answer: o.Answer, Turns: o.Turns,
		DurationMS: durationMS, Usage: &o.Usage, TotalCostUSD: &o.CostUSD, CostKnown: &o.CostKnown,
		DeniedCalls: o.Denied, KilledBackground: killed, ExitCode: &code, Error: errText,
	})
	if code != exitOK {
		return exitError{code}
	}
	return nil
}

// dialect picks the tools the model gets: those its family was trained on,
// unless config says otherwise for its provider or, more specifically, for
// the model. Only the Responses API can carry a freeform tool.
func (r *run) dialect() (tool.Dialect, bool) {
	d := tool.DialectClaude
	if r.prov.Type == provider.KindOpenAI {
		d = tool.DialectCodex
	}
	if r.prov.Dialect != "" {
		d = r.prov.Dialect
	}
	freeform := r.prov.FreeformTools
	if m, ok := r.cfg.Models[r.model]; ok {
		if m.Dialect != "" {
			d = m.Dialect
		}
		if m.FreeformTools != nil {
			freeform = *m.FreeformTools
		}
	}
	return d, freeform && r.prov.Type == provider.KindOpenAI
}

// recordEvent keeps the audit trail of tool calls and retries in the
// session log; messages and usage are recorded by the agent itself.
func (r *run) recordEvent(e event.Event) {
	switch e.Type {
	case event.ToolStart, event.ToolEnd, event.Retry, event.SessionStart:
		// The call's message, recorded just before, holds the input: a
		// big Write is not stored twice. The digest is of the input as
		// that message records it, compacted, so that the two match.
		var in bytes.Buffer
		if e.Type == event.ToolStart && len(e.Input) > maxLoggedInput && json.Compact(&in, e.Input) == nil {
			sum := sha256.Sum256(in.Bytes())
			e.InputSHA256, e.InputBytes, e.Input = hex.EncodeToString(sum[:]), in.Len(), nil
		}
		b, err := json.Marshal(e)
		if err == nil {
			// A failure here resurfaces on the agent's next append,
			// which stops the run.
			_ = r.log.AppendEvent(b)
		}
	}
}

// maxLoggedInput is the largest tool.start input the session log keeps
// verbatim; docs/events.md documents it.
const maxLoggedInput = 4 << 10

func exitCode(o agent.Outcome) int {
	switch o.Kind {
	case event.Success:
		if len(o.Denied) > 0 {
			return exitDenied
		}
		return exitOK
	case event.ProviderError:
		return exitProvider
	case event.MaxTurns, event.MaxBudget, event.ContextWindow, event.OutputLimit:
		return exitLimit
	case event.Interrupted:
		return exitInterrupted
	}
	return exitFailed
}
