package ssetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/provider/internal/wire"
)

// awkward are pieces of text that JSON encoders treat specially: quotes,
// escapes, control characters, HTML, line separators, invalid UTF-8.
var awkward = []string{
	"plain", " ", "\"quoted\"", `back\slash`, "line\nbreak", "crlf\r\n", "\ttab", "\b\f\x01\x1f\x7f",
	"<b>&amp;</b>", "é ü 漢字 🙂", "\u2028\u2029", "\xff\xfe bad \xc3", "{\"json\": [1, 2]}", "",
}

// Text returns random text made of awkward pieces.
func Text(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(4) {
		b.WriteString(awkward[r.IntN(len(awkward))])
	}
	return b.String()
}

// Conversation returns a random request: any mix of roles and parts, tool
// definitions of every kind, and awkward text throughout, including parts
// that an adapter must drop or refuse. It is for comparing two ways of
// building a provider's request, not for sending.
func Conversation(r *rand.Rand, msgs int) *llm.Request {
	req := &llm.Request{MaxTokens: r.IntN(3) * 4096, CacheKey: []string{"", "session-1"}[r.IntN(2)]}
	if r.IntN(4) > 0 {
		req.Model = "model-" + Text(r)
	}
	if r.IntN(4) > 0 {
		req.System = Text(r)
	}
	for i := range r.IntN(4) {
		d := llm.ToolDef{Name: fmt.Sprintf("tool%d", i), Description: Text(r)}
		switch r.IntN(4) {
		case 0:
			d.Grammar = "start: " + Text(r)
		case 1:
		default:
			d.Schema = json.RawMessage(fmt.Sprintf(` { "type": "object", "properties": { "x": {"type": "string", "description": %s} }, "required": ["x"] } `, quote(Text(r))))
		}
		req.Tools = append(req.Tools, d)
	}
	var ms []llm.Message
	for range msgs {
		ms = append(ms, Message(r))
	}
	req.History = llm.NewHistory(ms...)
	return req
}

// Message returns a random message, mostly well formed.
func Message(r *rand.Rand) llm.Message {
	m := llm.Message{Role: llm.RoleUser}
	switch n := r.IntN(100); {
	case n == 0:
		m.Role = "system" // no such role
	case n <= 50:
		m.Role = llm.RoleAssistant
	}
	for range r.IntN(5) {
		m.Parts = append(m.Parts, part(r, m.Role))
	}
	return m
}

func part(r *rand.Rand, role llm.Role) llm.Part {
	origin := []string{"anthropic", "openai", "openai-chat"}[r.IntN(3)]
	id := fmt.Sprintf("call_%d", r.IntN(1000))
	// Now and then a part that does not belong in a message of this role.
	if r.IntN(20) == 0 {
		if role == llm.RoleUser {
			role = llm.RoleAssistant
		} else {
			role = llm.RoleUser
		}
	}
	if role == llm.RoleUser {
		switch r.IntN(9) {
		case 0, 1, 2:
			return llm.Part{Kind: llm.PartText, Text: Text(r)}
		case 3:
			return Image(r)
		}
		return llm.Part{Kind: llm.PartToolResult, CallID: id, Name: "tool0", Text: Text(r), IsError: r.IntN(3) == 0, Freeform: r.IntN(4) == 0}
	}
	switch r.IntN(4) {
	case 0:
		return llm.Part{Kind: llm.PartText, Text: Text(r)}
	case 1:
		p := llm.Part{Kind: llm.PartThinking, Text: Text(r), Origin: origin}
		switch r.IntN(3) {
		case 0:
			p.Signature = "sig" + Text(r)
		case 1:
			if origin == "anthropic" {
				p.Opaque, _ = json.Marshal(map[string]string{"type": "redacted_thinking", "data": "data" + Text(r)})
			} else {
				p.Opaque, _ = json.Marshal(map[string]any{"type": "reasoning", "id": "rs_1", "encrypted_content": Text(r), "summary": []any{}})
			}
		}
		return p
	}
	p := llm.Part{Kind: llm.PartToolCall, CallID: id, Name: "tool0"}
	switch n := r.IntN(40); {
	case n == 0:
		p.Input = json.RawMessage(`{"x": 1`) // not JSON
	case n == 1:
		p.Input, p.Freeform = json.RawMessage(`{"x": 1}`), true // freeform input that is not a string
	case n < 12:
		p.Input, _ = json.Marshal(Text(r))
		p.Freeform = true
	case n < 22:
	default:
		p.Input = json.RawMessage(fmt.Sprintf(` {"x": %s,  "n": [1, 2.50, -3e2]} `, quote(Text(r))))
	}
	return p
}

// Image returns an image part of a few random bytes after a PNG
// signature: the adapters send the bytes they are given.
func Image(r *rand.Rand) llm.Part {
	data := []byte("\x89PNG\r\n\x1a\n")
	for range r.IntN(40) {
		data = append(data, byte(r.IntN(256)))
	}
	mt := llm.ImageTypes[r.IntN(len(llm.ImageTypes))]
	return llm.Part{Kind: llm.PartImage, Text: "shot.png", MediaType: mt, Data: data, Width: 1 + r.IntN(2000), Height: 1 + r.IntN(2000)}
}

func quote(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// MatchSDK checks that body writes the request bodies that sdk, the
// marshalling of the SDK's params for the whole request, does, on random
// conversations from seeds: byte for byte when exact, else member for
// member, each byte for byte, in any order. The SDK adds "stream":true
// itself; it is expected first. Each conversation is sent as the agent
// sends it, one lineage growing a message at a time, so that body sees the
// same history again and again; then as histories that leave it, and a
// new conversation replaces it.
func MatchSDK(t *testing.T, seeds int, exact bool, body func(*llm.Request) (wire.Body, error), sdk func(*llm.Request) ([]byte, error)) {
	t.Helper()
	for seed := range seeds {
		r := rand.New(rand.NewPCG(uint64(seed), 1))
		req := Conversation(r, 1+r.IntN(12))
		check := func(what string, h llm.History) {
			t.Helper()
			turn := *req
			turn.History = h
			checkBody(t, fmt.Sprintf("seed %d, %s of %d messages", seed, what, h.Len()), exact, &turn, body, sdk)
		}
		snaps := Snapshots(req.History)
		for _, h := range snaps {
			check("history", h)
		}
		// Then histories that leave it: a branch from an older snapshot
		// that keeps its first k messages and goes on differently, sent a
		// message at a time or all at once; a replacement that keeps them
		// too; and an older snapshot sent again.
		k := r.IntN(len(snaps))
		var fork llm.History
		if k > 0 {
			fork = snaps[k-1]
		}
		step := r.IntN(2) == 0
		for range 1 + r.IntN(4) {
			fork = fork.Append(Message(r))
			if step {
				check("fork", fork)
			}
		}
		check("fork", fork)
		check("replaced", llm.NewHistory(append(slices.Clone(fork.Messages()), Message(r))...))
		check("cut", snaps[k])
	}
}

// checkBody checks that body writes for req what sdk does, as
// [MatchSDK] says; what names req in a failure.
func checkBody(t *testing.T, what string, exact bool, req *llm.Request, body func(*llm.Request) (wire.Body, error), sdk func(*llm.Request) ([]byte, error)) {
	t.Helper()
	sent, err := body(req)
	want, wantErr := sdk(req)
	if err != nil || wantErr != nil {
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("%s: error %v, SDK error %v", what, err, wantErr)
		}
		return
	}
	got := sent.Bytes()
	want = append([]byte(`{"stream":true,`), want[1:]...)
	if !exact {
		if got, err = sortMembers(got); err != nil {
			t.Fatalf("%s: body is not a JSON object: %v", what, err)
		}
		want, _ = sortMembers(want)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: body differs from the SDK's\ngot  %s\nwant %s", what, got, want)
	}
}

// MatchConversations checks, as [MatchSDK] does, the bodies of
// conversations that share one provider: two that grow in turns, as a
// session and its subagent do, each sent a turn at a time; then one
// replaced by a history with an edited message, made of the very values
// the caller edited in place, and sent again. A cache that trusted
// message identity across histories would send the replaced message as
// it was before the edit.
func MatchConversations(t *testing.T, exact bool, body func(*llm.Request) (wire.Body, error), sdk func(*llm.Request) ([]byte, error)) {
	t.Helper()
	base := ToolTurns(0)
	var convs [2]llm.Request
	var sent [2][]llm.Message
	for i := range convs {
		convs[i] = *base
		first := llm.Message{Role: llm.RoleUser, Parts: []llm.Part{{Kind: llm.PartText, Text: fmt.Sprintf("conversation %d", i)}}}
		sent[i] = []llm.Message{first}
		convs[i].History = llm.NewHistory(first)
	}
	for turn := range 12 {
		for i := range convs {
			msgs := ToolTurn(100*i + turn)
			sent[i] = append(sent[i], msgs...)
			convs[i].History = convs[i].History.Append(msgs...)
			checkBody(t, fmt.Sprintf("conversation %d, turn %d", i, turn), exact, &convs[i], body, sdk)
		}
	}
	// The caller edits, in place, a message it appended: the history it
	// was appended to is unchanged, and a replacement history made of
	// the edited values is sent as edited.
	edited := sent[0][3].Parts
	edited[0].Text = "an edited result"
	checkBody(t, "conversation 0 after an in-place edit", exact, &convs[0], body, sdk)
	replaced := convs[0]
	replaced.History = llm.NewHistory(sent[0]...)
	got, err := body(&replaced)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got.Bytes(), []byte("an edited result")) {
		t.Fatalf("the replaced history was sent without its edit:\n%s", got.Bytes())
	}
	checkBody(t, "conversation 0 replaced", exact, &replaced, body, sdk)
	replaced.History = replaced.History.Append(ToolTurn(50)...)
	checkBody(t, "conversation 0 replaced, a turn on", exact, &replaced, body, sdk)
	checkBody(t, "conversation 1 after the replacement", exact, &convs[1], body, sdk)
}

// Snapshots returns the snapshots of one new lineage holding the first 1,
// 2, … messages of h: the histories an agent sends as its conversation
// grows.
func Snapshots(h llm.History) []llm.History {
	var s llm.History
	out := make([]llm.History, 0, h.Len())
	for _, m := range h.Messages() {
		s = s.Append(m)
		out = append(out, s)
	}
	return out
}

// Concat returns what params makes of each of msgs, in order: how the
// adapters built a whole conversation's SDK params, before they encoded
// each message once, and the reference for [MatchSDK] still does.
func Concat[S ~[]T, T any](msgs []llm.Message, params func(llm.Message) (S, error)) (S, error) {
	var out S
	for i, m := range msgs {
		items, err := params(m)
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		out = append(out, items...)
	}
	return out, nil
}

// sortMembers returns the JSON object obj with its members sorted by key
// and each value as it was written.
func sortMembers(obj []byte) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "%q:%s\n", k, m[k])
	}
	return b.Bytes(), nil
}
