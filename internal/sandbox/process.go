package sandbox

import (
	"os/exec"
	"syscall"
)

// Process is a process Spawn started: Lathe's child, or a sandbox
// server's. Its methods are safe for concurrent use; Wait returns the
// same to every caller.
type Process struct {
	// cmd is the process when it is Lathe's child.
	cmd *exec.Cmd

	// Otherwise it is command id of server sv.
	sv   *server
	id   uint64
	path string
	// started gets the outcome of the start, once.
	started chan error
	// done is closed once the process has exited, or its server died;
	// ws and err are set before.
	done chan struct{}
	ws   syscall.WaitStatus
	err  error
	// running and abandoned are guarded by sv.mu: the server said it
	// started; nobody waits for the start any more, and the process is
	// to be killed once started.
	running, abandoned bool
}

// Wait waits for the process to exit and returns its wait status. The
// error is not nil if the process could not be waited for: then the
// status is that of a process killed by SIGKILL, as it was (a server's
// process dies with its server).
func (p *Process) Wait() (syscall.WaitStatus, error) {
	if p.cmd != nil {
		err := p.cmd.Wait()
		if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
			if _, exit := err.(*exec.ExitError); exit {
				err = nil
			}
			return ws, err
		}
		return syscall.WaitStatus(syscall.SIGKILL), err
	}
	<-p.done
	return p.ws, p.err
}

// Signal sends sig to the process; os.ErrProcessDone once it has exited.
func (p *Process) Signal(sig syscall.Signal) error {
	if p.cmd != nil {
		return p.cmd.Process.Signal(sig)
	}
	return p.sv.signal(p, sig)
}
