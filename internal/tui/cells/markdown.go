package cells

import (
	"regexp"
	"strings"

	"github.com/lathe-dev/lathe/internal/termsafe"
)

// codeChunk is how many lines of a long code block are rendered
// together: a block longer than that is rendered chunk by chunk, so that
// a huge block costs the same per streamed line as a small one.
const codeChunk = 32

// Markdown renders model text as Markdown at width columns: what a
// finished assistant message shows, and what a [Stream] of the same text
// shows once it is finished, however the text was cut into deltas (see
// [Stream]). Headings keep their "#" marks; lists, quotes, tables and code
// blocks are drawn with text characters; links show their URL after the
// text; code is not highlighted. Lines are no wider than width, carry no
// trailing blanks, and there are no blank lines before the first or after
// the last.
func Markdown(text string, width int, st Styles) string {
	s := NewStream(width, st)
	s.Append(text)
	s.Finish()
	return s.String()
}

// trimBlank drops the blank lines that end lines.
func trimBlank(lines []string) []string {
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// Stream renders a message's Markdown as it streams in. The text is cut
// into blocks where a block ends for good (at a blank line or a code
// fence outside a code block, before a line that cannot continue what
// came before); each finished block is rendered once and frozen, and only
// the unfinished tail is rendered again as text arrives, when Rows or
// Slice ask, so the cost of a delta does not grow with the text before
// it. Blocks rendered apart and joined by a blank line are what the
// renderer makes of the whole text, and so are the chunks of a long code
// block; text with link reference definitions or HTML is rendered whole
// once finished.
// Where the text was cut into deltas changes nothing: once finished, a
// Stream shows what [Markdown] does.
//
// A Stream is not safe for concurrent use: the UI goroutine owns it.
type Stream struct {
	st    Styles
	width int
	r     renderer

	text    strings.Builder // sanitised text so far
	pending []byte          // a delta's cut-off escape or UTF-8 sequence

	// Scanning state: the text is scanned line by line as lines
	// complete. done is where the unfrozen tail starts, scanned where
	// the next unscanned line does.
	done, scanned int
	prevBlank     bool
	fence         string // the open code fence's marker ("```", "~~~~"), or ""
	fenceAt       int    // where the open fence's line starts
	fenceBody     int    // where its first line of code starts
	fenceLines    int    // the open code block's complete lines
	// chunkEnds are where each complete chunk of codeChunk lines of the
	// open code block ends.
	chunkEnds []int
	// whole is set once the text has what its blocks cannot be
	// rendered apart for: a link reference definition, which links
	// before it use, or HTML, whose blocks may run over blank lines. Nothing more is frozen, and the finished text is rendered
	// whole.
	whole    bool
	finished bool

	frozen []string // the frozen blocks' rendered lines, blank lines between

	// chunks holds the rendered lines of the complete chunks of the
	// open code block, when it starts the tail; chunked counts them.
	chunks  []string
	chunked int

	tail  []string
	dirty bool
}

// NewStream returns an empty stream rendered at width columns.
func NewStream(width int, st Styles) *Stream {
	return &Stream{st: st, width: width, r: newRenderer(width, st)}
}

// Append adds a delta of the message's text. It renders the blocks the
// delta finishes; the tail waits for Rows or Slice.
func (s *Stream) Append(delta string) {
	if s.finished {
		return
	}
	// Carriage returns go before termsafe sees them, so that cleaning
	// the text delta by delta gives what cleaning it whole does.
	b := append(s.pending, strings.ReplaceAll(delta, "\r", "")...)
	clean, rest := termsafe.Clean(b, false)
	s.pending = append([]byte(nil), rest...)
	s.text.WriteString(clean)
	s.scan()
	s.dirty = true
}

// Finish says the message is complete: the tail is rendered as the last
// block.
func (s *Stream) Finish() {
	if s.finished {
		return
	}
	if len(s.pending) > 0 {
		s.text.WriteString(termsafe.String(string(s.pending)))
		s.pending = nil
		s.scan()
	}
	s.finished = true
	if s.whole {
		s.frozen, s.done, s.fence = nil, 0, ""
	}
	s.dirty = true
}

// SetWidth renders the stream at width columns from now on, as if it had
// streamed at that width from the start.
func (s *Stream) SetWidth(width int) {
	if width == s.width {
		return
	}
	text, pending, finished := s.text.String(), s.pending, s.finished
	*s = Stream{st: s.st, width: width, r: newRenderer(width, s.st)}
	s.text.WriteString(text)
	s.scan()
	s.pending, s.dirty = pending, true
	if finished {
		s.Finish()
	}
}

// Text is the sanitised text so far.
func (s *Stream) Text() string { return s.text.String() }

// Rows is how many rows the stream renders to.
func (s *Stream) Rows() int {
	s.render()
	n := s.shownFrozen() + len(s.tail)
	if len(s.frozen) > 0 && len(s.tail) > 0 {
		n++
	}
	return n
}

// shownFrozen is how many of the frozen rows show: all of them before a
// tail, and without their blank end when nothing follows.
func (s *Stream) shownFrozen() int {
	if len(s.tail) > 0 {
		return len(s.frozen)
	}
	return len(trimBlank(s.frozen))
}

// Slice returns rows from to to (exclusive) of the rendered stream: the
// core asks only for those in view.
func (s *Stream) Slice(from, to int) []string {
	to = min(to, s.Rows())
	if from >= to {
		return nil
	}
	out := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		switch {
		case i < len(s.frozen):
			out = append(out, s.frozen[i])
		case len(s.frozen) > 0 && i == len(s.frozen):
			out = append(out, "") // between the frozen blocks and the tail
		case len(s.frozen) > 0:
			out = append(out, s.tail[i-len(s.frozen)-1])
		default:
			out = append(out, s.tail[i])
		}
	}
	return out
}

// String is the whole rendered stream.
func (s *Stream) String() string {
	return strings.Join(s.Slice(0, s.Rows()), "\n")
}

// render renders the tail if text came since it was last rendered.
func (s *Stream) render() {
	if !s.dirty {
		return
	}
	s.dirty = false
	text := s.text.String()
	if s.chunking() {
		s.tail = trimBlank(s.code(text, len(text)))
		return
	}
	s.tail = trimBlank(s.r.render(text[s.done:]))
}

// chunking reports whether the tail is a code block long enough to be
// rendered in chunks.
func (s *Stream) chunking() bool {
	return s.fence != "" && s.fenceAt == s.done && len(s.chunkEnds) > 0
}

// code renders the open code block, which starts the tail, up to end:
// its complete chunks once each, and what follows them.
func (s *Stream) code(text string, end int) []string {
	open := text[s.fenceAt:s.fenceBody]
	start := func(i int) int {
		if i == 0 {
			return s.fenceBody
		}
		return s.chunkEnds[i-1]
	}
	for ; s.chunked < len(s.chunkEnds); s.chunked++ {
		chunk := text[start(s.chunked):s.chunkEnds[s.chunked]]
		s.chunks = append(s.chunks, s.r.render(open+chunk+s.fence+"\n")...)
	}
	rest := s.r.render(open + text[start(s.chunked):end])
	return append(s.chunks[:len(s.chunks):len(s.chunks)], rest...)
}

// freeze adds the rendered lines of a finished block that ends at end to
// the frozen ones.
func (s *Stream) freeze(lines []string, end int) {
	s.done = end
	if len(lines) == 0 {
		return
	}
	if len(s.frozen) > 0 {
		s.frozen = append(s.frozen, "")
	}
	s.frozen = append(s.frozen, lines...)
}

var (
	listItem = regexp.MustCompile(`^(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)`)
	fenceRe  = regexp.MustCompile("^ {0,3}(`{3,}|~{3,})")
	refDef   = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:`)
	htmlLine = regexp.MustCompile(`^ {0,3}<[A-Za-z/!?]`)
)

// scan reads the lines completed since the last scan and freezes the
// blocks they finish.
func (s *Stream) scan() {
	text := s.text.String()
	for {
		nl := strings.IndexByte(text[s.scanned:], '\n')
		if nl < 0 {
			return
		}
		start, end := s.scanned, s.scanned+nl+1
		s.scanned = end
		s.line(text, start, end)
	}
}

// line takes the complete line from start to end.
func (s *Stream) line(text string, start, end int) {
	line := text[start : end-1]
	if s.fence != "" {
		if m := fenceRe.FindStringSubmatch(line); m != nil && m[1][0] == s.fence[0] && len(m[1]) >= len(s.fence) && strings.TrimSpace(line[len(m[0]):]) == "" {
			// A closed fence ends its block: a long one is frozen as
			// it was shown, chunk by chunk.
			if s.chunking() {
				s.freeze(s.code(text, end), end)
			}
			s.fence, s.chunkEnds, s.chunks, s.chunked = "", nil, nil, 0
			s.prevBlank = true
			return
		}
		if s.fenceLines++; s.fenceLines%codeChunk == 0 {
			s.chunkEnds = append(s.chunkEnds, end)
		}
		return
	}
	if refDef.MatchString(line) || htmlLine.MatchString(line) {
		s.whole = true
	}
	blank := strings.TrimSpace(line) == ""
	m := fenceRe.FindStringSubmatch(line)
	// A backtick fence's info string has no backtick: "```x```" is code
	// in a paragraph.
	opens := m != nil && (m[1][0] != '`' || !strings.Contains(line[len(m[0]):], "`"))
	if !blank && (s.prevBlank || opens) && start > s.done && !s.whole && startsBlock(line) {
		s.freeze(s.r.render(text[s.done:start]), start)
	}
	if opens {
		s.fence, s.fenceAt, s.fenceBody, s.fenceLines = m[1], start, end, 0
		s.prevBlank = false
		return
	}
	s.prevBlank = blank
}

// startsBlock reports whether line, which follows a blank line or opens
// a fence, starts a block that nothing before it can continue: it is not
// indented (a list item's continuation, an indented code block) and not a
// list item (which would join the list before it).
func startsBlock(line string) bool {
	if line[0] == ' ' || line[0] == '\t' {
		return false
	}
	return !listItem.MatchString(line)
}
