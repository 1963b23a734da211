package patch

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/lathe-dev/lathe/internal/regfile"
	"github.com/lathe-dev/lathe/internal/textfile"
)

// Apply parses text and applies it to the files under dir; see
// [Patch.Apply].
func Apply(ctx context.Context, dir, text string) (Result, error) {
	p, err := Parse(text)
	if err != nil {
		return Result{}, err
	}
	return p.Apply(ctx, dir)
}

// Apply applies p to the files under dir, against which relative paths are
// resolved. It works out every file's new content in memory first, so that
// a patch whose files or lines are not as it expects changes nothing, and
// only then writes, each file atomically. If a write fails, the files
// already written are restored, and the error says whether that worked.
//
// A failure of the patch itself is returned as an *Error for the model to
// act on. Any other error is the context's.
func (p *Patch) Apply(ctx context.Context, dir string) (Result, error) {
	if len(p.Hunks) == 0 {
		return Result{}, &Error{msg: "No files were modified."}
	}
	s := &stage{dir: dir, files: make(map[string]*file)}
	var res Result
	for _, h := range p.Hunks {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		if err := s.apply(h, &res); err != nil {
			return Result{}, err
		}
	}
	notes, err := s.commit(ctx)
	if err != nil {
		return Result{}, err
	}
	res.Notes = append(res.Notes, notes...)
	return res, nil
}

var errNotRegular = errors.New("not a regular file")

// stage is the state of the files a patch touches, as the hunks applied so
// far leave them. Later hunks see the effect of earlier ones, as they would
// if each were written at once, which is what Codex does.
type stage struct {
	dir   string
	files map[string]*file
	// order lists the changed files in the order of their first change,
	// which is the order they are written in.
	order []*file
}

// file is one file a patch touches: how it is on disk and how the patch
// leaves it.
type file struct {
	name string // the path as the patch first names it, for messages
	path string // the resolved path
	// target is where writes go: path, or the file that a symlink at path
	// leads to, so that the link survives.
	target string

	// On disk.
	existed bool
	isDir   bool
	special bool // neither a regular file nor a directory
	orig    []byte
	mode    fs.FileMode
	err     error // why it could not be read
	refused error // why it may not be written, such as being read-only

	// After the patch.
	changed bool
	exists  bool
	data    []byte
	perm    fs.FileMode // the mode of a file the patch creates, before umask

	backup string // where a deleted file was moved aside while committing
}

// load returns the file named name, reading it from disk the first time.
func (s *stage) load(name string) *file {
	path := resolve(s.dir, name)
	if f, ok := s.files[path]; ok {
		return f
	}
	f := &file{name: name, path: path, target: path, perm: 0o666}
	s.files[path] = f
	fi, err := os.Lstat(path)
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if t, evalErr := filepath.EvalSymlinks(path); evalErr == nil {
			f.target = t
			fi, err = os.Stat(t)
		}
		// A dangling link stays a special file: it can be deleted, and
		// restored by a rollback, but not written through.
	}
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		// A path below a regular file does not exist either; creating it
		// fails when the patch is written, and is rolled back.
		return f
	case err != nil:
		f.err = err
		return f
	}
	f.existed, f.exists = true, true
	f.mode = fi.Mode().Perm()
	switch {
	case fi.IsDir():
		f.isDir = true
	case !fi.Mode().IsRegular():
		f.special = true
	default:
		f.orig, f.err = regfile.ReadFile(f.target, textfile.MaxSize)
		f.data = f.orig
		f.refused = textfile.Writable(f.target, fi)
	}
	return f
}

// write stages new content for f; perm is the mode to create it with if it
// does not exist on disk.
func (s *stage) write(f *file, data []byte, perm fs.FileMode) {
	s.touch(f)
	f.exists, f.data, f.perm = true, data, perm
}

func (s *stage) remove(f *file) {
	s.touch(f)
	f.exists, f.data = false, nil
}

func (s *stage) touch(f *file) {
	if !f.changed {
		f.changed = true
		s.order = append(s.order, f)
	}
}

// writable checks that f, named name in the patch, can be given new
// content, op naming the operation in the error.
func writable(f *file, name, op string) error {
	switch {
	case f.err != nil:
		return unverified(f.err, "Failed to read %s", name)
	case f.exists && f.isDir:
		return unverified(syscall.EISDIR, "%s %s", op, name)
	case f.exists && f.special:
		return unverified(errNotRegular, "%s %s", op, name)
	case f.exists && f.refused != nil:
		return unverified(f.refused, "%s %s", op, name)
	}
	return nil
}

// readable checks that f, named name in the patch, exists and is not a
// directory, op naming the operation in the error.
func readable(f *file, name, op string) error {
	switch {
	case f.err != nil:
		return unverified(f.err, "%s %s", op, name)
	case !f.exists:
		return unverified(syscall.ENOENT, "%s %s", op, name)
	case f.isDir:
		return unverified(syscall.EISDIR, "%s %s", op, name)
	}
	return nil
}

// apply stages hunk h and records it in res.
func (s *stage) apply(h Hunk, res *Result) error {
	switch h.Op {
	case OpAdd:
		f := s.load(h.Path)
		if err := writable(f, h.Path, "Failed to write file"); err != nil {
			return err
		}
		// Overwriting a text file keeps its line endings, byte-order mark
		// and Latin-1.
		var format textfile.Format
		if f.exists {
			format = textfile.Replacing(f.data)
		}
		data, err := format.Encode(h.Contents)
		if err != nil {
			return unverified(err, "Failed to write file %s", h.Path)
		}
		s.write(f, data, f.perm)
		res.Added = append(res.Added, h.Path)
	case OpDelete:
		f := s.load(h.Path)
		if err := readable(f, h.Path, "Failed to read"); err != nil {
			return err
		}
		s.remove(f)
		res.Deleted = append(res.Deleted, h.Path)
	case OpUpdate:
		return s.update(h, res)
	}
	return nil
}

func (s *stage) update(h Hunk, res *Result) error {
	const op = "Failed to read file to update"
	f := s.load(h.Path)
	if err := readable(f, h.Path, op); err != nil {
		return err
	}
	if f.special {
		return unverified(errNotRegular, "%s %s", op, h.Path)
	}
	// Text that is not UTF-8 is Latin-1, unless it is binary, which Codex
	// refuses as not UTF-8.
	text, format := textfile.Decode(f.data)
	if _, binary := textfile.Binary(f.data[:min(len(f.data), textfile.SampleSize)]); binary && format.Latin1 {
		return unverified(errors.New("stream did not contain valid UTF-8"), "%s %s", op, h.Path)
	}
	updated, notes, err := updateText(text, h.Chunks, h.Path)
	if err != nil {
		return err
	}
	data, err := format.Encode(updated)
	if err != nil {
		return unverified(err, "Failed to update %s", h.Path)
	}
	res.Notes = append(res.Notes, notes...)
	// Moving a file onto itself is an update: Codex would write it and
	// then delete it.
	if h.MoveTo == "" || resolve(s.dir, h.MoveTo) == f.path {
		if f.refused != nil {
			return unverified(f.refused, "Failed to write file %s", h.Path)
		}
		s.write(f, data, f.perm)
		res.Modified = append(res.Modified, h.Path)
		return nil
	}
	dest := s.load(h.MoveTo)
	if err := writable(dest, h.MoveTo, "Failed to write file"); err != nil {
		return err
	}
	// A moved file keeps its mode unless it replaces an existing file,
	// which keeps its own.
	perm := f.perm
	if f.existed {
		perm = f.mode
	}
	s.write(dest, data, perm)
	s.remove(f)
	res.Modified = append(res.Modified, h.MoveTo)
	return nil
}
