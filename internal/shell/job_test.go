package shell

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// readUntil reads j until it leaves the Running state or its accumulated
// output satisfies cond, and returns the state and all output read.
func readUntil(t *testing.T, j *Job, what string, cond func(State, string) bool) (State, Result, string) {
	t.Helper()
	var (
		all   strings.Builder
		state State
		res   Result
	)
	eventually(t, what, func() bool {
		state, res = j.Read()
		all.WriteString(res.Output)
		return cond(state, all.String())
	})
	return state, res, all.String()
}

func TestJobReadsIncrementally(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := NewRunner()
	defer r.Close()
	j, err := r.Start(t.Context(), Command{Script: "echo one; while [ ! -e go ]; do sleep 0.01; done; echo two; exit 3", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	state, _, out := readUntil(t, j, "the first line", func(_ State, out string) bool { return out != "" })
	if state != Running || out != "one\n" {
		t.Fatalf("first read: %v %q, want running with one", state, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	state, res, out := readUntil(t, j, "the job to exit", func(s State, _ string) bool { return s != Running })
	if state != Exited || res.ExitCode != 3 || out != "two\n" {
		t.Errorf("after exit: %v, exit %d, new output %q; want exited 3 with only two", state, res.ExitCode, out)
	}
	if state, res := j.Read(); state != Exited || res.Output != "" {
		t.Errorf("read after the end: %v %q, want exited with no new output", state, res.Output)
	}
}

func TestJobKill(t *testing.T) {
	t.Parallel()
	r := NewRunner()
	defer r.Close()
	j, err := r.Start(t.Context(), Command{Script: "sleep 30 & echo $!; wait"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, out := readUntil(t, j, "the child's pid", func(_ State, out string) bool { return strings.HasSuffix(out, "\n") })
	pid := firstPID(t, out)
	if !j.Kill() {
		t.Error("Kill of a running job reported it was not running")
	}
	if state, res := j.Read(); state != Killed || res.Signal == 0 {
		t.Errorf("after Kill: %v, signal %v; want killed by a signal", state, res.Signal)
	}
	eventually(t, "the job's child to die", func() bool { return gone(pid) })
	if j.Kill() {
		t.Error("second Kill reported the job was running")
	}
}

func TestJobIDs(t *testing.T) {
	t.Parallel()
	r := NewRunner()
	defer r.Close()
	for _, want := range []string{"bash_1", "bash_2"} {
		j, err := r.Start(t.Context(), Command{Script: "true"})
		if err != nil {
			t.Fatal(err)
		}
		if j.ID() != want || j.Command() != "true" {
			t.Errorf("job %q running %q, want %q running true", j.ID(), j.Command(), want)
		}
		if got, ok := r.Job(want); !ok || got != j {
			t.Errorf("Job(%q) = %v, %v", want, got, ok)
		}
	}
	if _, ok := r.Job("bash_3"); ok {
		t.Error("Job found a job that was never started")
	}
}

func TestCloseKillsJobs(t *testing.T) {
	t.Parallel()
	r := NewRunner()
	var jobs []*Job
	for range 2 {
		j, err := r.Start(t.Context(), Command{Script: "sleep 30 & echo $!; wait"})
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, j)
	}
	var pids []int
	for _, j := range jobs {
		_, _, out := readUntil(t, j, "the child's pid", func(_ State, out string) bool { return strings.HasSuffix(out, "\n") })
		pids = append(pids, firstPID(t, out))
	}
	if killed := r.Close(); !slices.Equal(killed, jobs) {
		t.Errorf("Close killed %v, want both jobs %v", killed, jobs)
	}
	if again := r.Close(); again != nil {
		t.Errorf("second Close killed %v again", again)
	}
	for i, j := range jobs {
		if state, _ := j.Read(); state != Killed {
			t.Errorf("%s after Close: %v, want killed", j.ID(), state)
		}
		eventually(t, "the job's child to die", func() bool { return gone(pids[i]) })
	}
	if _, err := r.Start(t.Context(), Command{Script: "true"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close: err = %v, want ErrClosed", err)
	}
	if _, err := r.Run(t.Context(), Command{Script: "true"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close: err = %v, want ErrClosed", err)
	}
}

// TestStopKeepsRunnerOpen checks that Stop kills the running jobs and
// lists them, as Close does, but leaves the Runner running commands and
// starting jobs, numbered on from the ones before.
func TestStopKeepsRunnerOpen(t *testing.T) {
	t.Parallel()
	r := NewRunner()
	defer r.Close()
	first, err := r.Start(t.Context(), Command{Script: "sleep 30"})
	if err != nil {
		t.Fatal(err)
	}
	if killed := r.Stop(); !slices.Equal(killed, []*Job{first}) {
		t.Errorf("Stop killed %v, want %s", killed, first.ID())
	}
	if state, _ := first.Read(); state != Killed {
		t.Errorf("%s after Stop: %v, want killed", first.ID(), state)
	}
	if res, err := r.Run(t.Context(), Command{Script: "echo still"}); err != nil || !strings.Contains(res.Output, "still") {
		t.Errorf("Run after Stop = %q, %v; want it to run", res.Output, err)
	}
	next, err := r.Start(t.Context(), Command{Script: "sleep 30"})
	if err != nil {
		t.Fatalf("Start after Stop: %v", err)
	}
	if next.ID() != "bash_2" {
		t.Errorf("the job after Stop is %s, want bash_2", next.ID())
	}
	if killed := r.Close(); !slices.Equal(killed, []*Job{next}) {
		t.Errorf("Close after Stop killed %v, want only %s", killed, next.ID())
	}
}

func TestCloseKillsWhatForegroundCommandsLeftRunning(t *testing.T) {
	t.Parallel()
	r := NewRunner()
	res, err := r.Run(t.Context(), Command{Script: "sleep 30 >/dev/null 2>&1 & echo $!"})
	if err != nil {
		t.Fatal(err)
	}
	pid := firstPID(t, res.Output)
	if gone(pid) {
		t.Fatal("the command's background child died with it; nothing to test")
	}
	if killed := r.Close(); killed != nil {
		t.Errorf("Close killed jobs %v; there were none", killed)
	}
	eventually(t, "the stray child to die", func() bool { return gone(pid) })
}

func TestCloseListsOnlyJobsItKilled(t *testing.T) {
	t.Parallel()
	r := NewRunner()
	done, err := r.Start(t.Context(), Command{Script: "true"})
	if err != nil {
		t.Fatal(err)
	}
	if state, _, _ := readUntil(t, done, "the job to exit", func(s State, _ string) bool { return s != Running }); state != Exited {
		t.Fatalf("%s: %v, want exited", done.ID(), state)
	}
	killed, err := r.Start(t.Context(), Command{Script: "sleep 30"})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Close(); !slices.Equal(got, []*Job{killed}) {
		t.Errorf("Close killed %v, want only %s", got, killed.ID())
	}
}

func TestCloseKillsWhatLeftTheSession(t *testing.T) {
	t.Parallel()
	r := NewRunner()
	// One child starts a session of its own, out of the command's process
	// group; the other is orphaned by a double fork.
	res, err := r.Run(t.Context(), Command{Script: "setsid sleep 30 >/dev/null 2>&1 & echo $!; (sleep 30 >/dev/null 2>&1 & echo $!) "})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(res.Output)
	if len(lines) != 2 {
		t.Fatalf("output %q, want two pids", res.Output)
	}
	r.Close()
	for _, line := range lines {
		pid := firstPID(t, line)
		eventually(t, fmt.Sprintf("process %d to die", pid), func() bool { return gone(pid) })
	}
}

// TestJobStopsWithItsContext checks that a job is killed when the context
// it was started with is done, and that its output reaches the context's
// OutputFunc.
func TestJobStopsWithItsContext(t *testing.T) {
	t.Parallel()
	r := NewRunner()
	defer r.Close()
	chunks := make(chan string, 16)
	ctx, cancel := context.WithCancel(WithOutput(t.Context(), func(chunk []byte) { chunks <- string(chunk) }))
	j, err := r.Start(ctx, Command{Script: "echo up; exec sleep 30"})
	if err != nil {
		t.Fatal(err)
	}
	if got := <-chunks; got != "up\n" {
		t.Errorf("first chunk %q, want up", got)
	}
	cancel()
	state, _, _ := readUntil(t, j, "the job to stop", func(s State, _ string) bool { return s != Running })
	if state != Killed {
		t.Errorf("state %v after its context was cancelled, want killed", state)
	}
	if killed := r.Close(); len(killed) != 0 {
		t.Errorf("Close killed %d jobs, want none left", len(killed))
	}
}
