package llm

import (
	"bytes"
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"
)

// History is a conversation's messages, append-only by type: a snapshot
// that can be read and extended, never changed. Appending returns a new,
// longer snapshot and leaves the old one as it was; a replacement of the
// messages (compaction, a resumed transcript) is a new History made with
// [NewHistory], never an edit.
//
// The snapshots extended from one another form a lineage, named by
// [History.ID]: every snapshot of a lineage begins with the same messages
// as the longer ones, so a provider may key what it encoded for a
// conversation by the ID and trust that messages it has seen under it are
// unchanged. Appending to a snapshot that is not the newest of its
// lineage (branching from an older turn) copies it into a new lineage,
// so that the newer snapshots stay intact and keep their ID.
//
// Append copies the messages it is given, parts and raw bytes included:
// nothing the caller keeps can change them afterwards. The slice
// [History.Messages] returns is shared and must not be modified.
//
// A History is a small value, safe to copy and to use from several
// goroutines at once, Append included: of concurrent appends to one
// snapshot, one extends its lineage and the others branch. The zero
// History is empty and belongs to no lineage (ID 0).
type History struct {
	l    *lineage
	msgs []Message // len == cap: a caller's append copies
}

// lineage holds the messages of the newest snapshot of a lineage in buf;
// older snapshots are prefixes of it, which appends never overwrite.
type lineage struct {
	id uint64
	mu sync.Mutex
	// buf is guarded by mu; the elements below len(buf) never change.
	buf []Message
}

var lineages atomic.Uint64

// NewHistory returns the messages msgs as a History of a new lineage.
func NewHistory(msgs ...Message) History {
	return History{}.Append(msgs...)
}

// Append returns h followed by msgs. h is unchanged.
func (h History) Append(msgs ...Message) History {
	if len(msgs) == 0 {
		return h
	}
	if l := h.l; l != nil {
		l.mu.Lock()
		if len(l.buf) == len(h.msgs) {
			l.buf = appendCopies(l.buf, msgs)
			buf := l.buf
			l.mu.Unlock()
			return History{l: l, msgs: buf[:len(buf):len(buf)]}
		}
		l.mu.Unlock()
	}
	l := &lineage{id: lineages.Add(1)}
	l.buf = appendCopies(make([]Message, 0, len(h.msgs)+len(msgs)), h.msgs)
	l.buf = appendCopies(l.buf, msgs)
	return History{l: l, msgs: l.buf[:len(l.buf):len(l.buf)]}
}

// appendCopies appends copies of msgs to dst that share no memory the
// caller could change with them.
func appendCopies(dst, msgs []Message) []Message {
	for _, m := range msgs {
		parts := slices.Clone(m.Parts)
		for i := range parts {
			parts[i].Input = bytes.Clone(parts[i].Input)
			parts[i].Opaque = bytes.Clone(parts[i].Opaque)
			parts[i].Data = bytes.Clone(parts[i].Data)
		}
		dst = append(dst, Message{Role: m.Role, Parts: parts})
	}
	return dst
}

// Messages returns the messages of h, in order, without copying them.
// The caller must not modify them.
func (h History) Messages() []Message { return h.msgs }

// Len returns the number of messages in h.
func (h History) Len() int { return len(h.msgs) }

// ID names the lineage of h: the same for h and every snapshot extended
// from it, different for every other History. Zero for the zero History.
func (h History) ID() uint64 {
	if h.l == nil {
		return 0
	}
	return h.l.id
}

// MarshalJSON writes h as the array of its messages.
func (h History) MarshalJSON() ([]byte, error) {
	if h.msgs == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(h.msgs)
}

// UnmarshalJSON reads an array of messages as a History of a new lineage.
func (h *History) UnmarshalJSON(b []byte) error {
	var msgs []Message
	if err := json.Unmarshal(b, &msgs); err != nil {
		return err
	}
	*h = NewHistory(msgs...)
	return nil
}
