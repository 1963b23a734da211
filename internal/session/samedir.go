package session

import "strings"

// SameDir reports whether path is the directory that id, a DirID, was
// taken of. The device number is left out of the comparison: for file
// systems without a block device of their own (NFS, btrfs subvolumes,
// overlayfs, FUSE) the kernel numbers them as they are mounted, so the
// number of the same directory can change with a reboot or a remount.
// The inode number and birth time still tell a directory made again.
func SameDir(id, path string) bool {
	got := DirID(path)
	if got == "" {
		return false
	}
	_, want, _ := strings.Cut(id, ":")
	_, got, _ = strings.Cut(got, ":")
	return want == got
}
