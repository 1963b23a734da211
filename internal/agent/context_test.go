package agent

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
)

func textMessage(role llm.Role, text string) llm.Message {
	return llm.Message{Role: role, Parts: []llm.Part{{Kind: llm.PartText, Text: text}}}
}

// The provider's count of the last request and response is the base; only
// what was appended since is estimated.
func TestContextUsedBuildsOnReportedUsage(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo hi"}}],
	             "usage": {"input_tokens": 1000, "cache_read_input_tokens": 5000, "cache_creation_input_tokens": 200, "output_tokens": 50}}},
	  {"reply": {"text": "done", "usage": {"input_tokens": 300, "cache_read_input_tokens": 6400, "output_tokens": 7}}}]}`)
	a := New(h.cfg)
	if o := a.Send(context.Background(), "go"); o.Kind != event.Success {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
	h.check()
	hist := a.History()
	if got, want := a.contextUsed(hist), 300+6400+7; got != want {
		t.Errorf("after the run: used = %d, want the last response's usage %d", got, want)
	}
	text := strings.Repeat("x", 300)
	next := hist.Append(textMessage(llm.RoleUser, text))
	if got, want := a.contextUsed(next), 6707+(len(text)+partOverhead+2)/3; got != want {
		t.Errorf("with a message appended: used = %d, want %d (base + bytes/3)", got, want)
	}
	// A history of another lineage was never counted: estimated whole.
	other := llm.NewHistory(textMessage(llm.RoleUser, text))
	if got, want := a.contextUsed(other), estimateTokens(a.prefixBytes()+len(text)+partOverhead); got != want {
		t.Errorf("other lineage: used = %d, want the whole estimate %d", got, want)
	}
	// A shorter snapshot of the same lineage is not covered by the count.
	short := llm.NewHistory(hist.Messages()[:1]...)
	if got := a.contextUsed(short); got >= 6707 {
		t.Errorf("a one-message history: used = %d, want an estimate far below the base", got)
	}
}

// After Replace (compaction) the old count no longer applies.
func TestContextUsedAfterReplace(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"text": "done", "usage": {"input_tokens": 90000, "output_tokens": 10}}}]}`)
	h.cfg.Window = 100_000
	a := New(h.cfg)
	if o := a.Send(context.Background(), "go"); o.Kind != event.Success {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
	if used, window := a.ContextStatus(); used != 90010 || window != 100_000 {
		t.Fatalf("ContextStatus = %d, %d; want 90010, 100000", used, window)
	}
	summary := llm.NewHistory(textMessage(llm.RoleUser, "summary of the work so far"))
	if err := a.Replace(context.Background(), summary); err != nil {
		t.Fatal(err)
	}
	used, _ := a.ContextStatus()
	if want := estimateTokens(a.prefixBytes() + messageBytes(summary.Messages())); used != want {
		t.Errorf("after Replace: used = %d, want the estimate of the new history %d", used, want)
	}
}

// A provider that reports no usage leaves the estimate, never zero.
func TestContextUsedWithoutUsage(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"text": "done", "usage": {"input_tokens": 0, "output_tokens": 0}}}]}`)
	a := New(h.cfg)
	if o := a.Send(context.Background(), "go"); o.Kind != event.Success {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
	hist := a.History()
	if got, want := a.contextUsed(hist), estimateTokens(a.prefixBytes()+messageBytes(hist.Messages())); got != want || got == 0 {
		t.Errorf("used = %d, want the whole estimate %d", got, want)
	}
}

// ContextStatus may be called while a run goes on (the race detector
// checks it).
func TestContextStatusDuringRun(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo hi"}}]}},
	  {"reply": {"text": "done"}}]}`)
	h.cfg.Window = 200_000
	a := New(h.cfg)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				if _, w := a.ContextStatus(); w != 200_000 {
					t.Errorf("window = %d", w)
					return
				}
			}
		}
	})
	o := a.Send(context.Background(), "go")
	close(stop)
	wg.Wait()
	if o.Kind != event.Success {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
	if used, _ := a.ContextStatus(); used <= 0 {
		t.Errorf("used = %d after a run", used)
	}
}

func TestContextStatusLine(t *testing.T) {
	a := New(Config{Window: 1000, Compaction: CompactionConfig{Off: true}})
	for _, step := range []struct {
		used int
		want string
	}{
		{400, ""},
		{500, "context 50 % used (500 of 1000)"},
		{690, ""},
		{710, "context 71 % used (710 of 1000)"},
		{900, "context 90 % used (900 of 1000)"},
		{950, ""},
		// Compaction shrank the context: the thresholds re-arm.
		{300, ""},
		{860, "context 86 % used (860 of 1000)"},
		{600, ""},
		{700, "context 70 % used (700 of 1000)"},
	} {
		if got := a.contextStatusLine(step.used); got != step.want {
			t.Errorf("used %d: line %q, want %q", step.used, got, step.want)
		}
	}
	if got := New(Config{}).contextStatusLine(10_000); got != "" {
		t.Errorf("unknown window: line %q, want none", got)
	}
	// With compaction on, the line says where it starts.
	big := New(Config{Window: 200_000})
	if got, want := big.contextStatusLine(142_600), "context 71 % used (142k of 200k); compaction at 84 %"; got != want {
		t.Errorf("line %q, want %q", got, want)
	}
	budget := New(Config{Window: 200_000, Compaction: CompactionConfig{Budget: 120_000}})
	if got, want := budget.contextStatusLine(101_000), "context 50 % used (101k of 200k); compaction at 60 %"; got != want {
		t.Errorf("with a budget: line %q, want %q", got, want)
	}
}

// The status line goes at the end of the newest tool result, once per
// threshold crossed, and is what the transcript keeps.
func TestContextStatusAppendedToNewestResult(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo one"}}, {"name": "Bash", "input": {"command": "echo two"}}],
	             "usage": {"input_tokens": 6000, "output_tokens": 100}}},
	  {"expect": {"tool_results": [
	     {"call": 0, "not_contains": ["context"]},
	     {"call": 1, "contains": ["[context 61 % used (61"]}]},
	   "reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo three"}}],
	             "usage": {"input_tokens": 6500, "output_tokens": 100}}},
	  {"expect": {"tool_results": [{"call": 0, "not_contains": ["context"]}]},
	   "reply": {"text": "done"}}]}`)
	h.cfg.Window = 10_000
	if o := h.run(context.Background(), "go"); o.Kind != event.Success {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
	h.check()
	var results []string
	for _, m := range h.transcript().Messages {
		for _, p := range m.Parts {
			if p.Kind == llm.PartToolResult {
				results = append(results, p.Text)
			}
		}
	}
	if len(results) != 3 || !strings.HasPrefix(results[1], "two\n\n[context 61 % used (61") ||
		// The trigger leaves room for the summary prompt, whose size
		// varies with the ledger: about 80 %.
		!regexp.MustCompile(` of 10k\); compaction at (79|80) %\]$`).MatchString(results[1]) ||
		strings.Contains(results[0], "context") || strings.Contains(results[2], "context") {
		t.Errorf("recorded results = %q; want the status line at the end of the second only", results)
	}
}

// BenchmarkContextStatus measures the per-step cost of the accounting for
// a long conversation: with the provider's count to build on (the common
// case) and estimated whole (a resumed session's first step).
func BenchmarkContextStatus(b *testing.B) {
	var msgs []llm.Message
	for i := range 1000 {
		msgs = append(msgs, textMessage(llm.RoleUser, strings.Repeat("x", 2000+i)))
	}
	hist := llm.NewHistory(msgs...)
	results := []llm.Part{{Kind: llm.PartToolResult, CallID: "toolu_1", Name: "Bash", Text: strings.Repeat("y", 4000)}}
	b.Run("counted", func(b *testing.B) {
		a := New(Config{Window: 200_000_000})
		a.hist = hist
		a.noteContext(hist, llm.Usage{Input: 100, CacheRead: 700_000, Output: 100})
		for b.Loop() {
			a.addContextStatus(slices.Clone(results))
		}
	})
	b.Run("estimated", func(b *testing.B) {
		a := New(Config{Window: 200_000_000})
		a.hist = hist
		for b.Loop() {
			a.addContextStatus(slices.Clone(results))
		}
	})
}

// A resumed conversation builds on the provider's count from its
// transcript, for the messages that count covers; a count that claims
// more messages than the history has is not believed.
func TestContextUsedAfterResume(t *testing.T) {
	msgs := []llm.Message{
		textMessage(llm.RoleUser, "go"),
		textMessage(llm.RoleAssistant, "done"),
		textMessage(llm.RoleUser, "and now the tests, please"),
	}
	for _, tt := range []struct {
		name            string
		tokens, counted int
		seeded          bool
	}{
		{"counted", 50_000, 2, true},
		{"nothing counted", 0, 0, false},
		{"more than the history", 50_000, 4, false},
	} {
		h := newHarness(t, `{"steps": []}`)
		h.cfg.History = llm.NewHistory(msgs...)
		h.cfg.HistoryTokens, h.cfg.HistoryCounted = tt.tokens, tt.counted
		a := New(h.cfg)
		used, _ := a.ContextStatus()
		want := estimateTokens(a.prefixBytes() + messageBytes(msgs))
		if tt.seeded {
			want = 50_000 + estimateTokens(messageBytes(msgs[2:]))
		}
		if used != want {
			t.Errorf("%s: used = %d, want %d", tt.name, used, want)
		}
	}
}
