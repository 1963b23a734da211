//go:build !linux

package shell

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"

	"github.com/lathe-dev/lathe/internal/sandbox"
)

// Elsewhere than on Linux there is no child subreaper: a command runs
// directly, in a session of its own, and is stopped by signalling its
// process group. Something it started that left the group can outlive
// Lathe, and Lathe says so once.

var warnOnce sync.Once

// direct is a command started without a supervisor.
type direct struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func launch(ctx context.Context, ex sandbox.Executor, cmd *exec.Cmd, out *os.File) (process, error) {
	warnOnce.Do(func() {
		fmt.Fprintln(os.Stderr, "lathe: warning: commands are not supervised on this system: a process a command moves out of its process group (setsid, double fork) may outlive lathe")
	})
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := ex.Start(ctx, cmd); err != nil {
		return nil, err
	}
	d := &direct{cmd: cmd, done: make(chan struct{})}
	go func() {
		// The exit status is read from ProcessState; an error here only
		// repeats it.
		_ = cmd.Wait()
		close(d.done)
	}()
	return d, nil
}

func (d *direct) exited() <-chan struct{} { return d.done }

func (d *direct) status() syscall.WaitStatus {
	ws, _ := d.cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ws
}

// lingering reports whether the group outlived its leader. The kernel
// does not give the leader's pid to a new process while the group has
// members.
func (d *direct) lingering() bool { return syscall.Kill(-d.cmd.Process.Pid, 0) == nil }

func (d *direct) terminate() { _ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGTERM) }

func (d *direct) kill() {
	// ESRCH means the group is already gone, which is what we want.
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
	<-d.done
}
