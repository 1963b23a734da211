package sandbox_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/lathe-dev/lathe/internal/sandbox"
	"github.com/lathe-dev/lathe/internal/sandbox/helper"
)

// spawn runs cmd through Spawn under p and returns its output and exit
// code, 128+N for a command killed by signal N.
func (x *box) spawn(p sandbox.Profile, cmd *exec.Cmd) (string, int) {
	x.t.Helper()
	if cmd.Dir == "" {
		cmd.Dir = x.ws
	}
	var buf *bytes.Buffer
	if b, ok := cmd.Stdout.(*bytes.Buffer); ok {
		buf = b
	}
	r, w, err := os.Pipe()
	if err != nil {
		x.t.Fatal(err)
	}
	defer r.Close()
	cmd.Stdout, cmd.Stderr = w, w
	proc, err := x.sb.Spawn(sandbox.WithProfile(x.t.Context(), p), cmd)
	w.Close()
	if err != nil {
		x.t.Fatalf("Spawn: %v", err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		x.t.Fatal(err)
	}
	if buf != nil {
		buf.Write(out)
	}
	return string(out), exitCode(x.t, proc)
}

func exitCode(t *testing.T, proc *sandbox.Process) int {
	t.Helper()
	ws, err := proc.Wait()
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// forEachServed runs f for each backend, its commands started by Spawn.
func forEachServed(t *testing.T, f func(t *testing.T, x *box)) {
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			x := newBox(t, b)
			x.served = true
			f(t, x)
		})
	}
}

// TestSpawnServer checks that commands started by Spawn run in one
// sandbox server, made once, outside the host's namespaces, each with
// its own exit status, output and stdin, concurrently too.
func TestSpawnServer(t *testing.T) {
	forEachServed(t, func(t *testing.T, x *box) {
		host, _ := os.Readlink("/proc/self/ns/net")
		first, _ := x.sh(x.profile(), "readlink /proc/self/ns/net")
		if first == "" || strings.Contains(first, host) {
			t.Fatalf("network namespace %q, host's %q", first, host)
		}
		servers := serverPids(t)
		if len(servers) != 1 {
			t.Fatalf("%d sandbox servers, want 1", len(servers))
		}
		// The plan's TMPDIR wins over the caller's, as with Start.
		cmd := exec.Command("/bin/sh", "-c", `echo "$TMPDIR"; env | grep -c '^TMPDIR='`)
		cmd.Env = append(os.Environ(), "TMPDIR=/nowhere")
		if out, _ := x.run(x.profile(), cmd); !strings.HasPrefix(out, x.tmpRoot+"/") || !strings.HasSuffix(out, "\n1\n") {
			t.Errorf("TMPDIR in a served command: %q, want one under %s, once", out, x.tmpRoot)
		}
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				in, w, err := os.Pipe()
				if err != nil {
					t.Error(err)
					return
				}
				fmt.Fprintf(w, "in-%d\n", i)
				w.Close()
				cmd := exec.Command("/bin/sh", "-c", `read line; echo "$line"; readlink /proc/self/ns/net; exit "$0"`, strconv.Itoa(i))
				cmd.Stdin = in
				out, code := x.spawn(x.profile(), cmd)
				in.Close()
				if want := fmt.Sprintf("in-%d\n%s", i, first); out != want || code != i {
					t.Errorf("command %d: %q, exit %d; want %q, exit %d", i, out, code, want, i)
				}
			})
		}
		wg.Wait()
		if again := serverPids(t); len(again) != 1 || again[0] != servers[0] {
			t.Errorf("sandbox servers %v, then %v: want the same one", servers, again)
		}
	})
}

// TestSpawnSignal checks that a served command can be signalled, and
// that its death by the signal is its status.
func TestSpawnSignal(t *testing.T) {
	forEachServed(t, func(t *testing.T, x *box) {
		proc, ready := x.background(t, nil)
		<-ready
		if err := proc.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := exitCode(t, proc); code != 128+int(syscall.SIGTERM) {
			t.Errorf("exit %d, want %d", code, 128+int(syscall.SIGTERM))
		}
		if err := proc.Signal(syscall.SIGTERM); err != os.ErrProcessDone {
			t.Errorf("Signal after exit = %v, want ErrProcessDone", err)
		}
	})
}

// background spawns a command that says "ready" and then runs until its
// stdin closes (stdin, or one of its own when nil), and returns it and a
// channel closed once it is ready.
func (x *box) background(t *testing.T, stdin *os.File) (*sandbox.Process, <-chan struct{}) {
	t.Helper()
	if stdin == nil {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		stdin = r
		defer r.Close()
	}
	out, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", "-c", "echo ready; exec cat")
	cmd.Dir, cmd.Stdin, cmd.Stdout = x.ws, stdin, w
	proc, err := x.sb.Spawn(sandbox.WithProfile(t.Context(), x.profile()), cmd)
	w.Close()
	if err != nil {
		out.Close()
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		defer out.Close()
		line, _ := bufio.NewReader(out).ReadString('\n')
		if line == "ready\n" {
			close(ready)
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	return proc, ready
}

// TestSpawnServerDies checks that a server that dies takes its commands
// with it, that Wait says so, and that the next command gets a new
// server, never the host.
func TestSpawnServerDies(t *testing.T) {
	forEachServed(t, func(t *testing.T, x *box) {
		proc, ready := x.background(t, nil)
		<-ready
		first, _ := x.sh(x.profile(), "readlink /proc/self/ns/net")
		servers := serverPids(t)
		if len(servers) != 1 {
			t.Fatalf("%d sandbox servers, want 1", len(servers))
		}
		if err := syscall.Kill(servers[0], syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		ws, err := proc.Wait()
		if err == nil || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Errorf("Wait of a command whose server died = %v, %v; want killed, and an error", ws, err)
		}
		host, _ := os.Readlink("/proc/self/ns/net")
		again, code := x.sh(x.profile(), "readlink /proc/self/ns/net")
		if code != 0 || again == first || strings.Contains(again, host) {
			t.Errorf("after the server died: %q (exit %d), first server's %q, host's %q", again, code, first, host)
		}
	})
}

// TestSpawnServerSignals checks that a command cannot end or stop its
// server, the init of its pid namespace, with a signal.
func TestSpawnServerSignals(t *testing.T) {
	forEachServed(t, func(t *testing.T, x *box) {
		script := `for d in /proc/[0-9]*; do
	case "$(tr '\0' '\n' < $d/cmdline | head -n 1)" in *bwrap) continue;; esac
	grep -q '__sandbox-[e]xec' $d/cmdline 2>/dev/null && server=${d#/proc/}
done
echo "server $server"
for s in TERM INT HUP QUIT USR1 USR2 ALRM PIPE STOP KILL; do kill -s $s $server; done; echo sent`
		out, _ := x.sh(x.profile(), script)
		if out != "server 1\nsent\n" {
			t.Fatalf("signals to the server: %q", out)
		}
		servers := serverPids(t)
		out, code := x.sh(x.profile(), `echo alive`)
		if out != "alive\n" || code != 0 {
			t.Errorf("after the signals: %q, exit %d", out, code)
		}
		if again := serverPids(t); len(servers) != 1 || len(again) != 1 || again[0] != servers[0] {
			t.Errorf("sandbox servers %v, then %v: want the same one", servers, again)
		}
	})
}

// TestSpawnLargeRequest checks that a command whose environment is too
// large for one request to the server still runs, confined.
func TestSpawnLargeRequest(t *testing.T) {
	forEachServed(t, func(t *testing.T, x *box) {
		cmd := exec.Command("/bin/sh", "-c", `echo ${#V1} ${#V12}; readlink /proc/self/ns/net`)
		cmd.Env = os.Environ()
		for i := 1; i <= 12; i++ {
			cmd.Env = append(cmd.Env, fmt.Sprintf("V%d=%s", i, strings.Repeat("v", 100<<10)))
		}
		out, code := x.run(x.profile(), cmd)
		host, _ := os.Readlink("/proc/self/ns/net")
		if code != 0 || !strings.HasPrefix(out, "102400 102400\n") || strings.Contains(out, host) {
			t.Errorf("a command of 1.2 MB of environment: %q, exit %d", out, code)
		}
	})
}

// TestSpawnServerFailsClosed checks that a server that cannot start
// fails the command, with the reason, rather than running it elsewhere.
func TestSpawnServerFailsClosed(t *testing.T) {
	real, err := exec.LookPath("bwrap")
	if err != nil {
		t.Skip("no bwrap")
	}
	// bwrap, but for a sandbox server once refuse exists, after the
	// probe.
	dir := t.TempDir()
	fake, refuse := filepath.Join(dir, "bwrap"), filepath.Join(dir, "refuse")
	script := "#!/bin/sh\nif [ -e " + refuse + " ]; then case \"$*\" in *'\"serve\"'*) echo 'no server today' >&2; exit 1;; esac; fi\nexec " + real + " \"$@\"\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	x := newBox(t, sandbox.Bwrap, sandbox.WithBwrap(fake))
	if err := os.WriteFile(refuse, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(x.ws, "ran")
	_, err = x.sb.Spawn(sandbox.WithProfile(t.Context(), x.profile()), exec.Command("/bin/touch", marker))
	if err == nil || !strings.Contains(err.Error(), "no server today") {
		t.Errorf("Spawn with a server that cannot start = %v, want its error", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command ran")
	}
}

// TestProbeServes checks that a backend whose sandbox servers cannot
// start is not chosen: every command would fail.
func TestProbeServes(t *testing.T) {
	real, err := exec.LookPath("bwrap")
	if err != nil {
		t.Skip("no bwrap")
	}
	fake := filepath.Join(t.TempDir(), "bwrap")
	script := "#!/bin/sh\ncase \"$*\" in *'\"serve\"'*) echo 'no server today' >&2; exit 1;; esac\nexec " + real + " \"$@\"\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	s := sandbox.New(sandbox.Profile{}, sandbox.WithBackend(sandbox.Bwrap), sandbox.WithBwrap(fake), sandbox.WithTempRoot(t.TempDir()))
	defer s.Close()
	if _, err := s.Backend(); err == nil || !strings.Contains(err.Error(), "no server today") {
		t.Errorf("Backend with servers that cannot start = %v, want their error", err)
	}
}

// TestSpawnPlanChanges checks that what the plan hides is hidden from
// commands of a server started before it existed: a secret file made
// since, one replaced by a rename, a dotenv file; and that the command
// of a server replaced for a new plan keeps running to its end.
func TestSpawnPlanChanges(t *testing.T) {
	forEachServed(t, func(t *testing.T, x *box) {
		if err := os.WriteFile(filepath.Join(x.home, ".netrc"), []byte("OLD-SECRET\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		in, stdin, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer stdin.Close()
		old, ready := x.background(t, in)
		in.Close()
		<-ready
		script := `cat "$HOME/.netrc" "$HOME/.ssh/id_rsa" .env 2>/dev/null; echo done`
		env := append(os.Environ(), "HOME="+x.home)
		run := func() string {
			cmd := exec.Command("/bin/sh", "-c", script)
			cmd.Env = env
			out, _ := x.run(x.profile(), cmd)
			return out
		}
		if out := run(); out != "done\n" {
			t.Fatalf("before: %q", out)
		}
		if err := os.MkdirAll(filepath.Join(x.home, ".ssh"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(x.home, ".ssh", "id_rsa"), []byte("KEY-SECRET\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		staged := filepath.Join(x.home, "netrc.new")
		if err := os.WriteFile(staged, []byte("NEW-SECRET\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(staged, filepath.Join(x.home, ".netrc")); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(x.ws, ".env"), []byte("ENV-SECRET\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if out := run(); out != "done\n" {
			t.Errorf("after secrets were made: %q", out)
		}
		// Nothing but the file under the same name has changed.
		if err := os.WriteFile(staged, []byte("NEWER-SECRET\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(staged, filepath.Join(x.home, ".netrc")); err != nil {
			t.Fatal(err)
		}
		if out := run(); out != "done\n" {
			t.Errorf("after a secret was replaced: %q", out)
		}
		stdin.Close()
		if code := exitCode(t, old); code != 0 {
			t.Errorf("the command of the replaced server: exit %d, want 0", code)
		}
	})
}

// TestSpawnClose checks that closing the Sandbox ends its served
// commands.
func TestSpawnClose(t *testing.T) {
	forEachServed(t, func(t *testing.T, x *box) {
		proc, ready := x.background(t, nil)
		<-ready
		x.sb.Close()
		if ws, _ := proc.Wait(); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Errorf("a served command after Close: %v, want killed", ws)
		}
		if pids := serverPids(t); len(pids) != 0 {
			t.Errorf("sandbox servers %v after Close", pids)
		}
	})
}

// serverPids returns the pids of this process's children that are
// sandbox servers, or bwrap running one.
func serverPids(t *testing.T) []int {
	t.Helper()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var pids []int
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		line := string(b)
		i := strings.LastIndexByte(line, ')')
		fields := strings.Fields(line[i+1:])
		if len(fields) < 2 || fields[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		dir := filepath.Dir(path)
		cmdline, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
		state := fields[0]
		if state != "Z" && bytes.Contains(cmdline, []byte(helper.Arg)) && bytes.Contains(cmdline, []byte(`"serve"`)) {
			pid, _ := strconv.Atoi(filepath.Base(dir))
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestConfineHelperUntraceable checks that a command cannot read the
// memory of the helper or sandbox server that started it, whose other
// threads are not confined as the command is: the helper is not
// dumpable, so tracing it takes a capability no command has.
func TestConfineHelperUntraceable(t *testing.T) {
	forEachBackend(t, func(t *testing.T, x *box) {
		// Not bwrap's own process, run with the helper's arguments, nor
		// this script's, which names them.
		script := `for d in /proc/[0-9]*; do
	case "$(tr '\0' '\n' < $d/cmdline | head -n 1)" in *bwrap) continue;; esac
	if grep -q '__sandbox-[e]xec' $d/cmdline 2>/dev/null; then
		echo helper; head -c 16 $d/maps >/dev/null 2>&1 && echo "read $d/maps"
		head -c 16 $d/mem >/dev/null 2>&1 && echo "read $d/mem"
	fi
done; echo done`
		out, _ := x.sh(x.profile(), script)
		// bwrap starts a command of its own without the helper.
		helped := x.served || x.backend == sandbox.Landlock
		if strings.Contains(out, "read") || strings.Contains(out, "helper") != helped || !strings.HasSuffix(out, "done\n") {
			t.Errorf("the helper's memory from the sandbox:\n%s", out)
		}
	})
}
