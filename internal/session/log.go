// Package session stores conversations as append-only JSONL logs, one file
// per session, so that a session can be resumed and audited.
//
// Each record is one JSON object on one line, written to the file with a
// single write(2) of the whole line and no buffering in the process. A
// process killed at any moment therefore loses nothing it has already
// recorded; at worst an operating-system crash leaves the last line cut,
// which loading reports once and drops. Any other line that cannot be used
// stops loading, unless a repair drops it. The first record of a log is
// its meta record; then come the messages, tool results, usage and events
// of one or more runs, each run closed by a result record, compaction
// records, from each of which on the conversation is the compacted one it
// holds, and repair records naming the lines dropped.
package session

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/lathe-dev/lathe/internal/compact"
	"github.com/lathe-dev/lathe/internal/llm"
)

// Record types, the "type" field of each line.
const (
	typeMeta       = "meta"
	typeMessage    = "message"
	typeToolResult = "tool_result"
	typeUsage      = "usage"
	typeEvent      = "event"
	typeResult     = "result"
	// typeRepair records the lines a load dropped, so that they are
	// reported once and the log itself stays append-only.
	typeRepair = "repair"
	// typeCompaction is a compaction boundary: the conversation from it
	// on is the compacted one it holds and what follows.
	typeCompaction = "compaction"
)

// Meta describes a session. It is the first record of its log.
type Meta struct {
	SessionID string    `json:"session_id"`
	Time      time.Time `json:"time"`
	// Cwd is the directory the session started in, by which Latest finds
	// the session to continue.
	Cwd string `json:"cwd"`
	// CwdID identifies that directory itself, so that one deleted and
	// made again under the same name is told apart; see DirID and SameDir.
	CwdID    string `json:"cwd_id,omitempty"`
	Provider string `json:"provider"`
	Model    string `json:"model"`
	// Version is the version of Lathe that created the session.
	Version string `json:"version"`
	// ForkedFrom names the session whose conversation this one began
	// with (--fork-session).
	ForkedFrom string `json:"forked_from,omitempty"`
	// Parent names the session a subagent's session was started by, and
	// AgentType the subagent's type; Latest skips such sessions, which
	// the parent's log links as its subagent.start events.
	Parent    string `json:"parent,omitempty"`
	AgentType string `json:"agent_type,omitempty"`
}

// Result closes a run.
type Result struct {
	// Status is how the run ended, such as "success" or "interrupted".
	Status  string    `json:"status"`
	Turns   int       `json:"turns"`
	CostUSD float64   `json:"cost_usd"`
	Usage   llm.Usage `json:"usage"`
	// Error explains a run that did not succeed.
	Error      string `json:"error,omitempty"`
	DurationMS int64  `json:"duration_ms,omitempty"`
}

type metaRecord struct {
	Type string `json:"type"`
	Meta
}

type messageRecord struct {
	Type    string      `json:"type"`
	Message llm.Message `json:"message"`
}

type toolResultRecord struct {
	Type string   `json:"type"`
	Part llm.Part `json:"part"`
}

type usageRecord struct {
	Type    string    `json:"type"`
	Turn    int       `json:"turn"`
	Usage   llm.Usage `json:"usage"`
	CostUSD float64   `json:"cost_usd"`
}

type eventRecord struct {
	Type  string          `json:"type"`
	Event json.RawMessage `json:"event"`
}

type resultRecord struct {
	Type string `json:"type"`
	Result
}

type compactionRecord struct {
	Type string    `json:"type"`
	Time time.Time `json:"time"`
	compact.Boundary
}

type repairRecord struct {
	Type    string    `json:"type"`
	Time    time.Time `json:"time"`
	Dropped []Problem `json:"dropped"`
}

// Log appends records to one session's log. Its methods are safe for
// concurrent use; each record is written whole, never interleaved with
// another.
type Log struct {
	id   string
	path string

	mu sync.Mutex
	f  *os.File // opened with O_APPEND; nil once closed
	// cut is set when the file ends in a line cut short by a crash: the
	// next record must start on a line of its own.
	cut bool
	// off is the size of the file after the last record written whole,
	// where a failed write is cut back to.
	off int64
	// repair, when set, records the lines the load dropped; it is written
	// before the first record appended.
	repair *repairRecord
	// err, once set, is returned by every later append. A failed write is
	// truncated away, so the file never ends in part of a record, and the
	// caller is expected to stop.
	err error
}

// ID returns the session's ID.
func (l *Log) ID() string { return l.id }

// Path returns the log's file, for hooks and for people reading it.
func (l *Log) Path() string { return l.path }

// Append writes rec, which must marshal to a JSON object with a "type"
// field, as one line.
func (l *Log) Append(rec any) error {
	line, err := l.encode(rec)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	// The lines a load dropped are recorded with the first record the
	// run appends, not before: a run that stops before appending anything
	// (refused, say, for the wrong directory) reports them again next time.
	if l.repair != nil {
		r, err := l.encode(l.repair)
		if err != nil {
			return err
		}
		if err := l.write(r); err != nil {
			return err
		}
		l.repair = nil
	}
	return l.write(line)
}

func (l *Log) encode(rec any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Logs are read by people with grep and jq; keep <, > and & as they are.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		return nil, fmt.Errorf("session %s: encode record: %w", l.id, err)
	}
	return buf.Bytes(), nil // Encode ends it with a newline.
}

// write appends one encoded record; l.mu must be held.
func (l *Log) write(line []byte) error {
	if l.cut {
		line = append([]byte{'\n'}, line...)
	}
	// One write of the whole line. A full disk may take part of it; that
	// part is cut off again, so that the log still ends on a whole record
	// and the next load has nothing to drop.
	if n, err := l.f.Write(line); err != nil {
		l.err = fmt.Errorf("append to session log %s: %w", l.path, err)
		if n > 0 {
			if terr := l.f.Truncate(l.off); terr != nil {
				l.err = fmt.Errorf("%w; and could not remove the part written: %v", l.err, terr)
			}
		}
		return l.err
	}
	l.off += int64(len(line))
	l.cut = false
	return nil
}

// AppendMessage records a complete user or assistant message. Tool results
// are recorded one by one with AppendToolResult instead.
func (l *Log) AppendMessage(m llm.Message) error {
	msgs, err := l.storeImages([]llm.Message{m})
	if err != nil {
		return err
	}
	return l.Append(messageRecord{Type: typeMessage, Message: msgs[0]})
}

// AppendToolResult records the result of one tool call, as soon as the
// call finishes; the results of one turn are grouped into one user message
// when the log is loaded.
func (l *Log) AppendToolResult(p llm.Part) error {
	if p.Kind != llm.PartToolResult {
		return fmt.Errorf("session %s: AppendToolResult given a %s part", l.id, p.Kind)
	}
	return l.Append(toolResultRecord{Type: typeToolResult, Part: p})
}

// AppendUsage records the usage and cost of the turn-th model response of
// a run.
func (l *Log) AppendUsage(turn int, u llm.Usage, costUSD float64) error {
	return l.Append(usageRecord{Type: typeUsage, Turn: turn, Usage: u, CostUSD: costUSD})
}

// AppendCompaction records a compaction boundary, in one record, so that
// a crash while it is written leaves the boundary before it in force.
func (l *Log) AppendCompaction(b compact.Boundary) error {
	var err error
	if b.Messages, err = l.storeImages(b.Messages); err != nil {
		return err
	}
	return l.Append(compactionRecord{Type: typeCompaction, Time: time.Now().UTC(), Boundary: b})
}

// AppendEvent records any other event worth keeping in the audit trail.
// ev must be valid JSON.
func (l *Log) AppendEvent(ev json.RawMessage) error {
	return l.Append(eventRecord{Type: typeEvent, Event: ev})
}

// Events calls fn with the event of each event record appended to the log
// so far, in order, as AppendEvent was given it. It reads the file the
// log appends to; a line that is not an event record is skipped, as is
// one that cannot be read (a load has reported those).
func (l *Log) Events(fn func(ev json.RawMessage)) error {
	return l.EventLines(func(_ int, ev json.RawMessage) { fn(ev) })
}

// EventLines is [Log.Events] with each event's line in the log, which
// places it among the prompts ([Prompt.Line]).
func (l *Log) EventLines(fn func(line int, ev json.RawMessage)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return fmt.Errorf("read session log %s: %w", l.path, os.ErrClosed)
	}
	_, err := eachLine(io.NewSectionReader(l.f, 0, l.off), func(n int, line []byte) {
		var rec eventRecord
		if json.Unmarshal(line, &rec) == nil && rec.Type == typeEvent && len(rec.Event) > 0 {
			fn(n, rec.Event)
		}
	})
	if err != nil {
		return fmt.Errorf("read session log %s: %w", l.path, err)
	}
	return nil
}

// Prompts reads the log appended so far and returns the prompts that
// began its runs, in order.
func (l *Log) Prompts() ([]Prompt, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil, fmt.Errorf("read session log %s: %w", l.path, os.ErrClosed)
	}
	ld, err := load(io.NewSectionReader(l.f, 0, l.off))
	if err != nil {
		return nil, fmt.Errorf("read session log %s: %w", l.path, err)
	}
	return ld.t.Prompts, nil
}

// AppendResult records the end of a run.
func (l *Log) AppendResult(r Result) error {
	return l.Append(resultRecord{Type: typeResult, Result: r})
}

// Sync commits the log to stable storage, so that it survives an
// operating-system crash as well as the process's death. Call it at the
// end of each turn.
func (l *Log) Sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return fmt.Errorf("sync session log %s: %w", l.path, os.ErrClosed)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("sync session log %s: %w", l.path, err)
	}
	return nil
}

// Close syncs and closes the log. Appends after Close fail.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	serr := l.f.Sync()
	cerr := l.f.Close()
	l.f = nil
	if l.err == nil {
		l.err = fmt.Errorf("append to session log %s: %w", l.path, os.ErrClosed)
	}
	if serr != nil {
		return fmt.Errorf("sync session log %s: %w", l.path, serr)
	}
	if cerr != nil {
		return fmt.Errorf("close session log %s: %w", l.path, cerr)
	}
	return nil
}

// Failed returns the error that stopped the log's appends, or nil.
func (l *Log) Failed() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Retry lets appends go on after a failed write: the interactive UI's
// next prompt tries the disk again rather than ending the session. The
// file is first cut back to its last whole record, should the cut after
// the failure have failed too, so that it still holds only whole records
// and nothing twice; the transcript returned is the conversation as the
// file records it, which is what a resume would load, for the caller to
// go on from. Retry returns nil, nil when no write has failed, and an
// error, leaving the log failed, when the log is closed or cannot be cut
// back or read.
func (l *Log) Retry() (*Transcript, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		return nil, nil
	}
	if l.f == nil {
		return nil, l.err
	}
	if fi, err := l.f.Stat(); err != nil || fi.Size() != l.off {
		if err := l.f.Truncate(l.off); err != nil {
			return nil, fmt.Errorf("%w; and could not cut it back to its last whole record: %v", l.err, err)
		}
	}
	ld, err := load(io.NewSectionReader(l.f, 0, l.off))
	if err != nil {
		return nil, fmt.Errorf("reload session log %s: %w", l.path, err)
	}
	l.err = nil
	return ld.t, nil
}

// HistoryRecord is a record of the conversation shown to a person: a
// message, or an event as AppendEvent was given it. Exactly one is set.
type HistoryRecord struct {
	Message *llm.Message
	Event   json.RawMessage
}

// History calls fn with each message and event record appended to the
// log so far, in order; other records are skipped, as is a line that
// cannot be read (a load has reported those).
func (l *Log) History(fn func(HistoryRecord)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return fmt.Errorf("read session log %s: %w", l.path, os.ErrClosed)
	}
	_, err := eachLine(io.NewSectionReader(l.f, 0, l.off), func(_ int, line []byte) {
		var rec struct {
			Type    string          `json:"type"`
			Message *llm.Message    `json:"message"`
			Event   json.RawMessage `json:"event"`
		}
		if json.Unmarshal(line, &rec) != nil {
			return
		}
		switch {
		case rec.Type == typeMessage && rec.Message != nil:
			fn(HistoryRecord{Message: rec.Message})
		case rec.Type == typeEvent && len(rec.Event) > 0:
			fn(HistoryRecord{Event: rec.Event})
		}
	})
	if err != nil {
		return fmt.Errorf("read session log %s: %w", l.path, err)
	}
	return nil
}
