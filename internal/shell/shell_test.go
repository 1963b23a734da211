package shell

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lathe-dev/lathe/internal/sandbox"
	"github.com/lathe-dev/lathe/internal/sandbox/sandboxtest"
	"github.com/lathe-dev/lathe/internal/spill"
)

func run(t *testing.T, r *Runner, c Command) Result {
	t.Helper()
	res, err := r.Run(context.Background(), c)
	if err != nil {
		t.Fatalf("Run(%q): %v", c.Script, err)
	}
	return res
}

// eventually fails the test unless cond becomes true within a few seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// gone reports whether process pid has ended. A killed orphan may linger
// as a zombie when PID 1 does not reap, so that counts as ended.
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return errors.Is(err, fs.ErrNotExist)
	}
	// The state follows the parenthesised command name.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && (fields[0] == "Z" || fields[0] == "X")
}

// firstPID parses the first line of out as a process id.
func firstPID(t *testing.T, out string) int {
	t.Helper()
	line, _, _ := strings.Cut(out, "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("no pid at the start of output %q", out)
	}
	return pid
}

func TestRunExitStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		script   string
		wantCode int
		wantSig  syscall.Signal
	}{
		{"true", 0, 0},
		{"exit 3", 3, 0},
		{"false", 1, 0},
		{"kill -KILL $$", 128 + 9, syscall.SIGKILL},
	}
	r := NewRunner()
	for _, tt := range tests {
		res := run(t, r, Command{Script: tt.script})
		if res.ExitCode != tt.wantCode || res.Signal != tt.wantSig || res.TimedOut {
			t.Errorf("%q: exit %d, signal %v, timed out %v; want exit %d, signal %v",
				tt.script, res.ExitCode, res.Signal, res.TimedOut, tt.wantCode, tt.wantSig)
		}
	}
}

func TestRunOutput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, script, want string
		wantLines          int64
	}{
		{"stdout and stderr in order", "echo 1; echo 2 >&2; echo 3; echo 4 >&2", "1\n2\n3\n4\n", 4},
		{"unterminated last line", "printf 'a\\nb'", "a\nb", 2},
		{"stdin is closed", "cat; read x; echo \"read $?\"", "read 1\n", 1},
		{"environment", `echo "$LATHE $PAGER $GIT_PAGER"`, "1 cat cat\n", 1},
		{"escapes stripped", `printf '\033[1;31mred\033[0m \033]0;title\007ok\n'`, "red ok\n", 1},
		{"invalid utf8 replaced", `printf 'bin\377\000ary\n'`, "bin\uFFFD\uFFFDary\n", 1},
		{"no controlling terminal", "(: </dev/tty) 2>/dev/null && echo tty || echo none", "none\n", 1},
	}
	r := NewRunner()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := run(t, r, Command{Script: tt.script})
			if res.Output != tt.want || res.Lines != tt.wantLines {
				t.Errorf("output %q (%d lines), want %q (%d lines)", res.Output, res.Lines, tt.want, tt.wantLines)
			}
		})
	}
}

func TestRunArgsAndDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "dir with spaces")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "my file.txt"), []byte("content\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := NewRunner()
	if res := run(t, r, Command{Script: `pwd; cat "my file.txt"`, Dir: dir}); res.Output != dir+"\ncontent\n" {
		t.Errorf("script in %q printed %q", dir, res.Output)
	}
	if res := run(t, r, Command{Args: []string{"cat", "my file.txt"}, Dir: dir}); res.Output != "content\n" {
		t.Errorf("argv printed %q", res.Output)
	}
	if res := run(t, r, Command{Args: []string{"printf", "%s|", "a b", "$HOME"}}); res.Output != "a b|$HOME|" {
		t.Errorf("argv was not passed verbatim: %q", res.Output)
	}
}

func TestRunStartErrors(t *testing.T) {
	t.Parallel()
	r := NewRunner()
	ctx := context.Background()
	if _, err := r.Run(ctx, Command{Args: []string{"lathe-no-such-program"}}); !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("missing program: err = %v, want exec.ErrNotFound", err)
	}
	missing := filepath.Join(t.TempDir(), "missing")
	if _, err := r.Run(ctx, Command{Script: "true", Dir: missing}); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "chdir "+missing) {
		t.Errorf("missing dir: err = %v, want fs.ErrNotExist naming the directory", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(ctx, Command{Script: "true", Dir: file}); !errors.Is(err, syscall.ENOTDIR) || !strings.Contains(err.Error(), "chdir "+file) {
		t.Errorf("dir that is a file: err = %v, want ENOTDIR naming it", err)
	}
	if _, err := r.Run(ctx, Command{}); err == nil {
		t.Error("empty command: no error")
	}
	if _, err := r.Run(ctx, Command{Script: "true", Args: []string{"true"}}); err == nil {
		t.Error("script and args: no error")
	}
}

func TestRunTimeoutKillsGroup(t *testing.T) {
	t.Parallel()
	r := NewRunner()
	// The script waits on a child so that the child, not just the shell,
	// must be killed for the call to end.
	res, err := r.Run(context.Background(), Command{Script: "sleep 30 & echo $!; wait", Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !res.TimedOut || res.Timeout != 200*time.Millisecond || res.ExitCode == 0 {
		t.Errorf("timed out %v after %v with exit %d; want a timeout after 200ms", res.TimedOut, res.Timeout, res.ExitCode)
	}
	pid := firstPID(t, res.Output)
	eventually(t, "the child sleep to die", func() bool { return gone(pid) })
}

func TestRunTimeoutEscalatesToKill(t *testing.T) {
	t.Parallel()
	r := NewRunner()
	r.killGrace = 100 * time.Millisecond
	res, err := r.Run(context.Background(), Command{Script: "trap '' TERM; echo ready; while :; do sleep 0.05; done", Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !res.TimedOut || res.Signal != syscall.SIGKILL || res.Output != "ready\n" {
		t.Errorf("timed out %v, signal %v, output %q; want SIGKILL after ignored SIGTERM", res.TimedOut, res.Signal, res.Output)
	}
}

func TestRunCancelKillsGroup(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := NewRunner().Run(ctx, Command{Script: fmt.Sprintf("sleep 30 & echo $! > %q; wait", pidFile)})
		errc <- err
	}()
	var pid int
	eventually(t, "the pid file", func() bool {
		b, err := os.ReadFile(pidFile)
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && pid > 0
	})
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Run after cancel: err = %v, want context.Canceled", err)
	}
	eventually(t, "the child sleep to die", func() bool { return gone(pid) })
}

func TestRunCancelledContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	_, err := NewRunner().Run(ctx, Command{Script: "touch ran", Dir: dir})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Error("the command ran despite the cancelled context")
	}
}

func TestRunBackgroundChildHoldingOutputDoesNotHang(t *testing.T) {
	t.Parallel()
	// If Run waited for the pipe to close, it would hit the timeout.
	res := run(t, NewRunner(), Command{Script: "sleep 30 & echo $!; echo done", Timeout: 10 * time.Second})
	pid := firstPID(t, res.Output)
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if res.TimedOut || res.ExitCode != 0 || !strings.HasSuffix(res.Output, "\ndone\n") {
		t.Errorf("timed out %v, exit %d, output %q; want done at once", res.TimedOut, res.ExitCode, res.Output)
	}
}

func TestRunTruncatesMiddle(t *testing.T) {
	t.Parallel()
	var full strings.Builder
	for i := 1; i <= 20000; i++ {
		fmt.Fprintf(&full, "%d\n", i)
	}
	res := run(t, NewRunner(), Command{Script: "seq 1 20000"})
	want := int64(full.Len() - spill.Limit)
	marker := fmt.Sprintf("\n\n... [%d characters truncated] ...\n\n", want)
	if res.Truncated != want || !strings.Contains(res.Output, marker) {
		t.Fatalf("truncated %d, want %d and the marker %q", res.Truncated, want, marker)
	}
	head, tail, _ := strings.Cut(res.Output, marker)
	if !strings.HasPrefix(full.String(), head) || !strings.HasSuffix(full.String(), tail) || len(head)+len(tail) != spill.Limit {
		t.Errorf("kept %d head and %d tail characters that are not the ends of the output", len(head), len(tail))
	}
	if res.Lines != 20000 {
		t.Errorf("Lines = %d, want 20000", res.Lines)
	}
}

// TestRunSavesWholeOutput: an output cut for the model is saved whole,
// sanitised, in the file the marker names, whether it outgrew what is held
// in memory (streamed to the file) or not (saved at the end); one that is
// not cut is not saved.
func TestRunSavesWholeOutput(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, script string
		cut          bool
	}{
		{"streamed", `for i in $(seq 1 40000); do printf '\033[31m%d\033[0m\r\n' $i; done`, true},
		{"held in memory", "seq 1 9000", true},
		{"short", "seq 1 100", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := spill.New(filepath.Join(t.TempDir(), "outputs"))
			res := run(t, NewRunner(), Command{Script: tt.script, Spill: dir})
			if !tt.cut {
				if res.Saved != "" || res.Truncated != 0 {
					t.Fatalf("saved %q, truncated %d; want neither", res.Saved, res.Truncated)
				}
				if _, err := os.Stat(dir.Path()); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("a short output made the outputs directory (%v)", err)
				}
				return
			}
			if res.Saved == "" || !strings.Contains(res.Output, "; the full output is in "+res.Saved+"] ...") {
				t.Fatalf("saved %q; output does not name it", res.Saved)
			}
			b, err := os.ReadFile(res.Saved)
			if err != nil {
				t.Fatal(err)
			}
			var want strings.Builder
			n := 40000
			if tt.name == "held in memory" {
				n = 9000
			}
			for i := 1; i <= n; i++ {
				fmt.Fprintf(&want, "%d\n", i)
			}
			if string(b) != want.String() {
				t.Errorf("saved %d bytes, want the %d of the whole sanitised output", len(b), want.Len())
			}
		})
	}
}

// TestRunSavesAtMostMaxSave: a command printing more than spill.MaxSave
// bytes has its first MaxSave saved, and the cut says so.
func TestRunSavesAtMostMaxSave(t *testing.T) {
	t.Parallel()
	dir := spill.New(filepath.Join(t.TempDir(), "outputs"))
	res := run(t, NewRunner(), Command{Script: fmt.Sprintf("head -c %d /dev/zero | tr '\\0' a", spill.MaxSave+1<<20), Spill: dir})
	if !strings.Contains(res.Output, "; the first 64 MiB of the full output are in "+res.Saved+"] ...") {
		t.Errorf("output does not say that %q holds only the start: %q", res.Saved, res.Output[spill.Limit/2:spill.Limit/2+200])
	}
	if fi, err := os.Stat(res.Saved); err != nil || fi.Size() != spill.MaxSave {
		t.Errorf("saved file: %v, %v; want %d bytes", fi, err, spill.MaxSave)
	}
}

// TestJobSavesWholeOutput: a background job's output is saved as it is
// written, and a read cut for the model names the file.
func TestJobSavesWholeOutput(t *testing.T) {
	t.Parallel()
	dir := spill.New(filepath.Join(t.TempDir(), "outputs"))
	r := NewRunner()
	defer r.Close()
	j, err := r.Start(context.Background(), Command{Script: "seq 1 100000", Spill: dir})
	if err != nil {
		t.Fatal(err)
	}
	<-j.p.done
	st, res := j.Read()
	if st != Exited || res.Saved != filepath.Join(dir.Path(), "1.txt") || !strings.Contains(res.Output, res.Saved) {
		t.Fatalf("state %v, saved %q; want exited, saved in 1.txt and named", st, res.Saved)
	}
	b, err := os.ReadFile(res.Saved)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(b), "\n"); lines != 100000 || !strings.HasSuffix(string(b), "\n100000\n") {
		t.Errorf("saved %d lines, want all 100000", lines)
	}
}

// TestRunHugeOutputIsBounded is not parallel, so that the allocation count
// is this test's alone.
func TestRunHugeOutputIsBounded(t *testing.T) {
	const size = 300_000_000
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res := run(t, NewRunner(), Command{Script: fmt.Sprintf("head -c %d /dev/zero | tr '\\0' a", size)})
	runtime.ReadMemStats(&after)
	half := strings.Repeat("a", spill.Limit/2)
	want := fmt.Sprintf("%s\n\n... [%d characters truncated] ...\n\n%s", half, size-spill.Limit, half)
	if res.Output != want || res.Truncated != size-spill.Limit {
		t.Errorf("got %d characters, %d truncated; want %d and %d", len(res.Output), res.Truncated, len(want), size-spill.Limit)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("allocated %d bytes for %d bytes of output; want bounded memory", alloc, size)
	}
}

func TestRunWrap(t *testing.T) {
	t.Parallel()
	r := NewRunner(WithWrap(func(c *exec.Cmd) error {
		c.Env = append(c.Env, "WRAPPED=yes")
		return nil
	}))
	if res := run(t, r, Command{Script: "echo $WRAPPED"}); res.Output != "yes\n" {
		t.Errorf("wrapped command printed %q", res.Output)
	}

	errDenied := errors.New("denied")
	dir := t.TempDir()
	r = NewRunner(WithWrap(func(*exec.Cmd) error { return errDenied }))
	if _, err := r.Run(context.Background(), Command{Script: "touch ran", Dir: dir}); !errors.Is(err, errDenied) {
		t.Errorf("err = %v, want the wrap error", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Error("the command ran although wrap failed")
	}
}

func TestTimeouts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		opt  Option
		cmd  time.Duration
		want time.Duration
	}{
		{WithTimeout(0), 0, DefaultTimeout},
		{WithTimeout(time.Minute), 0, time.Minute},
		{WithTimeout(time.Hour), 0, MaxTimeout},
		{WithTimeout(time.Minute), 5 * time.Second, 5 * time.Second},
		{WithTimeout(time.Minute), time.Hour, MaxTimeout},
	}
	for _, tt := range tests {
		res := run(t, NewRunner(tt.opt), Command{Script: "true", Timeout: tt.cmd})
		if res.Timeout != tt.want {
			t.Errorf("command timeout %v: ran with %v, want %v", tt.cmd, res.Timeout, tt.want)
		}
	}
}

// BenchmarkRun runs the smallest command through a Runner. Against
// BenchmarkExec, the same command started directly, it measures what the
// Runner adds: on Linux mostly the supervisor's exec.
func BenchmarkRun(b *testing.B) {
	r := NewRunner()
	ctx := context.Background()
	for b.Loop() {
		if _, err := r.Run(ctx, Command{Args: []string{"true"}}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRunProfileEnv checks that a command gets the environment of the
// executor's base profile, narrowed by the profile of its context and
// never widened by it.
func TestRunProfileEnv(t *testing.T) {
	t.Setenv("LATHE_TEST_SECRET", "sk-secret")
	t.Setenv("LATHE_TEST_CALL", "sk-call")
	t.Setenv("LATHE_TEST_OTHER", "kept")
	r := NewRunner(WithExecutor(sandbox.NewHost(sandbox.Profile{HideEnv: []string{"LATHE_TEST_SECRET", "UNSET_NAME"}})))
	script := Command{Script: `echo "[$LATHE_TEST_SECRET] [$LATHE_TEST_CALL] [$LATHE_TEST_OTHER]"; env | grep -c sk-secret`}
	tests := []struct {
		name string
		ctx  context.Context
		want string
	}{
		{"no profile", t.Context(), "[] [sk-call] [kept]\n0\n"},
		{"empty profile", sandbox.WithProfile(t.Context(), sandbox.Profile{}), "[] [sk-call] [kept]\n0\n"},
		{"narrower profile", sandbox.WithProfile(t.Context(), sandbox.Profile{HideEnv: []string{"LATHE_TEST_CALL"}}), "[] [] [kept]\n0\n"},
	}
	for _, tt := range tests {
		res, err := r.Run(tt.ctx, script)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if res.Output != tt.want {
			t.Errorf("%s: command saw %q, want %q", tt.name, res.Output, tt.want)
		}
	}
}

// TestRunStartsThroughExecutor checks that the supervisor of a command,
// foreground or background, is started by the Runner's executor with the
// command in its arguments and the call's profile, and that an executor
// that refuses fails the command without starting it.
func TestRunStartsThroughExecutor(t *testing.T) {
	rec := sandboxtest.NewRecorder()
	r := NewRunner(WithExecutor(rec))
	defer r.Close()
	ctx := sandbox.WithProfile(t.Context(), sandbox.Profile{HideEnv: []string{"X"}})
	if _, err := r.Run(ctx, Command{Script: "echo fg"}); err != nil {
		t.Fatal(err)
	}
	j, err := r.Start(ctx, Command{Script: "echo bg"})
	if err != nil {
		t.Fatal(err)
	}
	j.Kill()
	starts := rec.Starts()
	if len(starts) != 2 {
		t.Fatalf("%d starts recorded, want 2: %+v", len(starts), starts)
	}
	for i, want := range []string{"echo fg", "echo bg"} {
		if s := starts[i]; !slices.Contains(s.Args, want) || !s.HasProfile || !slices.Equal(s.Profile.HideEnv, []string{"X"}) {
			t.Errorf("start %d = %+v, want %q in its arguments and the call's profile", i, s, want)
		}
	}

	errDenied := errors.New("denied")
	dir := t.TempDir()
	r = NewRunner(WithExecutor(sandbox.ExecutorFunc(func(context.Context, *exec.Cmd) error { return errDenied })))
	if _, err := r.Run(t.Context(), Command{Script: "touch ran", Dir: dir}); !errors.Is(err, errDenied) {
		t.Errorf("Run: err = %v, want the executor's", err)
	}
	if _, err := r.Start(t.Context(), Command{Script: "touch ran", Dir: dir}); !errors.Is(err, errDenied) {
		t.Errorf("Start: err = %v, want the executor's", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Error("the command ran although the executor refused it")
	}
}

// TestRunOutputFunc checks that the OutputFunc of the context gets a
// command's output while it runs, in order, and all of it before Run
// returns.
func TestRunOutputFunc(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var got []byte
	first := make(chan struct{})
	ctx := WithOutput(t.Context(), func(chunk []byte) {
		if len(got) == 0 {
			close(first)
		}
		got = append(got, chunk...)
	})
	// The command waits for the file the test writes once the first
	// chunk has arrived: output must come while the command runs.
	go func() {
		<-first
		_ = os.WriteFile(filepath.Join(dir, "go"), nil, 0o644)
	}()
	res, err := NewRunner().Run(ctx, Command{Script: "echo one; while [ ! -e go ]; do sleep 0.01; done; seq 2 5000", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	want := "one\n" + seqLines(2, 5000)
	if string(got) != want {
		t.Errorf("OutputFunc got %d bytes, want %d in order", len(got), len(want))
	}
	if res.Output != want {
		t.Errorf("Output = %d bytes, want the same %d", len(res.Output), len(want))
	}
}

func seqLines(from, to int) string {
	var sb strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&sb, "%d\n", i)
	}
	return sb.String()
}

func BenchmarkExec(b *testing.B) {
	for b.Loop() {
		cmd := exec.Command("true")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
	}
}
