package grep

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"regexp"
	"runtime"
	"sync"

	"github.com/lathe-dev/lathe/internal/ignore"
	"github.com/lathe-dev/lathe/internal/regfile"
)

// MaxLineText is how much of a line File.Lines keep: the start of a
// longer line, such as minified code, is all anyone shows of it. Both
// engines cut at the same byte, so their results stay identical.
const MaxLineText = 4 << 10

const (
	// minBuffer is the read buffer of each worker of the Go engine; it
	// grows to hold a longer line, up to maxBuffer.
	minBuffer = 128 << 10
	// maxBuffer bounds the memory a line takes: a longer one is read as
	// a stream, without holding it (see longLine).
	maxBuffer = 8 << 20
	// maxMultilineFile is the largest file searched as one text in
	// multiline mode, which must hold it whole and all its matches;
	// both engines skip larger ones.
	maxMultilineFile = 8 << 20
)

// searcher is the Go engine.
type searcher struct {
	o   Options
	re  *regexp.Regexp
	pre *prefilter // nil when the pattern has no literal to look for
	// assertions is whether the pattern holds one such as ^ or \b.
	assertions bool
	wholeText  bool
}

// dir searches the files under root in parallel: one goroutine walks the
// tree and as many as there are CPUs search what it finds.
func (s *searcher) dir(ctx context.Context, root string, opts ignore.Options) ([]File, error) {
	paths := make(chan string, 256)
	workers := runtime.GOMAXPROCS(0)
	found := make([][]File, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			w := s.worker()
			for p := range paths {
				if ctx.Err() != nil {
					continue // drain, so that the walk is never blocked
				}
				if f, ok := w.file(ctx, p, 0); ok {
					found[i] = append(found[i], f)
				}
			}
		})
	}
	err := ignore.Walk(ctx, root, opts, func(path, _ string, d fs.DirEntry) error {
		// FIFOs, devices, sockets and symbolic links are skipped, as
		// ripgrep skips them, before anything opens them.
		if !d.Type().IsRegular() {
			return nil
		}
		select {
		case paths <- path:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(paths)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var files []File
	for _, f := range found {
		files = append(files, f...)
	}
	return files, nil
}

// worker is the state of one searching goroutine, reused file to file so
// that a search allocates nothing per line.
type worker struct {
	s    *searcher
	buf  []byte
	find finder
}

func (s *searcher) worker() *worker {
	return &worker{s: s, buf: make([]byte, minBuffer)}
}

// file searches one file and reports whether it matched. typ is the
// file's type as listed by the walk, or 0 (regular) for a path already
// checked. A file that cannot be read is skipped, as ripgrep skips it with
// --no-messages; so is a binary one.
func (w *worker) file(ctx context.Context, path string, typ fs.FileMode) (File, bool) {
	var f File
	var ok bool
	var err error
	if w.s.wholeText {
		f, ok, err = w.s.multiline(path)
	} else {
		f, ok, err = w.lines(ctx, path, typ)
	}
	if err != nil || !ok || f.Matches == 0 {
		return File{}, false
	}
	return f, true
}

// fileState is the search of one file line by line.
type fileState struct {
	o         *Options
	f         File
	n         int // the number of the last line seen
	before    []Line
	afterLeft int
}

// line records line n with its match verdict.
func (st *fileState) line(text []byte, matched bool) {
	if matched {
		st.f.Matches++
	}
	o := st.o
	switch {
	case !o.Lines:
	case matched:
		st.f.Lines = append(st.f.Lines, st.before...)
		st.before = st.before[:0]
		st.f.Lines = append(st.f.Lines, Line{Number: st.n, Text: lineText(text), Match: true})
		st.afterLeft = o.After
	case st.afterLeft > 0:
		st.f.Lines = append(st.f.Lines, Line{Number: st.n, Text: lineText(text)})
		st.afterLeft--
	case o.Before > 0:
		if len(st.before) == o.Before {
			st.before = append(st.before[:0], st.before[1:]...)
		}
		st.before = append(st.before, Line{Number: st.n, Text: lineText(text)})
	}
}

func lineText(b []byte) string { return string(b[:min(len(b), MaxLineText)]) }

// lines reads the file in large blocks and searches the complete lines
// of each block at once. With a prefilter it jumps from one literal to
// the next and runs the regexp only on the lines holding one. ok is false
// for a binary file: one with a NUL byte anywhere.
func (w *worker) lines(ctx context.Context, path string, typ fs.FileMode) (_ File, ok bool, _ error) {
	fh, _, err := regfile.OpenListed(path, typ)
	if err != nil {
		return File{}, false, err
	}
	defer fh.Close()
	st := &fileState{o: &w.s.o, f: File{Path: path}}
	var (
		buf        = w.buf
		start, end int   // buf[start:end] is read and not yet searched
		off        int64 // the file offset of buf[0]
		eof        bool
	)
	for {
		if err := ctx.Err(); err != nil {
			return File{}, false, err
		}
		if start > 0 {
			copy(buf, buf[start:end])
			end -= start
			off += int64(start)
			start = 0
		}
		if !eof {
			var err error
			if end, eof, err = fill(fh, buf, end); err != nil {
				return File{}, false, err
			}
		}
		region := buf[:end]
		if !eof {
			i := bytes.LastIndexByte(region, '\n')
			if i < 0 && len(buf) < maxBuffer {
				buf = make([]byte, min(2*len(buf), maxBuffer))
				copy(buf, region)
				w.buf = buf
				continue
			}
			if i < 0 {
				var binary bool
				start, end, off, eof, binary, err = w.longLine(ctx, fh, st, off, buf, end)
				if err != nil || binary {
					return File{}, false, err
				}
				if eof && start == end {
					break
				}
				continue
			}
			region = region[:i+1]
		}
		if bytes.IndexByte(region, 0) >= 0 {
			return File{}, false, nil
		}
		w.search(region, st)
		start = len(region)
		if eof {
			break
		}
	}
	return st.f, true, nil
}

// search searches region, whole lines each ending in "\n" but perhaps
// the last line of the file.
func (w *worker) search(region []byte, st *fileState) {
	s := w.s
	pre := s.pre
	if pre != nil {
		w.find.reset(pre, region)
	}
	for pos := 0; pos < len(region); {
		jumped := false
		if pre != nil && (!s.o.Lines || s.o.Before == 0 && st.afterLeft == 0) {
			// No line before the next literal can match or be context.
			i := w.find.index(pos)
			if i < 0 {
				return
			}
			ls := pos + bytes.LastIndexByte(region[pos:i], '\n') + 1
			st.n += bytes.Count(region[pos:ls], []byte{'\n'})
			pos, jumped = ls, true
		}
		end, next := len(region), len(region)
		if i := bytes.IndexByte(region[pos:], '\n'); i >= 0 {
			end, next = pos+i, pos+i+1
		}
		line := region[pos:end]
		st.n++
		var matched bool
		switch {
		case pre == nil:
			matched = s.re.Match(line)
		case jumped && pre.exact:
			matched = true
		case jumped || pre.contains(line):
			matched = pre.exact || s.re.Match(line)
		}
		st.line(line, matched)
		pos = next
	}
}

// longLine searches a line longer than maxBuffer, whose start fills buf
// [:end] and which starts at file offset off, without holding it: it
// keeps MaxLineText bytes of it, looks for NUL bytes and the prefilter's
// literals as it streams past, and if it must, runs the regexp on a
// reader of the line. It returns what follows the line in buf[start:end]
// and the file offset of buf[0].
func (w *worker) longLine(ctx context.Context, fh *os.File, st *fileState, off int64, buf []byte, end int) (start, newEnd int, bufOff int64, eof, binary bool, err error) {
	head := bytes.Clone(buf[:MaxLineText])
	pre := w.s.pre
	hitAt := int64(-1) // where a literal was first found
	// Literals that straddle two reads are found by searching again the
	// last bytes of the one before.
	keep := 0
	if pre != nil {
		for _, lit := range pre.lits {
			keep = max(keep, len(lit)-1)
		}
	}
	size := int64(0) // bytes of the line before buf[0], then all of them
	for {
		if err := ctx.Err(); err != nil {
			return 0, 0, 0, false, false, err
		}
		chunk := buf[:end]
		nl := bytes.IndexByte(chunk, '\n')
		if nl >= 0 {
			chunk = chunk[:nl]
		}
		if bytes.IndexByte(chunk, 0) >= 0 {
			return 0, 0, 0, false, true, nil
		}
		if pre != nil && hitAt < 0 {
			if i := pre.index(chunk); i >= 0 {
				hitAt = off + size + int64(i)
			}
		}
		if nl >= 0 || eof {
			bufOff = off + size
			size += int64(len(chunk))
			start = len(chunk)
			if nl >= 0 {
				start++
			}
			break
		}
		k := min(keep, len(chunk))
		size += int64(len(chunk) - k)
		copy(buf, chunk[len(chunk)-k:])
		end = k
		if !eof {
			var err error
			if end, eof, err = fill(fh, buf, end); err != nil {
				return 0, 0, 0, false, false, err
			}
		}
	}
	matched := false
	switch {
	case pre != nil && hitAt < 0:
	case pre != nil && pre.exact:
		matched = true
	default:
		matched, err = w.s.matchLong(ctx, fh, off, size, hitAt)
		if err != nil {
			return 0, 0, 0, false, false, err
		}
	}
	st.n++
	st.line(head, matched)
	return start, end, bufOff, eof, false, nil
}

// longWindow is how much of a long line around a literal is searched
// before the regexp is run over the whole line.
const longWindow = 64 << 10

// matchLong runs the regexp on the line of size bytes at file offset off.
// Over a reader Go's regexp has no fast paths, so it first tries the text
// around the literal found at hitAt. A match there is one of the line if
// the pattern has no assertion such as ^ or \b, or if the match does not
// touch a window edge that is not the line's: assertions inside it then
// see the same neighbours as in the line.
func (s *searcher) matchLong(ctx context.Context, fh *os.File, off, size, hitAt int64) (bool, error) {
	if hitAt >= 0 {
		from := max(off, hitAt-longWindow)
		to := min(off+size, hitAt+longWindow)
		window := make([]byte, to-from)
		if _, err := fh.ReadAt(window, from); err != nil {
			return false, err
		}
		if loc := s.re.FindIndex(window); loc != nil {
			if !s.assertions || (loc[0] > 0 || from == off) && (loc[1] < len(window) || to == off+size) {
				return true, nil
			}
		}
	}
	r := bufio.NewReaderSize(&ctxReader{ctx: ctx, r: io.NewSectionReader(fh, off, size)}, 64<<10)
	matched := s.re.MatchReader(r)
	return matched, ctx.Err()
}

// ctxReader ends a read when its context is done, so that a regexp
// running over a long line stops with it.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r *ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// fill reads r into buf after its first end bytes until buf is full or r
// ends, and returns the new end and whether r ended.
func fill(r io.Reader, buf []byte, end int) (int, bool, error) {
	for end < len(buf) {
		n, err := r.Read(buf[end:])
		end += n
		if err == io.EOF {
			return end, true, nil
		}
		if err != nil {
			return end, false, err
		}
	}
	return end, false, nil
}
