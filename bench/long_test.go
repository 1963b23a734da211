package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lathe-dev/lathe/internal/compact"
	"github.com/lathe-dev/lathe/internal/fakeapi"
)

// TestSummaryFitsCompact pins the bench to internal/compact: the router
// recognises its summary prompt, and the fake's summary passes its check
// whole.
func TestSummaryFitsCompact(t *testing.T) {
	if p := compact.Prompt(compact.Ledger{}, "", false); !strings.HasPrefix(p, summaryMarker) {
		t.Errorf("compact.Prompt begins %q, not with the bench's marker %q", p[:min(len(p), 60)], summaryMarker)
	}
	got, err := compact.Check(summaryText)
	if err != nil {
		t.Fatalf("compact.Check(summaryText): %v", err)
	}
	if got != strings.TrimSpace(summaryText) {
		t.Errorf("compact.Check cut the summary: %d of %d bytes kept", len(got), len(summaryText))
	}
}

func TestIsSummaryRequest(t *testing.T) {
	body := func(last string) []byte {
		msgs := []map[string]any{
			{"role": "user", "content": []map[string]any{{"type": "text", "text": longPrompt}}},
			{"role": "assistant", "content": []map[string]any{{"type": "text", "text": "ok"}}},
			{"role": "user", "content": []map[string]any{{"type": "text", "text": last}}},
		}
		b, _ := json.Marshal(map[string]any{"model": "m", "messages": msgs})
		return b
	}
	if !isSummaryRequest(body(compact.Prompt(compact.Ledger{}, "", false))) {
		t.Error("a request ending in the summary prompt is not a summary request")
	}
	if isSummaryRequest(body("go on")) {
		t.Error("a request ending in another user message is a summary request")
	}
}

// TestLongTask checks the long task's shape: every turn but the last calls
// a tool, windows are read again after their edits, the tests run long
// and short, and the script is valid.
func TestLongTask(t *testing.T) {
	const turns = 2 * longCycle
	s, err := longTask(filepath.Join(t.TempDir(), "repo"), turns)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Steps) != turns {
		t.Fatalf("%d steps, want %d", len(s.Steps), turns)
	}
	count := map[string]int{}
	reads := map[string]int{}
	for i, st := range s.Steps[:turns-1] {
		if len(st.Reply.ToolCalls) != 1 {
			t.Fatalf("step %d makes %d calls", i+1, len(st.Reply.ToolCalls))
		}
		c := st.Reply.ToolCalls[0]
		count[c.Name]++
		if c.Name == "Read" {
			reads[string(c.Input)]++
		}
		if c.Name == "Bash" && strings.Contains(string(c.Input), `"sh check.sh"`) {
			count["full tests"]++
		}
	}
	again := 0
	for _, n := range reads {
		if n > 1 {
			again++
		}
	}
	if count["Read"] != 8 || again != 4 || count["Edit"] != 4 || count["full tests"] != 2 || count["Bash"] != 3 {
		t.Errorf("calls %v, windows read more than once %d; want 8 reads of 4 windows, 4 edits, 2 full test runs and 1 short (the last turn answers)", count, again)
	}
	if txt := s.Steps[turns-1].Reply.Text; txt == "" || len(s.Steps[turns-1].Reply.ToolCalls) != 0 {
		t.Errorf("the last step does not answer: %+v", s.Steps[turns-1].Reply)
	}
}

// TestRouterMerge checks that the requests of the two servers come back
// in arrival order, stamped as the router saw them, and that the session
// request after a summary is known to start anew.
func TestRouterMerge(t *testing.T) {
	at := func(ms int) time.Time { return time.Unix(0, 0).Add(time.Duration(ms) * time.Millisecond) }
	r := &router{arrivals: []arrival{{at(1), false}, {at(2), false}, {at(3), true}, {at(4), false}}}
	loop := []fakeapi.Request{{Path: "l1"}, {Path: "l2"}, {Path: "l3"}}
	sum := []fakeapi.Request{{Path: "s1"}}
	all, kinds := r.merge(loop, sum)
	var got []string
	for i, q := range all {
		got = append(got, q.Path)
		if !q.Received.Equal(at(i + 1)) {
			t.Errorf("request %d received at %v, want the router's %v", i+1, q.Received, at(i+1))
		}
	}
	if strings.Join(got, " ") != "l1 l2 s1 l3" || kinds[2] != true || kinds[3] != false {
		t.Errorf("merged %v (summaries %v), want l1 l2 s1 l3 with s1 the summary", got, kinds)
	}
}
