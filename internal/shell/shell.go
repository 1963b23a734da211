// Package shell runs the commands that tools start. Every command goes
// through a [Runner], which starts it through its [sandbox.Executor].
//
// A command runs in its own session with stdin at /dev/null, its stdout and
// stderr merged in arrival order into one bounded buffer, and a timeout. On
// Linux it runs under a supervisor that is its child subreaper (see
// supervise_linux.go), so that nothing it starts, even a process that
// leaves its session, outlives the Runner or Lathe itself. When it times
// out or its context is cancelled, everything it started is stopped.
// Output is sanitised and truncated for the model before it is returned.
package shell

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/lathe-dev/lathe/internal/sandbox"
	"github.com/lathe-dev/lathe/internal/spill"
	"github.com/lathe-dev/lathe/internal/termsafe"
)

const (
	// DefaultTimeout is how long a command may run unless told otherwise.
	DefaultTimeout = 2 * time.Minute
	// MaxTimeout caps every timeout, given per command or per Runner.
	MaxTimeout = 10 * time.Minute
)

// pipeGrace is how long output is still read after a command has exited.
// Its own output is already in the pipe by then; anything later comes from
// a background child ("server &") that inherited the pipe and may hold it
// open forever, and waiting for that would hang the call.
const pipeGrace = 200 * time.Millisecond

// ErrClosed is returned for commands given to a closed Runner.
var ErrClosed = errors.New("shell: runner closed")

// Runner runs commands. Make one with NewRunner; its methods are safe for
// concurrent use.
type Runner struct {
	timeout time.Duration
	wrap    func(*exec.Cmd) error
	// exec starts every process, the supervisor of each command.
	exec sandbox.Executor
	// killGrace is how long a stopped command gets between SIGTERM and
	// SIGKILL.
	killGrace time.Duration

	jobs jobs

	// strays are foreground commands that exited leaving processes
	// behind ("server &"); Close ends them.
	straysMu sync.Mutex
	strays   []process
}

// Option configures a Runner.
type Option func(*Runner)

// WithTimeout sets the timeout of commands that do not set their own. It is
// capped at MaxTimeout; zero or less keeps DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(r *Runner) {
		if d > 0 {
			r.timeout = min(d, MaxTimeout)
		}
	}
}

// WithWrap sets a function applied to every command before it is handed
// to the supervisor. It may rewrite the command's Path, Args, Env and Dir;
// its SysProcAttr is the supervisor's to set. An error from wrap fails the
// command without starting it. The environment it sees is not yet
// narrowed by the executor's profile.
func WithWrap(wrap func(*exec.Cmd) error) Option {
	return func(r *Runner) { r.wrap = wrap }
}

// WithExecutor sets the executor that starts every process of the Runner:
// on Linux the supervisor of each command (see supervise_linux.go), with
// the command in its arguments. The default is a [sandbox.Host] with no
// base profile.
func WithExecutor(e sandbox.Executor) Option {
	return func(r *Runner) { r.exec = e }
}

// Executor returns the executor the Runner starts processes with, for
// the other processes a tool starts, such as ripgrep.
func (r *Runner) Executor() sandbox.Executor { return r.exec }

// NewRunner returns a Runner configured by opts.
func NewRunner(opts ...Option) *Runner {
	r := &Runner{timeout: DefaultTimeout, killGrace: time.Second}
	for _, opt := range opts {
		opt(r)
	}
	if r.exec == nil {
		r.exec = sandbox.NewHost(sandbox.Profile{})
	}
	return r
}

// Command is one command to run: either a bash script or an argv.
type Command struct {
	// Script is run with "bash -c".
	Script string
	// Args is run as is, Args[0] found in PATH.
	Args []string
	// Dir is the working directory; empty means the current directory.
	// Callers pass an absolute path.
	Dir string
	// Timeout bounds a foreground run; zero means the Runner's timeout. It
	// is capped at MaxTimeout. Background jobs have no timeout.
	Timeout time.Duration
	// Spill, if set, keeps the whole output, sanitised, in a file of its
	// own once it is more than the model sees, and the cut output names
	// that file (see [spill]); an output short enough is not saved.
	Spill *spill.Dir
}

// Result is the outcome of a command.
type Result struct {
	// Output is stdout and stderr merged in arrival order, sanitised and
	// truncated for the model (see [spill.Clip]).
	Output string
	// Saved is the file that holds the whole output when Output is cut
	// and the Command had a Spill directory, else "".
	Saved string
	// Truncated counts the characters cut from the middle of Output.
	Truncated int64
	// Lines counts the lines of the whole output, before truncation.
	Lines int64
	// ExitCode is the exit status, or 128 plus the signal number for a
	// command killed by a signal, as shells report it.
	ExitCode int
	// Signal is the signal that killed the command, or 0.
	Signal syscall.Signal
	// TimedOut is set when the command was stopped by its timeout.
	TimedOut bool
	// Timeout is the timeout the command ran with.
	Timeout time.Duration
	// Duration is how long the command ran, or has run so far.
	Duration time.Duration
}

// Run runs c and waits for it, at most for its timeout. The process
// starts under the profile of ctx (see [sandbox.WithProfile]), and its
// output goes to the OutputFunc of ctx, if any (see [WithOutput]), as it
// comes. If ctx is cancelled first, the command's process group is stopped and Run returns
// what it had gathered with the context's error. Any other error means the
// command did not start: ErrClosed, a failed wrap, or a missing program or
// directory, which wraps exec.ErrNotFound or an fs error.
func (r *Runner) Run(ctx context.Context, c Command) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("run command: %w", context.Cause(ctx))
	}
	if r.jobs.isClosed() {
		return Result{}, ErrClosed
	}
	timeout := r.timeout
	if c.Timeout > 0 {
		timeout = min(c.Timeout, MaxTimeout)
	}
	p, err := r.start(ctx, c)
	if err != nil {
		return Result{}, err
	}
	r.supervise(ctx, p, timeout)
	res := p.result()
	res.Timeout = timeout
	res.Output, _, res.Truncated, res.Saved = render(p.out, &cursor{}, nil, true)
	if p.stopped && !p.timedOut {
		return res, fmt.Errorf("run command: %w", context.Cause(ctx))
	}
	return res, nil
}

// process is a started command as the platform runs it.
type process interface {
	// exited is closed when the command has exited.
	exited() <-chan struct{}
	// status is the command's wait status, once it has exited.
	status() syscall.WaitStatus
	// lingering reports, once the command has exited, whether something
	// it started was still running then.
	lingering() bool
	// terminate sends SIGTERM to everything the command started.
	terminate()
	// kill ends everything the command started, with SIGKILL, and returns
	// when it has all ended.
	kill()
}

// proc is a started command.
type proc struct {
	proc  process
	pipe  *os.File // read end of the output pipe
	out   *buffer
	start time.Time
	// onOutput, if not nil, gets each chunk of output as it is read.
	onOutput OutputFunc
	// read is closed when all output has been read.
	read chan struct{}
	// done is closed once the command has exited and its output has been
	// read; the fields below are set by then.
	done     chan struct{}
	end      time.Time
	stopped  bool // stopped by a timeout or a cancelled context
	timedOut bool
}

func (r *Runner) start(ctx context.Context, c Command) (*proc, error) {
	var cmd *exec.Cmd
	switch {
	case c.Script != "" && len(c.Args) == 0:
		cmd = exec.Command("bash", "-c", c.Script)
	case c.Script == "" && len(c.Args) > 0:
		cmd = exec.Command(c.Args[0], c.Args[1:]...)
	default:
		return nil, errors.New("shell: a command needs exactly one of a script or arguments")
	}
	cmd.Dir = c.Dir
	// Stdin stays nil, which exec turns into /dev/null: a command that
	// reads stdin gets EOF at once rather than waiting for input that
	// cannot come.
	// Later entries win, so these override the user's settings. The
	// executor removes what the profile hides.
	cmd.Env = append(os.Environ(), "LATHE=1", "PAGER=cat", "GIT_PAGER=cat")
	// The command gets a session of its own (see launch). That takes
	// away the controlling terminal: a program that would prompt on
	// /dev/tty (ssh, sudo, git credentials) fails at once instead of
	// stopping on SIGTTIN until the timeout, and nothing can draw over
	// Lathe's own terminal UI.
	if r.wrap != nil {
		if err := r.wrap(cmd); err != nil {
			return nil, fmt.Errorf("shell: wrap command: %w", err)
		}
	}
	// A missing directory would fail the start as if the program were
	// missing ("fork/exec /proc/self/exe: no such file or directory"), so
	// it is checked first, as os.StartProcess does for a command without a
	// SysProcAttr, and named.
	if cmd.Dir != "" {
		fi, err := os.Stat(cmd.Dir)
		if pe, ok := err.(*os.PathError); ok {
			pe.Op = "chdir"
		} else if err == nil && !fi.IsDir() {
			err = &os.PathError{Op: "chdir", Path: cmd.Dir, Err: syscall.ENOTDIR}
		}
		if err != nil {
			return nil, fmt.Errorf("shell: start command: %w", err)
		}
	}
	// One pipe for stdout and stderr keeps their interleaving as written.
	// Reading it ourselves, rather than through exec's copying goroutines,
	// lets us stop reading when a background child holds it open.
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("shell: output pipe: %w", err)
	}
	p := &proc{pipe: pr, out: &buffer{dir: c.Spill}, onOutput: outputFrom(ctx), read: make(chan struct{}), done: make(chan struct{})}
	p.start = time.Now()
	p.proc, err = launch(ctx, r.exec, cmd, pw)
	pw.Close()
	if err != nil {
		pr.Close()
		return nil, fmt.Errorf("shell: start command: %w", err)
	}
	go p.readOutput()
	return p, nil
}

func (p *proc) readOutput() {
	defer close(p.read)
	buf := make([]byte, 32<<10)
	for {
		n, err := p.pipe.Read(buf)
		p.out.Write(buf[:n])
		if n > 0 && p.onOutput != nil {
			p.onOutput(buf[:n])
		}
		if err != nil {
			// EOF, or the deadline set once the command exited.
			return
		}
	}
}

// supervise waits for p to exit, stopping it when timeout (if not zero)
// passes or ctx is done, then finishes reading its output and closes
// p.done.
func (r *Runner) supervise(ctx context.Context, p *proc, timeout time.Duration) {
	defer close(p.done)
	exited := p.proc.exited()
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-exited:
	case <-expired:
		p.timedOut = true
		r.stop(p, exited)
	case <-ctx.Done():
		r.stop(p, exited)
	}
	p.end = time.Now()
	if !p.stopped && p.proc.lingering() {
		// The command is gone but something it started runs on. It may
		// do so for the rest of the session, as a dev server should, but
		// not beyond it.
		r.straysMu.Lock()
		r.strays = append(r.strays, p.proc)
		r.straysMu.Unlock()
	}
	// Errors only mean the pipe is already closed, which cannot happen
	// before the reader returns.
	_ = p.pipe.SetReadDeadline(time.Now().Add(pipeGrace))
	<-p.read
	p.pipe.Close()
	p.out.closeSave()
}

// stop ends everything p started: SIGTERM so programs can clean up, then
// SIGKILL after killGrace, or at once if the command has exited, for what
// ignored the first signal.
func (r *Runner) stop(p *proc, exited <-chan struct{}) {
	p.stopped = true
	p.proc.terminate()
	t := time.NewTimer(r.killGrace)
	defer t.Stop()
	select {
	case <-exited:
	case <-t.C:
	}
	p.proc.kill()
	<-exited
}

// result returns p's exit status; p must be done.
func (p *proc) result() Result {
	res := Result{Duration: p.end.Sub(p.start), TimedOut: p.timedOut, Lines: p.out.Lines()}
	ws := p.proc.status()
	res.ExitCode = ws.ExitStatus()
	if ws.Signaled() {
		res.Signal = ws.Signal()
		res.ExitCode = 128 + int(res.Signal)
	}
	return res
}

// render returns the output after c for the model and advances c. carry
// is held-back input from the previous call, prefixed to what follows it;
// unless final, an incomplete sequence at the end is returned as the new
// carry. A text cut for the model names the file that holds the whole
// output, returned as saved: the buffer's spill file, or, for an output
// held whole in memory, a file made for it now.
func render(out *buffer, c *cursor, carry []byte, final bool) (text string, rest []byte, truncated int64, saved string) {
	head, tail, gap := out.since(c)
	head = append(carry, head...)
	where := out.saved()
	if gap == 0 {
		t, rest := termsafe.Clean(head, final)
		if where == (spill.Where{}) && out.dir != nil && utf8.RuneCountInString(t) > spill.Limit {
			where.Path, where.Err = out.dir.Save(t)
		}
		text, truncated = spill.Clip(t, "", 0, spill.Limit, where)
		return text, rest, truncated, savedPath(truncated, where)
	}
	// The ring may start inside a character.
	for len(tail) > 0 && tail[0]&0xC0 == 0x80 {
		tail = tail[1:]
	}
	h, _ := termsafe.Clean(head, true)
	t, rest := termsafe.Clean(tail, final)
	text, truncated = spill.Clip(h, t, gap, spill.Limit, where)
	return text, rest, truncated, savedPath(truncated, where)
}

// savedPath is where's path if the text was cut, else "".
func savedPath(truncated int64, where spill.Where) string {
	if truncated == 0 {
		return ""
	}
	return where.Path
}
