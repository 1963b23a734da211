package tool

import (
	"crypto/sha256"
	"path/filepath"
	"sync"

	"github.com/lathe-dev/lathe/internal/sandbox"
	"github.com/lathe-dev/lathe/internal/shell"
	"github.com/lathe-dev/lathe/internal/spill"
)

// Env is what tools act on: the workspace and the state shared by the
// calls of one session. Its fields are safe for concurrent use.
type Env struct {
	// Dir is the workspace root, the directory Lathe was started in.
	// Relative paths in tool arguments are resolved against it.
	Dir string
	// Reads remembers the content of each file as the model last saw it,
	// for Edit's read-before-edit and staleness checks.
	Reads *ReadTracker
	// NamedHost reports whether a permission rule names host exactly
	// (see [NamedHosts]), which lets WebFetch reach it at a private or
	// loopback address; nil names none, so WebFetch reaches only the
	// public internet.
	NamedHost func(host string) bool
	// Shell runs every command a tool starts, and its executor starts
	// every other process, such as ripgrep: the one place a sandbox
	// reaches them all.
	Shell *shell.Runner
	// Outputs keeps the whole of each output cut for the model, in the
	// session's directory; nil keeps none.
	Outputs *spill.Dir
}

// ForgetShown forgets what reads showed the model of conversation (see
// [ReadTracker.ForgetShown]). A nil Env remembers nothing anyway.
func (e *Env) ForgetShown(conversation string) {
	if e != nil {
		e.Reads.ForgetShown(conversation)
	}
}

// Cap caps a result's content as it enters the history: a result longer
// than [spill.Limit] characters keeps its head and tail, and the whole of
// it is saved in Outputs under a path the cut content names, and Saved
// says. A result the tool sized itself (Capped) is left as it is. A nil
// Env saves nothing.
func (e *Env) Cap(res Result) Result {
	if res.Capped {
		return res
	}
	var dir *spill.Dir
	if e != nil {
		dir = e.Outputs
	}
	res.Content, res.Saved = dir.Cap(res.Content)
	res.Capped = true
	return res
}

// executor returns the executor of the Shell, or nil for none.
func (e *Env) executor() sandbox.Executor {
	if e.Shell == nil {
		return nil
	}
	return e.Shell.Executor()
}

// ReadTracker remembers, for each file, a hash of its content as the
// model last saw it (by reading it) or left it (by writing it). Write and
// Edit compare it with the file on disk to refuse changes to a file that
// changed behind the model's back. Paths are absolute; callers resolve
// symbolic links so that one file has one entry.
//
// A ReadTracker is safe for concurrent use. A nil *ReadTracker remembers
// nothing, so every file looks unread.
//
// It also remembers which window of each file a read showed the model
// in each conversation, and when, so that reading the same window of
// the same content again can be answered in a line (see
// [ReadTracker.ShownAt]).
type ReadTracker struct {
	mu     sync.Mutex
	hashes map[string][sha256.Size]byte
	shown  map[shownKey]shownRead
}

// shownKey is a file in a conversation.
type shownKey struct{ conversation, path string }

// shownRead is a window of a file a read showed the model: its content
// then, the window (tool, offset, limit) and the turn.
type shownRead struct {
	sum    [sha256.Size]byte
	window string
	turn   int
}

// NewReadTracker returns an empty tracker.
func NewReadTracker() *ReadTracker {
	return &ReadTracker{hashes: make(map[string][sha256.Size]byte), shown: make(map[shownKey]shownRead)}
}

// Wrote notes that Lathe has just written the file at path, now
// content hashing to sum: Edit may change it again without a read, but
// what a read showed of it before is no longer current.
func (t *ReadTracker) Wrote(path string, sum [sha256.Size]byte) {
	if t == nil {
		return
	}
	t.RecordHash(path, sum)
	path = filepath.Clean(path)
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.shown {
		if k.path == path {
			delete(t.shown, k)
		}
	}
}

// Show notes that a read showed the model of conversation window of
// the file at path, whose whole content hashes to sum, at turn.
func (t *ReadTracker) Show(conversation, path, window string, sum [sha256.Size]byte, turn int) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.shown[shownKey{conversation, filepath.Clean(path)}] = shownRead{sum: sum, window: window, turn: turn}
}

// ShownAt returns the turn at which the last read of path in
// conversation showed the model the same window of the same content,
// which the caller hashed from the file on disk just now: the memory of
// the read alone proves nothing, as a command may have changed the file
// since.
func (t *ReadTracker) ShownAt(conversation, path, window string, sum [sha256.Size]byte) (turn int, ok bool) {
	if t == nil {
		return 0, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.shown[shownKey{conversation, filepath.Clean(path)}]
	if !ok || s.window != window || s.sum != sum {
		return 0, false
	}
	return s.turn, true
}

// ForgetShown forgets what reads showed the model of conversation, one
// that no longer holds their results (compacted or replaced).
func (t *ReadTracker) ForgetShown(conversation string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.shown {
		if k.conversation == conversation {
			delete(t.shown, k)
		}
	}
}

// Record notes that the model has seen, or has just written, content as
// the whole of the file at path.
func (t *ReadTracker) Record(path string, content []byte) {
	t.RecordHash(path, sha256.Sum256(content))
}

// RecordHash is Record for a caller that hashed the content itself, such
// as one that streams a file too large to hold.
func (t *ReadTracker) RecordHash(path string, sum [sha256.Size]byte) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.hashes[filepath.Clean(path)] = sum
}

// Seen returns the hash recorded for path, if any.
func (t *ReadTracker) Seen(path string) (sum [sha256.Size]byte, ok bool) {
	if t == nil {
		return sum, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	sum, ok = t.hashes[filepath.Clean(path)]
	return sum, ok
}
