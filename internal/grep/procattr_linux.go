package grep

import "syscall"

// rgProcAttr makes the kernel kill ripgrep should Lathe die without
// cancelling the search (SIGKILL, a crash). ripgrep starts no processes
// of its own, so its death is the whole of it.
func rgProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
