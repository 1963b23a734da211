// Package wire helps the adapters build request bodies that cost the same
// whatever the length of the conversation.
//
// Within a session the conversation only grows: each request repeats the
// previous one and adds a message or two. [Conversation] keeps what was
// encoded for the messages already sent, so that a request encodes only
// what is new and sends the rest as the same bytes again, without copying
// them; [Tools] does the same for the tool definitions, which never
// change in a session. The adapters write the rest of a body with the
// helpers here, and send the [Body] in pieces through their SDK, which
// still does everything else: the HTTP exchange, errors and parsing the
// streamed response.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/lathe-dev/lathe/internal/llm"
)

// Conversation remembers the encoded messages of the conversation it was
// last given, so that a request encodes only the messages that are new.
//
// Each message's encoding E is kept by position, until the adapter seals
// it: appends what it sends for the message to the sealed prefix, the
// bytes that begin the conversation in every later request, and which are
// sent from here as they are. Sealing releases E.
//
// A message counts as seen before when it is the same message: the same
// role and the same Parts, by identity (the same backing array and
// length), so that comparing costs nothing however long the message is.
// This relies on the caller's history being append-only, as the agent's
// is: a message, once sent, is never modified in place. Another history,
// one that replaces the newest turn or one from another session or
// resumed from disk, is encoded afresh from the first message that
// differs, or from the start of the sealed unit (a call to
// [Conversation.Seal]) that holds it.
//
// The history an adapter is given is an [llm.History], whose messages
// never change once appended; the adapters keep a Conversation per
// history lineage ([Conversations]), so that conversations alternating
// on one adapter do not re-encode each other.
//
// A Conversation is not safe for concurrent use; [Conversations] locks
// each one.
type Conversation[E any] struct {
	// KeepNext is set by an adapter whose encoding of a sealed unit
	// depends on the message after it (Anthropic's, which merges
	// consecutive messages of one role): a unit then stays sealed only
	// while the message after it is unchanged too.
	KeepNext bool

	ids  []identity
	encs []E
	// sealed counts the messages whose encoding is in prefix, in chunks
	// that are only appended to, never changed, so that earlier bodies
	// holding them stay intact.
	sealed int
	prefix [][]byte
	// bounds records where each sealed unit ends.
	bounds []bound
}

type identity struct {
	role  llm.Role
	parts *llm.Part
	n     int
}

func identify(m *llm.Message) identity {
	return identity{role: m.Role, parts: unsafe.SliceData(m.Parts), n: len(m.Parts)}
}

// bound is the state of a sealed prefix after a call to Seal: msgs
// messages sealed in chunks chunks, the last of them last bytes long.
type bound struct{ msgs, chunks, last int }

// chunkSize is the size of a new chunk of a sealed prefix: large enough
// that a body has few pieces, small enough that growing one copies little.
const chunkSize = 64 << 10

// Encode returns the encodings of msgs, in order, calling enc only for the
// messages it has not encoded before. An error from enc is returned with
// the message's index. Only the encodings from [Conversation.Sealed] on
// are valid: those of sealed messages have been released. The slice
// returned is valid until the next call.
func (c *Conversation[E]) Encode(msgs []llm.Message, enc func(llm.Message) (E, error)) ([]E, error) {
	i := 0
	for i < len(msgs) && i < len(c.ids) && c.ids[i] == identify(&msgs[i]) {
		i++
	}
	switch {
	case i < c.sealed || (c.KeepNext && i == c.sealed && i > 0):
		c.unseal(i)
		i = c.sealed
	case i < len(msgs) && i < len(c.ids):
		c.truncate(i)
	}
	for ; i < len(msgs); i++ {
		e, err := enc(msgs[i])
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		c.ids = append(c.ids, identify(&msgs[i]))
		c.encs = append(c.encs, e)
	}
	return c.encs[:len(msgs):len(msgs)], nil
}

// unseal cuts the sealed prefix back to the last unit that ends at or
// before message i (before it, with KeepNext). The messages after it
// have no encodings left, so they are forgotten.
func (c *Conversation[E]) unseal(i int) {
	if c.KeepNext {
		i--
	}
	j := len(c.bounds)
	for j > 0 && c.bounds[j-1].msgs > i {
		j--
	}
	c.bounds = c.bounds[:j]
	if j == 0 {
		c.sealed, c.prefix = 0, nil
	} else {
		b := c.bounds[j-1]
		clear(c.prefix[b.chunks:])
		c.sealed, c.prefix = b.msgs, c.prefix[:b.chunks]
		// Clipped, so that sealing more copies the chunk rather than
		// overwrite what earlier bodies hold.
		c.prefix[b.chunks-1] = c.prefix[b.chunks-1][:b.last:b.last]
	}
	c.truncate(c.sealed)
}

// Reset forgets everything, for an adapter that finds its sealed prefix
// no longer fits the history.
func (c *Conversation[E]) Reset() {
	c.sealed, c.prefix, c.bounds = 0, nil, nil
	c.truncate(0)
}

func (c *Conversation[E]) truncate(n int) {
	clear(c.encs[n:])
	c.ids, c.encs = c.ids[:n], c.encs[:n]
}

// Sealed returns how many messages the sealed prefix covers.
func (c *Conversation[E]) Sealed() int { return c.sealed }

// PrefixLen returns the length of the sealed prefix.
func (c *Conversation[E]) PrefixLen() int {
	n := 0
	for _, p := range c.prefix {
		n += len(p)
	}
	return n
}

// AppendPrefix appends the sealed prefix to body.
func (c *Conversation[E]) AppendPrefix(body Body) Body {
	for _, p := range c.prefix {
		body = append(body, p[:len(p):len(p)])
	}
	return body
}

// Seal appends to the sealed prefix what add appends to a byte slice,
// the encoding of the messages from [Conversation.Sealed] up to n, as one
// unit, and releases their encodings.
func (c *Conversation[E]) Seal(n int, add func([]byte) []byte) {
	if n <= c.sealed {
		return
	}
	if len(c.prefix) == 0 || len(c.prefix[len(c.prefix)-1]) >= chunkSize {
		c.prefix = append(c.prefix, make([]byte, 0, chunkSize))
	}
	// Appending may move the last chunk; bodies sent before keep the
	// old one.
	last := &c.prefix[len(c.prefix)-1]
	*last = add(*last)
	clear(c.encs[c.sealed:n])
	c.sealed = n
	c.bounds = append(c.bounds, bound{msgs: n, chunks: len(c.prefix), last: len(*last)})
}

// SealEach seals the encodings from [Conversation.Sealed] on, each as a
// unit of its own, as elements of a JSON array: for an adapter whose
// encoding of a message does not depend on the messages after it, and so
// never changes once sent. An empty encoding adds no element.
func SealEach(c *Conversation[[]byte], encs [][]byte) {
	for i := c.Sealed(); i < len(encs); i++ {
		comma := len(encs[i]) > 0 && c.PrefixLen() > 0
		c.Seal(i+1, func(b []byte) []byte {
			if comma {
				b = append(b, ',')
			}
			return append(b, encs[i]...)
		})
	}
}

// Body is a request body in pieces, sent one after another without being
// joined: most of a long conversation's body is a sealed prefix that
// earlier requests sent too.
type Body [][]byte

// Len returns the length of the body.
func (b Body) Len() int {
	n := 0
	for _, p := range b {
		n += len(p)
	}
	return n
}

// Bytes returns the body joined.
func (b Body) Bytes() []byte {
	return bytes.Join(b, nil)
}

// Middleware has the shape of the SDKs' option.Middleware. It makes the
// request's body b, when the request is sent. The SDKs hold a body in one
// buffer, and copy all of it to set "stream" in it, so the adapters give
// them only a placeholder and attach the real body here.
func (b Body) Middleware(req *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	req.ContentLength = int64(b.Len())
	req.GetBody = func() (io.ReadCloser, error) {
		// net.Buffers consumes the slice it reads from: each reader
		// gets its own.
		bufs := net.Buffers(slices.Clone(b))
		return io.NopCloser(&bufs), nil
	}
	req.Body, _ = req.GetBody()
	req.Header.Set("Content-Type", "application/json")
	return next(req)
}

// MaxConversations is how many conversations [Conversations] keeps: a
// session, its subagents, a compaction running beside it. A finished
// subagent's is dropped as newer ones come.
const MaxConversations = 4

// Conversations keeps a [Conversation] for each of the few history
// lineages ([llm.History.ID]) used most recently. It is safe for
// concurrent use: requests of different conversations encode at the same
// time, requests of one conversation take turns.
type Conversations[E any] struct {
	// KeepNext is given to every Conversation made.
	KeepNext bool

	mu sync.Mutex
	// recent is ordered from the most recently used.
	recent []*entry[E]
}

type entry[E any] struct {
	id   uint64
	mu   sync.Mutex
	conv Conversation[E]
}

// Lock returns the Conversation of the lineage id, new if it has none or
// had one dropped, locked for the caller until it calls unlock.
func (cs *Conversations[E]) Lock(id uint64) (c *Conversation[E], unlock func()) {
	cs.mu.Lock()
	i := slices.IndexFunc(cs.recent, func(e *entry[E]) bool { return e.id == id })
	var e *entry[E]
	if i >= 0 {
		e = cs.recent[i]
		cs.recent = slices.Delete(cs.recent, i, i+1)
	} else {
		e = &entry[E]{id: id, conv: Conversation[E]{KeepNext: cs.KeepNext}}
		if len(cs.recent) == MaxConversations {
			// A request still encoding under the dropped one finishes
			// with it; the next request of its lineage starts afresh.
			cs.recent[len(cs.recent)-1] = nil
			cs.recent = cs.recent[:len(cs.recent)-1]
		}
	}
	cs.recent = slices.Insert(cs.recent, 0, e)
	cs.mu.Unlock()
	e.mu.Lock()
	return &e.conv, e.mu.Unlock
}

// Tools remembers the encoding of the tool definitions it was last given.
// It is safe for concurrent use.
type Tools struct {
	mu   sync.Mutex
	ok   bool
	defs []llm.ToolDef
	data []byte
}

// Encode returns enc(defs), calling enc only when defs differ from the
// definitions of the last call. Comparing costs little: a session passes
// the same strings every time. The result is shared: callers must not
// modify it.
func (t *Tools) Encode(defs []llm.ToolDef, enc func([]llm.ToolDef) ([]byte, error)) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ok && sameDefs(t.defs, defs) {
		return t.data, nil
	}
	data, err := enc(defs)
	if err != nil {
		return nil, err
	}
	// The schemas are copied: the caller's bytes could change under a
	// comparison that only looked at the same memory.
	t.defs = make([]llm.ToolDef, len(defs))
	for i, d := range defs {
		d.Schema = bytes.Clone(d.Schema)
		t.defs[i] = d
	}
	t.ok, t.data = true, data
	return data, nil
}

func sameDefs(a, b []llm.ToolDef) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Description != b[i].Description ||
			a[i].Grammar != b[i].Grammar || !bytes.Equal(a[i].Schema, b[i].Schema) {
			return false
		}
	}
	return true
}

// AppendString appends s as a JSON string, escaped exactly as
// encoding/json escapes it by default (HTML characters, U+2028 and U+2029
// included, invalid UTF-8 replaced), as the Anthropic SDK does too.
func AppendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendRaw appends the JSON value raw, compacted and escaped as
// encoding/json writes a json.RawMessage. It fails when raw is not valid
// JSON.
func AppendRaw(dst []byte, raw []byte) ([]byte, error) {
	b, err := json.Marshal(json.RawMessage(raw))
	if me, ok := errors.AsType[*json.MarshalerError](err); ok {
		return dst, me.Err
	} else if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// AppendMembers appends the members of obj, a compact JSON object, each
// preceded by a comma, to an object being written in dst.
func AppendMembers(dst, obj []byte) []byte {
	if len(obj) <= 2 { // nothing or {}
		return dst
	}
	dst = append(dst, ',')
	return append(dst, obj[1:len(obj)-1]...)
}

// AppendMarshaled appends items, comma-separated, each as its own
// MarshalJSON writes it. That is how the SDKs send their param types;
// encoding/json would change the bytes, escaping HTML characters.
func AppendMarshaled[T json.Marshaler](dst []byte, items ...T) ([]byte, error) {
	for i, it := range items {
		b, err := it.MarshalJSON()
		if err != nil {
			return dst, err
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, b...)
	}
	return dst, nil
}

// ByRole returns an encoder that hands a message to user or assistant by
// its role, and refuses any other role.
func ByRole[E any](user, assistant func(llm.Message) (E, error)) func(llm.Message) (E, error) {
	return func(m llm.Message) (E, error) {
		switch m.Role {
		case llm.RoleUser:
			return user(m)
		case llm.RoleAssistant:
			return assistant(m)
		}
		var none E
		return none, fmt.Errorf("unknown role %q", m.Role)
	}
}

// Elements returns an encoder of what params makes of its argument, as
// the elements of a JSON array: for an adapter that builds a piece of a
// body with its SDK's param types, marshalled as AppendMarshaled does.
func Elements[A any, S ~[]T, T json.Marshaler](params func(A) (S, error)) func(A) ([]byte, error) {
	return func(a A) ([]byte, error) {
		items, err := params(a)
		if err != nil {
			return nil, err
		}
		return AppendMarshaled(nil, items...)
	}
}

// Member returns an encoder of what params makes of its argument as the
// array member name of an object, after a comma, as AppendMarshaled
// marshals it. An empty array is left out, as the SDKs leave it out of
// their params.
func Member[A any, S ~[]T, T json.Marshaler](name string, params func(A) (S, error)) func(A) ([]byte, error) {
	return func(a A) ([]byte, error) {
		items, err := params(a)
		if err != nil || len(items) == 0 {
			return nil, err
		}
		b := append(AppendString([]byte{','}, name), ':', '[')
		b, err = AppendMarshaled(b, items...)
		return append(b, ']'), err
	}
}
