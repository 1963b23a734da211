package shell

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSupervisorEndsEverythingWhenLatheDies closes a supervisor's control
// pipe, as the kernel does when Lathe dies however it dies, and checks
// that the command and what it hid are killed.
func TestSupervisorEndsEverythingWhenLatheDies(t *testing.T) {
	t.Parallel()
	r := NewRunner()
	defer r.Close()
	j, err := r.Start(t.Context(), Command{Script: "setsid sleep 30 >/dev/null 2>&1 & echo $!; (sleep 30 >/dev/null 2>&1 & echo $!); wait"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, out := readUntil(t, j, "two pids", func(_ State, out string) bool { return strings.Count(out, "\n") == 2 })
	j.p.proc.(*supervised).closeControl()
	for _, line := range strings.Fields(out) {
		pid := firstPID(t, line)
		eventually(t, "a hidden child to die", func() bool { return gone(pid) })
	}
	readUntil(t, j, "the job to end", func(s State, _ string) bool { return s != Running })
}

// TestKillGivesUpOnWhatItCannotKill runs a Runner as an unprivileged user
// whose command becomes root through a setuid program, as one run through
// sudo does. The supervisor cannot kill that process; stopping the command
// must still return rather than wait for it forever.
func TestKillGivesUpOnWhatItCannotKill(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a process that an unprivileged supervisor cannot kill")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("needs setpriv")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The helper runs as nobody, who must reach these.
	dir, err := os.MkdirTemp("", "lathe-unkillable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	suid := filepath.Join(dir, "setpriv")
	copyFile(t, setpriv, suid, 0o755|fs.ModeSetuid)
	helper := filepath.Join(dir, "shell.test")
	copyFile(t, self, helper, 0o755)
	nobody := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	probe := exec.Command(suid, "--reuid=0", "--regid=0", "--clear-groups", "true")
	probe.SysProcAttr = nobody
	if out, err := probe.CombinedOutput(); err != nil {
		t.Skipf("a setuid program does not gain root in %s: %v %s", dir, err, out)
	}

	cmd := exec.Command(helper, "-test.run=^TestUnkillableHelper$")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LATHE_TEST_SETUID_SETPRIV="+suid)
	cmd.SysProcAttr = nobody
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// The root process outlives the helper in any case; end it.
	defer func() {
		for _, line := range strings.Split(out.String(), "\n") {
			if pid, ok := strings.CutPrefix(line, "root pid "); ok {
				if n, err := strconv.Atoi(pid); err == nil {
					syscall.Kill(n, syscall.SIGKILL)
				}
			}
		}
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("helper: %v\n%s", err, out.String())
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("stopping a command with a process it cannot kill hung\n%s", out.String())
	}
	if !strings.Contains(out.String(), "root pid ") {
		t.Fatalf("helper ran nothing as root:\n%s", out.String())
	}
}

// TestUnkillableHelper is TestKillGivesUpOnWhatItCannotKill's unprivileged
// side.
func TestUnkillableHelper(t *testing.T) {
	setpriv := os.Getenv("LATHE_TEST_SETUID_SETPRIV")
	if setpriv == "" {
		t.Skip("run by TestKillGivesUpOnWhatItCannotKill")
	}
	r := NewRunner()
	// The pid is printed once the process is root, out of reach.
	j, err := r.Start(t.Context(), Command{Script: setpriv + ` --reuid=0 --regid=0 --clear-groups sh -c 'echo $$; exec sleep 300'`})
	if err != nil {
		t.Fatal(err)
	}
	_, _, out := readUntil(t, j, "the root process's pid", func(_ State, out string) bool { return strings.HasSuffix(out, "\n") })
	fmt.Printf("root pid %d\n", firstPID(t, out))
	r.Close()
	if state, _ := j.Read(); state != Killed {
		t.Errorf("job %v after Close, want killed", state)
	}
}

func copyFile(t *testing.T, from, to string, perm fs.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(to, perm); err != nil {
		t.Fatal(err)
	}
}
