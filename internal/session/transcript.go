package session

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/lathe-dev/lathe/internal/compact"
	"github.com/lathe-dev/lathe/internal/llm"
)

// InterruptedResult is the result given to a tool call whose result was
// never recorded, because the process died while the tool ran.
const InterruptedResult = "Tool call was interrupted before it completed; its result is unknown."

// Transcript is a session as loaded for resuming.
type Transcript struct {
	Meta
	// Messages is the conversation, in a shape every provider accepts:
	// each assistant message with tool calls is followed by a user message
	// holding one result per call, in the order of the calls.
	Messages []llm.Message
	// Ledger is the task ledger of the last compaction boundary, which
	// covers the first Covered messages; both are zero for a session
	// never compacted.
	Ledger  compact.Ledger
	Covered int
	// Compactions counts the boundaries.
	Compactions int
	// Counted is the provider's own count of the conversation after its
	// last response, in tokens (input, cached or not, and output): it
	// covers the first CountedMessages messages. Both are zero when no
	// response since the last boundary reported its usage.
	Counted, CountedMessages int
	// Usage, Cost and Turns total the model responses of all runs.
	Usage llm.Usage
	Cost  float64
	Turns int
	// Dropped lists the lines this load left out: the last line, when a
	// crash cut it short, and with repair every line that could not be
	// used. Each is reported once: the log records that it was dropped
	// with the first record the run appends.
	Dropped []Problem
	// Prompts are the prompts that began the session's runs, in order.
	Prompts []Prompt
}

// Prompt is the message that began a run: the person's prompt, and where
// the conversation stood before it, which a rewind goes back to.
type Prompt struct {
	Text string
	// Messages is how many messages of Transcript.Messages came before
	// it; -1 once a compaction has folded it into a summary, which no
	// cut of the conversation can undo.
	Messages int
	// Line is its line in the log, which places it among the log's
	// events (the checkpoints taken after it).
	Line int
	// From names the session a fork copied the prompt from, whose log
	// holds its run (and checkpoints); "" for a prompt run in this one.
	From string
}

// Problem is a line of a log that cannot be used.
type Problem struct {
	// Line counts from 1.
	Line int    `json:"line"`
	Msg  string `json:"msg"`
	// Cut marks the last line of the log, cut short by a crash in the
	// middle of writing it.
	Cut bool `json:"cut,omitempty"`
}

// CorruptError reports lines in the middle of a log that cannot be used.
// They are not skipped silently: the conversation would lose what they
// held without anyone knowing. Opening with repair drops them.
type CorruptError struct {
	Path     string
	Problems []Problem
}

func (e *CorruptError) Error() string {
	p := e.Problems[0]
	s := fmt.Sprintf("%s:%d: %s", e.Path, p.Line, p.Msg)
	if n := len(e.Problems) - 1; n > 0 {
		s += fmt.Sprintf(" (and %d more %s)", n, plural(n, "line", "lines"))
	}
	return s
}

// Newer reports whether a problem is a record type this version does not
// know, most likely written by a newer Lathe.
func (e *CorruptError) Newer() bool {
	return slices.ContainsFunc(e.Problems, func(p Problem) bool { return strings.HasSuffix(p.Msg, newer) })
}

const newer = ": written by a newer version of Lathe?"

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// record is any line of a log, decoded into the union of their fields.
type record struct {
	Type string `json:"type"`
	Meta
	Message *llm.Message `json:"message"`
	Part    *llm.Part    `json:"part"`
	Usage   llm.Usage    `json:"usage"`
	CostUSD float64      `json:"cost_usd"`
	Dropped []Problem    `json:"dropped"`
	// A compaction record's.
	Messages []llm.Message  `json:"messages"`
	Ledger   compact.Ledger `json:"ledger"`
}

// loaded is a log as read.
type loaded struct {
	t *Transcript
	// problems are the lines that cannot be used and that no repair
	// record has dropped yet.
	problems []Problem
	// cut reports that the log ends in a line without a newline.
	cut bool
}

// load reads a log, collecting the lines it cannot use rather than
// stopping at the first, so that a repair can drop them all at once.
func load(r io.Reader) (*loaded, error) {
	b := builder{t: &Transcript{}}
	hasMeta := false
	var problems []Problem
	dropped := map[int]bool{}
	unparsable := map[int]bool{}
	bad := func(n int, format string, args ...any) {
		problems = append(problems, Problem{Line: n, Msg: fmt.Sprintf(format, args...)})
	}
	last := 0
	b.runStart = true
	cut, err := eachLine(r, func(n int, line []byte) {
		last = n
		b.line = n
		var rec record
		if err := json.Unmarshal(line, &rec); err != nil {
			bad(n, "not a valid record: %v", err)
			unparsable[n] = true
			return
		}
		switch rec.Type {
		case typeMeta:
			if !hasMeta {
				b.t.Meta, hasMeta = rec.Meta, true
			}
		case typeMessage:
			if err := checkMessage(rec.Message); err != nil {
				bad(n, "%v", err)
				return
			}
			b.message(*rec.Message)
		case typeToolResult:
			if rec.Part == nil || rec.Part.Kind != llm.PartToolResult {
				bad(n, "tool_result record without a tool result part")
				return
			}
			b.result(*rec.Part)
			// A usage record counts the response that follows it at once.
			b.pending = 0
		case typeUsage:
			// A response's usage is recorded just before the response.
			b.pending = int(rec.Usage.TotalInput() + rec.Usage.Output)
			b.t.Usage = b.t.Usage.Add(rec.Usage)
			b.t.Cost += rec.CostUSD
			b.t.Turns++
		case typeCompaction:
			if err := b.compaction(rec.Messages, rec.Ledger); err != nil {
				bad(n, "%v", err)
			}
		case typeRepair:
			for _, p := range rec.Dropped {
				dropped[p.Line] = true
			}
		case typeResult:
			b.runStart = true
		case typeEvent:
			// The audit trail, not the conversation.
			b.sawEvent = true
		case "":
			bad(n, "record without a type")
		default:
			bad(n, "unknown record type %q%s", rec.Type, newer)
		}
	})
	if err != nil {
		return nil, err
	}
	if !hasMeta {
		return nil, errors.New("no meta record: not a session log, or one whose creation was cut short")
	}
	b.flush()
	ld := &loaded{t: b.t, cut: cut}
	for _, p := range problems {
		if dropped[p.Line] {
			continue
		}
		// A crash while writing leaves the last line cut short, which no
		// longer parses; that is expected, and nothing complete was lost.
		p.Cut = cut && p.Line == last && unparsable[p.Line]
		ld.problems = append(ld.problems, p)
	}
	return ld, nil
}

// checkMessage checks what a provider would otherwise reject, or
// misread: a message of a role or with a part of a kind this version
// does not know.
func checkMessage(m *llm.Message) error {
	if m == nil {
		return errors.New("message record without a message")
	}
	if m.Role != llm.RoleUser && m.Role != llm.RoleAssistant {
		return fmt.Errorf("message of unknown role %q%s", m.Role, newer)
	}
	for _, p := range m.Parts {
		switch p.Kind {
		case llm.PartText, llm.PartThinking, llm.PartToolCall, llm.PartToolResult, llm.PartCompaction, llm.PartImage:
		default:
			return fmt.Errorf("message part of unknown kind %q%s", p.Kind, newer)
		}
	}
	return nil
}

// compaction starts the conversation again from msgs, the compacted
// conversation a boundary holds, whose ledger is l. It begins with the
// user message of a local compaction, or with the provider's compaction
// block of a native one.
func (b *builder) compaction(msgs []llm.Message, l compact.Ledger) error {
	if len(msgs) == 0 || (msgs[0].Role != llm.RoleUser && !compact.IsNative(msgs[0])) {
		return errors.New("compaction record without a conversation that begins with a user message or a provider's compaction")
	}
	for i := range msgs {
		if err := checkMessage(&msgs[i]); err != nil {
			return fmt.Errorf("compaction record: %w", err)
		}
	}
	b.calls, b.results = nil, nil
	if last := msgs[len(msgs)-1]; last.Role == llm.RoleAssistant {
		b.calls, b.results = last.ToolCalls(), map[string]llm.Part{}
	}
	b.foldPrompts()
	b.t.Messages = slices.Clone(msgs)
	b.t.Counted, b.t.CountedMessages, b.pending = 0, 0, 0
	b.t.Ledger, b.t.Covered = l, len(msgs)
	b.t.Compactions++
	return nil
}

// builder assembles the conversation, repairing what a crash or an
// interruption left unfinished.
type builder struct {
	t *Transcript
	// calls are the tool calls of the last assistant message, until their
	// results are flushed.
	calls   []llm.Part
	results map[string]llm.Part
	// pending is the count of the last usage record, until the response
	// it came with is appended; a usage record followed by anything else
	// (a summary's, a recap's) counts no message of the conversation.
	pending int
	// line is the log line being read; runStart says no message has
	// been read since the last run ended, so the next user message is a
	// prompt (a steer comes later in its run). sawEvent says an event
	// record has been read: a fork's log holds the conversation it
	// copied, without the runs' records, before its first.
	line               int
	runStart, sawEvent bool
}

// afterAnswer reports whether the conversation so far ends with the
// model's answer, a turn without tool calls, after which a user message
// begins a run even where the log has no result record before it (a
// fork's copy). A steer follows tool results instead.
func (b *builder) afterAnswer() bool {
	n := len(b.t.Messages)
	return n == 0 || (b.t.Messages[n-1].Role == llm.RoleAssistant && len(b.t.Messages[n-1].ToolCalls()) == 0)
}

// foldPrompts marks the prompts so far as folded into a compaction.
func (b *builder) foldPrompts() {
	for i := range b.t.Prompts {
		b.t.Prompts[i].Messages = -1
	}
}

func (b *builder) message(m llm.Message) {
	if m.Role == llm.RoleUser {
		// Results may also come inside a user message; they pair with the
		// calls like results recorded on their own.
		var rest []llm.Part
		for _, p := range m.Parts {
			if p.Kind == llm.PartToolResult {
				b.result(p)
			} else {
				rest = append(rest, p)
			}
		}
		if len(rest) == 0 && len(m.Parts) > 0 {
			return
		}
		m.Parts = rest
	}
	b.flush()
	if compact.IsNative(m) {
		// The provider's compaction stands for everything before it,
		// which the provider drops: so does the resume, even when the
		// boundary record that follows was cut short. The ledger, if
		// any, now covers none of the messages kept.
		b.t.Messages, b.t.Covered = nil, 0
		b.foldPrompts()
	}
	if m.Role == llm.RoleUser && (b.runStart || b.afterAnswer()) {
		p := Prompt{Text: m.Text(), Messages: len(b.t.Messages), Line: b.line}
		if !b.sawEvent {
			p.From = b.t.ForkedFrom
		}
		b.t.Prompts = append(b.t.Prompts, p)
	}
	b.runStart = false
	b.t.Messages = append(b.t.Messages, m)
	if m.Role == llm.RoleAssistant && b.pending > 0 {
		b.t.Counted, b.t.CountedMessages = b.pending, len(b.t.Messages)
	}
	b.pending = 0
	if m.Role == llm.RoleAssistant {
		b.calls = m.ToolCalls()
		b.results = map[string]llm.Part{}
	}
}

// result pairs p with its call. A result for no pending call, or a second
// one for the same call, would make the history invalid, and is dropped.
func (b *builder) result(p llm.Part) {
	pending := slices.ContainsFunc(b.calls, func(c llm.Part) bool { return c.CallID == p.CallID })
	if _, dup := b.results[p.CallID]; pending && !dup {
		b.results[p.CallID] = p
	}
}

// flush appends the user message answering the last assistant message's
// tool calls, giving each call that has no result an error result.
func (b *builder) flush() {
	if len(b.calls) == 0 {
		return
	}
	parts := make([]llm.Part, len(b.calls))
	for i, c := range b.calls {
		r, ok := b.results[c.CallID]
		if !ok {
			// A result answers its call in kind: a freeform call needs a
			// freeform (custom tool) output.
			r = llm.Part{Kind: llm.PartToolResult, CallID: c.CallID, Name: c.Name, Text: InterruptedResult, IsError: true, Freeform: c.Freeform}
		}
		parts[i] = r
	}
	b.t.Messages = append(b.t.Messages, llm.Message{Role: llm.RoleUser, Parts: parts})
	b.calls, b.results = nil, nil
}

// eachLine calls fn with each non-blank line of r, however long, and its
// number, counting from 1. cut reports that r is not empty and does not
// end with a newline.
func eachLine(r io.Reader, fn func(n int, line []byte)) (cut bool, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			fn(n, line)
		}
		if err == io.EOF {
			return len(line) > 0, nil
		}
		if err != nil {
			return false, err
		}
	}
}
