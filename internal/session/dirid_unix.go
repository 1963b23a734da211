//go:build unix && !linux

package session

import (
	"fmt"
	"syscall"
)

// DirID identifies the directory at path by device and inode; "" if it
// cannot be read. Renaming keeps it; deleting the directory and making it
// again changes it unless the file system reuses the inode number.
func DirID(path string) string {
	var st syscall.Stat_t
	if syscall.Stat(path, &st) != nil {
		return ""
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}
