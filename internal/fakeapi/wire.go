package fakeapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"unicode/utf8"
)

// obj is a JSON object that keeps its keys in order, so that events read
// like the real APIs' (which put "type" first) rather than sorted.
type obj []field

type field struct {
	k string
	v any
}

// MarshalJSON writes the fields in order.
func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshal(f.k)
		if err != nil {
			return nil, err
		}
		v, err := marshal(f.v)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.k, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal encodes v like the real APIs do, leaving <, > and & unescaped.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// mustMarshal encodes values the package builds itself from strings,
// numbers and validated JSON, which cannot fail to encode.
func mustMarshal(v any) []byte {
	b, err := marshal(v)
	if err != nil {
		panic(fmt.Sprintf("fakeapi: marshal own value: %v", err))
	}
	return b
}

// event is one server-sent event. Chat Completions events have no name.
type event struct {
	name string
	data []byte
	// raw, if set, is sent instead, as it is.
	raw []byte
}

func (e event) encode() []byte {
	if e.raw != nil {
		return e.raw
	}
	var b bytes.Buffer
	if e.name != "" {
		b.WriteString("event: ")
		b.WriteString(e.name)
		b.WriteByte('\n')
	}
	b.WriteString("data: ")
	b.Write(e.data)
	b.WriteString("\n\n")
	return b.Bytes()
}

// mangle returns what a broken proxy makes of e: a line that is no SSE
// field (which clients must ignore), then e with its data cut in the
// middle of the JSON.
func mangle(e event) []event {
	garbage := event{raw: []byte("garbage without a colon\n\n")}
	return []event{garbage, {name: e.name, data: e.data[:len(e.data)/2]}}
}

// stream is a reply rendered as events, with the points where faults
// interrupt it, each the number of events sent before the interruption
// (-1 where the reply has no such point).
type stream struct {
	events []event
	// opened follows the opening events (message_start, response.created
	// and response.in_progress, the role chunk).
	opened int
	// midText follows the first text delta; midArgs follows the first
	// fragment of the first tool call with arguments.
	midText, midArgs int
}

// cutAt is the number of events sent before a cut or stall.
func (s *stream) cutAt(f *Fault) int {
	at := -1
	switch f.Cut {
	case CutMidText:
		at = s.midText
	case CutMidToolArgs:
		at = s.midArgs
	case CutBeforeDone:
		// The terminal event (message_stop, response.completed,
		// [DONE]) is always last.
		at = len(s.events) - 1
	case "":
		// A stall lets the first text delta through when there is one.
		at = s.midText
	}
	if at < 0 {
		// Only an invalid script, already reported, lacks its cut point.
		return s.opened
	}
	return at
}

// builder collects a stream's events and marks.
type builder struct {
	s stream
}

func newBuilder() *builder {
	return &builder{s: stream{opened: -1, midText: -1, midArgs: -1}}
}

func (b *builder) add(name string, data any) {
	b.s.events = append(b.s.events, event{name: name, data: mustMarshal(data)})
}

func (b *builder) markOpened() { b.s.opened = len(b.s.events) }

func (b *builder) markText() {
	if b.s.midText < 0 {
		b.s.midText = len(b.s.events)
	}
}

func (b *builder) markArgs() {
	if b.s.midArgs < 0 {
		b.s.midArgs = len(b.s.events)
	}
}

// split cuts s into up to n non-empty pieces of similar length at rune
// boundaries, so text and arguments stream as several deltas and a cut can
// land inside them.
func split(s string, n int) []string {
	runes := utf8.RuneCountInString(s)
	if runes == 0 {
		return nil
	}
	n = min(n, runes)
	pieces := make([]string, 0, n)
	for i := range n {
		// The first i pieces hold i*runes/n runes in total.
		size := (i+1)*runes/n - i*runes/n
		end := 0
		for range size {
			_, w := utf8.DecodeRuneInString(s[end:])
			end += w
		}
		pieces = append(pieces, s[:end])
		s = s[end:]
	}
	return pieces
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// digest is a deterministic pseudo-random byte string for seed.
func digest(seed string, n int) []byte {
	var out []byte
	for i := 0; len(out) < n; i++ {
		h := sha256.Sum256(fmt.Appendf(nil, "%d/%s", i, seed))
		out = append(out, h[:]...)
	}
	return out[:n]
}

// alnum returns n base62 characters derived from seed, for ids in the
// style of toolu_01…, call_… and chatcmpl-….
func alnum(seed string, n int) string {
	v := new(big.Int).SetBytes(digest(seed, n))
	b := make([]byte, n)
	base := big.NewInt(62)
	mod := new(big.Int)
	for i := range b {
		v.DivMod(v, base, mod)
		b[i] = base62[mod.Int64()]
	}
	return string(b)
}

// hexID returns n hex digits derived from seed, for ids in the style of
// resp_…, fc_… and rs_….
func hexID(seed string, n int) string {
	return hex.EncodeToString(digest(seed, (n+1)/2))[:n]
}

// opaque returns an n-byte base64 blob derived from seed, standing in for
// thinking signatures and encrypted reasoning.
func opaque(seed string, n int) string {
	return base64.StdEncoding.EncodeToString(digest(seed, n))
}
