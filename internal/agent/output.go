package agent

import (
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/lathe-dev/lathe/internal/event"
)

// maxOutputChunk bounds the text of one command.output event, so that a
// command writing a lot at once still reaches a consumer (a terminal
// frame, a line of stream-json) in pieces of a known size.
const maxOutputChunk = 16 << 10

// liveOutput turns what the commands of one call write into the call's
// command.output events, as they write it: each chunk valid UTF-8, its
// invalid bytes replaced by U+FFFD, with a character split between two
// reads held back until its end arrives, and at most maxOutputChunk
// bytes. It is the call's shell.OutputFunc.
//
// Concurrency: write is called by the reader goroutine of each command
// the call runs, close by the call once its tool has returned; both may
// be called concurrently. A background job the call started goes on
// writing after close, which ends the call's events: so every chunk
// comes before the call's tool.end, and a background command streams
// only what it wrote while the call that started it ran.
type liveOutput struct {
	emit func(text string)

	mu     sync.Mutex
	closed bool
	// pending is the start of a character the last write cut off.
	pending []byte
	// joined is reused to put pending before the next write.
	joined []byte
}

// newLiveOutput returns the live output of the call callID.
func (a *Agent) newLiveOutput(callID string) *liveOutput {
	return &liveOutput{emit: func(text string) {
		a.emit(event.Event{Type: event.CommandOutput, CallID: callID, Text: text})
	}}
}

// write emits chunk, which it does not keep.
func (o *liveOutput) write(chunk []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || len(chunk) == 0 {
		return
	}
	if len(o.pending) > 0 {
		o.joined = append(append(o.joined[:0], o.pending...), chunk...)
		chunk = o.joined
	}
	cut := len(chunk) - incompleteTail(chunk)
	o.pending = append(o.pending[:0], chunk[cut:]...)
	o.send(chunk[:cut])
}

// close emits what is held back, a character that never ended, and ends
// the events: a later write emits nothing.
func (o *liveOutput) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	o.closed = true
	o.send(o.pending)
	o.pending = nil
}

// send emits b in chunks of at most maxOutputChunk bytes, cut between
// characters.
func (o *liveOutput) send(b []byte) {
	if len(b) == 0 {
		return
	}
	var s string
	if utf8.Valid(b) {
		s = string(b)
	} else {
		s = strings.ToValidUTF8(string(b), string(utf8.RuneError))
	}
	for len(s) > maxOutputChunk {
		cut := maxOutputChunk
		for !utf8.RuneStart(s[cut]) {
			cut--
		}
		o.emit(s[:cut])
		s = s[cut:]
	}
	o.emit(s)
}

// incompleteTail returns the length of the start of a character at the
// end of b that more bytes could complete, or 0. Invalid bytes are not
// such a start: they are replaced where they are.
func incompleteTail(b []byte) int {
	for n := 1; n < utf8.UTFMax && n <= len(b); n++ {
		if utf8.RuneStart(b[len(b)-n]) {
			if utf8.FullRune(b[len(b)-n:]) {
				return 0
			}
			return n
		}
	}
	return 0
}
