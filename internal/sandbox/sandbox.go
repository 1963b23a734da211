// Package sandbox is the one place where Lathe starts a process: every
// command a tool runs, background jobs, ripgrep, and later hooks and MCP
// servers go through an [Executor], so that a sandbox reaches them all.
//
// What a process may do is its [Profile]. The profile of a call comes
// from the call's decision through the context ([WithProfile]); the
// executor adds it to its own base profile, which a context can narrow
// but never widen. Today's only profile runs processes unconfined with
// Lathe's provider keys removed from their environment; governance adds
// confining ones.
package sandbox

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// Profile says how a process is confined. The zero Profile confines
// nothing and hides nothing.
type Profile struct {
	// HideEnv names variables of Lathe's environment the process does not
	// get, such as Lathe's own API keys.
	HideEnv []string
}

// Narrow returns the profile that allows only what both p and q allow.
func (p Profile) Narrow(q Profile) Profile {
	hide := slices.Concat(p.HideEnv, q.HideEnv)
	slices.Sort(hide)
	return Profile{HideEnv: slices.Compact(hide)}
}

// Environ returns env without the variables p hides.
func (p Profile) Environ(env []string) []string {
	if len(p.HideEnv) == 0 {
		return env
	}
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return slices.Contains(p.HideEnv, name)
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
// profile narrowed by the context's.
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
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = p.Environ(env)
	return cmd.Start()
}
