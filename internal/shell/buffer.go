package shell

import (
	"bytes"
	"fmt"
	"os"
	"sync"
	"unicode/utf8"

	"github.com/lathe-dev/lathe/internal/spill"
	"github.com/lathe-dev/lathe/internal/termsafe"
)

// A command's output is kept as its first headCap bytes and a ring of its
// last tailCap bytes, so that a command printing gigabytes costs a fixed
// amount of memory. Both are larger than half the model-facing limit
// because sanitising (escape sequences, \r progress bars) shrinks text.
const (
	headCap = 64 << 10
	tailCap = 64 << 10
)

// buffer captures a command's output in bounded memory. It is safe for one
// writer and concurrent readers.
type buffer struct {
	mu   sync.Mutex
	head []byte
	// ring holds the bytes after head, up to tailCap of them. Once full,
	// the oldest byte is at pos.
	ring []byte
	pos  int
	// total, runes and lines count everything ever written, including what
	// was dropped.
	total int64
	runes int64
	lines int64
	last  byte

	// dir, if set, is where the whole output goes once it outgrows head:
	// file, sanitised as it is written (carry is held-back input, as for
	// render), or saveErr saying why it could not.
	dir     *spill.Dir
	file    *os.File
	carry   []byte
	saveErr error
	// kept counts the bytes in file; once it reaches spill.MaxSave,
	// partial is set and nothing more is written.
	kept    int
	partial bool
}

// cursor is a reader's position in a buffer's output.
type cursor struct {
	bytes int64
	runes int64
}

// Write records p. It never fails.
func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	if n == 0 {
		return 0, nil
	}
	b.total += int64(n)
	b.runes += countRunes(p)
	b.lines += int64(bytes.Count(p, []byte{'\n'}))
	b.last = p[n-1]

	if room := headCap - len(b.head); room > 0 {
		k := min(room, len(p))
		b.head = append(b.head, p[:k]...)
		p = p[k:]
	}
	b.save(p)
	if len(p) > tailCap {
		p = p[len(p)-tailCap:]
	}
	if room := tailCap - len(b.ring); room > 0 {
		k := min(room, len(p))
		b.ring = append(b.ring, p[:k]...)
		p = p[k:]
	}
	for len(p) > 0 {
		k := copy(b.ring[b.pos:], p)
		p = p[k:]
		b.pos = (b.pos + k) % tailCap
	}
	return n, nil
}

// Lines returns the number of lines written, counting an unterminated last
// line.
func (b *buffer) Lines() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.total > 0 && b.last != '\n' {
		return b.lines + 1
	}
	return b.lines
}

// since returns the output written after c and advances c to the end. If
// some of it is no longer held, it is returned as head and tail around a
// gap of about gap characters; otherwise all of it is in head.
func (b *buffer) since(c *cursor) (head, tail []byte, gap int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ring := make([]byte, 0, len(b.ring))
	ring = append(append(ring, b.ring[b.pos:]...), b.ring[:b.pos]...)
	tailStart := b.total - int64(len(ring))

	from, fromRunes := c.bytes, c.runes
	if from < int64(len(b.head)) {
		head = append(head, b.head[from:]...)
		from, fromRunes = int64(len(b.head)), countRunes(b.head)
	}
	if from < tailStart {
		gap = b.runes - countRunes(ring) - fromRunes
		from = tailStart
	}
	rest := ring[from-tailStart:]
	if gap == 0 {
		head = append(head, rest...)
	} else {
		tail = rest
	}
	*c = cursor{bytes: b.total, runes: b.runes}
	return head, tail, gap
}

// countRunes counts the characters in p as the number of bytes that do not
// continue a UTF-8 sequence. Unlike utf8.RuneCount it is additive over
// arbitrary splits of a stream, so counts of separate writes can be summed
// and subtracted.
func countRunes(p []byte) int64 {
	var n int64
	for _, c := range p {
		if c&0xC0 != 0x80 {
			n++
		}
	}
	return n
}

// save writes to the spill file p, the bytes written after head, all of
// the output from the moment head is full: the file is made then, with
// head, so that an output that fits in memory costs no file. A failed
// write stops saving and is reported by saved.
func (b *buffer) save(p []byte) {
	if b.dir == nil || b.saveErr != nil || len(p) == 0 {
		return
	}
	if b.file == nil {
		if b.file, b.saveErr = b.dir.Create(); b.saveErr != nil {
			return
		}
		b.put(b.head, false)
	}
	b.put(p, false)
}

// put sanitises p after what was held back and appends it to the file.
func (b *buffer) put(p []byte, final bool) {
	if b.saveErr != nil || b.partial {
		return
	}
	text, rest := termsafe.Clean(append(b.carry, p...), final)
	b.carry = append(b.carry[:0], rest...)
	if room := spill.MaxSave - b.kept; len(text) > room {
		for room > 0 && !utf8.RuneStart(text[room]) {
			room--
		}
		text, b.partial = text[:room], true
	}
	b.kept += len(text)
	if _, err := b.file.WriteString(text); err != nil {
		b.saveErr = fmt.Errorf("save output: %w", err)
	}
}

// closeSave ends the spill file once the command has exited and all its
// output has been read.
func (b *buffer) closeSave() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.file == nil {
		return
	}
	b.put(nil, true)
	if err := b.file.Close(); err != nil && b.saveErr == nil {
		b.saveErr = fmt.Errorf("save output: %w", err)
	}
	if b.saveErr != nil {
		// A partial copy would pass for the whole output.
		os.Remove(b.file.Name())
	}
}

// saved says where the whole output is: in the spill file, if there is
// one, else nowhere (both fields empty).
func (b *buffer) saved() spill.Where {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.saveErr != nil:
		return spill.Where{Err: b.saveErr}
	case b.file != nil:
		return spill.Where{Path: b.file.Name(), Partial: b.partial}
	}
	return spill.Where{}
}
