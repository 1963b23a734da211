package agent

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/lathe-dev/lathe/internal/compact"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
)

// Provider-native compaction ([CompactionConfig.Native]): the loop's
// requests ask the provider to compact the conversation itself once it
// reaches the trigger ([llm.Request.CompactAt]). A response that begins
// with the provider's compaction ends the conversation before it: the
// history is replaced by the messages from that response on, recorded
// as a boundary (reason native) like a local compaction, so that memory
// falls back and a resume sends the provider its compaction block
// rather than the whole log. A provider that answers such a request
// with a 400 or 404 has no native compaction for this model: the
// request is sent again without it, a warning says so once, and local
// compaction takes over for the rest of the session, subagents included
// ([CompactionConfig.NativeRejected]).

// native reports whether the loop's next request asks the provider to
// compact.
func (a *Agent) native() bool {
	c := a.cfg.Compaction
	return c.Native && !c.Off && !a.cmp.nativeOff && (c.NativeRejected == nil || !c.NativeRejected.Load())
}

// loopRequest is the request the loop sends for h: [Agent.request],
// asking for native compaction at the trigger where that is on. A
// summary request, a fork of it, never asks.
func (a *Agent) loopRequest(h llm.History) *llm.Request {
	req := a.request(h)
	if a.native() {
		req.CompactAt = a.compactionTrigger()
	}
	return req
}

// rejectsNative reports whether err is the provider's refusal of req's
// native compaction, and if so turns it off for the session and says so.
func (a *Agent) rejectsNative(req *llm.Request, err error) bool {
	if req.CompactAt == 0 || errors.Is(err, llm.ErrContextWindow) {
		return false
	}
	ae, ok := errors.AsType[*llm.APIError](err)
	if !ok || (ae.Status != http.StatusBadRequest && ae.Status != http.StatusNotFound) {
		return false
	}
	a.cmp.nativeOff = true
	if r := a.cfg.Compaction.NativeRejected; r == nil || r.CompareAndSwap(false, true) {
		a.emit(event.Event{Type: event.Warning, Text: "the provider rejected native compaction; compacting locally from now on", Error: err.Error()})
	}
	return true
}

// nativeCompacted replaces h, which ends with resp, the response just
// received, by what the provider reads of it when the response holds the
// provider's compaction: the messages from that response on. What the
// compaction cost, where the provider counts it apart, is accounted
// between the compaction's events, as a local compaction's summary
// request is.
func (a *Agent) nativeCompacted(h llm.History, resp *llm.Response, out *Outcome) (llm.History, error) {
	msgs := h.Messages()
	i := compact.NativeStart(msgs)
	if i <= 0 {
		return h, nil
	}
	before := a.contextUsed(h)
	a.emit(event.Event{Type: event.CompactionStart, Reason: compact.Native, TokensBefore: before})
	if cu := resp.CompactionUsage; cu != (llm.Usage{}) {
		if err := a.account(out, cu); err != nil {
			return h, err
		}
	}
	ledger := a.ledgerOf(msgs)
	kept := msgs[i:]
	nh := llm.NewHistory(kept...)
	// The response's usage counts the compacted conversation the
	// provider read, and the response.
	after := int(resp.Usage.TotalInput() + resp.Usage.Output)
	if after <= 0 {
		after = a.contextUsed(nh)
	}
	b := compact.Boundary{Messages: kept, Ledger: ledger, Reason: compact.Native, TokensBefore: before, TokensAfter: after}
	if err := a.adopt(b, nh, false, out); err != nil {
		return h, fmt.Errorf("native compaction: %w", err)
	}
	a.cmp.failures = 0
	a.emit(event.Event{Type: event.CompactionEnd, Reason: compact.Native, TokensBefore: before, TokensAfter: after})
	return nh, nil
}
