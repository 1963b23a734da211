package shell

import (
	"strings"
	"testing"
)

// TestSupervisorEndsEverythingWhenLatheDies closes a supervisor's control
// pipe, as the kernel does when Lathe dies however it dies, and checks
// that the command and what it hid are killed.
func TestSupervisorEndsEverythingWhenLatheDies(t *testing.T) {
	t.Parallel()
	r := NewRunner()
	defer r.Close()
	j, err := r.Start(Command{Script: "setsid sleep 30 >/dev/null 2>&1 & echo $!; (sleep 30 >/dev/null 2>&1 & echo $!); wait"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, out := readUntil(t, j, "two pids", func(_ State, out string) bool { return strings.Count(out, "\n") == 2 })
	j.p.proc.(*supervised).closeControl()
	for _, line := range strings.Fields(out) {
		pid := firstPID(t, line)
		eventually(t, "a hidden child to die", func() bool { return gone(pid) })
	}
	readUntil(t, j, "the job to end", func(s State, _ string) bool { return s != Running })
}
