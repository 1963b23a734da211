package session

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// DirID identifies the directory at path by device, inode and, where the
// file system records it, birth time; "" if it cannot be read. Renaming
// keeps it. Deleting the directory and making it again changes it even
// when the file system hands the freed inode number straight back, as
// ext4 does, because the birth time differs.
func DirID(path string) string {
	var st unix.Statx_t
	if unix.Statx(unix.AT_FDCWD, path, 0, unix.STATX_INO|unix.STATX_BTIME, &st) != nil {
		return ""
	}
	id := fmt.Sprintf("%d:%d", unix.Mkdev(st.Dev_major, st.Dev_minor), st.Ino)
	if st.Mask&unix.STATX_BTIME != 0 {
		id += fmt.Sprintf(":%d.%09d", st.Btime.Sec, st.Btime.Nsec)
	}
	return id
}
