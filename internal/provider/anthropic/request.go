package anthropic

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"iter"
	"strconv"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/provider/internal/freeform"
	"github.com/lathe-dev/lathe/internal/provider/internal/toolcall"
	"github.com/lathe-dev/lathe/internal/provider/internal/wire"
)

// The request body is written here rather than by the SDK's param types,
// whose marshalling of the whole conversation on every request made each
// turn cost time in proportion to the conversation. Each message is
// encoded once, without cache breakpoints, and kept; a request writes
// only its newest turns, splicing a breakpoint into the block that
// carries one, if any, and sends the older turns as the same bytes as
// before (see wire.Conversation). The bytes are those the SDK wrote, with
// "stream" first; TestBodyMatchesSDK checks this.
//
// Prompt-cache breakpoints, at most four as the API allows: explicit ones
// on the last tool and on the system prompt (which holds the instruction
// and memory files), which never change in a session; and the request's
// automatic one (a top-level cache_control), which the API puts on the
// last block, so that the next request reads everything up to here from
// the cache. The moving breakpoint is the automatic one so that no block
// of the conversation changes its bytes when the conversation grows: a
// marker that moved on would leave the block that held it different from
// what the previous request sent. The fourth slot is a bridge, see
// [bridge].

// emptySchema is the input schema of a tool defined without one.
var emptySchema = json.RawMessage(`{"type":"object","properties":{}}`)

// breakpoint returns the member that marks a prompt-cache breakpoint, as
// it is spliced into a block, for a cache entry that lives ttl ("" for
// the API's default).
func breakpoint(ttl string) string {
	if ttl == "" {
		return `"cache_control":{"type":"ephemeral"}`
	}
	return `"cache_control":{"ttl":` + strconv.Quote(ttl) + `,"type":"ephemeral"}`
}

// sentBlock is a content block encoded as JSON without a cache breakpoint.
// at is the offset in data of the member where a breakpoint goes
// (followed by a comma), or -1 for a block that cannot carry one.
type sentBlock struct {
	data   []byte
	at     int
	result bool
}

// message is an llm.Message encoded: its role on the wire and its blocks
// in order. A message may have no blocks.
type message struct {
	role   string
	blocks []sentBlock
}

// body writes the request body for req. It never modifies req, whose
// messages the caller keeps as its history.
func (p *Provider) body(req *llm.Request) (wire.Body, error) {
	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = p.maxTokens
	}
	if p.thinking > 0 && p.thinking >= maxTokens {
		return nil, fmt.Errorf("thinking budget %d must be less than max tokens %d", p.thinking, maxTokens)
	}
	tools, err := p.tools.Encode(req.Tools, p.encodeTools)
	if err != nil {
		return nil, err
	}

	conv, unlock := p.convs.Lock(req.History.ID())
	defer unlock()
	msgs, err := conv.Encode(req.History.Messages(), encodeMessage)
	if err != nil {
		return nil, err
	}
	turns := group(msgs, conv.Sealed())
	if conv.Sealed() > 0 && !userBeforeNewest(turns) {
		// A history that does not extend the last one (it replaces
		// turns) may want a breakpoint on a turn that was sealed
		// without one: start over.
		conv.Reset()
		if msgs, err = conv.Encode(req.History.Messages(), encodeMessage); err != nil {
			return nil, err
		}
		turns = group(msgs, 0)
	}
	mark := bridge(msgs, turns)
	// The bridge only ever sits on the user turn before the newest, so
	// the turns before that one will never carry one again: seal them.
	k := sealable(turns)
	for i, t := range turns[:k] {
		conv.Seal(turns[i+1].start, func(b []byte) []byte {
			return append(p.appendTurn(b, msgs, t, mark), ',')
		})
	}
	turns = turns[k:]

	head := append(make([]byte, 0, 64), `{"stream":true,"max_tokens":`...)
	head = strconv.AppendInt(head, int64(maxTokens), 10)
	size := 64 + len(req.Model) + 2*len(req.System)
	for _, t := range turns {
		for _, m := range msgs[t.start:t.end] {
			for _, b := range m.blocks {
				size += len(b.data) + 1
			}
		}
	}
	tail := make([]byte, 0, size+len(turns)*32+3*len(p.mark))
	if len(turns) > 0 {
		head = append(head, `,"messages":[`...)
		for i, t := range turns {
			if i > 0 {
				tail = append(tail, ',')
			}
			tail = p.appendTurn(tail, msgs, t, mark)
		}
		tail = append(tail, ']')
	}
	if req.Model != "" {
		tail = append(tail, `,"model":`...)
		tail = wire.AppendString(tail, req.Model)
	}
	// The automatic breakpoint.
	tail = append(tail, ","+p.mark...)
	if req.System != "" {
		// The system prompt never changes in a session: always a
		// breakpoint.
		tail = append(tail, `,"system":[{"text":`...)
		tail = wire.AppendString(tail, req.System)
		tail = append(tail, ","+p.mark+`,"type":"text"}]`...)
	}
	if p.thinking > 0 {
		tail = append(tail, `,"thinking":{"budget_tokens":`...)
		tail = strconv.AppendInt(tail, int64(p.thinking), 10)
		tail = append(tail, `,"type":"enabled"}`...)
	}
	tail = appendContextManagement(tail, req.CompactAt)
	body := conv.AppendPrefix(wire.Body{head})
	return append(body, tail, tools, closeBrace), nil
}

var closeBrace = []byte("}")

// appendTurn appends turn t, with a breakpoint on the block mark if it
// is one of t's.
func (p *Provider) appendTurn(b []byte, msgs []message, t turn, mark *sentBlock) []byte {
	b = append(b, `{"content":[`...)
	first := true
	for blk := range t.blocks(msgs) {
		if !first {
			b = append(b, ',')
		}
		first = false
		if blk == mark {
			b = append(b, blk.data[:blk.at]...)
			b = append(b, p.mark+","...)
			b = append(b, blk.data[blk.at:]...)
		} else {
			b = append(b, blk.data...)
		}
	}
	b = append(b, `],"role":`...)
	b = wire.AppendString(b, t.role)
	return append(b, '}')
}

// encodeTools encodes the tool definitions as the "tools" member of a
// body, after a comma, with a breakpoint on the last, as they never
// change in a session. A freeform tool, which the Messages API cannot
// offer, becomes a function taking {"input": text}; see package freeform.
func (p *Provider) encodeTools(defs []llm.ToolDef) ([]byte, error) {
	if len(defs) == 0 {
		return nil, nil
	}
	b := []byte(`,"tools":[`)
	for i, d := range defs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"input_schema":`...)
		var err error
		if b, err = wire.AppendRaw(b, inputSchema(d)); err != nil {
			return nil, fmt.Errorf("tool %s: schema: %w", d.Name, err)
		}
		b = append(b, `,"name":`...)
		b = wire.AppendString(b, d.Name)
		if d.Description != "" {
			b = append(b, `,"description":`...)
			b = wire.AppendString(b, d.Description)
		}
		if i == len(defs)-1 {
			b = append(b, ","+p.mark...)
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// inputSchema returns the schema d is offered with: the API requires one,
// and has no freeform tools.
func inputSchema(d llm.ToolDef) json.RawMessage {
	switch {
	case d.Grammar != "":
		return freeform.Schema(d)
	case len(d.Schema) == 0:
		return emptySchema
	}
	return d.Schema
}

// encodeMessage encodes the blocks of a message. Parts that cannot be sent
// (empty text, another provider's reasoning) have none.
func encodeMessage(m llm.Message) (message, error) {
	var out message
	switch m.Role {
	case llm.RoleUser:
		out.role = "user"
	case llm.RoleAssistant:
		out.role = "assistant"
	default:
		return message{}, fmt.Errorf("unknown role %q", m.Role)
	}
	for _, part := range m.Parts {
		var blk sentBlock
		var err error
		switch part.Kind {
		case llm.PartText:
			// The API rejects empty text blocks.
			if part.Text == "" {
				continue
			}
			blk = textBlock(part.Text)
		case llm.PartThinking:
			var ok bool
			if blk, ok, err = thinkingBlock(part); !ok && err == nil {
				continue
			}
		case llm.PartToolCall:
			blk, err = toolUseBlock(part)
		case llm.PartToolResult:
			blk = toolResultBlock(part)
		case llm.PartCompaction:
			var ok bool
			if blk, ok, err = compactionBlock(part); !ok && err == nil {
				continue
			}
		case llm.PartImage:
			blk = imageBlock(part)
		default:
			err = fmt.Errorf("unknown part kind %q", part.Kind)
		}
		if err != nil {
			return message{}, err
		}
		out.blocks = append(out.blocks, blk)
	}
	return out, nil
}

func textBlock(text string) sentBlock {
	b := append(make([]byte, 0, len(text)+32), `{"text":`...)
	b = wire.AppendString(b, text)
	b = append(b, ',')
	at := len(b)
	return sentBlock{data: append(b, `"type":"text"}`...), at: at}
}

// imageBlock sends an image inline, base64-encoded.
func imageBlock(part llm.Part) sentBlock {
	b := make([]byte, 0, base64.StdEncoding.EncodedLen(len(part.Data))+len(part.MediaType)+96)
	b = append(b, `{"source":{"data":"`...)
	b = base64.StdEncoding.AppendEncode(b, part.Data)
	b = append(b, `","media_type":`...)
	b = wire.AppendString(b, part.MediaType)
	b = append(b, `,"type":"base64"},`...)
	at := len(b)
	return sentBlock{data: append(b, `"type":"image"}`...), at: at}
}

func toolUseBlock(part llm.Part) (sentBlock, error) {
	input, err := toolcall.Object(part)
	if err != nil {
		return sentBlock{}, err
	}
	b := append(make([]byte, 0, len(part.CallID)+len(part.Name)+len(input)+64), `{"id":`...)
	b = wire.AppendString(b, part.CallID)
	b = append(b, `,"input":`...)
	b, err = wire.AppendRaw(b, input)
	if err != nil {
		return sentBlock{}, fmt.Errorf("tool call %s: input: %w", part.CallID, err)
	}
	b = append(b, `,"name":`...)
	b = wire.AppendString(b, part.Name)
	b = append(b, ',')
	at := len(b)
	return sentBlock{data: append(b, `"type":"tool_use"}`...), at: at}, nil
}

func toolResultBlock(part llm.Part) sentBlock {
	b := append(make([]byte, 0, len(part.CallID)+len(part.Text)+96), `{"tool_use_id":`...)
	b = wire.AppendString(b, part.CallID)
	if part.IsError {
		b = append(b, `,"is_error":true`...)
	}
	b = append(b, ',')
	at := len(b)
	if part.Text != "" {
		b = append(b, `"content":[{"text":`...)
		b = wire.AppendString(b, part.Text)
		b = append(b, `,"type":"text"}],`...)
	}
	return sentBlock{data: append(b, `"type":"tool_result"}`...), at: at, result: true}
}

// redacted is the Opaque form of a redacted thinking block.
type redacted struct {
	Type string `json:"type"`
	Data string `json:"data"`
}

// thinkingBlock returns the block that sends a thinking part back. Only
// parts this provider produced can be sent: the API verifies signatures,
// so reasoning from another provider, or without a signature, is dropped.
// Thinking blocks cannot carry a breakpoint.
func thinkingBlock(part llm.Part) (sentBlock, bool, error) {
	if part.Origin != Kind {
		return sentBlock{}, false, nil
	}
	if len(part.Opaque) > 0 {
		var r redacted
		if err := json.Unmarshal(part.Opaque, &r); err != nil || r.Data == "" {
			return sentBlock{}, false, fmt.Errorf("redacted thinking part has no data: %s", part.Opaque)
		}
		b := append(make([]byte, 0, len(r.Data)+48), `{"data":`...)
		b = wire.AppendString(b, r.Data)
		return sentBlock{data: append(b, `,"type":"redacted_thinking"}`...), at: -1}, true, nil
	}
	if part.Signature == "" {
		return sentBlock{}, false, nil
	}
	b := append(make([]byte, 0, len(part.Signature)+len(part.Text)+64), `{"signature":`...)
	b = wire.AppendString(b, part.Signature)
	b = append(b, `,"thinking":`...)
	b = wire.AppendString(b, part.Text)
	return sentBlock{data: append(b, `,"type":"thinking"}`...), at: -1}, true, nil
}

// turn is one message on the wire: the encoded messages msgs[start:end]
// (some possibly without blocks) merged, as the API wants consecutive
// messages of one role to be.
type turn struct {
	role       string
	start, end int
}

// group merges the messages from msgs[from] on into turns; those before
// are sealed, and the first after them starts a turn. Messages without
// blocks (an assistant turn whose only part was another provider's
// reasoning) are dropped, so that the messages around them may merge.
func group(msgs []message, from int) []turn {
	var out []turn
	for i := from; i < len(msgs); i++ {
		m := msgs[i]
		if len(m.blocks) == 0 {
			continue
		}
		if n := len(out); n > 0 && out[n-1].role == m.role {
			out[n-1].end = i + 1
		} else {
			out = append(out, turn{role: m.role, start: i, end: i + 1})
		}
	}
	return out
}

// blocks yields the blocks of t in the order they are sent: in a user
// turn the tool results come first, as the API requires, and the other
// blocks after them, each kind in its original order.
func (t turn) blocks(msgs []message) iter.Seq[*sentBlock] {
	return func(yield func(*sentBlock) bool) {
		for pass := range 2 {
			for _, m := range msgs[t.start:t.end] {
				for i := range m.blocks {
					b := &m.blocks[i]
					if t.role == "user" && b.result != (pass == 0) {
						continue
					}
					if !yield(b) {
						return
					}
				}
			}
			if t.role != "user" {
				return
			}
		}
	}
}

// bridgeAfter is how many blocks the newest turns may add before the
// request gets a bridge. The API looks back about 20 blocks from a
// breakpoint for an earlier cache entry; this leaves room to spare.
const bridgeAfter = 16

// bridge returns the block that gets an explicit breakpoint besides the
// last tool, the system prompt and the automatic one, or nil. The
// previous request wrote its cache entry at its last block, the last of
// the user turn before the newest. From the automatic breakpoint the API
// looks back only about 20 blocks for an earlier entry, and one turn of
// parallel tool calls can add more than that: then that block is marked
// again, so that this request reads what the previous one wrote. The
// mark lasts one request; the next one's automatic breakpoint is near
// enough to this one's. Thinking blocks cannot carry one, so the last
// block that can is used.
func bridge(msgs []message, turns []turn) *sentBlock {
	k := sealable(turns)
	if k >= len(turns)-1 || turns[k].role != "user" {
		return nil
	}
	added := 0
	for _, t := range turns[k+1:] {
		for range t.blocks(msgs) {
			added++
		}
	}
	if added < bridgeAfter {
		return nil
	}
	return lastMarkable(msgs, turns[k])
}

// userBeforeNewest reports whether a user turn comes before the newest
// turn, where the older breakpoint goes.
func userBeforeNewest(turns []turn) bool {
	for _, t := range turns[:max(len(turns)-1, 0)] {
		if t.role == "user" {
			return true
		}
	}
	return false
}

// sealable returns how many turns, from the first, come before the
// breakpoints: those before the user turn that precedes the newest, or
// before the newest if no user turn does.
func sealable(turns []turn) int {
	for i := len(turns) - 2; i >= 0; i-- {
		if turns[i].role == "user" {
			return i
		}
	}
	return max(len(turns)-1, 0)
}

func lastMarkable(msgs []message, t turn) *sentBlock {
	var last *sentBlock
	for b := range t.blocks(msgs) {
		if b.at >= 0 {
			last = b
		}
	}
	return last
}
