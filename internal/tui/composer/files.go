package composer

import (
	"context"
	"io"
	"io/fs"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/lathe-dev/lathe/internal/fuzzy"
	"github.com/lathe-dev/lathe/internal/ignore"
	"github.com/lathe-dev/lathe/internal/regfile"
	"github.com/lathe-dev/lathe/internal/termsafe"
	"github.com/lathe-dev/lathe/internal/textfile"
)

// Index is the list of paths "@" completes: the workspace's files and
// directories that git would not ignore, binary files left out. It is
// built by [BuildIndex] off the UI goroutine and handed to the composer
// in a message; once built it is not changed, so it may be shared.
type Index struct {
	// Paths are slash-separated and relative to the workspace,
	// directories with a trailing "/", in lexical order.
	Paths []string
	// Truncated is set when the workspace has more than MaxIndexed.
	Truncated bool
	// lower are the paths in lower case, for matching.
	lower []string
}

// NewIndex makes an index of paths, as [Index.Paths] describes them.
func NewIndex(paths []string) *Index {
	ix := &Index{Paths: paths, lower: make([]string, len(paths))}
	for i, p := range paths {
		ix.lower[i] = strings.ToLower(p)
	}
	return ix
}

// MaxIndexed bounds the paths an index holds.
const MaxIndexed = 200_000

// indexReady is the message of a finished index.
type indexReady struct {
	ix  *Index
	err error
}

// BuildIndex returns the command that lists the workspace at root for
// "@" completion, for the program to run off the UI goroutine; the
// composer takes the result when it arrives, and keeps completing from
// the previous index until then. ctx cancels the walk.
func BuildIndex(ctx context.Context, root string) tea.Cmd {
	return func() tea.Msg {
		ix, err := buildIndex(ctx, root)
		return indexReady{ix: ix, err: err}
	}
}

func buildIndex(ctx context.Context, root string) (*Index, error) {
	var paths []string
	truncated := false
	sample := make([]byte, textfile.SampleSize)
	err := ignore.Walk(ctx, root, ignore.Options{}, func(path, rel string, d fs.DirEntry) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(paths) >= MaxIndexed {
			truncated = true
			return fs.SkipAll
		}
		switch {
		case d.IsDir():
			paths = append(paths, rel+"/")
		case d.Type().IsRegular() && !binary(path, sample):
			paths = append(paths, rel)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	ix := NewIndex(paths)
	ix.Truncated = truncated
	return ix, nil
}

// binary says whether the file at path is binary, or cannot be read as
// text, by its start.
func binary(path string, sample []byte) bool {
	f, _, err := regfile.Open(path)
	if err != nil {
		return true
	}
	defer f.Close()
	n, err := io.ReadFull(f, sample)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return true
	}
	_, bin := textfile.Binary(sample[:n])
	return bin
}

// MaxCompletions is how many paths the "@" list shows.
const MaxCompletions = 8

// atState is the "@" completion under way: the word at the cursor, if it
// begins with "@", and the paths it matches.
type atState struct {
	word    string // the word at the cursor, "@" included
	matches []string
	sel     int
	// dismissed is set by Esc until the word changes.
	dismissed bool
}

func (a atState) open() bool { return len(a.matches) > 0 && !a.dismissed }

// update recomputes the matches for the word at the cursor.
func (a atState) update(ix *Index, word string) atState {
	if ix == nil || !strings.HasPrefix(word, "@") {
		return atState{}
	}
	if word == a.word && a.matches != nil {
		return a
	}
	return atState{word: word, matches: ix.match(word[1:], MaxCompletions)}
}

// match ranks the paths that contain query's characters in order,
// without regard to case: those whose base name the query begins first,
// then those whose path it begins, then the tightest matches (fewest
// runs), shorter paths first; n at most.
func (ix *Index) match(query string, n int) []string {
	q := strings.ToLower(query)
	type ranked struct {
		path         string
		base, prefix bool
		runs         int
	}
	var out []ranked
	for i, p := range ix.Paths {
		lp := ix.lower[i]
		_, runs, ok := fuzzy.Match(lp, q)
		if !ok {
			continue
		}
		base := strings.TrimSuffix(lp, "/")
		base = base[strings.LastIndexByte(base, '/')+1:]
		out = append(out, ranked{path: p, base: strings.HasPrefix(base, q), prefix: strings.HasPrefix(lp, q), runs: runs})
	}
	slices.SortStableFunc(out, func(a, b ranked) int {
		switch {
		case a.base != b.base:
			return boolFirst(a.base)
		case a.prefix != b.prefix:
			return boolFirst(a.prefix)
		case a.runs != b.runs:
			return a.runs - b.runs
		default:
			return len(a.path) - len(b.path)
		}
	})
	best := make([]string, 0, min(n, len(out)))
	for _, r := range out[:min(n, len(out))] {
		best = append(best, r.path)
	}
	return best
}

func boolFirst(a bool) int {
	if a {
		return -1
	}
	return 1
}

// wordAtCursor returns the blank-delimited word that ends at the cursor.
func (m Model) wordAtCursor() string {
	if m.files == nil {
		return ""
	}
	lines := strings.Split(m.ta.Value(), "\n")
	row := m.ta.Line()
	if row >= len(lines) {
		return ""
	}
	line := []rune(lines[row])
	col := min(m.ta.Column(), len(line))
	start := col
	for start > 0 && line[start-1] != ' ' && line[start-1] != '\t' {
		start--
	}
	return string(line[start:col])
}

// atKey handles a key while the "@" list is open: Up and Down move, Tab
// or Enter puts the selected path in place of the word, Esc closes the
// list.
func (m Model) atKey(k tea.KeyPressMsg) (Model, tea.Cmd, bool) {
	switch k.String() {
	case "up", "ctrl+p":
		m.at.sel = (m.at.sel - 1 + len(m.at.matches)) % len(m.at.matches)
	case "down", "ctrl+n":
		m.at.sel = (m.at.sel + 1) % len(m.at.matches)
	case "tab", "enter":
		path := m.at.matches[m.at.sel]
		for range []rune(m.at.word) {
			m.ta, _ = m.ta.Update(tea.KeyPressMsg{Code: tea.KeyBackspace})
		}
		m.ta.InsertString("@" + path)
		if !strings.HasSuffix(path, "/") {
			m.ta.InsertRune(' ')
		}
		return m.sync(), nil, true
	case "esc":
		m.at.dismissed = true
	default:
		return m, nil, false
	}
	return m, nil, true
}

// view renders the open "@" list.
func (a atState) view(width int) string {
	if !a.open() {
		return ""
	}
	lines := make([]string, len(a.matches))
	for i, p := range a.matches {
		marker := "  "
		if i == a.sel {
			marker = "› "
		}
		line := ansi.Truncate(marker+"@"+termsafe.String(p), width, "…")
		if i == a.sel {
			line = selectedStyle.Render(line)
		}
		lines[i] = line
	}
	return strings.Join(lines, "\n")
}

// indexReady takes a finished index; a failed one leaves the previous,
// and says why.
func (m Model) indexReady(msg indexReady) Model {
	if msg.err != nil {
		m.problem = "file completion: " + msg.err.Error()
		return m
	}
	m.files = msg.ix
	return m.sync()
}
