package session

import (
	"bufio"
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lathe-dev/lathe/internal/compact"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/regfile"
)

// ErrNotFound is wrapped by the errors of Open and Latest when there is no
// such session.
var ErrNotFound = errors.New("session not found")

// ErrInUse is returned by Open for a session another process is running.
var ErrInUse = errors.New("in use by another lathe process")

const ext = ".jsonl"

// Store is a directory of session logs, one <id>.jsonl file per session.
type Store struct {
	dir string
	// Warn, when set, is told of each log that List and Latest could not
	// read and skipped, so that one bad file does not hide the others.
	Warn func(error)
}

// NewStore returns the store in dir, which is created when the first
// session is.
func NewStore(dir string) *Store {
	return &Store{dir: dir}
}

// Create starts a new session and writes its meta record. An empty
// meta.SessionID gets a new ID, sortable by time; a zero meta.Time gets the
// current time.
func (s *Store) Create(meta Meta) (*Log, error) {
	// The logs hold everything the model saw: keep them private.
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	if meta.Time.IsZero() {
		meta.Time = time.Now()
	}
	if meta.CwdID == "" && meta.Cwd != "" {
		meta.CwdID = DirID(meta.Cwd)
	}
	given := meta.SessionID != ""
	if given && !validID(meta.SessionID) {
		return nil, fmt.Errorf("create session: invalid session ID %q", meta.SessionID)
	}
	for attempt := 0; ; attempt++ {
		if !given {
			meta.SessionID = newID(meta.Time)
		}
		path := s.path(meta.SessionID)
		// Read as well as written: Events and Prompts read the log back.
		f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
		// A generated ID collides only with one made in the same second
		// by another process; draw again.
		if errors.Is(err, fs.ErrExist) && !given && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("create session: %w", err)
		}
		if err := lock(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("create session %s: %w", meta.SessionID, err)
		}
		l := &Log{id: meta.SessionID, path: path, f: f}
		if err := l.Append(metaRecord{Type: typeMeta, Meta: meta}); err != nil {
			// Without its meta record the file is no session at all.
			f.Close()
			os.Remove(path)
			return nil, err
		}
		return l, nil
	}
}

// newID returns an ID such as 20261121T151400-ab12cd: the UTC time, so
// that IDs sort by creation, and random bits, so that sessions created in
// the same second differ.
func newID(t time.Time) string {
	var b [3]byte
	rand.Read(b[:]) // never fails
	return t.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

// validID rejects IDs that are not plain file names, so that an ID from
// the command line cannot reach outside the store.
func validID(id string) bool {
	return id != "" && !strings.HasPrefix(id, ".") && !strings.ContainsAny(id, `/\`)
}

func (s *Store) path(id string) string {
	return filepath.Join(s.dir, id+ext)
}

// Dir returns the directory for what session id keeps besides its log,
// such as the whole of tool outputs cut for the model: <id>/ next to
// <id>.jsonl. Nothing makes it until something is kept there.
func (s *Store) Dir(id string) string {
	return filepath.Join(s.dir, id)
}

// Open loads session id to resume it: the returned Log appends to the same
// file, and the Transcript holds the conversation so far. A line in the
// middle of the log that cannot be used is a *CorruptError; the last line
// cut short by a crash is dropped and listed in Transcript.Dropped.
func (s *Store) Open(id string) (*Log, *Transcript, error) {
	return s.open(id, false)
}

// Repair is Open that also drops the lines in the middle of the log that
// cannot be used, keeping everything else, and lists them in
// Transcript.Dropped.
func (s *Store) Repair(id string) (*Log, *Transcript, error) {
	return s.open(id, true)
}

func (s *Store) open(id string, repair bool) (*Log, *Transcript, error) {
	// One descriptor both reads the log from the start and appends to it,
	// so both are sure to be the same file.
	f, path, err := s.openLog("open session", id, os.O_RDWR|os.O_APPEND)
	if err != nil {
		return nil, nil, err
	}
	// Two runs appending to one session would interleave two
	// conversations; the second is refused until the first ends.
	if err := lock(f); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("open session %s: %w", id, err)
	}
	l, t, err := s.load(id, path, f, repair)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return l, t, nil
}

// openLog opens the log of session id with flag, for op ("open
// session"), returning its path too.
func (s *Store) openLog(op, id string, flag int) (*os.File, string, error) {
	if !validID(id) {
		return nil, "", fmt.Errorf("%s: invalid session ID %q", op, id)
	}
	path := s.path(id)
	f, _, err := regfile.OpenFile(path, flag)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("%s %s: %w in %s", op, id, ErrNotFound, s.dir)
	}
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	return f, path, nil
}

// unusable is the error for the problems of the log at path, unless all
// of them are a last line cut short by a crash, which a load drops.
func unusable(path string, problems []Problem) error {
	if i := slices.IndexFunc(problems, func(p Problem) bool { return !p.Cut }); i >= 0 {
		return &CorruptError{Path: path, Problems: problems[i:]}
	}
	return nil
}

// Fork starts a new session, described by meta, whose conversation is
// that of session id, which it only reads: the conversation is copied
// into the new log, record by record, so that the fork resumes without
// its origin, and the origin goes on as it was. With repair, lines of the
// origin that cannot be used are left out of the copy (and listed in
// Transcript.Dropped) rather than refused. The Transcript's totals are
// the origin's; the new log has none yet.
func (s *Store) Fork(id string, meta Meta, repair bool) (*Log, *Transcript, error) {
	return s.ForkAt(id, meta, repair, -1)
}

// ForkAt is [Store.Fork] keeping only the first keep messages of the
// conversation (all of them when keep is negative): the conversation as
// it stood before a prompt ([Prompt.Messages]), for a rewind that goes
// on from there while the origin keeps what followed. A cut inside the
// conversation's last compaction is refused: the summary cannot be
// undone.
func (s *Store) ForkAt(id string, meta Meta, repair bool, keep int) (*Log, *Transcript, error) {
	f, path, err := s.openLog("fork session", id, os.O_RDONLY)
	if err != nil {
		return nil, nil, err
	}
	ld, err := load(f)
	f.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("fork session %s: %w", path, err)
	}
	loadImages(ld.t, path, id)
	if err := unusable(path, ld.problems); err != nil && !repair {
		return nil, nil, err
	}
	if keep >= 0 {
		if err := ld.t.cut(keep); err != nil {
			return nil, nil, fmt.Errorf("fork session %s: %w", id, err)
		}
	}
	meta.ForkedFrom = id
	l, err := s.Create(meta)
	if err != nil {
		return nil, nil, err
	}
	if err := copyConversation(l, ld.t); err != nil {
		l.Close()
		os.Remove(l.path)
		return nil, nil, fmt.Errorf("fork session %s: %w", id, err)
	}
	ld.t.Meta.ForkedFrom = id
	ld.t.Dropped = ld.problems
	return l, ld.t, nil
}

// cut keeps the first keep messages of the conversation, and the
// prompts and provider's count that are of them.
func (t *Transcript) cut(keep int) error {
	switch {
	case keep > len(t.Messages):
		return fmt.Errorf("cannot keep %d messages of a conversation of %d", keep, len(t.Messages))
	case t.Compactions > 0 && keep < t.Covered:
		return fmt.Errorf("cannot keep %d messages: the first %d are a compaction's summary", keep, t.Covered)
	}
	t.Messages = t.Messages[:keep:keep]
	if t.CountedMessages > keep {
		t.Counted, t.CountedMessages = 0, 0
	}
	t.Prompts = slices.DeleteFunc(t.Prompts, func(p Prompt) bool { return p.Messages >= keep })
	return nil
}

// InUse reports whether a run holds session id's log, as Open would
// find it, without keeping the log.
func (s *Store) InUse(id string) (bool, error) {
	f, _, err := s.openLog("look at session", id, os.O_RDONLY)
	if err != nil {
		return false, err
	}
	defer f.Close()
	return held(f)
}

// copyConversation records msgs in l as the agent would have: tool
// results one by one, every other message whole.
// A compacted conversation is copied as the boundary it starts with,
// ledger and all, and what followed it.
func copyConversation(l *Log, t *Transcript) error {
	msgs := t.Messages
	if t.Compactions > 0 {
		b := compact.Boundary{Messages: msgs[:t.Covered], Ledger: t.Ledger, Reason: compact.Fork}
		if err := l.AppendCompaction(b); err != nil {
			return err
		}
		msgs = msgs[t.Covered:]
	}
	for _, m := range msgs {
		if !toolResults(m) {
			if err := l.AppendMessage(m); err != nil {
				return err
			}
			continue
		}
		for _, p := range m.Parts {
			if err := l.AppendToolResult(p); err != nil {
				return err
			}
		}
	}
	return l.Sync()
}

// toolResults reports whether m is the results of a turn's tool calls,
// which the log keeps as one record each.
func toolResults(m llm.Message) bool {
	return m.Role == llm.RoleUser && len(m.Parts) > 0 && !slices.ContainsFunc(m.Parts, func(p llm.Part) bool { return p.Kind != llm.PartToolResult })
}

func (s *Store) load(id, path string, f *os.File, repair bool) (*Log, *Transcript, error) {
	ld, err := load(f)
	if err != nil {
		return nil, nil, fmt.Errorf("open session %s: %w", path, err)
	}
	loadImages(ld.t, path, id)
	if err := unusable(path, ld.problems); err != nil && !repair {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("open session %s: %w", path, err)
	}
	l := &Log{id: id, path: path, f: f, cut: ld.cut, off: fi.Size()}
	if len(ld.problems) > 0 {
		ld.t.Dropped = ld.problems
		l.repair = &repairRecord{Type: typeRepair, Time: time.Now(), Dropped: ld.problems}
	}
	return l, ld.t, nil
}

// entry is a log file in the store.
type entry struct {
	id       string
	path     string
	modified time.Time
}

// entries lists the store's logs, most recently written first.
func (s *Store) entries() ([]entry, error) {
	des, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	var es []entry
	for _, de := range des {
		// Anything but a directory is listed, so that a FIFO, a device or
		// a link in its place is reported when it is read, not passed over
		// in silence.
		id, ok := strings.CutSuffix(de.Name(), ext)
		if !ok || de.IsDir() || !validID(id) {
			continue
		}
		info, err := de.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since ReadDir
		}
		if err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		es = append(es, entry{id: id, path: filepath.Join(s.dir, de.Name()), modified: info.ModTime()})
	}
	slices.SortFunc(es, func(a, b entry) int {
		if c := b.modified.Compare(a.modified); c != 0 {
			return c
		}
		return cmp.Compare(b.id, a.id)
	})
	return es, nil
}

// Latest returns the ID of the most recently written session started in
// cwd, not counting subagents' sessions (Meta.Parent).
func (s *Store) Latest(cwd string) (string, error) {
	es, err := s.entries()
	if err != nil {
		return "", err
	}
	cwd = filepath.Clean(cwd)
	for _, e := range es {
		meta, ok, err := readMeta(e.path)
		if err != nil {
			s.warn(err)
			continue
		}
		if ok && filepath.Clean(meta.Cwd) == cwd && meta.Parent == "" {
			return e.id, nil
		}
	}
	return "", fmt.Errorf("no session started in %s: %w in %s", cwd, ErrNotFound, s.dir)
}

// readMeta reads the meta record of the log at path; ok is false when the
// log has none, as when its creation was cut short.
func readMeta(path string) (meta Meta, ok bool, err error) {
	f, _, err := regfile.Open(path)
	if err != nil {
		return Meta{}, false, fmt.Errorf("read session: %w", err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadBytes('\n')
	if err != nil && err != io.EOF {
		return Meta{}, false, fmt.Errorf("read session %s: %w", path, err)
	}
	var rec metaRecord
	if json.Unmarshal(line, &rec) != nil || rec.Type != typeMeta {
		return Meta{}, false, nil
	}
	return rec.Meta, true, nil
}

// Summary describes a session for listing.
type Summary struct {
	Meta
	// Updated is when the log was last written.
	Updated time.Time
	// Turns counts the model responses of all the session's runs.
	Turns int
	// Prompt is the start of the first user message, on one line.
	Prompt string
	Usage  llm.Usage
	Cost   float64
}

// promptExcerpt bounds Summary.Prompt, in characters.
const promptExcerpt = 80

// List describes every session, most recently written first. Logs are read
// one line at a time, so a long history costs time but not memory.
func (s *Store) List() ([]Summary, error) {
	es, err := s.entries()
	if err != nil {
		return nil, err
	}
	var sums []Summary
	for _, e := range es {
		sum, ok, err := summarize(e.path)
		if err != nil {
			s.warn(err)
			continue
		}
		if ok {
			sum.Updated = e.modified
			sums = append(sums, sum)
		}
	}
	return sums, nil
}

// summarize reads the log at path; ok is false when it has no meta record.
func summarize(path string) (sum Summary, ok bool, err error) {
	f, _, err := regfile.Open(path)
	if err != nil {
		return Summary{}, false, fmt.Errorf("read session: %w", err)
	}
	defer f.Close()
	_, err = eachLine(f, func(_ int, line []byte) {
		// Decode the type first, and the rest only of the few records
		// a summary needs, skipping the bulk of messages.
		var head struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(line, &head) != nil {
			return
		}
		switch head.Type {
		case typeMeta:
			var rec metaRecord
			if !ok && json.Unmarshal(line, &rec) == nil {
				sum.Meta, ok = rec.Meta, true
			}
		case typeUsage:
			var rec usageRecord
			if json.Unmarshal(line, &rec) == nil {
				sum.Usage = sum.Usage.Add(rec.Usage)
				sum.Cost += rec.CostUSD
				sum.Turns++
			}
		case typeMessage:
			if sum.Prompt != "" {
				break
			}
			var rec messageRecord
			if json.Unmarshal(line, &rec) == nil && rec.Message.Role == llm.RoleUser {
				sum.Prompt = excerpt(rec.Message.Text(), promptExcerpt)
			}
		}
	})
	if err != nil {
		return Summary{}, false, fmt.Errorf("read session %s: %w", path, err)
	}
	return sum, ok, nil
}

func (s *Store) warn(err error) {
	if s.Warn != nil {
		s.Warn(fmt.Errorf("skipped a session log: %w", err))
	}
}

// excerpt returns s on one line, cut to at most n characters.
func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return strings.TrimRight(string(runes[:n-1]), " ") + "…"
}
