//go:build !linux

package tool

import "syscall"

// diesWithParent has nothing to check where there is no parent-death
// signal.
func diesWithParent(*syscall.SysProcAttr) bool { return true }
