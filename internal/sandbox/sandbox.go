// Package sandbox is the one place where Lathe starts a process: every
// command a tool runs, background jobs, ripgrep, and later hooks and MCP
// servers go through an [Executor], so that a sandbox reaches them all.
//
// What a process may do is its [Profile]. The profile of a call comes
// from the call's decision through the context ([WithProfile]); the
// executor adds it to its own base profile, which a context can narrow
// but never widen. A [Host] runs processes unconfined, with only their
// environment narrowed, and refuses a profile that asks for confinement.
// A [Sandbox] confines them; its Spawn starts a session's confined
// processes in sandbox servers, each a sandbox made once, where a process
// costs little more than on the host.
package sandbox

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/lathe-dev/lathe/internal/secret"
)

// Environ returns env without the variables p hides and, when p is
// confined, without every variable whose name looks like a credential
// (see secret.EnvName) but those p passes.
func (p Profile) Environ(env []string) []string {
	if len(p.HideEnv) == 0 && p.Confine == Unconfined {
		return env
	}
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		if slices.Contains(p.HideEnv, name) {
			return true
		}
		return p.Confine != Unconfined && secret.EnvName(name) && !slices.Contains(p.PassEnv, name)
	})
}

type profileKey struct{}

// WithProfile returns a context whose processes run under p, narrowed by
// the executor's base profile and by any profile ctx already carries.
func WithProfile(ctx context.Context, p Profile) context.Context {
	if q, ok := ProfileFrom(ctx); ok {
		p = q.Narrow(p)
	}
	return context.WithValue(ctx, profileKey{}, p)
}

// ProfileFrom returns the profile ctx carries, if any.
func ProfileFrom(ctx context.Context) (Profile, bool) {
	p, ok := ctx.Value(profileKey{}).(Profile)
	return p, ok
}

// Executor starts processes.
//
// Start starts cmd, built but not started, under the profile of ctx, and
// returns once it has started, as cmd.Start does, or has failed without
// starting anything. It may rewrite cmd's Path, Args and Env, and keeps
// the rest (SysProcAttr, files, Dir) as the caller set it. A done ctx
// starts nothing; once started, the process is the caller's to wait for
// and to stop (exec.CommandContext, a supervisor): the executor holds on
// to nothing. Start may be called concurrently.
type Executor interface {
	Start(ctx context.Context, cmd *exec.Cmd) error
}

// ExecutorFunc adapts a function to an Executor.
type ExecutorFunc func(ctx context.Context, cmd *exec.Cmd) error

// Start calls f.
func (f ExecutorFunc) Start(ctx context.Context, cmd *exec.Cmd) error { return f(ctx, cmd) }

// Host starts processes on this machine, unconfined but for its base
// profile narrowed by the context's. It cannot confine: a profile that
// asks for confinement is refused, never run unconfined.
type Host struct {
	base Profile
}

// NewHost returns a Host whose every process runs under base at least:
// a context without a profile gets base.
func NewHost(base Profile) *Host { return &Host{base: base} }

// Start implements Executor.
func (h *Host) Start(ctx context.Context, cmd *exec.Cmd) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("start %s: %w", cmd.Path, context.Cause(ctx))
	}
	p := h.base
	if q, ok := ProfileFrom(ctx); ok {
		p = p.Narrow(q)
	}
	if p.Confine != Unconfined {
		return fmt.Errorf("start %s: %w", cmd.Path, &NotConfinedError{Profile: p, Missing: "the host executor confines nothing"})
	}
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = p.Environ(env)
	return cmd.Start()
}

// NotConfinedError is the error of an executor that cannot give a
// process the confinement its profile asks for, and so does not start
// it.
type NotConfinedError struct {
	Profile Profile
	// Missing says what is missing and, where known, how to fix it.
	Missing string
}

func (e *NotConfinedError) Error() string {
	return fmt.Sprintf("sandbox: cannot confine a process to %v: %s", e.Profile.Confine, e.Missing)
}
