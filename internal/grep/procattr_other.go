//go:build !linux

package grep

import "syscall"

// rgProcAttr has nothing to add where there is no parent-death signal;
// cancelling the search still kills ripgrep.
func rgProcAttr() *syscall.SysProcAttr { return nil }
