// Package spill is how every tool output is capped for the model: a text
// longer than [Limit] characters keeps its head and tail around a marker
// saying how much was cut, and the whole of it is saved in the session's
// directory under a path the marker names, so that the model can read the
// rest in pages or search it instead of running the command again.
//
// The cap is applied once, when a result enters the history (and by the
// shell to output it streams to disk): what the model saw is never cut
// again later, so it stays a cacheable prefix.
package spill

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"unicode/utf8"
)

// Limit is how many characters of one tool output the model sees, as in
// Claude Code and crush.
const Limit = 30_000

// MaxSave bounds a saved output, in bytes: a command that prints
// gigabytes must not fill the disk holding the session logs. Past it
// the file keeps the output's start; the model sees its end anyway.
const MaxSave = 64 << 20

// Dir is the directory a session saves whole outputs in, one numbered
// file each. It is created when the first output is saved, private to the
// user like the session log.
//
// A Dir is safe for concurrent use. A nil *Dir saves nothing: a cut
// output then says only how much was cut.
type Dir struct {
	path string

	mu sync.Mutex
	n  int // the number of the last file made
}

// New returns the Dir at path.
func New(path string) *Dir { return &Dir{path: path} }

// Path returns the directory's path.
func (d *Dir) Path() string { return d.path }

// Create makes a new, empty file for one output and returns it open for
// writing. Its name is the next free number, so that a resumed session
// continues the numbering of the files already there.
func (d *Dir) Create() (*os.File, error) {
	if d == nil {
		return nil, errors.New("spill: no directory for outputs")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := os.MkdirAll(d.path, 0o700); err != nil {
		return nil, fmt.Errorf("save output: %w", err)
	}
	for {
		d.n++
		path := filepath.Join(d.path, strconv.Itoa(d.n)+".txt")
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("save output: %w", err)
		}
		return f, nil
	}
}

// Save writes text to a new file and returns its path.
func (d *Dir) Save(text string) (string, error) {
	if len(text) > MaxSave {
		return "", fmt.Errorf("save output: %d bytes is more than %d MiB", len(text), MaxSave>>20)
	}
	f, err := d.Create()
	if err != nil {
		return "", err
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// A partial copy would pass for the whole output.
		os.Remove(f.Name())
		return "", fmt.Errorf("save output: %w", err)
	}
	return f.Name(), nil
}

// Cap returns s as the model sees it: all of it when it is at most Limit
// characters, else its head and tail around a marker naming the file the
// whole of it was saved in, which Cap returns as saved.
func (d *Dir) Cap(s string) (text, saved string) {
	// No more bytes than the limit is no more characters: most results
	// need no count.
	if len(s) <= Limit || utf8.RuneCountInString(s) <= Limit {
		return s, ""
	}
	where := Where{}
	if d != nil {
		where.Path, where.Err = d.Save(s)
	}
	text, _ = Clip(s, "", 0, Limit, where)
	return text, where.Path
}

// Where is where the whole of a cut output is: at Path, or nowhere, Err
// saying why when saving it failed. Partial says that Path holds only
// the first MaxSave bytes.
type Where struct {
	Path    string
	Partial bool
	Err     error
}

// Clip joins head and tail, the output on either side of gap characters
// that are no longer held, and cuts the middle out of the result so that
// it is at most limit characters plus a marker saying how many were cut
// and where the whole output is. It returns the text and the number of
// characters cut, gap included.
func Clip(head, tail string, gap int64, limit int, where Where) (string, int64) {
	if gap == 0 {
		s := head + tail
		n := utf8.RuneCountInString(s)
		if n <= limit {
			return s, 0
		}
		return elide(s, limit/2, s, limit-limit/2, int64(n-limit), where)
	}
	hn, tn := utf8.RuneCountInString(head), utf8.RuneCountInString(tail)
	hk := min(hn, limit/2)
	tk := min(tn, limit-hk)
	hk = min(hn, limit-tk)
	return elide(head, hk, tail, tk, gap+int64(hn-hk)+int64(tn-tk), where)
}

// elide returns the first hk characters of head and the last tk of tail
// around a marker saying that cut characters were left out.
func elide(head string, hk int, tail string, tk int, cut int64, where Where) (string, int64) {
	note := ""
	switch {
	case where.Path != "" && where.Partial:
		note = fmt.Sprintf("; the first %d MiB of the full output are in %s", MaxSave>>20, where.Path)
	case where.Path != "":
		note = "; the full output is in " + where.Path
	case where.Err != nil:
		note = "; the full output could not be saved: " + where.Err.Error()
	}
	return fmt.Sprintf("%s\n\n... [%d characters truncated%s] ...\n\n%s", prefix(head, hk), cut, note, suffix(tail, tk)), cut
}

// prefix returns the first n characters of s.
func prefix(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// suffix returns the last n characters of s.
func suffix(s string, n int) string {
	i := len(s)
	for ; n > 0 && i > 0; n-- {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return s[i:]
}
