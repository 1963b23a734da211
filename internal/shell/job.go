package shell

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// State is where a background job is in its life.
type State int

const (
	// Running jobs have not exited yet.
	Running State = iota
	// Exited jobs ended on their own.
	Exited
	// Killed jobs were stopped by Kill, their context, or closing the
	// Runner.
	Killed
)

func (s State) String() string {
	switch s {
	case Running:
		return "running"
	case Exited:
		return "exited"
	case Killed:
		return "killed"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Job is a command running in the background, detached from the call that
// started it. Its output is kept in the same bounded buffer as a
// foreground command's and read in increments.
type Job struct {
	id      string
	seq     int // the n of bash_n
	command string
	p       *proc
	cancel  context.CancelFunc

	mu    sync.Mutex
	cur   cursor
	carry []byte
}

// jobs is a Runner's table of background jobs.
type jobs struct {
	mu     sync.Mutex
	byID   map[string]*Job
	n      int
	closed bool
}

func (js *jobs) isClosed() bool {
	js.mu.Lock()
	defer js.mu.Unlock()
	return js.closed
}

// Start starts c in the background and returns its job, named bash_1,
// bash_2, ... in order. The job runs without a timeout until it exits, is
// killed, ctx is done, or the Runner is closed; it starts under the
// profile of ctx and sends its output to the OutputFunc of ctx, as Run
// does. A job that must outlive the call that starts it takes
// context.WithoutCancel of the call's context. Whatever ends the job, it
// does not outlive Lathe.
func (r *Runner) Start(ctx context.Context, c Command) (*Job, error) {
	r.jobs.mu.Lock()
	defer r.jobs.mu.Unlock()
	if r.jobs.closed {
		return nil, ErrClosed
	}
	p, err := r.start(ctx, c)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		defer cancel()
		r.supervise(ctx, p, 0)
	}()
	r.jobs.n++
	command := c.Script
	if command == "" {
		command = strings.Join(c.Args, " ")
	}
	j := &Job{id: fmt.Sprintf("bash_%d", r.jobs.n), seq: r.jobs.n, command: command, p: p, cancel: cancel}
	if r.jobs.byID == nil {
		r.jobs.byID = make(map[string]*Job)
	}
	r.jobs.byID[j.id] = j
	return j, nil
}

// Job returns the job named id, running or not.
func (r *Runner) Job(id string) (*Job, bool) {
	r.jobs.mu.Lock()
	defer r.jobs.mu.Unlock()
	j, ok := r.jobs.byID[id]
	return j, ok
}

// Close is Stop, after which the Runner refuses new commands, and Close
// returns no more jobs.
func (r *Runner) Close() []*Job {
	r.jobs.mu.Lock()
	r.jobs.closed = true
	r.jobs.mu.Unlock()
	return r.Stop()
}

// Stop kills every running background job and waits for them to end, and
// kills what foreground commands left running, so that a session can stop
// what one prompt started before it reports and still run the next. It
// returns the jobs it killed, in the order they were started. Foreground
// commands still running are stopped through their own contexts, and a
// job started while Stop runs may outlive it.
func (r *Runner) Stop() []*Job {
	r.straysMu.Lock()
	strays := r.strays
	r.strays = nil
	r.straysMu.Unlock()
	for _, p := range strays {
		p.kill()
	}
	r.jobs.mu.Lock()
	var running []*Job
	for _, j := range r.jobs.byID {
		select {
		case <-j.p.done:
		default:
			running = append(running, j)
		}
	}
	r.jobs.mu.Unlock()
	slices.SortFunc(running, func(a, b *Job) int { return cmp.Compare(a.seq, b.seq) })
	// Cancel them all before waiting, so their kill graces run together.
	for _, j := range running {
		j.cancel()
	}
	var killed []*Job
	for _, j := range running {
		<-j.p.done
		// One that exited on its own meanwhile was not killed.
		if j.p.stopped {
			killed = append(killed, j)
		}
	}
	return killed
}

// ID returns the job's name.
func (j *Job) ID() string { return j.id }

// Command returns the job's script, or its arguments joined by spaces.
func (j *Job) Command() string { return j.command }

// Read returns the output written since the previous Read, sanitised and
// truncated like a foreground command's, and the job's state. Once the
// state is not Running, the other fields of the Result are final.
func (j *Job) Read() (State, Result) {
	j.mu.Lock()
	defer j.mu.Unlock()
	select {
	case <-j.p.done:
	default:
		res := Result{Lines: j.p.out.Lines(), Duration: time.Since(j.p.start)}
		res.Output, j.carry, res.Truncated, res.Saved = render(j.p.out, &j.cur, j.carry, false)
		return Running, res
	}
	res := j.p.result()
	res.Output, j.carry, res.Truncated, res.Saved = render(j.p.out, &j.cur, j.carry, true)
	if j.p.stopped {
		return Killed, res
	}
	return Exited, res
}

// Kill stops the job's process group, SIGTERM then SIGKILL, and waits for
// it to end. It reports whether the job was still running.
func (j *Job) Kill() bool {
	select {
	case <-j.p.done:
		return false
	default:
	}
	j.cancel()
	<-j.p.done
	return j.p.stopped
}
