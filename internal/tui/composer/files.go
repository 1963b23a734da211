package composer

import (
	"context"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

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
		if !typable(rel) {
			// A name with control characters or that is not UTF-8
			// can be neither shown as it is nor typed.
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
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

// typable says whether a path is valid UTF-8 without control
// characters.
func typable(rel string) bool {
	if !utf8.ValidString(rel) {
		return false
	}
	for _, r := range rel {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
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

// indexMaxAge is how old an index may be when a completion starts
// before the composer builds it again, to see files made since.
const indexMaxAge = 30 * time.Second

// refreshIndex starts building the index, if the composer has a root
// and no index or an old one, and none is being built.
func (m Model) refreshIndex() (Model, tea.Cmd) {
	if m.root == "" || m.building || (m.files != nil && m.now().Sub(m.builtAt) < indexMaxAge) {
		return m, nil
	}
	m.building = true
	return m, BuildIndex(m.ctx, m.root)
}

// atState is the "@" completion under way: the word at the cursor, if it
// begins with "@", and the paths it matches. Matching a large index
// takes milliseconds, so it runs off the UI goroutine: a keystroke is
// shown at once, the list when its matches arrive ([atMatches]).
type atState struct {
	word    string // the word matches are for, "@" included
	matches []string
	sel     int
	// dismissed is set by Esc until the word changes.
	dismissed bool
	// want is the word at the cursor while its matches are computed, ""
	// when they are those shown; ask is set until that is started.
	want string
	ask  bool
}

// atMatches is the message of the matches of a word computed.
type atMatches struct {
	word    string
	matches []string
}

func (a atState) open() bool { return len(a.matches) > 0 && !a.dismissed }

// update follows the word at the cursor.
func (a atState) update(word string) atState {
	switch {
	case !strings.HasPrefix(word, "@"):
		return atState{}
	case word == a.word:
		a.want, a.ask = "", false
	case word != a.want:
		a.want, a.ask = word, true
	}
	return a
}

// matchCmd computes the matches of the word wanted, off the UI
// goroutine; the index is not changed once built, so it may be read
// there.
func matchCmd(ix *Index, word string) tea.Cmd {
	return func() tea.Msg {
		return atMatches{word: word, matches: ix.match(word[1:], MaxCompletions)}
	}
}

// arrived takes matches computed, if they are still wanted.
func (a atState) arrived(msg atMatches) atState {
	if msg.word != a.want {
		return a
	}
	return atState{word: msg.word, matches: msg.matches}
}

// settle computes the wanted matches now, for a key that accepts one.
func (a atState) settle(ix *Index) atState {
	if a.want == "" || ix == nil {
		return a
	}
	return a.arrived(atMatches{word: a.want, matches: ix.match(a.want[1:], MaxCompletions)})
}

// match ranks the paths that contain query's characters in order,
// without regard to case: those whose base name the query begins first,
// then those whose path it begins, then the tightest matches (fewest
// runs), shorter paths first, then in the index's order; n at most. It
// keeps only the best n as it goes, so that a query matching most of a
// large repository costs no sort.
func (ix *Index) match(query string, n int) []string {
	q := strings.ToLower(query)
	best := make([]pathRank, 0, n+1)
	for i, lp := range ix.lower {
		runs, ok := fuzzy.Runs(lp, q)
		if !ok {
			continue
		}
		base := strings.TrimSuffix(lp, "/")
		base = base[strings.LastIndexByte(base, '/')+1:]
		r := pathRank{i: i, n: len(lp), base: strings.HasPrefix(base, q), prefix: strings.HasPrefix(lp, q), runs: runs}
		if len(best) == n && !r.before(best[n-1]) {
			continue
		}
		at, _ := slices.BinarySearchFunc(best, r, func(a, b pathRank) int {
			if a.before(b) {
				return -1
			}
			return 1
		})
		best = slices.Insert(best, at, r)
		if len(best) > n {
			best = best[:n]
		}
	}
	out := make([]string, len(best))
	for j, r := range best {
		out[j] = ix.Paths[r.i]
	}
	return out
}

// pathRank is what ranks a path that matches.
type pathRank struct {
	i, n         int // index and length of the path
	base, prefix bool
	runs         int
}

// before says whether a ranks above b.
func (a pathRank) before(b pathRank) bool {
	switch {
	case a.base != b.base:
		return a.base
	case a.prefix != b.prefix:
		return a.prefix
	case a.runs != b.runs:
		return a.runs < b.runs
	case a.n != b.n:
		return a.n < b.n
	default:
		return a.i < b.i
	}
}

// wordAtCursor returns the blank-delimited word that ends at the cursor.
func (m Model) wordAtCursor() string {
	if m.files == nil && m.root == "" {
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
	case "tab", "enter":
		if m.at = m.at.settle(m.files); !m.at.open() {
			return m, nil, false
		}
	}
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
func (m Model) indexReady(msg indexReady) (Model, tea.Cmd) {
	m.building = false
	if msg.err != nil {
		m.problem = "file completion: " + msg.err.Error()
		return m, nil
	}
	m.files, m.builtAt = msg.ix, m.now()
	// The word at the cursor is matched again, in the new index.
	m.at = atState{}
	m = m.sync()
	if m.at.ask {
		m.at.ask = false
		return m, matchCmd(m.files, m.at.want)
	}
	return m, nil
}
