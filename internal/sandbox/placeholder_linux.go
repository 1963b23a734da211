package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// placeholder is a protected directory Lathe made where a workspace had
// none (see absentProtected).
type placeholder struct {
	path string
	info fs.FileInfo
}

// placehold makes the empty directory path, to be bound read-only in
// the sandbox, unless something made it meanwhile, or the directory it
// would be in is not Lathe's to write. What cannot be made a directory
// there for another reason, a symbolic link to nowhere say, fails the
// start: a command could put a directory of its own in its place.
func (s *Sandbox) placehold(path string) error {
	s.tmpMu.Lock()
	defer s.tmpMu.Unlock()
	err := os.Mkdir(path, 0o755)
	switch {
	case errors.Is(err, fs.ErrExist):
		if info, serr := os.Stat(path); serr == nil && info.IsDir() {
			return nil
		}
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EROFS):
		// What Lathe cannot make there, a command, the same user with
		// fewer privileges, cannot either.
		return nil
	}
	if err != nil {
		return fmt.Errorf("protect %s where there is none: %w", path, err)
	}
	info, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("protect %s where there is none: %w", path, err)
	}
	s.placeholders = append(s.placeholders, placeholder{path, info})
	return nil
}

// removePlaceholders removes the directories placehold made that are
// still the ones it made, and still empty: whatever Lathe or the user
// put in one since makes it theirs. The caller holds s.tmpMu.
func (s *Sandbox) removePlaceholders() error {
	var errs []error
	for _, ph := range s.placeholders {
		info, err := os.Lstat(ph.path)
		if err != nil || !os.SameFile(info, ph.info) {
			continue
		}
		err = os.Remove(ph.path)
		if err != nil && !errors.Is(err, syscall.ENOTEMPTY) && !errors.Is(err, fs.ErrExist) && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove the placeholder %s: %w", ph.path, err))
		}
	}
	s.placeholders = nil
	return errors.Join(errs...)
}
