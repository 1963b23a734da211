//go:build unix

package session

import (
	"errors"
	"os"
	"syscall"
)

// lock takes an exclusive lock on a session's log for as long as f is
// open. The kernel drops it when the process ends, however it ends, so a
// run killed with SIGKILL leaves no stale lock behind.
func lock(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return ErrInUse
	}
	return err
}

// held reports whether another open file holds the lock on f's file. It
// takes a shared lock and gives it back at once: only a run starting in
// that instant would find the log in use.
func held(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return false, syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}
