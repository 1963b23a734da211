//go:build unix

package config

import (
	"io/fs"
	"os"
	"syscall"
)

// trustedOwner reports whether fi belongs to the user running Lathe, or
// to root, who could change anything of that user's anyway.
func trustedOwner(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return !ok || st.Uid == 0 || int(st.Uid) == os.Geteuid()
}
