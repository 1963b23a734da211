package cells

import (
	"regexp"
	"strings"

	"github.com/lathe-dev/lathe/internal/tui/cells/internal/glamour"
	gansi "github.com/lathe-dev/lathe/internal/tui/cells/internal/glamour/ansi"
	"github.com/lathe-dev/lathe/internal/tui/cells/internal/glamour/styles"

	"github.com/lathe-dev/lathe/internal/termsafe"
)

// codeChunk is how many lines of a long code block are rendered
// together: a block longer than that is rendered chunk by chunk, each
// chunk as a block of its own, so that a huge block costs the same per
// streamed line as a small one (glamour's cost for one block grows with
// the square of its length). Highlighting starts afresh in each chunk.
const codeChunk = 32

// markdownStyle is the glamour style of st: the zero Styles' is glamour's
// plain one, without colour.
func (s Styles) markdownStyle() gansi.StyleConfig {
	if c, ok := styles.DefaultStyles[s.Markdown]; ok {
		return *c
	}
	if s.colour {
		return styles.DarkStyleConfig
	}
	return styles.NoTTYStyleConfig
}

// Markdown renders model text as Markdown at width columns: what a
// finished assistant message shows, and what a [Stream] of the same text
// shows once it is finished, however the text was cut into deltas. It is
// glamour's rendering of the text, block by block (see [Stream]). Lines
// carry no trailing blanks, and there are no blank lines before the first
// or after the last.
func Markdown(text string, width int, st Styles) string {
	s := NewStream(width, st)
	s.Append(text)
	s.Finish()
	return s.String()
}

// renderer renders Markdown blocks with glamour, normalised so that
// blocks rendered one by one and joined by a blank line equal the whole
// rendered at once.
type renderer struct {
	tr *glamour.TermRenderer
}

func newRenderer(width int, st Styles) renderer {
	// Code is highlighted in true colour, which Bubble Tea's renderer
	// downsamples for the terminal: chroma's own 256-colour formatter
	// breaks ties between nearest colours in map order, so the same code
	// would not always get the same colours.
	tr, err := glamour.NewTermRenderer(glamour.WithStyles(st.markdownStyle()), glamour.WithWordWrap(max(width, 1)), glamour.WithChromaFormatter("terminal16m"))
	if err != nil {
		// Only a style file that does not load fails, and styles here
		// are values.
		panic("cells: " + err.Error())
	}
	return renderer{tr}
}

// render renders Markdown text into lines, normalised: trailing padding
// and styles around nothing removed, and the blank lines before the
// first block. Glamour writes a document as a newline, each block's
// lines, and a newline; each block but the first starts with one blank
// line, and some (a list item ending in code) end with one too. So the
// blocks of a text rendered one by one, each without its leading blank
// lines, joined by a blank line, are the text rendered whole; the
// trailing blank lines are kept for that, and dropped only at the end
// of what is shown (see [trimBlank]).
func (r renderer) render(text string) []string {
	out, err := r.tr.Render(text)
	if err != nil {
		// Goldmark renders any text; an error would come from the
		// writer, a bytes.Buffer.
		return strings.Split(text, "\n")
	}
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		lines[i] = trimPadding(dropEmptyStyles(l))
	}
	// The document's closing newline, and the last block's: the line
	// between them may hold an indentation, blank once trimmed.
	for range 2 {
		if n := len(lines); n > 0 && lines[n-1] == "" {
			lines = lines[:n-1]
		}
	}
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	return lines
}

// trimBlank drops the blank lines that end lines.
func trimBlank(lines []string) []string {
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// sgrBefore returns the start of the SGR sequence (ESC [ params m) that
// ends s, or -1.
func sgrBefore(s string) int {
	if !strings.HasSuffix(s, "m") {
		return -1
	}
	for i := len(s) - 2; i >= 0; i-- {
		switch c := s[i]; {
		case c == '[':
			if i > 0 && s[i-1] == 0x1b {
				return i - 1
			}
			return -1
		case c != ';' && (c < '0' || c > '9'):
			return -1
		}
	}
	return -1
}

// trimPadding removes what glamour pads a line to its width with (spaces,
// each in its own style), closing a style the text left open. A line of
// nothing but padding and margin becomes empty.
func trimPadding(l string) string {
	cut, styled := l, false
	for {
		if strings.HasSuffix(cut, " ") {
			cut = strings.TrimRight(cut, " ")
			continue
		}
		if i := sgrBefore(cut); i >= 0 {
			cut, styled = cut[:i], true
			continue
		}
		break
	}
	if cut == "" {
		return ""
	}
	if styled && strings.Contains(cut, "\x1b[") {
		cut += "\x1b[m"
	}
	return cut
}

// dropEmptyStyles removes styles set and reset around nothing, which
// glamour writes where a block might have started text: they show
// nothing, and where they fall depends on how the text was cut into
// blocks.
func dropEmptyStyles(l string) string {
	if !strings.Contains(l, "m\x1b[m") && !strings.Contains(l, "m\x1b[0m") {
		return l
	}
	var b strings.Builder
	for {
		i := strings.Index(l, "\x1b[")
		if i < 0 {
			b.WriteString(l)
			return b.String()
		}
		b.WriteString(l[:i])
		l = l[i:]
		end := strings.IndexByte(l, 'm')
		if end < 0 || strings.Trim(l[2:end], "0123456789;") != "" {
			b.WriteString(l[:2])
			l = l[2:]
			continue
		}
		seq, rest := l[:end+1], l[end+1:]
		params := seq[2 : len(seq)-1]
		reset := ""
		switch {
		case strings.HasPrefix(rest, "\x1b[m"):
			reset = "\x1b[m"
		case strings.HasPrefix(rest, "\x1b[0m"):
			reset = "\x1b[0m"
		}
		if reset != "" && params != "" && params != "0" {
			l = rest[len(reset):] // a style around nothing
			continue
		}
		b.WriteString(seq)
		l = rest
	}
}

// Stream renders a message's Markdown as it streams in. The text is cut
// into blocks where a block ends for good (at a blank line or a code
// fence outside a code block, before a line that cannot continue what
// came before); each finished block is rendered once and frozen, and only
// the unfinished tail is rendered again as text arrives, when Rows or
// Slice ask, so the cost of a delta does not grow with the text before
// it. Blocks rendered apart and joined by a blank line are what glamour
// makes of the whole text, but for a code block longer than codeChunk
// lines, whose chunks are rendered apart, and for text with link
// reference definitions or HTML, which is rendered whole once finished.
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
	// before it use, or HTML, which glamour runs into the blocks around
	// it. Nothing more is frozen, and the finished text is rendered
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
