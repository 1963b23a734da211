//go:build !linux

package ignore

import "os"

// openDir opens the directory at path for listing.
func openDir(path string) (*os.File, error) { return os.Open(path) }

// ModTime returns the modification time, in nanoseconds since 1970, of
// the file e names, following a symbolic link as os.Stat does.
func (e *Entry) ModTime() (int64, error) {
	fi, err := os.Stat(e.Path)
	if err != nil {
		return 0, err
	}
	return fi.ModTime().UnixNano(), nil
}
