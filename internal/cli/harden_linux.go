package cli

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// harden keeps the commands lathe runs out of its memory and its
// environment. Their own environment lacks the provider keys, but as
// processes of the same user they could still read lathe's, keys
// included, from /proc/PID/environ or /proc/PID/mem; a process that is
// not dumpable lets only root do that. Commands are unaffected: exec
// makes them dumpable again.
func harden() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("hide lathe's environment from the commands it runs: prctl(PR_SET_DUMPABLE): %w", err)
	}
	return nil
}
