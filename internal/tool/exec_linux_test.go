package tool

import "syscall"

// diesWithParent reports whether a process started with a has the kernel
// kill it when Lathe dies.
func diesWithParent(a *syscall.SysProcAttr) bool { return a != nil && a.Pdeathsig != 0 }
