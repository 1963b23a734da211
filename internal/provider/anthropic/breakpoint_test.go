package anthropic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/provider/internal/ssetest"
)

// wideTurn returns an assistant turn of n parallel Read calls and the user
// turn of their results: 2n blocks.
func wideTurn(turn, n int) []llm.Message {
	var calls, results []llm.Part
	for i := range n {
		id := fmt.Sprintf("toolu_w%02d_%02d", turn, i)
		calls = append(calls, llm.Part{Kind: llm.PartToolCall, CallID: id, Name: "Read", Input: json.RawMessage(`{"file_path":"/repo/f.go"}`)})
		results = append(results, llm.Part{Kind: llm.PartToolResult, CallID: id, Name: "Read", Text: "package f"})
	}
	return []llm.Message{{Role: llm.RoleAssistant, Parts: calls}, {Role: llm.RoleUser, Parts: results}}
}

// sentMessages returns the messages of a body as they were written.
func sentMessages(t *testing.T, body []byte) []json.RawMessage {
	t.Helper()
	var b struct {
		Messages []json.RawMessage `json:"messages"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	return b.Messages
}

// TestBreakpointsKeepMessageBytes checks the breakpoints of a growing
// conversation: the moving one is the automatic one, so every message a
// request sent is sent again byte for byte by the next, with no marker
// gained or lost; a turn wider than the API's lookback gets a bridge on
// the previous request's last block for that one request, and loses it on
// the next; no request has more than four breakpoints; and every body is
// the SDK's.
func TestBreakpointsKeepMessageBytes(t *testing.T) {
	for _, ttl := range []string{"", "1h"} {
		t.Run("ttl="+ttl, func(t *testing.T) {
			p, err := New(Options{APIKey: "unused", CacheTTL: ttl})
			if err != nil {
				t.Fatal(err)
			}
			req := ssetest.ToolTurns(0)
			var prev []json.RawMessage
			bridgedAt := -1 // the message of the previous request with the bridge
			for i := range 12 {
				turn := ssetest.ToolTurn(i)
				wide := i == 5
				if wide {
					turn = wideTurn(i, bridgeAfter/2)
				}
				req.History = req.History.Append(turn...)
				body, err := p.body(req)
				if err != nil {
					t.Fatal(err)
				}
				sent := body.Bytes()
				want, err := p.sdkBodyTTL(req, ttl)
				if err != nil {
					t.Fatal(err)
				}
				if want = append([]byte(`{"stream":true,`), want[1:]...); !bytes.Equal(sent, want) {
					t.Fatalf("turn %d: body differs from the SDK's\ngot  %.600s\nwant %.600s", i, sent, want)
				}
				if n := bytes.Count(sent, []byte(`"cache_control"`)); n > 4 {
					t.Fatalf("turn %d: %d breakpoints, the API allows 4", i, n)
				}
				if !bytes.Contains(sent, []byte(`"model":"claude-sonnet-4-5",`+p.mark+`,"system":`)) {
					t.Fatalf("turn %d: no automatic breakpoint %s before the system prompt:\n%.300s", i, p.mark, sent)
				}
				msgs := sentMessages(t, sent)
				if bytes.Contains(msgs[len(msgs)-1], []byte("cache_control")) {
					t.Errorf("turn %d: the newest message has an explicit breakpoint", i)
				}
				marked := 0
				for j, m := range msgs {
					if bytes.Contains(m, []byte("cache_control")) {
						marked++
						if !wide || j != len(msgs)-3 {
							t.Errorf("turn %d: message %d of %d has a breakpoint:\n%.300s", i, j, len(msgs), m)
						}
						if ttl != "" && !bytes.Contains(m, []byte(`"ttl":"1h"`)) {
							t.Errorf("turn %d: the bridge has not the ttl %s: %.300s", i, ttl, m)
						}
					}
				}
				if wide != (marked == 1) {
					t.Errorf("turn %d (wide %v): %d messages with a breakpoint", i, wide, marked)
				}
				for j := range prev {
					if j == bridgedAt || (wide && j == len(prev)-1) {
						continue // It loses or gains the bridge.
					}
					if !bytes.Equal(prev[j], msgs[j]) {
						t.Fatalf("turn %d: message %d changed its bytes:\nwas %.300s\nnow %.300s", i, j, prev[j], msgs[j])
					}
				}
				if bridgedAt >= 0 && strings.Contains(string(msgs[bridgedAt]), "cache_control") {
					t.Errorf("turn %d: the bridge of the wide turn stayed", i)
				}
				prev, bridgedAt = msgs, -1
				if wide {
					bridgedAt = len(msgs) - 3
				}
			}
		})
	}
}
