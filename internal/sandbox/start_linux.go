package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lathe-dev/lathe/internal/netproxy"
	"github.com/lathe-dev/lathe/internal/sandbox/helper"
)

// startConfined starts cmd confined by p under backend b.
func (s *Sandbox) startConfined(ctx context.Context, b Backend, cmd *exec.Cmd, p Profile) error {
	path, dir, pl, err := s.prepare(cmd, p)
	if err != nil {
		return err
	}
	var proxy *os.File
	if len(p.AllowDomains) > 0 {
		if proxy, err = s.openProxy(ctx, p.AllowDomains); err != nil {
			return err
		}
		defer proxy.Close()
		cmd.Env = append(cmd.Env, netproxy.Environ(fmt.Sprintf("127.0.0.1:%d", ProxyPort))...)
	}
	switch b {
	case Bwrap:
		return s.startBwrap(ctx, cmd, pl, path, dir, proxy)
	case Landlock:
		return startHelper(ctx, cmd, pl, path, dir, proxy)
	}
	return fmt.Errorf("unknown backend %q", b)
}

// prepare returns the path of cmd's program, its working directory and
// the plan of a process confined by p, and adds the plan's variables to
// cmd's environment.
func (s *Sandbox) prepare(cmd *exec.Cmd, p Profile) (path, dir string, pl plan, err error) {
	if cmd.Err != nil {
		return "", "", plan{}, cmd.Err
	}
	dir = cmd.Dir
	if dir == "" {
		dir, _ = os.Getwd()
	}
	// /proc/self/exe, Lathe's own binary, is the helper's too; bwrap
	// is given its path.
	path = cmd.Path
	if path != "/proc/self/exe" {
		// The command's path is looked at here, where it can be
		// reported as cmd.Start would report it.
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		if err := executable(path); err != nil {
			return "", "", plan{}, err
		}
	}
	tmp, err := s.tempDir()
	if err != nil {
		return "", "", plan{}, err
	}
	if pl, err = s.plan(p, tmp, cmd.Env); err != nil {
		return "", "", plan{}, err
	}
	cmd.Env = append(cmd.Env, pl.env...)
	return path, dir, pl, nil
}

// openProxy returns the proxy's socket for domains, opened as a path
// only: the helper's bridge connects through it (/proc/self/fd/N), so
// that the socket itself need not be visible in the sandbox, where the
// command could reach it without the bridge.
func (s *Sandbox) openProxy(ctx context.Context, domains []string) (*os.File, error) {
	socket, err := s.network.Proxy(ctx, domains)
	if err != nil {
		return nil, fmt.Errorf("network proxy for %s: %w", strings.Join(domains, ", "), err)
	}
	return openSocket(socket)
}

// openSocket opens the proxy's socket as a path only.
func openSocket(socket string) (*os.File, error) {
	fd, err := unix.Open(socket, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("network proxy: %w", &os.PathError{Op: "open", Path: socket, Err: err})
	}
	return os.NewFile(uintptr(fd), socket), nil
}

// startBwrap starts cmd, whose program is at path, under bwrap. With a
// proxy, bwrap runs the helper, which runs the bridge to it and starts
// the command.
func (s *Sandbox) startBwrap(ctx context.Context, cmd *exec.Cmd, pl plan, path, dir string, proxy *os.File) error {
	bw, err := s.bwrapPath()
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find Lathe's own binary: %w", err)
	}
	filter, err := helper.Filter()
	if err != nil {
		return err
	}
	filterR, filterW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("seccomp pipe: %w", err)
	}
	defer filterR.Close()
	// The filter is smaller than a pipe's buffer: this never blocks.
	_, err = filterW.Write(filter)
	filterW.Close()
	if err != nil {
		return fmt.Errorf("seccomp pipe: %w", err)
	}
	if path == "/proc/self/exe" {
		path = exe
	}
	extra := slices.Clone(cmd.ExtraFiles)
	var reportR, reportW *os.File
	sp := helper.Spec{Bwrap: true, Files: 3 + len(extra), Path: path, Args: cmd.Args, Dir: dir}
	if proxy != nil {
		if reportR, reportW, err = os.Pipe(); err != nil {
			return fmt.Errorf("report pipe: %w", err)
		}
		defer reportR.Close()
		defer reportW.Close()
		sp.Report, sp.Proxy = 3+len(extra), 4+len(extra)
		extra = append(extra, reportW, proxy)
	}
	// Lathe's own binary needs binding where the fresh /tmp hides it
	// (a test binary) only when it runs in the sandbox: each mount is
	// one more pass of bwrap's over the mount table.
	runs := ""
	if path == exe || proxy != nil {
		runs = exe
	}
	args := append([]string{bw}, bwrapArgs(pl, dir, runs, 3+len(extra))...)
	extra = append(extra, filterR)
	switch {
	case proxy != nil:
		js, err := json.Marshal(sp)
		if err != nil {
			return err
		}
		args = append(args, "--", exe, helper.Arg, string(js))
	default:
		// bwrap gives the program its path as argv[0]; a link named as
		// the caller's argv[0], in the sandbox's own /tmp, keeps its
		// base name, which is what programs look at (Lathe's
		// supervisor among them).
		if argv0 := cmd.Args[0]; argv0 != "" && !strings.Contains(argv0, "/") && argv0 != filepath.Base(path) {
			link := "/tmp/.lathe/" + argv0
			args = append(args, "--dir", "/tmp/.lathe", "--symlink", path, link)
			path = link
		}
		args = append(append(args, "--", path), cmd.Args[1:]...)
	}
	cmd.Path, cmd.Args, cmd.ExtraFiles = bw, args, extra
	if err := cmd.Start(); err != nil {
		return err
	}
	if reportR == nil {
		// bwrap says nothing once the command runs: a failure to set
		// up the sandbox is its exit status and its message on stderr.
		return nil
	}
	reportW.Close()
	return await(ctx, cmd, reportR)
}

// startHelper starts cmd, whose program is at path, under Lathe's own
// helper, in new namespaces, and returns once the helper has started
// the command.
func startHelper(ctx context.Context, cmd *exec.Cmd, pl plan, path, dir string, proxy *os.File) error {
	reportR, reportW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("report pipe: %w", err)
	}
	defer reportR.Close()
	defer reportW.Close()
	sp := helper.Spec{
		Files: 3 + len(cmd.ExtraFiles), Report: 3 + len(cmd.ExtraFiles),
		Path: path, Args: cmd.Args, Dir: dir,
		Writable: pl.writable, Readable: pl.readable, ReadOnly: pl.readOnly,
		HideDirs: pl.hideDirs, HideFiles: pl.hideFiles, Sockets: pl.sockets, Tmp: pl.tmp,
	}
	extra := append(slices.Clone(cmd.ExtraFiles), reportW)
	if proxy != nil {
		sp.Proxy = 3 + len(extra)
		extra = append(extra, proxy)
	}
	js, err := json.Marshal(sp)
	if err != nil {
		return err
	}
	cmd.Path, cmd.Args = "/proc/self/exe", []string{"lathe", helper.Arg, string(js)}
	cmd.SysProcAttr = namespaced(cmd.SysProcAttr)
	cmd.ExtraFiles = extra
	if err := cmd.Start(); err != nil {
		return err
	}
	reportW.Close()
	return await(ctx, cmd, reportR)
}

// await waits for the report of the helper cmd runs, and ends cmd if it
// is not "ok".
func await(ctx context.Context, cmd *exec.Cmd, report *os.File) error {
	if err := awaitReport(ctx, report); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return err
	}
	return nil
}

// awaitReport reads the helper's report: nil once it said "ok", the
// error it reported, or one saying it died without a word (bwrap failed
// before starting it: its own message went to the command's stderr).
func awaitReport(ctx context.Context, r *os.File) error {
	stop := context.AfterFunc(ctx, func() { _ = r.SetReadDeadline(time.Now()) })
	defer stop()
	line, err := bufio.NewReader(r).ReadString('\n')
	switch {
	case line == "ok\n":
		return nil
	case line != "":
		return errors.New(strings.TrimSpace(line))
	case errors.Is(err, os.ErrDeadlineExceeded):
		return context.Cause(ctx)
	case err == io.EOF:
		return errors.New("the sandbox helper exited before starting the command")
	}
	return fmt.Errorf("read the sandbox helper's report: %w", err)
}

// namespaced returns a copy of attr that starts the process in new
// user, mount, pid, network, IPC and UTS namespaces, as the same user.
func namespaced(attr *syscall.SysProcAttr) *syscall.SysProcAttr {
	var a syscall.SysProcAttr
	if attr != nil {
		a = *attr
	}
	a.Cloneflags |= syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID |
		syscall.CLONE_NEWNET | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS
	a.UidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getuid(), HostID: os.Getuid(), Size: 1}}
	a.GidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getgid(), HostID: os.Getgid(), Size: 1}}
	a.GidMappingsEnableSetgroups = false
	return &a
}

// executable returns an error, as cmd.Start would, unless path is an
// executable file.
func executable(path string) error {
	info, err := os.Stat(path)
	if err == nil && (info.IsDir() || info.Mode()&0o111 == 0) {
		err = syscall.EACCES
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return &fs.PathError{Op: "fork/exec", Path: path, Err: err}
	}
	return nil
}

// bwrapPath returns the bwrap program to run, looked up in PATH once
// per Sandbox: a program removed since fails its start.
func (s *Sandbox) bwrapPath() (string, error) {
	if s.bwrap != "" {
		return s.bwrap, nil
	}
	s.bwrapOnce.Do(func() {
		s.bwrapFound, s.bwrapErr = exec.LookPath("bwrap")
		if s.bwrapErr != nil {
			s.bwrapErr = fmt.Errorf("bubblewrap is not installed: %w", s.bwrapErr)
		}
	})
	return s.bwrapFound, s.bwrapErr
}
