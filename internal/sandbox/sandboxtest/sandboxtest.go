// Package sandboxtest provides an executor for tests that records every
// process started through it.
package sandboxtest

import (
	"context"
	"os/exec"
	"slices"
	"sync"
	"syscall"

	"github.com/lathe-dev/lathe/internal/sandbox"
)

// Start is one process started through a Recorder, as it was when it
// reached the executor.
type Start struct {
	Path string
	Args []string
	Dir  string
	// Profile is the profile the context carried, if HasProfile.
	Profile    sandbox.Profile
	HasProfile bool
	// SysProcAttr is the caller's, as given.
	SysProcAttr *syscall.SysProcAttr
}

// Recorder is an Executor that records each start and passes it on to
// Next. It is safe for concurrent use.
type Recorder struct {
	Next sandbox.Executor

	mu     sync.Mutex
	starts []Start
}

// NewRecorder returns a Recorder that starts processes on the host with
// no base profile.
func NewRecorder() *Recorder { return &Recorder{Next: sandbox.NewHost(sandbox.Profile{})} }

// Start implements sandbox.Executor.
func (r *Recorder) Start(ctx context.Context, cmd *exec.Cmd) error {
	p, ok := sandbox.ProfileFrom(ctx)
	r.mu.Lock()
	r.starts = append(r.starts, Start{Path: cmd.Path, Args: slices.Clone(cmd.Args), Dir: cmd.Dir, Profile: p, HasProfile: ok, SysProcAttr: cmd.SysProcAttr})
	r.mu.Unlock()
	return r.Next.Start(ctx, cmd)
}

// Starts returns the starts recorded so far, in order.
func (r *Recorder) Starts() []Start {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.starts)
}
