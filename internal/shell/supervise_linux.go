package shell

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"github.com/lathe-dev/lathe/internal/sandbox"
)

// On Linux every command runs under a supervisor: Lathe's own binary,
// re-executed in a mode of its own, that starts the command and outlives
// it as its child subreaper. Whatever the command leaves behind, even a
// process that called setsid or double-forked, is reparented to the
// supervisor instead of to init, so the supervisor can always find it and
// end it. The supervisor ends everything when the Runner tells it to, and
// when Lathe dies in any way, SIGKILL included: the kernel then closes the
// control pipe and sends the supervisor its parent-death signal. Only a
// process that runs as another user (through sudo or a setuid program) is
// beyond its signals; it is left running rather than waited for.
//
// The supervisor's file descriptors:
//
//	0  control, from Lathe: "term" and "kill" lines; EOF means Lathe died
//	1  /dev/null
//	2  status, to Lathe: one "started PID" or "error ERRNO" line, then
//	   "exit WAITSTATUS LINGERING"; anything else is the supervisor failing
//	3  the command's output pipe, its stdout and stderr
//
// Its arguments are the command's path and argv; its environment and
// working directory are the command's.

// supervisorArg0 is the argv[0] that makes the binary a supervisor. It is
// what ps shows for one. A path ending in it does too: bwrap can only
// give a program its path as argv[0], so the sandbox runs the supervisor
// through a link of this name.
const supervisorArg0 = "lathe-supervisor"

func init() {
	// Checked in init, before any main, so that every binary that runs
	// commands through this package, its tests included, can be its own
	// supervisor.
	if len(os.Args) > 0 && filepath.Base(os.Args[0]) == supervisorArg0 {
		// Not os.Exit: there is nothing to flush, and in a race-enabled
		// build os.Exit sleeps a second (GORACE atexit_sleep_ms), which
		// every stopped command would wait for.
		syscall.Exit(superviseMain(os.Args[1:]))
	}
}

// spawner is an executor whose processes need not be Lathe's children,
// such as a sandbox's, whose sandbox servers start them: the supervisor
// is waited for through the Process. Spawn has Executor.Start's
// contract otherwise.
type spawner interface {
	Spawn(ctx context.Context, cmd *exec.Cmd) (*sandbox.Process, error)
}

// supervised is a command running under a supervisor.
type supervised struct {
	ctl *os.File // write end of the control pipe

	done    chan struct{} // closed when the command has exited
	ws      syscall.WaitStatus
	linger  bool          // something the command started was still running
	supDone chan struct{} // closed when the supervisor has exited

	ctlMu     sync.Mutex
	ctlClosed bool
}

// launch starts cmd under a supervisor, which ex starts, with its stdout
// and stderr on out. Of cmd it uses Path, Args, Env and Dir; the
// supervisor puts the command in a session of its own.
func launch(ctx context.Context, ex sandbox.Executor, cmd *exec.Cmd, out *os.File) (process, error) {
	if cmd.Err != nil {
		return nil, cmd.Err
	}
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("control pipe: %w", err)
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		ctlR.Close()
		ctlW.Close()
		return nil, fmt.Errorf("status pipe: %w", err)
	}
	sup := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       append([]string{supervisorArg0, cmd.Path}, cmd.Args...),
		Env:        cmd.Env,
		Dir:        cmd.Dir,
		Stdin:      ctlR,
		Stderr:     statusW,
		ExtraFiles: []*os.File{out},
		SysProcAttr: &syscall.SysProcAttr{
			// Its own process group keeps the terminal's ^C, which is
			// Lathe's to handle, away from it.
			Setpgid: true,
			// Caught: the supervisor ends everything before it exits.
			// The kernel sends it when the thread that started the
			// supervisor exits, not only the process: Go ends a thread
			// only when a goroutine that called runtime.LockOSThread
			// returns without unlocking, so never start a command from
			// such a goroutine.
			Pdeathsig: syscall.SIGTERM,
		},
	}
	wait := sup.Wait
	if sp, ok := ex.(spawner); ok {
		var proc *sandbox.Process
		if proc, err = sp.Spawn(ctx, sup); err == nil {
			wait = func() error { _, err := proc.Wait(); return err }
		}
	} else {
		err = ex.Start(ctx, sup)
	}
	ctlR.Close()
	statusW.Close()
	if err != nil {
		ctlW.Close()
		statusR.Close()
		return nil, err
	}
	s := &supervised{ctl: ctlW, done: make(chan struct{}), supDone: make(chan struct{})}
	go func() {
		// The command's fate comes over the status pipe; the exit status
		// of the supervisor itself says nothing.
		_ = wait()
		s.closeControl()
		close(s.supDone)
	}()
	status := bufio.NewReader(statusR)
	first, err := status.ReadString('\n')
	if errno, ok := strings.CutPrefix(first, "error "); ok {
		n, _ := strconv.Atoi(strings.TrimSpace(errno))
		statusR.Close()
		s.close()
		return nil, &os.PathError{Op: "fork/exec", Path: cmd.Path, Err: syscall.Errno(n)}
	}
	if !strings.HasPrefix(first, "started ") {
		rest, _ := io.ReadAll(status)
		statusR.Close()
		s.close()
		return nil, fmt.Errorf("supervisor failed: %q (%v)", first+string(rest), err)
	}
	go s.readStatus(status, statusR)
	return s, nil
}

// readStatus waits for the command's exit status. Should the supervisor
// die without sending it, killed from outside, the command was killed
// with it by its own parent-death signal, and is reported as killed.
func (s *supervised) readStatus(status *bufio.Reader, f *os.File) {
	defer f.Close()
	defer close(s.done)
	line, err := status.ReadString('\n')
	var ws uint32
	var linger int
	if _, serr := fmt.Sscanf(line, "exit %d %d\n", &ws, &linger); err != nil || serr != nil {
		s.ws = syscall.WaitStatus(syscall.SIGKILL)
		return
	}
	s.ws, s.linger = syscall.WaitStatus(ws), linger == 1
}

func (s *supervised) exited() <-chan struct{} { return s.done }

func (s *supervised) status() syscall.WaitStatus { return s.ws }

func (s *supervised) lingering() bool { return s.linger }

func (s *supervised) terminate() { s.send("term") }

func (s *supervised) kill() {
	s.send("kill")
	<-s.supDone
	<-s.done
}

// send writes one control line. An error means the supervisor has exited,
// after everything it watched.
func (s *supervised) send(msg string) {
	s.ctlMu.Lock()
	defer s.ctlMu.Unlock()
	if !s.ctlClosed {
		_, _ = s.ctl.WriteString(msg + "\n")
	}
}

// closeControl closes the control pipe, which a running supervisor takes
// as the order to end everything.
func (s *supervised) closeControl() {
	s.ctlMu.Lock()
	defer s.ctlMu.Unlock()
	if !s.ctlClosed {
		s.ctlClosed = true
		s.ctl.Close()
	}
}

// close ends a supervisor whose command never started.
func (s *supervised) close() {
	s.closeControl()
	<-s.supDone
}

// superviseMain is the supervisor: it runs the command args[0] with argv
// args[1:] and returns its own exit code.
func superviseMain(args []string) int {
	status := os.NewFile(2, "status")
	if len(args) < 2 {
		fmt.Fprintln(status, "usage: lathe-supervisor PATH ARGV0 [ARG...]")
		return 2
	}
	// The command must inherit none of these.
	for _, fd := range []int{0, 2, 3} {
		syscall.CloseOnExec(fd)
	}
	if err := setSubreaper(); err != nil {
		fmt.Fprintf(status, "become a child subreaper: %v\n", err)
		return 1
	}
	// From here on, anything that would end the supervisor ends what it
	// watches first.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT)
	// Once Lathe is gone, a status write must fail with EPIPE rather than
	// kill the supervisor. Handled, not ignored: an ignored signal would
	// stay ignored in the command.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)

	devnull, err := os.Open(os.DevNull)
	if err != nil {
		fmt.Fprintf(status, "open %s: %v\n", os.DevNull, err)
		return 1
	}
	pid, err := syscall.ForkExec(args[0], args[1:], &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{devnull.Fd(), 3, 3},
		Sys: &syscall.SysProcAttr{
			// A session of its own: its own process group, and no
			// controlling terminal to prompt on or draw over.
			Setsid: true,
			// Should the supervisor be killed outright, the command at
			// least dies with it.
			Pdeathsig: syscall.SIGKILL,
		},
	})
	if err != nil {
		var errno syscall.Errno
		if !errors.As(err, &errno) {
			errno = syscall.EINVAL
		}
		fmt.Fprintf(status, "error %d\n", int(errno))
		return 1
	}
	devnull.Close()
	syscall.Close(3)
	fmt.Fprintf(status, "started %d\n", pid)

	reaped := make(chan struct{}, 1)
	reported, none := make(chan struct{}), make(chan struct{})
	go reap(pid, status, reaped, reported, none)
	ctl := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			ctl <- sc.Text()
		}
		// EOF: Lathe has died, or closed the pipe.
		close(ctl)
	}()
	for {
		select {
		case <-none:
			return 0
		case msg, ok := <-ctl:
			if ok && msg == "term" {
				signalAll(syscall.SIGTERM)
				continue
			}
			// "kill", or EOF: Lathe has died or is closing.
		case <-sigs:
		}
		killAll(pid, reaped, reported, none)
		return 0
	}
}

// reap waits for every child of the supervisor, those reparented to it
// included, and reports the command's exit status when it has it, then
// closes reported. It signals each reap on reaped, and closes none when no
// child is left.
func reap(pid int, status *os.File, reaped, reported, none chan struct{}) {
	defer close(none)
	for {
		var ws syscall.WaitStatus
		p, err := syscall.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			// ECHILD: nothing left.
			return
		}
		if p == pid {
			linger := 0
			if hasChildren() {
				linger = 1
			}
			fmt.Fprintf(status, "exit %d %d\n", uint32(ws), linger)
			close(reported)
		}
		select {
		case reaped <- struct{}{}:
		default:
		}
	}
}

// killAll kills every descendant of the supervisor until none is left,
// the command pid included. Killing a process reparents its children to
// the supervisor, which finds them on the next round; each round waits for
// a reap. A round that can signal nothing ends it: what is left runs as
// another user (a command run through sudo) and will never die of the
// supervisor's signals, and waiting for it would hang the command's
// caller. The command's exit status, once reaped, is reported first.
func killAll(pid int, reaped, reported, none chan struct{}) {
	for signalAll(syscall.SIGKILL) > 0 {
		select {
		case <-none:
			return
		case <-reaped:
		}
	}
	// Only its reaper frees the command's pid.
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		<-reported
	}
}

// signalAll sends sig to every descendant of the supervisor, and returns
// how many it could signal.
func signalAll(sig syscall.Signal) int {
	n := 0
	for _, pid := range descendants() {
		// ESRCH: it is already gone; EPERM: it is another user's.
		if syscall.Kill(pid, sig) == nil {
			n++
		}
	}
	return n
}

// descendants returns the processes below the supervisor, read from each
// process's parent in /proc: /proc/PID/task/TID/children is not in every
// kernel.
func descendants() []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	children := map[int][]int{}
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // it has exited
		}
		// pid (comm) state ppid ...; comm may hold anything but the
		// last ')'.
		line := string(b)
		i := strings.LastIndexByte(line, ')')
		j := strings.IndexByte(line, ' ')
		if i < 0 || j < 0 {
			continue
		}
		fields := strings.Fields(line[i+1:])
		if len(fields) < 2 {
			continue
		}
		pid, err1 := strconv.Atoi(line[:j])
		ppid, err2 := strconv.Atoi(fields[1])
		if err1 == nil && err2 == nil {
			children[ppid] = append(children[ppid], pid)
		}
	}
	var all []int
	queue := []int{os.Getpid()}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			all = append(all, c)
			queue = append(queue, c)
		}
	}
	return all
}

// hasChildren reports whether the supervisor has a child, without
// reaping it. A subreaper has a child exactly when it has a descendant:
// the topmost one below it is its child, by birth or by reparenting.
func hasChildren() bool {
	const pAll, wNowait = 0, 0x1000000
	var info [128]byte // siginfo_t
	_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pAll, 0, uintptr(unsafe.Pointer(&info)), syscall.WEXITED|syscall.WNOHANG|wNowait, 0, 0)
	return errno != syscall.ECHILD
}

// setSubreaper makes the calling process the reaper of its orphaned
// descendants.
func setSubreaper() error {
	const prSetChildSubreaper = 36
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		return errno
	}
	return nil
}
