package sandbox

import "strconv"

// bwrapArgs returns bwrap's options for pl: the same file system, with
// the command in dir, Lathe's own binary exe visible unless exe is "",
// and the seccomp filter read from descriptor filterFD.
func bwrapArgs(pl plan, dir, exe string, filterFD int) []string {
	// No --disable-userns: the seccomp filter refuses every way of
	// making or joining a namespace, on both backends, and bwrap's own
	// way costs a second user namespace per command.
	args := []string{
		"--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
		"--cap-drop", "ALL", "--die-with-parent",
		"--seccomp", strconv.Itoa(filterFD),
		"--ro-bind", "/", "/",
		"--dev", "/dev",
		"--proc", "/proc",
		"--tmpfs", "/tmp",
	}
	if exe != "" && within(exe, "/tmp") {
		args = append(args, "--ro-bind", exe, exe)
	}
	args = append(args, "--bind", pl.tmp, pl.tmp)
	for _, dir := range pl.writable {
		args = append(args, "--bind", dir, dir)
	}
	for _, dir := range pl.readable {
		args = append(args, "--ro-bind", dir, dir)
	}
	for _, path := range pl.readOnly {
		args = append(args, "--ro-bind", path, path)
	}
	for _, dir := range pl.hideDirs {
		args = append(args, "--perms", "0000", "--tmpfs", dir, "--remount-ro", dir)
	}
	for _, path := range append(pl.hideFiles, pl.sockets...) {
		args = append(args, "--ro-bind", "/dev/null", path)
	}
	return append(args, "--chdir", dir)
}
