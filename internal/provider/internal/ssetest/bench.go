package ssetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/provider/internal/wire"
)

// ToolTurns returns a request after turns tool-calling turns like those
// of the bench's long session: each a Read call and a 120-line result of
// about 10 KiB.
func ToolTurns(turns int) *llm.Request {
	req := &llm.Request{
		Model:  "claude-sonnet-4-5",
		System: strings.Repeat("You are Lathe, a coding agent. ", 40),
	}
	for _, name := range []string{"Bash", "Read", "Edit", "Write", "Grep", "Glob"} {
		req.Tools = append(req.Tools, llm.ToolDef{Name: name, Description: strings.Repeat("Does things. ", 40),
			Schema: json.RawMessage(`{"type": "object", "properties": {"file_path": {"type": "string", "description": "The absolute path"}, "offset": {"type": "integer"}}, "required": ["file_path"]}`)})
	}
	msgs := []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Kind: llm.PartText, Text: "Fix the bug."}}}}
	for i := range turns {
		msgs = append(msgs, ToolTurn(i)...)
	}
	req.History = llm.NewHistory(msgs...)
	return req
}

// window is the result of each Read in ToolTurns.
var window = strings.Repeat(strings.Repeat("x", 24)+"\t// a line of Go code, with \"quotes\" & <tags>\n", 120)

// ToolTurn returns the two messages of turn i of ToolTurns.
func ToolTurn(i int) []llm.Message {
	id := fmt.Sprintf("toolu_%04d", i)
	return []llm.Message{
		{Role: llm.RoleAssistant, Parts: []llm.Part{
			{Kind: llm.PartText, Text: "Reading the next part of the file."},
			{Kind: llm.PartToolCall, CallID: id, Name: "Read", Input: json.RawMessage(fmt.Sprintf(`{"file_path":"/repo/big.go","offset":%d,"limit":120}`, i*120))},
		}},
		{Role: llm.RoleUser, Parts: []llm.Part{{Kind: llm.PartToolResult, CallID: id, Name: "Read", Text: window}}},
	}
}

// BenchBodies measures building one request's body after 50, 200 and 500
// turns of ToolTurns, with providers from newProvider. "cached" is body as
// the agent drives it: each request adds a turn to the history the last
// one sent. "two" does the same for two conversations taking turns on one
// provider, as a session and its subagent do, and reports the cost of one
// body. "fresh" builds the whole body with a new provider, as the first
// request of a resumed session does, and "sdk" is sdk, the SDK's params
// and marshalling that the adapters used before.
func BenchBodies[P any](b *testing.B, newProvider func() (P, error), body func(P, *llm.Request) (wire.Body, error), sdk func(P, *llm.Request) ([]byte, error)) {
	provider := func() P {
		p, err := newProvider()
		if err != nil {
			b.Fatal(err)
		}
		return p
	}
	for _, turns := range []int{50, 200, 500} {
		req := ToolTurns(turns)
		for _, convs := range []int{1, 2} {
			name := "cached"
			if convs == 2 {
				name = "two"
			}
			b.Run(fmt.Sprintf("%s/turns=%d", name, turns), func(b *testing.B) {
				p := provider()
				gs := make([]growing[P], convs)
				b.ReportAllocs()
				var sent wire.Body
				for i := 0; b.Loop(); i++ {
					sent = gs[i%convs].next(b, p, req, body)
				}
				b.ReportMetric(float64(sent.Len())/1024, "KiB/body")
			})
		}
		b.Run(fmt.Sprintf("fresh/turns=%d", turns), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := body(provider(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("sdk/turns=%d", turns), func(b *testing.B) {
			p := provider()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := sdk(p, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// regrow is how many turns a growing conversation adds before it starts
// again from the bench's history, so that the bench measures bodies of
// about the length it names (200 turns means 201 to 264) and its memory
// stays bounded.
const regrow = 64

// growing is a conversation of the bench that adds a turn per request.
type growing[P any] struct {
	turn  llm.Request
	added int
}

// next adds a turn to the conversation and returns the body of the
// request. The first request, and the first after every regrow turns, is
// made with the timer stopped: it copies the bench's history into a new
// lineage, which the provider has not seen, and encodes all of it.
func (g *growing[P]) next(b *testing.B, p P, req *llm.Request, body func(P, *llm.Request) (wire.Body, error)) wire.Body {
	if g.added%regrow == 0 {
		b.StopTimer()
		g.turn = *req
		g.turn.History = llm.NewHistory(req.History.Messages()...)
		if _, err := body(p, &g.turn); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	g.turn.History = g.turn.History.Append(ToolTurn(req.History.Len() + g.added)...)
	g.added++
	sent, err := body(p, &g.turn)
	if err != nil {
		b.Fatal(err)
	}
	return sent
}
