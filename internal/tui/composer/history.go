package composer

import (
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
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"

	"github.com/lathe-dev/lathe/internal/regfile"
)

// History is a workspace's input history: what was submitted there,
// oldest first, kept in a file of JSON lines under Lathe's state
// directory (never in the repository), one file per workspace. Each
// entry is appended with one write, so that sessions in the same
// workspace can share the file. A History belongs to one composer and is
// used from its goroutine only.
type History struct {
	path    string
	entries []string
}

// historyLine is a line of the history file.
type historyLine struct {
	Time int64  `json:"t"`
	Text string `json:"text"`
}

// Limits on the history.
const (
	// MaxHistory is how many entries are kept in memory, the newest.
	MaxHistory = 1000
	// MaxEntry is the longest entry written to the file; a longer one
	// (a large paste) is kept for the session only.
	MaxEntry = 64 << 10
	// historyTail is how much of the file's end is read: enough for
	// MaxHistory entries of usual length.
	historyTail = 4 << 20
)

// HistoryPath is the history file of workspace under stateDir: named by
// a hash of the workspace's absolute path, so that the name says nothing
// of it and any path fits.
func HistoryPath(stateDir, workspace string) (string, error) {
	abs, err := filepath.Abs(workspace)
	if err != nil {
		return "", fmt.Errorf("history of %s: %w", workspace, err)
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(stateDir, "history", hex.EncodeToString(sum[:12])+".jsonl"), nil
}

// OpenHistory loads the history file at path (see [HistoryPath]); one
// that does not exist yet is an empty history, and "" is a history kept
// in memory only. Lines that do not parse, as one cut short by a crash,
// are skipped. The History is usable even with an error, which says why
// the file's entries are missing: the composer must not fail for it.
func OpenHistory(path string) (*History, error) {
	h := &History{path: path}
	if path == "" {
		return h, nil
	}
	f, fi, err := regfile.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return h, nil
	}
	if err != nil {
		return h, fmt.Errorf("history: %w", err)
	}
	defer f.Close()
	var from int64
	if fi.Size() > historyTail {
		from = fi.Size() - historyTail
	}
	data, err := io.ReadAll(io.NewSectionReader(f, from, historyTail))
	if err != nil {
		return h, fmt.Errorf("history: read %s: %w", path, err)
	}
	if from > 0 {
		// The first line is likely cut.
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	for line := range bytes.Lines(data) {
		var l historyLine
		if json.Unmarshal(line, &l) != nil || l.Text == "" {
			continue
		}
		h.entries = append(h.entries, l.Text)
	}
	h.trim()
	return h, nil
}

func (h *History) trim() {
	if n := len(h.entries) - MaxHistory; n > 0 {
		h.entries = append(h.entries[:0:0], h.entries[n:]...)
	}
}

// Len is the number of entries.
func (h *History) Len() int { return len(h.entries) }

// At returns the i-th newest entry, 1 being the newest.
func (h *History) At(i int) string { return h.entries[len(h.entries)-i] }

// Add records text as the newest entry, unless it is blank or the same
// as the newest, and appends it to the file. The entry is kept in memory
// even when the file cannot be written; the error says why.
func (h *History) Add(text string) error {
	if strings.TrimSpace(text) == "" || (len(h.entries) > 0 && h.entries[len(h.entries)-1] == text) {
		return nil
	}
	h.entries = append(h.entries, text)
	h.trim()
	if h.path == "" || len(text) > MaxEntry {
		return nil
	}
	line, err := json.Marshal(historyLine{Time: time.Now().Unix(), Text: text})
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(h.path), 0o700); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("history: write %s: %w", h.path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("history: write %s: %w", h.path, err)
	}
	return nil
}

// Find returns the newest entry older than the from-th newest (0 to
// search them all) that contains query, without regard to case, and its
// index for At; 0 if there is none.
func (h *History) Find(query string, from int) (int, string) {
	q := strings.ToLower(query)
	for i := from + 1; i <= len(h.entries); i++ {
		if e := h.At(i); strings.Contains(strings.ToLower(e), q) {
			return i, e
		}
	}
	return 0, ""
}

// older shows the next older history entry, keeping the draft the first
// time.
func (m Model) older() Model {
	if m.hist >= m.history.Len() {
		return m
	}
	if m.hist == 0 {
		m.draft = m.ta.Value()
	}
	m.hist++
	return m.show(m.history.At(m.hist))
}

// newer shows the next newer entry, or the draft after the newest.
func (m Model) newer() Model {
	m.hist--
	if m.hist == 0 {
		return m.show(m.draft)
	}
	return m.show(m.history.At(m.hist))
}

// show puts text in the text area, the cursor at its end, keeping the
// chips of the draft; text too long for the text area is a chip.
func (m Model) show(text string) Model {
	if tooLong(text) {
		m.ta.Reset()
		return m.paste(text)
	}
	m.ta.SetValue(text)
	m.ta.MoveToEnd()
	return m.sync()
}

// remember adds a submitted text to the history; a failure to save it is
// shown, and the text still goes.
func (m Model) remember(text string) Model {
	if m.history == nil {
		return m
	}
	if err := m.history.Add(text); err != nil {
		m.problem = err.Error()
	}
	return m
}

// search is Ctrl+R's state.
type search struct {
	query string
	// found is the index of the entry shown (for At), 0 for none.
	found int
	draft string
}

func (m Model) startSearch() Model {
	m.search = &search{draft: m.ta.Value()}
	return m
}

// searchKey handles a key during a search: typing narrows it, Ctrl+R
// finds the next older match, Enter or a movement keeps the match shown
// for editing, Esc (or Ctrl+G, Ctrl+C) goes back to the draft.
func (m Model) searchKey(k tea.KeyPressMsg) (Model, tea.Cmd) {
	s := *m.search
	m.search = &s
	switch k.String() {
	case "ctrl+r":
		if i, e := m.history.Find(s.query, s.found); i > 0 {
			s.found = i
			return m.show(e), nil
		}
		return m, nil
	case "backspace":
		if s.query != "" {
			_, n := utf8.DecodeLastRuneInString(s.query)
			s.query = s.query[:len(s.query)-n]
		}
	case "esc", "ctrl+g", "ctrl+c":
		m.search = nil
		return m.show(s.draft), nil
	case "enter":
		m.search = nil
		return m, nil
	default:
		if k.Text == "" {
			m.search = nil
			return m.key(k)
		}
		s.query += k.Text
	}
	s.found = 0
	if i, e := m.history.Find(s.query, 0); i > 0 && s.query != "" {
		s.found = i
		return m.show(e), nil
	}
	return m.show(s.draft), nil
}

func (s *search) view() string {
	if s.found == 0 && s.query != "" {
		return "search history: " + s.query + "  (no match)"
	}
	return "search history: " + s.query + "  (Ctrl+R older, Enter keep, Esc back)"
}
