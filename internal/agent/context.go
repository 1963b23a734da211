package agent

import (
	"fmt"
	"sync"

	"github.com/lathe-dev/lathe/internal/llm"
)

// Context accounting: how much of the model's context window the
// conversation fills.
//
// The provider's own count is the ground truth, so the figure starts from
// what the last response reported: its input (cache reads and writes
// included) and its output, which together cover the conversation up to
// and including that response. Only what was appended since is estimated,
// at bytes/3, which overstates JSON-heavy tool output rather than
// understating it: a harness that underestimates overflows the window.
// A conversation the provider never counted (a resumed transcript, a
// replaced history, a provider that reports no usage) is estimated whole,
// system prompt and tool definitions included.

// bytesPerToken is the conservative estimate of how many bytes of text
// make one token: code and JSON run at about 3–4 bytes a token in the
// current tokenizers, so 3 errs towards too many tokens.
const bytesPerToken = 3

// partOverhead is what each part costs on the wire beyond its text:
// the JSON keys, the call id and the type tags of the provider's format.
const partOverhead = 24

// contextBase is the provider's count of the conversation after the last
// response: tokens covers the first n messages of the snapshot lineage
// names.
type contextBase struct {
	lineage uint64
	n       int
	tokens  int
}

// contextState is the agent's context accounting. Its methods may be
// called from any goroutine.
type contextState struct {
	mu   sync.Mutex
	base contextBase
	// shown is the highest status threshold (percent) already told to the
	// model; see [Agent.contextStatusLine].
	shown int
}

// noteContext records the provider's count after a response: u is the
// response's usage and h the conversation with the response appended.
// A response that reports no input usage leaves nothing to build on.
func (a *Agent) noteContext(h llm.History, u llm.Usage) {
	a.acct.mu.Lock()
	defer a.acct.mu.Unlock()
	if u.TotalInput() <= 0 {
		a.acct.base = contextBase{}
		return
	}
	a.acct.base = contextBase{lineage: h.ID(), n: h.Len(), tokens: int(u.TotalInput() + u.Output)}
}

// contextUsed returns how many tokens of the context window a request
// sending h would fill, before the model's response.
func (a *Agent) contextUsed(h llm.History) int {
	a.acct.mu.Lock()
	b := a.acct.base
	a.acct.mu.Unlock()
	msgs := h.Messages()
	// The same lineage at least as long begins with the messages counted.
	if b.lineage != 0 && h.ID() == b.lineage && len(msgs) >= b.n {
		return b.tokens + estimateTokens(messageBytes(msgs[b.n:]))
	}
	return estimateTokens(a.prefixBytes() + messageBytes(msgs))
}

// ContextStatus reports how many tokens the conversation fills now and
// the model's context window (0 when unknown). It may be called from any
// goroutine, during a run too.
func (a *Agent) ContextStatus() (used, window int) {
	return a.contextUsed(a.History()), a.cfg.Window
}

// prefixBytes is the size of what every request sends before the
// conversation: the system prompt and the tool definitions.
func (a *Agent) prefixBytes() int {
	n := len(a.cfg.System)
	for _, d := range a.set.Load().defs {
		n += partOverhead + len(d.Name) + len(d.Description) + len(d.Schema) + len(d.Grammar)
	}
	return n
}

func messageBytes(msgs []llm.Message) int {
	n := 0
	for _, m := range msgs {
		n += partsBytes(m.Parts)
	}
	return n
}

func partsBytes(parts []llm.Part) int {
	n := 0
	for _, p := range parts {
		n += partOverhead + len(p.Text) + len(p.CallID) + len(p.Name) + len(p.Input) + len(p.Signature) + len(p.Opaque)
		// An image costs by its size in pixels, not its bytes.
		if p.Kind == llm.PartImage {
			n += p.ImageTokens() * bytesPerToken
		}
	}
	return n
}

func estimateTokens(bytes int) int {
	return (bytes + bytesPerToken - 1) / bytesPerToken
}

// contextThresholds are the shares of the window (percent) at which the
// model is told how full its context is.
var contextThresholds = [...]int{50, 70, 85}

// contextStatusLine returns the line that tells the model how full its
// context is once used tokens cross a threshold it has not been told
// about, and where compaction starts, and "" otherwise or when the window
// is unknown. A context that shrinks below a threshold (compaction)
// re-arms it.
func (a *Agent) contextStatusLine(used int) string {
	w := a.cfg.Window
	if w <= 0 {
		return ""
	}
	pct := int(int64(used) * 100 / int64(w))
	reached := 0
	for _, t := range contextThresholds {
		if pct >= t {
			reached = t
		}
	}
	a.acct.mu.Lock()
	defer a.acct.mu.Unlock()
	if reached <= a.acct.shown {
		a.acct.shown = reached
		return ""
	}
	a.acct.shown = reached
	line := fmt.Sprintf("context %d %% used (%s of %s)", pct, tokenCount(used), tokenCount(w))
	// Where compaction will start tells the model how much room is left
	// to finish a step before its context is summarised.
	if t := a.compactionTrigger(); t > 0 && !a.cfg.Compaction.Off {
		line += fmt.Sprintf("; compaction at %d %%", int(int64(t)*100/int64(w)))
	}
	return line
}

// addContextStatus appends the context status line, when there is one to
// give, to the end of the newest result of results, which are about to
// be appended to the conversation. At the end of the newest message it
// never changes a prefix the provider has cached.
func (a *Agent) addContextStatus(results []llm.Part) {
	if len(results) == 0 || a.cfg.Window <= 0 {
		return
	}
	used := a.contextUsed(a.History()) + estimateTokens(partsBytes(results))
	if line := a.contextStatusLine(used); line != "" {
		r := &results[len(results)-1]
		r.Text += "\n\n[" + line + "]"
	}
}

// tokenCount writes n tokens as the model reads them best: exact below
// 10k, else in thousands.
func tokenCount(n int) string {
	if n < 10_000 {
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("%dk", n/1000)
}
