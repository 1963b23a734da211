package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/lathe-dev/lathe/internal/netproxy"
	"github.com/lathe-dev/lathe/internal/sandbox/helper"
)

// A sandbox server (package helper) starts a session's confined
// commands in a sandbox made once: a command then costs a fork and an
// exec and a round trip instead of a new sandbox. There is one server
// per backend and profile, made for one plan. A plan is worked out for
// every command, as before, and compared with the server's, the
// identity (device and inode) of each path it binds included: a secret
// file created since, or replaced by a rename, a new dotenv file or
// host socket, a protected path that appeared, each makes a new plan,
// and the command starts in a new server; the old one is retired, and
// goes once its last command has exited. The commands of one server
// share its namespaces: one loopback-only network, where a server
// started in the background can be reached by a later command, and one
// pid namespace. A server starts one process at a time (a fork, and an
// exec of Lathe's own supervisor for the shell tool's commands), so a
// start that blocks, an exec from a hung network file system, holds up
// the starts after it.

// errUndelivered is the error of a request the server never got: the
// command did not start, and may be sent to a new server.
var errUndelivered = errors.New("the sandbox server is gone")

// errTooLarge is the error of a request larger than a message can be:
// its command gets a sandbox of its own instead.
var errTooLarge = errors.New("the command's arguments and environment are too large for the sandbox server")

// server is a running sandbox server and the commands it started.
type server struct {
	// key is the server's plan, with the identity of what it binds,
	// each held open (see pin) until the server has exited.
	key  string
	conn *net.UnixConn
	cmd  *exec.Cmd
	// exited is closed once the server's process has been waited for.
	exited chan struct{}

	// mu guards what follows and each Process's running and abandoned.
	mu      sync.Mutex
	next    uint64
	procs   map[uint64]*Process
	err     error // why the server is gone, once it is
	retired bool
}

// servers are a Sandbox's sandbox servers.
type servers struct {
	mu      sync.Mutex
	closed  bool
	current map[string]*server // by backend and profile
	retired []*server          // until their process has exited
}

// spawnServed starts cmd, confined by p under backend b, in the sandbox
// server of its plan.
func (s *Sandbox) spawnServed(ctx context.Context, b Backend, cmd *exec.Cmd, p Profile) (*Process, error) {
	path, dir, pl, err := s.prepare(cmd, p)
	if err != nil {
		return nil, err
	}
	// The proxy of a profile's domains is the Sandbox's as long as it
	// lasts (see Network): its server's bridge reaches it for every
	// command.
	var socket string
	if len(p.AllowDomains) > 0 {
		if socket, err = s.network.Proxy(ctx, p.AllowDomains); err != nil {
			return nil, fmt.Errorf("network proxy for %s: %w", strings.Join(p.AllowDomains, ", "), err)
		}
		cmd.Env = append(cmd.Env, netproxy.Environ(fmt.Sprintf("127.0.0.1:%d", ProxyPort))...)
	}
	files, closeFiles, err := stdio(cmd)
	if err != nil {
		return nil, err
	}
	defer closeFiles()
	req := helper.Request{Path: path, Args: cmd.Args, Env: dedupEnv(cmd.Env), Dir: dir}
	if a := cmd.SysProcAttr; a != nil {
		req.Setpgid, req.Setsid, req.Pdeathsig = a.Setpgid, a.Setsid, int(a.Pdeathsig)
	}
	policy := fmt.Sprintf("%s\x00%d\x00%s\x00%q\x00%s", b, p.Confine, p.Workspace, p.WritableRoots, socket)
	key := pl.key()
	for retry := true; ; retry = false {
		sv, err := s.server(ctx, b, policy, key, pl, socket)
		if err != nil {
			return nil, err
		}
		proc, err := sv.start(ctx, req, files)
		if errors.Is(err, errUndelivered) && retry {
			continue
		}
		return proc, err
	}
}

// dedupEnv returns env with the last value of each variable only, as
// exec.Cmd passes it: the plan's TMPDIR comes after the caller's.
func dedupEnv(env []string) []string {
	seen := make(map[string]bool, len(env))
	out := make([]string, 0, len(env))
	for _, kv := range slices.Backward(env) {
		name, _, _ := strings.Cut(kv, "=")
		if !seen[name] {
			seen[name] = true
			out = append(out, kv)
		}
	}
	slices.Reverse(out)
	return out
}

// stdio returns the descriptors cmd's process gets, /dev/null for a
// nil standard one, and a function closing what stdio opened.
func stdio(cmd *exec.Cmd) ([]*os.File, func(), error) {
	var null *os.File
	closeNull := func() {
		if null != nil {
			null.Close()
		}
	}
	files := make([]*os.File, 0, 3+len(cmd.ExtraFiles))
	for _, std := range []any{cmd.Stdin, cmd.Stdout, cmd.Stderr} {
		f, _ := std.(*os.File)
		if f == nil {
			if null == nil {
				var err error
				if null, err = os.OpenFile(os.DevNull, os.O_RDWR, 0); err != nil {
					return nil, closeNull, err
				}
			}
			f = null
		}
		files = append(files, f)
	}
	return append(files, cmd.ExtraFiles...), closeNull, nil
}

// key returns the plan as a server is made for it, with the device and
// inode of each path it binds: a path replaced since is another plan,
// as the server's mount is still on what was there. The server holds
// each of those inodes open (pin), so that a number cannot be reused
// by whatever replaces one while the server lasts.
func (pl plan) key() string {
	return pl.keyBy(func(path string, st *unix.Stat_t) error { return unix.Stat(path, st) })
}

// pin opens each path pl binds, and returns the descriptors and the key
// of what they hold.
func (pl plan) pin() ([]int, string) {
	var fds []int
	key := pl.keyBy(func(path string, st *unix.Stat_t) error {
		fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		fds = append(fds, fd)
		return unix.Fstat(fd, st)
	})
	return fds, key
}

func (pl plan) keyBy(stat func(string, *unix.Stat_t) error) string {
	var b strings.Builder
	add := func(tag string, paths []string) {
		for _, path := range paths {
			fmt.Fprintf(&b, "%s%q", tag, path)
			var st unix.Stat_t
			if stat(path, &st) == nil {
				fmt.Fprintf(&b, "@%d:%d", st.Dev, st.Ino)
			}
		}
	}
	add("t", []string{pl.tmp})
	add("w", pl.writable)
	add("r", pl.readable)
	add("o", pl.readOnly)
	add("d", pl.hideDirs)
	add("f", pl.hideFiles)
	add("s", pl.sockets)
	return b.String()
}

// server returns the running server of policy for plan key, made for
// pl, and to reach the proxy at socket unless it is "", if there is none.
func (s *Sandbox) server(ctx context.Context, b Backend, policy, key string, pl plan, socket string) (*server, error) {
	ss := &s.servers
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return nil, errors.New("the sandbox is closed")
	}
	ss.retired = slices.DeleteFunc(ss.retired, func(sv *server) bool {
		select {
		case <-sv.exited:
			return true
		default:
			return false
		}
	})
	if sv := ss.current[policy]; sv != nil {
		if sv.key == key && sv.alive() {
			return sv, nil
		}
		delete(ss.current, policy)
		sv.retire()
		ss.retired = append(ss.retired, sv)
	}
	sv, err := s.startServer(ctx, b, pl, socket)
	if err != nil {
		return nil, fmt.Errorf("sandbox server: %w", err)
	}
	if ss.current == nil {
		ss.current = map[string]*server{}
	}
	ss.current[policy] = sv
	return sv, nil
}

// closeServers ends every server, and with them their commands.
func (s *Sandbox) closeServers() {
	ss := &s.servers
	ss.mu.Lock()
	ss.closed = true
	all := ss.retired
	for _, sv := range ss.current {
		all = append(all, sv)
	}
	ss.current, ss.retired = nil, nil
	ss.mu.Unlock()
	for _, sv := range all {
		sv.conn.Close()
		// The server, or bwrap above it, is its namespace's init: its
		// death ends every process in it.
		_ = sv.cmd.Process.Kill()
		<-sv.exited
	}
}

// startServer starts a server under backend b for pl, with a bridge to
// the proxy at socket unless it is "", and returns once it serves.
func (s *Sandbox) startServer(ctx context.Context, b Backend, pl plan, socket string) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find Lathe's own binary: %w", err)
	}
	// Pinned before the server mounts them: should one be replaced in
	// between, the next command's key differs, and it gets a new server.
	pins, key := pl.pin()
	started := false
	defer func() {
		if !started {
			for _, fd := range pins {
				unix.Close(fd)
			}
		}
	}()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket pair: %w", err)
	}
	// A request is one message, up to twice this (the kernel doubles
	// it), within the server's buffer and a command's ARG_MAX. Capped
	// by net.core.wmem_max; a larger request falls back (errTooLarge).
	_ = unix.SetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_SNDBUF, helper.MaxRequest/2)
	ours, theirs := os.NewFile(uintptr(fds[0]), "sandbox server"), os.NewFile(uintptr(fds[1]), "sandbox server")
	defer theirs.Close()
	fc, err := net.FileConn(ours)
	ours.Close()
	if err != nil {
		return nil, fmt.Errorf("socket pair: %w", err)
	}
	conn := fc.(*net.UnixConn)
	reportR, reportW, err := os.Pipe()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("report pipe: %w", err)
	}
	defer reportR.Close()
	defer reportW.Close()
	// Its environment is empty: under bwrap, its commands could read it.
	var stderr limitedBuffer
	cmd := &exec.Cmd{Env: []string{}, Stderr: &stderr, ExtraFiles: []*os.File{reportW, theirs}}
	sp := helper.Spec{Files: 3, Report: 3, Serve: 4, Dir: pl.tmp, Tmp: pl.tmp}
	if socket != "" {
		proxy, err := openSocket(socket)
		if err != nil {
			conn.Close()
			return nil, err
		}
		defer proxy.Close()
		sp.Proxy = 3 + len(cmd.ExtraFiles)
		cmd.ExtraFiles = append(cmd.ExtraFiles, proxy)
	}
	switch b {
	case Landlock:
		sp.Writable, sp.Readable, sp.ReadOnly = pl.writable, pl.readable, pl.readOnly
		sp.HideDirs, sp.HideFiles, sp.Sockets = pl.hideDirs, pl.hideFiles, pl.sockets
		js, err := json.Marshal(sp)
		if err != nil {
			conn.Close()
			return nil, err
		}
		cmd.Path, cmd.Args = "/proc/self/exe", []string{"lathe", helper.Arg, string(js)}
		cmd.SysProcAttr = namespaced(&syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL})
	case Bwrap:
		bw, err := s.bwrapPath()
		if err != nil {
			conn.Close()
			return nil, err
		}
		filterR, err := filterPipe()
		if err != nil {
			conn.Close()
			return nil, err
		}
		defer filterR.Close()
		sp.Bwrap = true
		js, err := json.Marshal(sp)
		if err != nil {
			conn.Close()
			return nil, err
		}
		cmd.Path = bw
		// The server, not bwrap, is the namespace's init, out of its
		// commands' reach (see package helper).
		cmd.Args = append(append([]string{bw, "--as-pid-1"}, bwrapArgs(pl, pl.tmp, exe, 3+len(cmd.ExtraFiles))...), "--", exe, helper.Arg, string(js))
		cmd.ExtraFiles = append(cmd.ExtraFiles, filterR)
	default:
		conn.Close()
		return nil, fmt.Errorf("unknown backend %q", b)
	}
	if err := cmd.Start(); err != nil {
		conn.Close()
		return nil, err
	}
	reportW.Close()
	theirs.Close()
	if err := await(ctx, cmd, reportR); err != nil {
		conn.Close()
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
		return nil, err
	}
	sv := &server{key: key, conn: conn, cmd: cmd, exited: make(chan struct{}), procs: map[uint64]*Process{}}
	go func() {
		_ = cmd.Wait()
		for _, fd := range pins {
			unix.Close(fd)
		}
		close(sv.exited)
	}()
	started = true
	go sv.read()
	return sv, nil
}

// filterPipe returns a pipe from which the seccomp filter can be read.
func filterPipe() (*os.File, error) {
	filter, err := helper.Filter()
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("seccomp pipe: %w", err)
	}
	// The filter is smaller than a pipe's buffer: this never blocks.
	_, err = w.Write(filter)
	w.Close()
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("seccomp pipe: %w", err)
	}
	return r, nil
}

// limitedBuffer keeps the first 4 KiB written to it: a server's stderr,
// for the error of one that failed to start.
type limitedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p[:min(len(p), 4096-len(l.buf))]...)
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}

// alive reports whether the server still takes commands.
func (sv *server) alive() bool {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	return sv.err == nil && !sv.retired
}

// retire takes no more commands: the server goes once its last command
// has exited.
func (sv *server) retire() {
	sv.mu.Lock()
	sv.retired = true
	idle := len(sv.procs) == 0
	sv.mu.Unlock()
	if idle {
		sv.conn.Close()
	}
}

// start asks the server to start req's command with files as its
// descriptors, and returns once it has started, or failed to.
func (sv *server) start(ctx context.Context, req helper.Request, files []*os.File) (*Process, error) {
	sv.mu.Lock()
	if sv.err != nil || sv.retired {
		sv.mu.Unlock()
		return nil, errUndelivered
	}
	sv.next++
	p := &Process{sv: sv, id: sv.next, path: req.Path, started: make(chan error, 1), done: make(chan struct{})}
	sv.procs[p.id] = p
	sv.mu.Unlock()
	req.ID = p.id
	msg, err := json.Marshal(req)
	if err != nil {
		sv.forget(p)
		return nil, err
	}
	fds := make([]int, len(files))
	for i, f := range files {
		// As exec.Cmd does, which puts the file in blocking mode.
		fds[i] = int(f.Fd())
	}
	if _, _, err := sv.conn.WriteMsgUnix(msg, unix.UnixRights(fds...), nil); err != nil {
		sv.forget(p)
		if errors.Is(err, syscall.EMSGSIZE) {
			return nil, errTooLarge
		}
		return nil, fmt.Errorf("%w: %v", errUndelivered, err)
	}
	select {
	case err := <-p.started:
		if err != nil {
			return nil, err
		}
		return p, nil
	case <-ctx.Done():
		sv.mu.Lock()
		p.abandoned = true
		running := p.running
		sv.mu.Unlock()
		if running {
			_ = sv.signal(p, syscall.SIGKILL)
		}
		return nil, context.Cause(ctx)
	}
}

// forget drops p, which never reached the server.
func (sv *server) forget(p *Process) {
	sv.mu.Lock()
	delete(sv.procs, p.id)
	idle := sv.retired && len(sv.procs) == 0
	sv.mu.Unlock()
	if idle {
		sv.conn.Close()
	}
}

// signal asks the server to send sig to p.
func (sv *server) signal(p *Process, sig syscall.Signal) error {
	select {
	case <-p.done:
		return os.ErrProcessDone
	default:
	}
	msg, err := json.Marshal(helper.Request{ID: p.id, Signal: int(sig)})
	if err != nil {
		return err
	}
	if _, _, err := sv.conn.WriteMsgUnix(msg, nil, nil); err != nil {
		return fmt.Errorf("signal through the sandbox server: %w", err)
	}
	return nil
}

// read reads the server's replies until it is gone. It is the server's
// goroutine, and ends when the connection closes.
func (sv *server) read() {
	buf := make([]byte, 4096)
	for {
		n, _, _, _, err := sv.conn.ReadMsgUnix(buf, nil)
		if err == nil && n == 0 {
			err = errors.New("the sandbox server exited")
		}
		var r helper.Reply
		if err == nil {
			if jerr := json.Unmarshal(buf[:n], &r); jerr != nil {
				err = fmt.Errorf("the sandbox server's reply: %w", jerr)
			}
		}
		if err != nil {
			sv.fail(err)
			return
		}
		sv.deliver(r)
	}
}

// deliver hands reply r to its process.
func (sv *server) deliver(r helper.Reply) {
	sv.mu.Lock()
	p := sv.procs[r.ID]
	if p == nil {
		sv.mu.Unlock()
		return
	}
	kill := false
	switch {
	case r.Started:
		p.running = true
		kill = p.abandoned
		p.started <- nil
	case r.Exited:
		delete(sv.procs, r.ID)
		p.ws = syscall.WaitStatus(r.Status)
		close(p.done)
	default:
		delete(sv.procs, r.ID)
		var err error = syscall.Errno(r.Errno)
		if r.Error != "" {
			err = errors.New(r.Error)
		}
		p.started <- &os.PathError{Op: "fork/exec", Path: p.path, Err: err}
	}
	idle := sv.retired && len(sv.procs) == 0
	sv.mu.Unlock()
	if kill {
		_ = sv.signal(p, syscall.SIGKILL)
	}
	if idle {
		sv.conn.Close()
	}
}

// fail ends every process of the server, which is gone for err.
func (sv *server) fail(err error) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if sv.err == nil {
		sv.err = err
	}
	for id, p := range sv.procs {
		delete(sv.procs, id)
		if !p.running {
			// Sent, and not answered: it may have started. It is
			// not sent again.
			p.started <- fmt.Errorf("the sandbox server died before it started the command: %w", err)
			continue
		}
		p.ws, p.err = syscall.WaitStatus(syscall.SIGKILL), fmt.Errorf("the sandbox server died: %w", err)
		close(p.done)
	}
	sv.conn.Close()
}

// servable reports whether a server can start cmd: its standard
// descriptors are files or nil, its extra files are files, and of
// SysProcAttr it sets only what a server's start keeps.
func servable(cmd *exec.Cmd) bool {
	for _, std := range []any{cmd.Stdin, cmd.Stdout, cmd.Stderr} {
		if _, ok := std.(*os.File); !ok && std != nil {
			return false
		}
	}
	for _, f := range cmd.ExtraFiles {
		if f == nil {
			return false
		}
	}
	if len(cmd.ExtraFiles)+3 > helper.MaxFiles {
		return false
	}
	if cmd.SysProcAttr == nil {
		return true
	}
	a := *cmd.SysProcAttr
	a.Setpgid, a.Setsid, a.Pdeathsig = false, false, 0
	return reflect.DeepEqual(a, syscall.SysProcAttr{})
}
