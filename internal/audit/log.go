// Package audit keeps a session's audit log: an append-only JSONL file in
// which every decision and action of the session's runs is a record — each
// run's start (mode, workspace, sandbox, rule files), each tool call's
// decision (allowed or denied, by which rule and file, mode, or person)
// and result (a digest of its output, its exit code, the files it changed
// with their hashes before and after), and each network connection a
// command made. Every record carries the hash of the one before, so that
// [Verify] finds any record edited, removed, inserted or reordered, and a
// run whose end is missing. [Export] turns a log into a report for people.
//
// The log is fed by the session's event bus, as its synchronous hook (see
// [Log.Emit]), and by the network proxy ([Log.Connection]). Values that
// look like secrets are redacted before they are written.
package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/regfile"
)

// Log appends records to one session's audit log, one write(2) per
// record, and syncs the file to stable storage at the end of each turn,
// each prompt and the run, as the session log does.
//
// Concurrency: its methods may be called from any goroutine; records are
// written whole, in the order the calls take the log's lock. A failed
// write is cut off again and makes every later append fail: [Log.Err]
// reports it, and the session must then stop running calls, since what
// they do could no longer be recorded.
type Log struct {
	path string
	// info is what the run's records are built from; see Info.
	info Info

	mu   sync.Mutex
	f    *os.File // nil once closed
	seq  uint64
	prev string
	off  int64
	err  error
	// mode is the session's permission mode, which decided a call that
	// no rule or person decided.
	mode string
	// outcome is how the run's last prompt ended, for session.end.
	outcome string
	// inputs holds the arguments of the calls started and not yet
	// recorded, by call id.
	inputs map[string]json.RawMessage
	// before holds the hashes, taken just before an allowed call ran, of
	// the files it was to write, by call id.
	before map[string][]File
	// checkpoints holds the checkpoint event of each call running, by
	// call id.
	checkpoints map[string]event.Event
}

// Info is what a run records in its session.start besides what the
// session.start event says.
type Info struct {
	// Sandbox says whether commands run confined, and if not, why.
	Sandbox string
	// RuleSources name the files the permission rules came from.
	RuleSources []string
	// User names the account Lathe runs as, who answers its approvals.
	User string
}

// Path is where the audit log of session id lives in dir.
func Path(dir, id string) string { return filepath.Join(dir, id+".jsonl") }

// Open opens the audit log of session id in dir for appending, creating
// dir (0700) and the log (0600) if need be. A log that exists is read to
// its last whole record, which the next record chains to; a line cut
// short by a crash is left as it is (Verify reports it) and the next
// record starts on a line of its own.
func Open(dir, id string, info Info) (*Log, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	path := Path(dir, id)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	l := &Log{path: path, info: info, f: f, prev: Genesis(id), inputs: map[string]json.RawMessage{}, before: map[string][]File{}, checkpoints: map[string]event.Event{}}
	if err := l.resume(); err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

// resume finds the last whole record of an existing log.
func (l *Log) resume() error {
	fi, err := l.f.Stat()
	if err != nil {
		return fmt.Errorf("audit log %s: %w", l.path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("audit log %s: %w", l.path, &regfile.NotRegularError{Path: l.path, Mode: fi.Mode()})
	}
	l.off = fi.Size()
	if l.off == 0 {
		return nil
	}
	r := bufio.NewReader(io.NewSectionReader(l.f, 0, l.off))
	cut := false
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			cut = line[len(line)-1] != '\n'
			if claimed, actual, ok := bodyHash(bytes.TrimSuffix(line, []byte("\n"))); ok && claimed == actual {
				var head struct {
					Seq uint64 `json:"seq"`
				}
				if json.Unmarshal(line, &head) == nil {
					l.seq, l.prev = head.Seq, claimed
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("audit log %s: %w", l.path, err)
		}
	}
	if cut {
		return l.write([]byte("\n"))
	}
	return nil
}

// Path is the log's file.
func (l *Log) Path() string { return l.path }

// Err is the error that stopped the log, if one did.
func (l *Log) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// append chains r to the log and writes it; l.mu must be held.
func (l *Log) append(r *Record) error {
	if l.err != nil {
		return l.err
	}
	if l.f == nil {
		return fmt.Errorf("audit log %s: %w", l.path, os.ErrClosed)
	}
	if r.Time == "" {
		r.Time = time.Now().UTC().Format(timeFormat)
	}
	r.Seq, r.Prev, r.Hash = l.seq+1, l.prev, ""
	line, hash, err := encode(r)
	if err != nil {
		l.err = err
		return err
	}
	if err := l.write(line); err != nil {
		return err
	}
	l.seq, l.prev = r.Seq, hash
	return nil
}

// write appends b with one write; a part written is cut off again.
func (l *Log) write(b []byte) error {
	n, err := l.f.Write(b)
	if err != nil {
		l.err = fmt.Errorf("append to audit log %s: %w", l.path, err)
		if n > 0 {
			if terr := l.f.Truncate(l.off); terr != nil {
				l.err = fmt.Errorf("%w; and could not remove the part written: %v", l.err, terr)
			}
		}
		return l.err
	}
	l.off += int64(n)
	return nil
}

// sync commits the log to stable storage; l.mu must be held.
func (l *Log) sync() {
	if l.err != nil || l.f == nil {
		return
	}
	if err := l.f.Sync(); err != nil {
		l.err = fmt.Errorf("sync audit log %s: %w", l.path, err)
	}
}

// Close writes the run's session.end record, syncs and closes the log,
// and returns the first error the log met.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return l.err
	}
	if l.seq > 0 {
		_ = l.append(&Record{Type: TypeEnd, Outcome: l.outcome})
	}
	l.sync()
	if err := l.f.Close(); err != nil && l.err == nil {
		l.err = fmt.Errorf("close audit log %s: %w", l.path, err)
	}
	l.f = nil
	return l.err
}

// hashFile returns the hex SHA-256 of the regular file path, "" when it
// does not exist, and a note in place of the hash when it cannot be read.
func hashFile(path string) string {
	f, _, err := regfile.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	if err != nil {
		return "unreadable: " + err.Error()
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "unreadable: " + err.Error()
	}
	return hex.EncodeToString(h.Sum(nil))
}

// timeFormat is the event stream's: RFC 3339 UTC with milliseconds.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"
