package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/lathe-dev/lathe/internal/compact"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/todo"
)

// Compaction: when the conversation fills the context up to the
// trigger, at a step boundary (after the tool results, before the next
// request, never mid-stream), the agent asks the model for a summary and
// replaces the history with the ledger, the summary and the last step
// (internal/compact). The summary request is a fork of the request the
// loop was about to send — the same model, system prompt, tools and
// history, plus one user message — so that the provider serves all of
// it but that message from its prompt cache.
//
// A summary request that would not fit is shrunk first (older tool
// outputs cut, then the oldest steps dropped); a reply that calls a tool
// or lacks the summary's sections is asked for once more, and then the
// ledger alone makes the new context. A request the provider still finds
// too long compacts and is sent once more. The circuit breaker stops the
// run (exit 4) after maxCompactFailures compactions in a row without a
// summary, when the rebuilt context does not fit under the trigger, or
// when the context refills to the trigger within one step of compacting.

// CompactionConfig is how the agent compacts.
type CompactionConfig struct {
	// Budget is the working-set budget in tokens: compaction starts once
	// the context reaches it, or the window's own trigger if that comes
	// first. 0 leaves the window's alone; with no window known either,
	// only a provider's "too long" answer compacts.
	Budget int
	// Off turns automatic compaction off: only a provider's "too long"
	// answer and [Agent.Compact] compact.
	Off bool
	// Native asks the provider to compact the conversation itself at the
	// trigger (native.go); local compaction stays the fallback.
	Native bool
	// NativeRejected, when not nil, is shared by the agents of a session
	// (a parent and its subagents): set once the provider refused native
	// compaction, after which none of them asks again or says so again.
	NativeRejected *atomic.Bool
	// Ledger continues a compacted session: the ledger its last boundary
	// recorded, which covers the first Covered messages of
	// [Config.History].
	Ledger  compact.Ledger
	Covered int
}

const (
	// limitPercent is the share of the window no request may exceed.
	limitPercent = 85
	// promptMargin is kept under the limit beyond the summary prompt's
	// own estimate, for its wire overhead.
	promptMargin = 256
	// outputReserve is kept free of the window for the summary itself.
	outputReserve = compact.MaxSummaryTokens + 4096
	// maxCompactFailures compactions in a row without a summary stop the
	// run.
	maxCompactFailures = 3
	// shrinkAttempts bounds the shrinking of a summary request the
	// provider found too long.
	shrinkAttempts = 4
	// unknownRecent is the budget of the verbatim last step, in tokens,
	// when no trigger is known.
	unknownRecent = 16000
)

// errCompaction is wrapped by the errors of a compaction that stop the
// run as a limit (exit 4).
var errCompaction = errors.New("compaction cannot keep the conversation within the context window")

// compactState is the agent's compaction state. Only the holder of owner
// touches it.
type compactState struct {
	// ledger covers the first covered messages of the history.
	ledger  compact.Ledger
	covered int
	// failures counts the compactions in a row without a summary.
	failures int
	// armed is set by a compaction during a run, at turn: the context
	// must be under the trigger again after the next response.
	armed bool
	turn  int
	// last is the last compaction, without its messages.
	last compact.Boundary
	// live is the ledger kept up to date at each boundary, covering the
	// first liveTo messages of the history, so that the summary prompt's
	// size is known before the trigger without folding the whole
	// conversation each step; prompt is that size, in tokens.
	live   compact.Ledger
	liveTo int
	prompt int
	// seen is how many messages the history had at the last boundary,
	// to tell how much one step adds.
	seen int
	// nativeOff is set once the provider rejected native compaction.
	nativeOff bool
}

// ledgerOf brings the live ledger up to msgs, the whole conversation,
// and returns it; the summary prompt's size is noted for the trigger.
// A history shorter than what the ledger covers was replaced: the live
// ledger starts again from the boundary's.
func (a *Agent) ledgerOf(msgs []llm.Message) compact.Ledger {
	if a.cmp.liveTo < a.cmp.covered || a.cmp.liveTo > len(msgs) {
		a.cmp.live, a.cmp.liveTo = a.cmp.ledger, min(a.cmp.covered, len(msgs))
	}
	if a.cmp.liveTo < len(msgs) || a.cmp.prompt == 0 {
		a.cmp.live = a.cmp.live.Fold(msgs[a.cmp.liveTo:], a.observer())
		a.cmp.liveTo = len(msgs)
		a.cmp.prompt = estimateTokens(len(compact.Prompt(a.cmp.live, "", false))) + promptMargin
	}
	return a.cmp.live
}

// contextLimit is the most tokens a request may fill, or 0 when the
// window is unknown.
func (a *Agent) contextLimit() int { return ContextLimit(a.cfg.Window) }

// ContextLimit is the most tokens of input a request may hold in a
// window of that many tokens: what is left of the window is the room a
// response always has.
func ContextLimit(window int) int { return window * limitPercent / 100 }

// compactionTrigger is how full the context may get before compaction
// starts, in tokens, or 0 when nothing but the provider can tell.
func (a *Agent) compactionTrigger() int {
	t := 0
	if w := a.cfg.Window; w > 0 {
		// A small window cannot spare the whole allowance and reserve;
		// it gets its share of them.
		// The summary prompt must fit under the limit on top of the
		// conversation; a small window cannot spare the whole output
		// reserve and gets its share of it.
		t = max(1, min(a.contextLimit()-max(a.cmp.prompt, promptMargin), w-min(outputReserve, w*15/100)))
	}
	if b := a.cfg.Compaction.Budget; b > 0 && (t == 0 || b < t) {
		t = b
	}
	return t
}

// request is the model request sending h. The loop and the summary
// request build theirs here, so that the summary is a fork of the
// loop's.
func (a *Agent) request(h llm.History) *llm.Request {
	return &llm.Request{
		Model:     a.cfg.Model,
		System:    a.cfg.System,
		Tools:     a.set.Load().defs,
		History:   h,
		MaxTokens: a.cfg.MaxTokens,
		CacheKey:  a.cfg.SessionID,
	}
}

// atBoundary compacts h, the conversation the next request would send,
// when it fills the context up to the trigger, and returns what to send.
func (a *Agent) atBoundary(ctx context.Context, h llm.History, out *Outcome) (llm.History, error) {
	if a.cfg.Compaction.Off || a.compactionTrigger() == 0 {
		return h, nil
	}
	a.ledgerOf(h.Messages())
	t := a.compactionTrigger()
	if a.native() {
		// The provider compacts at the trigger; the harness only once the
		// context nears the limit regardless.
		if a.contextLimit() == 0 {
			return h, nil
		}
		t = max(t, a.contextLimit()-max(a.cmp.prompt, promptMargin))
	}
	used := a.contextUsed(h)
	// Compact a step early when another step like the last would leave
	// no room under the limit for the summary prompt: the summary
	// request must fit whole to be a fork of the cached prefix.
	msgs := h.Messages()
	if limit := a.contextLimit(); limit > 0 && a.cmp.seen > 0 && a.cmp.seen < len(msgs) {
		step := estimateTokens(messageBytes(msgs[a.cmp.seen:]))
		t = min(t, max(1, limit-max(a.cmp.prompt, promptMargin)-step))
	}
	a.cmp.seen = len(msgs)
	if a.cmp.armed && out.Turns > a.cmp.turn {
		a.cmp.armed = false
		if used >= t {
			return h, fmt.Errorf("%w: it refilled to %d tokens, over the compaction trigger of %d, one step after compacting; "+
				"the last tool outputs are too large for the window: read files in pages, narrow commands' output, "+
				"or raise compaction.budget or the model's context_window", errCompaction, used, t)
		}
	}
	// What only the last step fills (a huge prompt) no compaction can
	// shrink: it is sent as it is, for the provider to judge.
	if old, _ := compact.Split(h.Messages()); used < t || len(old) == 0 {
		return h, nil
	}
	return a.compact(ctx, h, compact.Auto, "", out)
}

// reactive compacts after the provider answered that a request was too
// long, for the loop to send it once more.
func (a *Agent) reactive(ctx context.Context, h llm.History, out *Outcome) (llm.History, error) {
	return a.compact(ctx, h, compact.Reactive, "", out)
}

// compactOutcome is the outcome of a run that a compaction error stops.
func compactOutcome(ctx context.Context, err error) event.Outcome {
	switch {
	case ctx.Err() != nil:
		return event.Interrupted
	case errors.Is(err, errCompaction):
		return event.ContextWindow
	}
	return event.Failed
}

// onWhole runs f on the whole conversation once no Send is running: it
// waits for the running one, or for ctx, and holds the conversation while
// f runs. An empty conversation has nothing to do what (compact, recap)
// to.
func (a *Agent) onWhole(ctx context.Context, what string, f func(h llm.History) Outcome) Outcome {
	select {
	case a.owner <- struct{}{}:
	case <-ctx.Done():
		return a.fail(Outcome{CostKnown: true}, event.Interrupted, ctx.Err())
	}
	defer func() { <-a.owner }()
	h := a.History()
	if h.Len() == 0 {
		return a.fail(Outcome{CostKnown: true}, event.Failed, fmt.Errorf("nothing to %s: the conversation is empty", what))
	}
	return f(h)
}

// Compact compacts the conversation now, as `lathe compact` asks, once no
// Send is running (it waits for the running one, or for ctx). focus is
// what the user wants the summary to keep in particular. The outcome
// carries the summary request's usage and cost.
func (a *Agent) Compact(ctx context.Context, focus string) Outcome {
	return a.onWhole(ctx, "compact", func(h llm.History) Outcome { return a.compactNow(ctx, h, focus) })
}

// compactNow compacts h, the whole conversation, for Compact.
func (a *Agent) compactNow(ctx context.Context, h llm.History, focus string) Outcome {
	out := Outcome{CostKnown: true}
	if _, err := a.compact(ctx, h, compact.Manual, focus, &out); err != nil {
		return a.fail(out, compactOutcome(ctx, err), err)
	}
	b := a.cmp.last
	out.Answer = fmt.Sprintf("Compacted the conversation from %d to %d tokens.", b.TokensBefore, b.TokensAfter)
	if b.LedgerOnly {
		out.Answer += " The model gave no usable summary; the task ledger alone carries the task on."
	}
	out.Kind = event.Success
	return out
}

// compact replaces h, the whole conversation, with its compacted form,
// recorded as a boundary in the transcript, and returns it.
func (a *Agent) compact(ctx context.Context, h llm.History, reason string, focus string, out *Outcome) (llm.History, error) {
	msgs := h.Messages()
	old, recent := compact.Split(msgs)
	if len(old) == 0 {
		return h, fmt.Errorf("%w: nothing before the last step to compact", errCompaction)
	}
	before := a.contextUsed(h)
	a.emit(event.Event{Type: event.CompactionStart, Reason: reason, TokensBefore: before})
	ledger := a.ledgerOf(msgs)

	summary, sumErr := a.summarize(ctx, h, ledger, focus, out)
	if ctx.Err() != nil {
		return h, ctx.Err()
	}
	var stop error
	if sumErr != nil {
		// Without a summary the ledger carries the task on; the breaker
		// counts it.
		if a.cmp.failures++; a.cmp.failures >= maxCompactFailures {
			stop = fmt.Errorf("%w: %d compactions in a row got no summary from the model (last: %v)", errCompaction, a.cmp.failures, sumErr)
		}
	} else {
		a.cmp.failures = 0
	}

	recentTokens := unknownRecent
	if t := a.compactionTrigger(); t > 0 {
		recentTokens = t / 4
	}
	recent = compact.CapResults(recent, recentTokens*bytesPerToken)
	rebuilt := compact.Rebuild(ledger, summary, compact.LargeReads(old, a.classify), recent)
	nh := llm.NewHistory(rebuilt...)
	after := a.contextUsed(nh)
	if t := a.compactionTrigger(); t > 0 && after >= t && stop == nil {
		stop = fmt.Errorf("%w: the compacted context still fills %d tokens, over the trigger of %d; "+
			"raise compaction.budget or the model's context_window", errCompaction, after, t)
	}

	b := compact.Boundary{Messages: rebuilt, Ledger: ledger, Reason: reason, TokensBefore: before, TokensAfter: after, LedgerOnly: sumErr != nil}
	if err := a.adopt(b, nh, reason != compact.Manual, out); err != nil {
		return h, err
	}
	e := event.Event{Type: event.CompactionEnd, Reason: reason, TokensBefore: before, TokensAfter: after, LedgerOnly: sumErr != nil}
	if sumErr != nil {
		e.Error = sumErr.Error()
	}
	a.emit(e)
	if stop != nil {
		return nh, stop
	}
	return nh, nil
}

// adopt records boundary b and makes nh, its conversation, the history.
// armed says the context must be under the trigger again after the next
// response.
func (a *Agent) adopt(b compact.Boundary, nh llm.History, armed bool, out *Outcome) error {
	if err := a.cfg.Recorder.AppendCompaction(b); err != nil {
		return fmt.Errorf("record compaction: %w", err)
	}
	if err := a.cfg.Recorder.Sync(); err != nil {
		return err
	}
	a.histMu.Lock()
	a.hist = nh
	a.histMu.Unlock()
	// What reads showed before is gone, or in a summary at most: a read
	// must show it again.
	a.cfg.Env.ForgetShown(a.cfg.SessionID)
	n := len(b.Messages)
	a.cmp.ledger, a.cmp.covered = b.Ledger, n
	a.cmp.live, a.cmp.liveTo = b.Ledger, n
	a.cmp.seen = n
	a.cmp.armed, a.cmp.turn = armed, out.Turns
	a.cmp.last = b
	a.cmp.last.Messages = nil
	return nil
}

// summarize asks the model for the summary of h, a fork of the request
// that would send h, and returns it checked and capped. A reply that is
// no summary is asked for once more, strictly; the error says why there
// is none.
func (a *Agent) summarize(ctx context.Context, h llm.History, ledger compact.Ledger, focus string, out *Outcome) (string, error) {
	var last error
	for attempt := range 2 {
		prompt := llm.Message{Role: llm.RoleUser, Parts: []llm.Part{{Kind: llm.PartText, Text: compact.Prompt(ledger, focus, attempt > 0)}}}
		resp, err := a.forkRequest(ctx, h, prompt)
		if err != nil {
			return "", err
		}
		if err := a.account(out, resp.Usage); err != nil {
			return "", err
		}
		if len(resp.Message.ToolCalls()) > 0 {
			last = fmt.Errorf("%w: the model called a tool", compact.ErrNoSummary)
			continue
		}
		s, err := compact.Check(resp.Message.Text())
		if err != nil {
			last = err
			continue
		}
		return s, nil
	}
	return "", last
}

// forkRequest sends h and prompt, shrinking h first as far as it would
// not fit under the limit, and again as long as the provider finds it
// too long.
func (a *Agent) forkRequest(ctx context.Context, h llm.History, prompt llm.Message) (*llm.Response, error) {
	fork := h.Append(prompt)
	msgs := h.Messages()
	shrink := func() bool {
		shrunk, ok := compact.Shrink(msgs)
		if ok {
			msgs = shrunk
			fork = llm.NewHistory(append(shrunk[:len(shrunk):len(shrunk)], prompt)...)
		}
		return ok
	}
	if limit := a.contextLimit(); limit > 0 {
		for a.contextUsed(fork) > limit && shrink() {
		}
	}
	for attempt := 0; ; attempt++ {
		// The summary is not the answer: it streams to nobody.
		resp, err := a.cfg.Provider.Stream(ctx, a.request(fork), nil)
		if err == nil {
			return resp, nil
		}
		if !errors.Is(err, llm.ErrContextWindow) || attempt >= shrinkAttempts || !shrink() {
			return nil, fmt.Errorf("summary request: %w", err)
		}
	}
}

// observer is how the ledger reads the conversation.
func (a *Agent) observer() compact.Observer {
	return compact.Observer{
		Classify: a.classify,
		// The compacted conversation's own first message is no
		// request either, should its ledger be lost.
		Harness: func(text string) bool { return text == continuation || strings.HasPrefix(text, compact.Header) },
		Todo: func(name string, input json.RawMessage) (string, bool) {
			items, ok := todo.FromCall(name, input)
			if !ok {
				return "", false
			}
			return todo.Format(items), true
		},
	}
}

// classify reads a call as the pipeline prepares it: the files it
// writes and reads, named from the workspace when inside it, and the
// command it runs.
func (a *Agent) classify(call llm.Part) (compact.Facts, bool) {
	if a.cfg.Env == nil {
		return compact.Facts{}, false
	}
	p, _, ok := a.prepare(call)
	if !ok {
		return compact.Facts{}, false
	}
	return compact.Facts{Writes: a.relative(p.access.Writes), Reads: a.relative(p.access.Reads), Command: p.access.Command}, true
}

// relative names paths inside the workspace from its root.
func (a *Agent) relative(paths []string) []string {
	if len(paths) == 0 {
		return paths
	}
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = p
		if rel, err := filepath.Rel(a.cfg.Env.Dir, p); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			out[i] = rel
		}
	}
	return out
}
