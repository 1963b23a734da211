package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"github.com/lathe-dev/lathe/internal/regfile"
	"github.com/lathe-dev/lathe/internal/sandbox/helper"
)

// Probe says what confinement works here, by confining a process with
// each backend, as a command would be.
func Probe(ctx context.Context) Status {
	st := Status{OS: runtime.GOOS, LandlockABI: helper.LandlockABI()}
	if err := helper.SeccompWorks(); err != nil {
		st.Seccomp = err.Error()
		st.Missing = append(st.Missing, "seccomp: the kernel must be built with CONFIG_SECCOMP_FILTER")
	}
	if err := userNamespaces(); err != nil {
		st.UserNS = err.Error()
		st.Missing = append(st.Missing, "user namespaces: "+err.Error())
	}
	if bw, err := exec.LookPath("bwrap"); err != nil {
		st.BwrapErr = "not installed"
		st.Missing = append(st.Missing, "bubblewrap: install it (apt-get install bubblewrap, dnf install bubblewrap)")
	} else {
		st.Bwrap = bw + bwrapVersion(ctx, bw)
		if err := New(Profile{}, WithBackend(Bwrap)).try(ctx); err != nil {
			st.BwrapErr = err.Error()
		}
	}
	switch {
	case st.LandlockABI == 0:
		st.LandlockErr = "the kernel has no Landlock"
		st.Missing = append(st.Missing, "landlock: needs Linux 5.13 or later with landlock in the lsm= boot parameter (CONFIG_SECURITY_LANDLOCK)")
	default:
		if err := New(Profile{}, WithBackend(Landlock)).try(ctx); err != nil {
			st.LandlockErr = err.Error()
		}
		if st.LandlockABI < 3 {
			st.Missing = append(st.Missing, fmt.Sprintf("landlock: ABI %d does not restrict truncation (ABI 3, Linux 6.2); the read-only mounts still do", st.LandlockABI))
		}
		if st.LandlockABI < 6 {
			st.Missing = append(st.Missing, fmt.Sprintf("landlock: ABI %d does not scope signals and abstract sockets (ABI 6, Linux 6.12); the pid and network namespaces still do", st.LandlockABI))
		}
	}
	switch {
	case st.Bwrap != "" && st.BwrapErr == "":
		st.Backend = Bwrap
	case st.LandlockABI > 0 && st.LandlockErr == "":
		st.Backend = Landlock
	}
	return st
}

// userNamespaces returns why this user cannot make user namespaces, or
// nil if it can as far as the kernel's settings say.
func userNamespaces() error {
	if b, err := regfile.ReadFile("/proc/sys/user/max_user_namespaces", 64); err == nil && strings.TrimSpace(string(b)) == "0" {
		return errors.New("disabled (sysctl user.max_user_namespaces=0): set it to 15000 or more")
	}
	if os.Getuid() != 0 {
		if b, err := regfile.ReadFile("/proc/sys/kernel/unprivileged_userns_clone", 64); err == nil && strings.TrimSpace(string(b)) == "0" {
			return errors.New("disabled for users (sysctl kernel.unprivileged_userns_clone=0): set it to 1")
		}
		if b, err := regfile.ReadFile("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", 64); err == nil && strings.TrimSpace(string(b)) == "1" {
			return errors.New("restricted by AppArmor (sysctl kernel.apparmor_restrict_unprivileged_userns=1): set it to 0, or install bubblewrap with its AppArmor profile")
		}
	}
	return nil
}

// bwrapVersion returns " VERSION" for the bwrap at path, or "".
func bwrapVersion(ctx context.Context, path string) string {
	cmd := exec.CommandContext(ctx, path, "--version")
	var out strings.Builder
	cmd.Stdout = &out
	if err := NewHost(Profile{}).Start(ctx, cmd); err != nil {
		return ""
	}
	if err := cmd.Wait(); err != nil {
		return ""
	}
	return " " + strings.TrimSpace(strings.TrimPrefix(out.String(), "bubblewrap "))
}

// choose returns the backend that confines processes here.
func (s *Sandbox) choose() (Backend, error) {
	ctx := context.Background()
	if s.backend != Auto {
		if err := s.try(ctx); err != nil {
			return Auto, fmt.Errorf("the %s backend does not work here: %w (see lathe doctor)", s.backend, err)
		}
		return s.backend, nil
	}
	var errs []string
	for _, b := range []Backend{Bwrap, Landlock} {
		t := *s.clone()
		t.backend = b
		err := t.try(ctx)
		if err == nil {
			return b, nil
		}
		errs = append(errs, fmt.Sprintf("%s: %v", b, err))
	}
	return Auto, fmt.Errorf("no sandbox works here (%s; see lathe doctor)", strings.Join(errs, "; "))
}

// clone returns a Sandbox configured as s, with nothing chosen or made.
func (s *Sandbox) clone() *Sandbox {
	return &Sandbox{base: s.base, backend: s.backend, home: s.home, tempRoot: s.tempRoot, isolate: s.isolate, bwrap: s.bwrap, network: s.network}
}

// try confines one process with s's backend, forced, and reports whether
// it ran. A plan is a snapshot of the host, made for each start: a host
// socket removed between the plan and bwrap's mounts fails that start
// (bwrap cannot make the mount point), so a probe that fails is made
// once more, with a new plan, before the backend is judged not to work:
// one that does not work fails again the same way.
func (s *Sandbox) try(ctx context.Context) error {
	err := s.tryOnce(ctx)
	if err != nil && ctx.Err() == nil {
		err = s.tryOnce(ctx)
	}
	return err
}

func (s *Sandbox) tryOnce(ctx context.Context) error {
	if s.backend == Bwrap {
		if _, err := s.bwrapPath(); err != nil {
			return err
		}
	}
	ws, err := os.MkdirTemp(s.tempRoot, "lathe-probe-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(ws)
	t := s.clone()
	t.tempRoot = ws
	defer t.Close()
	truePath, err := exec.LookPath("true")
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	cmd := exec.Command(truePath)
	cmd.Dir = ws
	// Started as Spawn would start it, in a sandbox server, as every
	// command is, but under s's backend, which is what is being chosen.
	// A server that cannot start says why (bwrap's or the helper's
	// message).
	p := Profile{Confine: WorkspaceWrite, Workspace: ws}
	cmd.Env = p.Environ(os.Environ())
	proc, err := t.spawnServed(ctx, s.backend, cmd, p)
	if err != nil {
		return err
	}
	status, err := proc.Wait()
	if err != nil {
		return err
	}
	if status != 0 {
		return fmt.Errorf("%s in the sandbox: wait status %#x", truePath, uint32(status))
	}
	return nil
}
