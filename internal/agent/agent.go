// Package agent runs the agent loop: send the conversation to the model,
// run the tool calls it makes, send back their results, and repeat until
// the model answers without calling a tool or a limit stops the run.
//
// An [Agent] owns one conversation across prompts: [Agent.Send] runs the
// loop for the next user turn, [Agent.Steer] speaks into a running loop,
// and [Agent.Replace] swaps the whole history (compaction).
//
// Data flows one way through it: the provider's response becomes tool
// calls, each call passes the policy, runs its tool, and every message and
// result is appended to the transcript as it completes.
package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lathe-dev/lathe/internal/compact"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/tool"
)

// Recorder keeps the transcript. Each append must have reached the
// operating system when it returns, so that a killed process loses
// nothing already recorded; Sync commits everything appended to stable
// storage, so that it survives a crash of the machine too, and the agent
// calls it at the end of each turn. An error from any of them stops the
// run: a run that cannot be recorded cannot be resumed or audited.
//
// Concurrency: the agent calls a Recorder from one goroutine at a time,
// in transcript order, but the event bus's synchronous hook (internal/app's session log
// tool and retry records) may append from another goroutine meanwhile, so
// an implementation that also takes those must serialise its appends. The
// methods block until the write has reached the operating system (Sync:
// stable storage); they take no context, because a record half-written
// on cancellation would be worse than the short wait for the disk.
type Recorder interface {
	AppendMessage(m llm.Message) error
	AppendToolResult(p llm.Part) error
	AppendUsage(turn int, u llm.Usage, costUSD float64) error
	// AppendCompaction records a compaction boundary: a resume loads the
	// conversation from the last one on.
	AppendCompaction(b compact.Boundary) error
	Sync() error
}

// Decider is the permission policy. Decide may be called concurrently,
// for the read-only calls of one response; it must not modify call, and
// should return promptly when ctx is done.
type Decider interface {
	Decide(ctx context.Context, call *policy.Call) policy.Decision
}

// Config is everything a run needs.
type Config struct {
	SessionID string
	Provider  llm.Provider
	Model     string
	System    string
	Tools     []tool.Tool
	Env       *tool.Env
	Policy    Decider
	Recorder  Recorder
	Sink      event.Sink
	// Cost prices a response's usage in USD; ok is false when the model's
	// price is unknown.
	Cost func(llm.Usage) (usd float64, ok bool)
	// MaxTurns bounds the model responses of a run; 0 means no bound.
	MaxTurns int
	// MaxBudgetUSD stops the run once its cost reaches it; 0 means none.
	MaxBudgetUSD float64
	// MaxDuration stops a run (one Send) after this much wall-clock
	// time, even in the middle of a response or a command; 0 means none.
	MaxDuration time.Duration
	MaxTokens   int
	// Window is the model's context window in tokens; 0 means unknown,
	// and the model is not told how full its context is.
	Window int

	// Approver is asked about calls the policy would have a person
	// approve; nil means nobody can, as in a headless run ([Headless]).
	Approver Approver

	// Checkpoints snapshots the workspace before each call that may
	// change it; nil takes no snapshots.
	Checkpoints Checkpointer

	// History is the conversation to continue (a resumed transcript);
	// empty for a new one.
	History llm.History
	// HistoryTokens, when not 0, is the provider's count of History's
	// first HistoryCounted messages, from the resumed transcript's last
	// response, for the context accounting to build on rather than
	// estimate the whole conversation.
	HistoryTokens, HistoryCounted int

	// Compaction is when and from what the conversation is compacted
	// (compact.go).
	Compaction CompactionConfig

	// Execute, in a plan-mode run, is the phase an approved plan is
	// carried out in; nil ends the run with the plan as its answer.
	Execute *Phase
}

// Outcome is how a run ended.
type Outcome struct {
	Kind      event.Outcome
	Answer    string
	Turns     int
	Usage     llm.Usage
	CostUSD   float64
	CostKnown bool
	Denied    []event.DeniedCall
	// Undelivered is the steering ([Agent.Steer]) still queued when the
	// run ended other than by answering: it never reached the model, and
	// the front end may give it back to the user.
	Undelivered []string
	// Err explains every outcome but success.
	Err error
}

// repeatLimit is how many times in a row the model may make the same call
// and get the same failure before the run stops as stuck.
const repeatLimit = 3

// Agent runs turns against one conversation, which it owns.
//
// Concurrency: every method may be called from any goroutine. Send and
// Replace take turns: the one running holds the conversation, and is the
// only goroutine that changes it, and the other waits for it (or for its
// context). Steer and History never wait for a run.
type Agent struct {
	cfg Config
	// set is the tools and policy of the run's phase; only owner's
	// holder replaces it (see planned).
	set atomic.Pointer[toolset]

	// owner is held (a token in it) by the Send or Replace running now:
	// the one goroutine that may change the history.
	owner chan struct{}
	// hist is the conversation so far; only owner's holder sets it.
	histMu sync.Mutex
	hist   llm.History
	// inbox is the steering queued for the running Send; running says
	// one runs and takes it. Both are guarded by inboxMu.
	inboxMu sync.Mutex
	inbox   []string
	running bool

	emitMu sync.Mutex
	turn   int
	// partial is the text of the response streaming now, as the user has
	// seen it, so that an interruption can record it. A retry voids it.
	partial strings.Builder
	// spent is what the running Send has cost so far, its subagents'
	// returned spending included.
	spent float64

	// grants are the approvals given for the rest of the session.
	grants grants

	// The last failing call and how many times in a row it was made.
	lastFailure string
	repeats     int

	// acct is the context accounting (context.go).
	acct contextState
	// cmp is the compaction state (compact.go).
	cmp compactState

	// plans are the plans the running response's calls submitted, by
	// call id; guarded by emitMu.
	plans map[string]string
}

// New returns an agent for cfg.
func New(cfg Config) *Agent {
	a := &Agent{cfg: cfg, owner: make(chan struct{}, 1), hist: cfg.History,
		cmp: compactState{ledger: cfg.Compaction.Ledger, covered: cfg.Compaction.Covered}}
	a.set.Store(newToolset(cfg.Tools, cfg.Policy))
	if cfg.HistoryTokens > 0 && cfg.HistoryCounted > 0 && cfg.HistoryCounted <= cfg.History.Len() {
		a.acct.base = contextBase{lineage: cfg.History.ID(), n: cfg.HistoryCounted, tokens: cfg.HistoryTokens}
	}
	return a
}

// ToolNames lists the tools offered to the model, in order.
func (a *Agent) ToolNames() []string {
	defs := a.set.Load().defs
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.Name
	}
	return names
}

func (a *Agent) emit(e event.Event) {
	a.emitMu.Lock()
	defer a.emitMu.Unlock()
	e.SessionID = a.cfg.SessionID
	if e.Turn == 0 {
		e.Turn = a.turn
	}
	a.cfg.Sink.Emit(e)
}

// NoteRetry reports that the current model request failed and is retried
// after delay. It is meant as the retry policy's notify callback.
func (a *Agent) NoteRetry(attempt int, delay time.Duration, err error) {
	e := event.Event{Type: event.Retry, Attempt: attempt, DelayMS: delay.Milliseconds(), Error: err.Error()}
	var apiErr *llm.APIError
	if errors.As(err, &apiErr) {
		e.Status = apiErr.Status
	}
	a.emitMu.Lock()
	a.partial.Reset()
	a.emitMu.Unlock()
	a.emit(e)
}

// Send adds the user's prompt to the conversation, with the images the
// user attached to it ([llm.PartImage] parts, before the text that
// refers to them, as the providers advise), and runs the loop until it
// ends. The conversation keeps everything the run added, for the next
// Send. If another Send or a Replace is running, Send waits for it to end
// first; a ctx done meanwhile ends it as interrupted, having sent nothing.
func (a *Agent) Send(ctx context.Context, prompt string, images ...llm.Part) Outcome {
	select {
	case a.owner <- struct{}{}:
	case <-ctx.Done():
		return a.fail(Outcome{CostKnown: true}, event.Interrupted, ctx.Err())
	}
	defer func() { <-a.owner }()
	a.inboxMu.Lock()
	a.running = true
	a.inboxMu.Unlock()
	ctx, stop := a.withDuration(ctx)
	defer stop()
	out := a.overtime(ctx, a.loop(ctx, prompt, images))
	a.inboxMu.Lock()
	out.Undelivered, a.inbox, a.running = a.inbox, nil, false
	a.inboxMu.Unlock()
	return out
}

// Steer queues text from the user for the running Send, which delivers it
// to the model at the next tool boundary, after the results of the calls
// running now and before the next model request. Text still queued when
// the model answers without calling a tool is delivered then, and the run
// goes on, so that nothing the user said goes unanswered. A run that ends
// otherwise (cancelled, a limit, an error) delivers none of it and hands
// it back in [Outcome.Undelivered].
//
// Steer reports false, queuing nothing, when no Send is running or the
// running one has already ended: the text is then the next prompt.
func (a *Agent) Steer(text string) bool {
	a.inboxMu.Lock()
	defer a.inboxMu.Unlock()
	if !a.running {
		return false
	}
	a.inbox = append(a.inbox, text)
	return true
}

// steering takes the queued steering. When last is set, the loop would
// end if there were none, and then no more is taken: Steer reports false
// from here on, so nothing is queued that no one will deliver.
func (a *Agent) steering(last bool) []string {
	a.inboxMu.Lock()
	defer a.inboxMu.Unlock()
	texts := a.inbox
	a.inbox = nil
	if last && len(texts) == 0 {
		a.running = false
	}
	return texts
}

// Replace makes h the whole conversation, as compaction does, once no
// Send is running: it waits for the running one to end, or for ctx. The
// next request sends h and the next prompt, nothing of the old history.
// Replace does not record h: whoever replaces the history records what
// it replaced, so that a resume reads the same conversation.
func (a *Agent) Replace(ctx context.Context, h llm.History) error {
	select {
	case a.owner <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("replace history: %w", ctx.Err())
	}
	defer func() { <-a.owner }()
	a.histMu.Lock()
	a.hist = h
	a.histMu.Unlock()
	// What reads showed may be gone from h: a read must show it again.
	a.cfg.Env.ForgetShown(a.cfg.SessionID)
	return nil
}

// History returns the conversation as it is now, the part a running Send
// has added so far included. It is a snapshot: later turns do not change
// it.
func (a *Agent) History() llm.History {
	a.histMu.Lock()
	defer a.histMu.Unlock()
	return a.hist
}

// extend appends msgs to the conversation. Only owner's holder calls it.
func (a *Agent) extend(msgs ...llm.Message) llm.History {
	a.histMu.Lock()
	defer a.histMu.Unlock()
	a.hist = a.hist.Append(msgs...)
	return a.hist
}

// loop runs the turns of one Send.
func (a *Agent) loop(ctx context.Context, prompt string, images []llm.Part) Outcome {
	out := Outcome{CostKnown: true}
	a.emitMu.Lock()
	a.spent = 0
	a.emitMu.Unlock()
	user := llm.Message{Role: llm.RoleUser, Parts: append(slices.Clip(images), llm.Part{Kind: llm.PartText, Text: prompt})}
	if err := a.cfg.Recorder.AppendMessage(user); err != nil {
		return a.fail(out, event.Failed, fmt.Errorf("record prompt: %w", err))
	}
	msgs := a.extend(user)

	var cut cutOff
	// reacted says the request being retried was compacted for the
	// provider's "too long" answer already.
	reacted := false
	for {
		if ctx.Err() != nil {
			return a.fail(out, event.Interrupted, ctx.Err())
		}
		if a.cfg.MaxTurns > 0 && out.Turns >= a.cfg.MaxTurns {
			return a.fail(out, event.MaxTurns, fmt.Errorf("reached the limit of %d turns", a.cfg.MaxTurns))
		}
		if a.cfg.MaxBudgetUSD > 0 && out.CostUSD >= a.cfg.MaxBudgetUSD {
			return a.fail(out, event.MaxBudget, fmt.Errorf("spent $%.4f, reaching the budget of $%.2f", out.CostUSD, a.cfg.MaxBudgetUSD))
		}
		// The tool boundary: what the user said while the last calls
		// ran goes to the model with their results.
		if texts := a.steering(false); len(texts) > 0 {
			var err error
			if msgs, err = a.deliver(texts); err != nil {
				return a.fail(out, event.Failed, err)
			}
		}
		var err error
		if msgs, err = a.atBoundary(ctx, msgs, &out); err != nil {
			return a.fail(out, compactOutcome(ctx, err), err)
		}
		out.Turns++
		a.emitMu.Lock()
		a.turn = out.Turns
		a.partial.Reset()
		a.emitMu.Unlock()

		req := a.loopRequest(msgs)
		resp, err := a.cfg.Provider.Stream(ctx, req, a.onDelta)
		if err != nil {
			out.Turns--
			switch {
			case ctx.Err() != nil:
				return a.interrupted(ctx, out)
			case a.rejectsNative(req, err):
				continue
			case errors.Is(err, llm.ErrContextWindow) && !reacted:
				reacted = true
				if msgs, err = a.reactive(ctx, msgs, &out); err != nil {
					return a.fail(out, compactOutcome(ctx, err), err)
				}
				continue
			case errors.Is(err, llm.ErrContextWindow):
				return a.fail(out, event.ContextWindow, fmt.Errorf("the conversation no longer fits in the model's context window: %w", err))
			}
			return a.fail(out, event.ProviderError, err)
		}

		reacted = false
		if err := a.account(&out, resp.Usage); err != nil {
			return a.fail(out, event.Failed, err)
		}
		if err := a.cfg.Recorder.AppendMessage(resp.Message); err != nil {
			return a.fail(out, event.Failed, fmt.Errorf("record response: %w", err))
		}
		msgs = a.extend(resp.Message)
		if msgs, err = a.nativeCompacted(msgs, resp, &out); err != nil {
			return a.fail(out, event.Failed, err)
		}
		a.noteContext(msgs, resp.Usage)
		calls := resp.Message.ToolCalls()
		a.emitMessage(resp.Message, calls)
		// A response cut off at the output limit is never the answer: the
		// model is asked for the rest, a few times at most.
		cutErr := cut.add(resp, len(calls))
		if len(calls) == 0 {
			if err := a.cfg.Recorder.Sync(); err != nil {
				return a.fail(out, event.Failed, err)
			}
			switch {
			case cutErr != nil:
				return a.fail(out, event.OutputLimit, cutErr)
			case resp.StopReason != llm.StopMaxTokens:
				texts := a.steering(true)
				if len(texts) == 0 {
					out.Answer = cut.answer()
					out.Kind = event.Success
					return out
				}
				// The user spoke while the model answered: the answer
				// is not the last word, the reply to them is.
				cut = cutOff{}
				if msgs, err = a.deliver(texts); err != nil {
					return a.fail(out, event.Failed, err)
				}
				continue
			}
			cont := continueMessage()
			if err := a.cfg.Recorder.AppendMessage(cont); err != nil {
				return a.fail(out, event.Failed, fmt.Errorf("record continuation: %w", err))
			}
			msgs = a.extend(cont)
			continue
		}

		results, err := a.runCalls(ctx, calls, &out)
		if len(results) > 0 {
			msgs = a.extend(llm.Message{Role: llm.RoleUser, Parts: results})
		}
		if err != nil {
			if ctx.Err() != nil {
				return a.fail(out, event.Interrupted, ctx.Err())
			}
			return a.fail(out, event.Failed, err)
		}
		if err := a.checkRepeats(calls, results); err != nil {
			return a.fail(out, event.Failed, err)
		}
		if err := a.cfg.Recorder.Sync(); err != nil {
			return a.fail(out, event.Failed, err)
		}
		if a.planned(calls, &out) {
			return out
		}
		if cutErr != nil {
			return a.fail(out, event.OutputLimit, cutErr)
		}
	}
}

// emitMessage reports a complete response: its thinking and text blocks,
// then the message as a whole.
func (a *Agent) emitMessage(m llm.Message, calls []llm.Part) {
	for _, p := range m.Parts {
		switch p.Kind {
		case llm.PartText:
			if p.Text != "" {
				a.emit(event.Event{Type: event.Text, Text: p.Text})
			}
		case llm.PartThinking:
			if p.Text != "" {
				a.emit(event.Event{Type: event.Thinking, Text: p.Text})
			}
		}
	}
	e := event.Event{Type: event.Message, Text: m.Text()}
	for _, c := range calls {
		e.CallIDs = append(e.CallIDs, c.CallID)
	}
	a.emit(e)
}

// deliver adds the user's steering to the conversation as one user
// message, recorded before it is reported delivered.
func (a *Agent) deliver(texts []string) (llm.History, error) {
	m := llm.Message{Role: llm.RoleUser, Parts: make([]llm.Part, len(texts))}
	for i, t := range texts {
		m.Parts[i] = llm.Part{Kind: llm.PartText, Text: t}
	}
	if err := a.cfg.Recorder.AppendMessage(m); err != nil {
		return llm.History{}, fmt.Errorf("record steering: %w", err)
	}
	h := a.extend(m)
	for _, t := range texts {
		a.emit(event.Event{Type: event.SteeringDelivered, Text: t})
	}
	return h, nil
}

// interrupted ends a run cancelled while a response streamed. The text
// the user saw is recorded as the partial assistant message it was: the
// transcript must not lie about what was said. Thinking and half-made
// tool calls are not kept, since no provider accepts them back
// incomplete; text alone is valid history for every provider.
func (a *Agent) interrupted(ctx context.Context, out Outcome) Outcome {
	a.emitMu.Lock()
	text := a.partial.String()
	a.emitMu.Unlock()
	if text != "" {
		m := llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{{Kind: llm.PartText, Text: text}}}
		if err := a.cfg.Recorder.AppendMessage(m); err != nil {
			return a.fail(out, event.Interrupted, fmt.Errorf("%w; and could not record the partial response: %v", ctx.Err(), err))
		}
	}
	return a.fail(out, event.Interrupted, ctx.Err())
}

func (a *Agent) onDelta(d llm.Delta) {
	switch d.Kind {
	case llm.DeltaText:
		a.emitMu.Lock()
		a.partial.WriteString(d.Text)
		a.emitMu.Unlock()
		a.emit(event.Event{Type: event.TextDelta, Text: d.Text})
	case llm.DeltaThinking:
		a.emit(event.Event{Type: event.ThinkingDelta, Text: d.Text})
	}
}

// account adds a response's usage to the run and records it.
func (a *Agent) account(out *Outcome, u llm.Usage) error {
	cost, known := 0.0, false
	if a.cfg.Cost != nil {
		cost, known = a.cfg.Cost(u)
	}
	out.Usage = out.Usage.Add(u)
	out.CostUSD += cost
	out.CostKnown = out.CostKnown && known
	a.emitMu.Lock()
	a.spent = out.CostUSD
	a.emitMu.Unlock()
	a.emit(event.Event{Type: event.Usage, Usage: &u, CostUSD: &cost})
	if err := a.cfg.Recorder.AppendUsage(out.Turns, u, cost); err != nil {
		return fmt.Errorf("record usage: %w", err)
	}
	return nil
}

// checkRepeats stops a model that keeps making the same failing call.
func (a *Agent) checkRepeats(calls, results []llm.Part) error {
	for i, r := range results {
		if !r.IsError {
			a.lastFailure, a.repeats = "", 0
			continue
		}
		key := calls[i].Name + "\x00" + string(calls[i].Input) + "\x00" + r.Text
		if key == a.lastFailure {
			a.repeats++
		} else {
			a.lastFailure, a.repeats = key, 1
		}
		if a.repeats >= repeatLimit {
			return fmt.Errorf("stopped: the model made the same failing %s call %d times in a row; last error: %s",
				calls[i].Name, a.repeats, firstLine(r.Text))
		}
	}
	return nil
}

func (a *Agent) fail(out Outcome, kind event.Outcome, err error) Outcome {
	out.Kind = kind
	out.Err = err
	return out
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
