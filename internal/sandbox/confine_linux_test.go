package sandbox_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lathe-dev/lathe/internal/netproxy"
	"github.com/lathe-dev/lathe/internal/sandbox"
	"github.com/lathe-dev/lathe/internal/shell"
)

// clientArg0, as argv[0]'s base name, makes the test binary a network client, run inside the
// sandbox as the command: it dials its arguments (network, address) and
// prints "connected" or the error.
const clientArg0 = "sandbox-test-client"

func init() {
	// bwrap runs it by a path whose base name is clientArg0.
	if len(os.Args) == 3 && filepath.Base(os.Args[0]) == clientArg0 && os.Args[1] == "http" {
		// Through the proxy the environment names, as any client would.
		resp, err := http.Get(os.Args[2])
		if err != nil {
			fmt.Println("get:", err)
			syscall.Exit(1)
		}
		body, _ := io.ReadAll(resp.Body)
		fmt.Printf("%d %s\n", resp.StatusCode, bytes.TrimSpace(body))
		syscall.Exit(0)
	}
	if len(os.Args) == 3 && filepath.Base(os.Args[0]) == clientArg0 {
		c, err := net.Dial(os.Args[1], os.Args[2])
		if err != nil {
			fmt.Println("dial:", err)
			syscall.Exit(1)
		}
		c.Close()
		fmt.Println("connected")
		syscall.Exit(0)
	}
}

var backends = []sandbox.Backend{sandbox.Bwrap, sandbox.Landlock}

// box is one confined run's world: a workspace, a home and a directory
// outside both and outside /tmp, for a Sandbox with one backend.
type box struct {
	t       *testing.T
	sb      *sandbox.Sandbox
	ws      string
	home    string
	outside string
	tmpRoot string
	backend sandbox.Backend
	// served runs commands through Spawn, in sandbox servers, instead of
	// Start.
	served bool
}

// newBox returns a box for backend b, or skips the test where the
// backend does not work here, except under CI=true, where both must.
func newBox(t *testing.T, b sandbox.Backend, opts ...sandbox.Option) *box {
	t.Helper()
	ws := t.TempDir()
	// Outside /tmp, which the sandbox replaces whole, so that a write
	// there would reach the host's file system.
	outside, err := os.MkdirTemp(".", ".outside-")
	if err != nil {
		t.Fatal(err)
	}
	outside, _ = filepath.Abs(outside)
	t.Cleanup(func() { os.RemoveAll(outside) })
	home := filepath.Join(ws, "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	x := &box{t: t, backend: b, ws: ws, home: home, outside: outside, tmpRoot: t.TempDir()}
	opts = append([]sandbox.Option{sandbox.WithBackend(b), sandbox.WithHome(home), sandbox.WithTempRoot(x.tmpRoot)}, opts...)
	x.sb = sandbox.New(sandbox.Profile{HideEnv: []string{"ANTHROPIC_API_KEY"}}, opts...)
	t.Cleanup(func() { x.sb.Close() })
	if _, err := x.sb.Backend(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s backend: %v", b, err)
		}
		t.Skipf("%s backend unavailable here: %v", b, err)
	}
	return x
}

func (x *box) profile() sandbox.Profile {
	return sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: x.ws}
}

// run runs cmd in the workspace under p and returns its output and exit
// code.
func (x *box) run(p sandbox.Profile, cmd *exec.Cmd) (string, int) {
	x.t.Helper()
	cmd.Dir = x.ws
	if x.served {
		return x.spawn(p, cmd)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := x.sb.Start(sandbox.WithProfile(x.t.Context(), p), cmd); err != nil {
		x.t.Fatalf("Start: %v", err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		x.t.Fatalf("Wait: %v", err)
	}
	return out.String(), cmd.ProcessState.ExitCode()
}

func (x *box) sh(p sandbox.Profile, script string) (string, int) {
	x.t.Helper()
	return x.run(p, exec.Command("/bin/sh", "-c", script))
}

// client runs the test binary's network client in the sandbox.
func (x *box) client(network, addr string) string {
	x.t.Helper()
	return x.clientUnder(x.profile(), network, addr)
}

func (x *box) clientUnder(p sandbox.Profile, network, addr string) string {
	x.t.Helper()
	cmd := &exec.Cmd{Path: "/proc/self/exe", Args: []string{clientArg0, network, addr}}
	out, _ := x.run(p, cmd)
	return out
}

// forEachBackend runs f for each backend, with commands started by
// Start and, as "BACKEND-served", by Spawn.
func forEachBackend(t *testing.T, f func(t *testing.T, x *box)) {
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) { f(t, newBox(t, b)) })
		t.Run(string(b)+"-served", func(t *testing.T) {
			x := newBox(t, b)
			x.served = true
			f(t, x)
		})
	}
}

// TestConfineWrites checks that a confined process writes in its
// workspace and nowhere else: not outside it, not in the host's /tmp.
func TestConfineWrites(t *testing.T) {
	forEachBackend(t, func(t *testing.T, x *box) {
		hostTmp := t.TempDir()
		out, code := x.sh(x.profile(), "echo in > inside && echo out > "+x.outside+"/f; echo tmp > "+hostTmp+"/f; echo etc > /etc/lathe-sandbox-test")
		if code == 0 {
			t.Errorf("writes outside the workspace did not fail:\n%s", out)
		}
		if b, err := os.ReadFile(filepath.Join(x.ws, "inside")); err != nil || string(b) != "in\n" {
			t.Errorf("write inside the workspace: %q, %v\n%s", b, err, out)
		}
		for _, path := range []string{x.outside + "/f", hostTmp + "/f", "/etc/lathe-sandbox-test"} {
			if _, err := os.Stat(path); err == nil {
				os.Remove(path)
				t.Errorf("%s was written from the sandbox", path)
			}
		}
	})
}

// TestConfineReadOnly checks that a read-only process writes only in its
// private temporary directory.
func TestConfineReadOnly(t *testing.T) {
	forEachBackend(t, func(t *testing.T, x *box) {
		p := sandbox.Profile{Confine: sandbox.ReadOnly, Workspace: x.ws}
		out, code := x.sh(p, `echo t > "$TMPDIR/t" && echo ok; echo w > inside`)
		if code == 0 || !strings.HasPrefix(out, "ok\n") {
			t.Errorf("read-only: exit %d\n%s", code, out)
		}
		if _, err := os.Stat(filepath.Join(x.ws, "inside")); err == nil {
			t.Error("a read-only process wrote in the workspace")
		}
	})
}

// TestConfineTempDir checks that TMPDIR is the session's private
// directory, kept across commands, and that the host's /tmp is not seen.
func TestConfineTempDir(t *testing.T) {
	forEachBackend(t, func(t *testing.T, x *box) {
		host := filepath.Join(t.TempDir(), "host-file")
		if err := os.WriteFile(host, []byte("host"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, code := x.sh(x.profile(), `echo "$TMPDIR"; echo kept > "$TMPDIR/f"; cat `+host+` 2>/dev/null && echo host-visible; ls /tmp`)
		if code != 0 || strings.Contains(out, "host-visible") {
			t.Fatalf("exit %d\n%s", code, out)
		}
		tmp, _, _ := strings.Cut(out, "\n")
		if !strings.HasPrefix(tmp, x.tmpRoot+"/") {
			t.Errorf("TMPDIR = %q, want a directory of the session's under %s", tmp, x.tmpRoot)
		}
		if b, err := os.ReadFile(filepath.Join(tmp, "f")); err != nil || string(b) != "kept\n" {
			t.Errorf("private temp file on the host: %q, %v", b, err)
		}
		if out, _ := x.sh(x.profile(), `cat "$TMPDIR/f"`); out != "kept\n" {
			t.Errorf("the next command sees %q in TMPDIR, want the first's file", out)
		}
	})
}

// TestConfineSecrets checks that the secret locations of the home
// directory cannot be read, nor written, even where the home directory
// itself is writable.
func TestConfineSecrets(t *testing.T) {
	forEachBackend(t, func(t *testing.T, x *box) {
		for path, content := range map[string]string{".ssh/id_ed25519": "SSH-SECRET", ".netrc": "NETRC-SECRET", ".aws/credentials": "AWS-SECRET"} {
			path = filepath.Join(x.home, path)
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		out, _ := x.sh(x.profile(), `cd `+x.home+` && cat .ssh/id_ed25519 .netrc .aws/credentials; ls -a .ssh; echo planted > .ssh/authorized_keys`)
		if strings.Contains(out, "SECRET") || strings.Contains(out, "\nid_ed25519\n") {
			t.Errorf("a secret was read:\n%s", out)
		}
		if _, err := os.Stat(filepath.Join(x.home, ".ssh/authorized_keys")); err == nil {
			t.Error("~/.ssh was written")
		}
	})
}

// TestConfineEnv checks that Lathe's keys and credential-looking
// variables are removed, but for those the profile passes.
func TestConfineEnv(t *testing.T) {
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-test")
	t.Setenv("GITHUB_TOKEN", "ghp-test")
	t.Setenv("NPM_TOKEN", "npm-test")
	t.Setenv("LATHE_TEST_PLAIN", "plain")
	forEachBackend(t, func(t *testing.T, x *box) {
		p := x.profile()
		p.PassEnv = []string{"NPM_TOKEN", "ANTHROPIC_API_KEY"}
		out, _ := x.run(p, exec.Command("env"))
		for _, gone := range []string{"ANTHROPIC_API_KEY", "GITHUB_TOKEN"} {
			if strings.Contains(out, gone+"=") {
				t.Errorf("%s reached the command", gone)
			}
		}
		for _, kept := range []string{"NPM_TOKEN=npm-test", "LATHE_TEST_PLAIN=plain", "PATH="} {
			if !strings.Contains(out, kept) {
				t.Errorf("%s did not reach the command:\n%s", kept, out)
			}
		}
	})
}

// TestConfineNetwork checks that a confined process reaches nothing of
// the host's: no loopback listener, no unix socket outside the
// workspace, no abstract socket; it has a loopback of its own.
func TestConfineNetwork(t *testing.T) {
	forEachBackend(t, func(t *testing.T, x *box) {
		tcp, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer tcp.Close()
		sock := filepath.Join(x.outside, "agent.sock")
		unixLn, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		defer unixLn.Close()
		abstract := fmt.Sprintf("@lathe-sandbox-test-%d", os.Getpid())
		absLn, err := net.Listen("unix", abstract)
		if err != nil {
			t.Fatal(err)
		}
		defer absLn.Close()
		inside := filepath.Join(x.ws, "inside.sock")
		insideLn, err := net.Listen("unix", inside)
		if err != nil {
			t.Fatal(err)
		}
		defer insideLn.Close()
		for _, c := range []struct{ network, addr string }{{"tcp", tcp.Addr().String()}, {"unix", sock}, {"unix", abstract}} {
			if out := x.client(c.network, c.addr); strings.Contains(out, "connected") || !strings.Contains(out, "dial:") {
				t.Errorf("%s %s from the sandbox: %s", c.network, c.addr, out)
			}
		}
		if out := x.client("unix", inside); out != "connected\n" {
			t.Errorf("a socket in the workspace: %s", out)
		}
		out, code := x.run(x.profile(), exec.Command("/bin/sh", "-c", `grep -c . /proc/net/dev; cat /sys/class/net/lo/operstate 2>/dev/null || true`))
		if code != 0 || !strings.HasPrefix(out, "3\n") {
			t.Errorf("interfaces in the sandbox (want lo alone):\n%s", out)
		}
	})
}

// TestConfinePid checks that a confined process cannot see or signal
// Lathe: it has a pid namespace of its own.
func TestConfinePid(t *testing.T) {
	forEachBackend(t, func(t *testing.T, x *box) {
		pid := strconv.Itoa(os.Getpid())
		out, _ := x.sh(x.profile(), `kill -0 `+pid+` && echo signalled; test -e /proc/`+pid+`/environ && echo visible; echo done`)
		if out != "" && (strings.Contains(out, "signalled") || strings.Contains(out, "visible")) {
			t.Errorf("Lathe's process from the sandbox:\n%s", out)
		}
		if !strings.Contains(out, "done") {
			t.Errorf("the command did not finish:\n%s", out)
		}
	})
}

// TestConfineProtected checks that git's hooks and config, Lathe's and
// Claude Code's settings and shell start-up files stay read-only inside
// a writable workspace, and cannot be moved aside either.
func TestConfineProtected(t *testing.T) {
	forEachBackend(t, func(t *testing.T, x *box) {
		for _, dir := range []string{".git/hooks", ".lathe", ".claude"} {
			if err := os.MkdirAll(filepath.Join(x.ws, dir), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range []string{".git/config", ".bashrc"} {
			if err := os.WriteFile(filepath.Join(x.ws, f), []byte("orig\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		script := `
echo hook > .git/hooks/pre-commit && echo wrote-hook
echo x >> .git/config && echo wrote-config
echo x > .lathe/config.toml && echo wrote-lathe
echo x > .claude/settings.json && echo wrote-claude
echo x >> .bashrc && echo wrote-bashrc
echo x > .git/HEAD2 && echo wrote-git
echo x > src.go && echo wrote-src
mv .git .git-moved && echo moved-git
mv .lathe .lathe-moved && echo moved-lathe
rm -rf .git/hooks && echo removed-hooks`
		out, _ := x.sh(x.profile(), script)
		// A repository without hooks gets none from a command either.
		if err := os.RemoveAll(filepath.Join(x.ws, ".git/hooks")); err != nil {
			t.Fatal(err)
		}
		if again, _ := x.sh(x.profile(), "mkdir -p .git/hooks && echo hook > .git/hooks/pre-commit && echo wrote-hook"); strings.Contains(again, "wrote-hook") {
			t.Errorf("a command made a git hook where there was no hooks directory:\n%s", again)
		}
		if strings.Contains(out, "wrote-hook") || strings.Contains(out, "wrote-config") || strings.Contains(out, "wrote-lathe") ||
			strings.Contains(out, "wrote-claude") || strings.Contains(out, "wrote-bashrc") ||
			strings.Contains(out, "moved-") || strings.Contains(out, "removed-hooks") {
			t.Errorf("a protected path was written:\n%s", out)
		}
		if !strings.Contains(out, "wrote-git") || !strings.Contains(out, "wrote-src") {
			t.Errorf("the rest of the workspace was not writable:\n%s", out)
		}
		if b, _ := os.ReadFile(filepath.Join(x.ws, ".git/config")); string(b) != "orig\n" {
			t.Errorf(".git/config = %q", b)
		}
	})
}

// TestConfinePrivileges checks no_new_privs, no capabilities, the
// seccomp filter, and that nested user namespaces and mounts are
// refused.
func TestConfinePrivileges(t *testing.T) {
	forEachBackend(t, func(t *testing.T, x *box) {
		out, _ := x.sh(x.profile(), `grep -E '^(NoNewPrivs|CapEff|CapBnd|Seccomp):' /proc/self/status`)
		for _, want := range []string{"NoNewPrivs:\t1", "CapEff:\t0000000000000000", "CapBnd:\t0000000000000000", "Seccomp:\t2"} {
			if !strings.Contains(out, want) {
				t.Errorf("want %q in:\n%s", want, out)
			}
		}
		if _, err := exec.LookPath("unshare"); err == nil {
			out, code := x.sh(x.profile(), `unshare -Ur true && echo nested-userns; mkdir m; mount -t tmpfs none m && echo mounted; exit 0`)
			if code != 0 || strings.Contains(out, "nested-userns") || strings.Contains(out, "mounted") {
				t.Errorf("nested namespaces or mounts:\n%s", out)
			}
		}
	})
}

// TestConfineCaches checks that the language caches are writable by
// default, and private to the session with isolated caches.
func TestConfineCaches(t *testing.T) {
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			x := newBox(t, b)
			cache := filepath.Join(x.outside, "go-build")
			if err := os.Mkdir(cache, 0o755); err != nil {
				t.Fatal(err)
			}
			t.Setenv("GOCACHE", cache)
			if out, code := x.sh(x.profile(), `echo c > "$GOCACHE/entry"`); code != 0 {
				t.Errorf("GOCACHE not writable: %s", out)
			}
			iso := newBox(t, b, sandbox.WithIsolateCaches(true))
			out, code := iso.sh(iso.profile(), `echo "$GOCACHE"; mkdir -p "$GOCACHE" && echo c > "$GOCACHE/entry"; echo x > `+cache+`/other`)
			gocache, _, _ := strings.Cut(out, "\n")
			if code == 0 || !strings.HasPrefix(gocache, iso.tmpRoot+"/") {
				t.Errorf("isolated GOCACHE = %q (exit %d), want one under %s that only it writes:\n%s", gocache, code, iso.tmpRoot, out)
			}
			if _, err := os.Stat(filepath.Join(gocache, "entry")); err != nil {
				t.Errorf("the isolated cache was not written: %v", err)
			}
		})
	}
}

// TestConfineNoNetworkProxy checks that a profile allowing domains is
// refused while no proxy can carry them: no network is not what it asked
// for, and all network is more.
func TestConfineNoNetworkProxy(t *testing.T) {
	forEachBackend(t, func(t *testing.T, x *box) {
		p := x.profile()
		p.AllowDomains = []string{"example.com"}
		cmd := exec.Command("true")
		err := x.sb.Start(sandbox.WithProfile(t.Context(), p), cmd)
		var nc *sandbox.NotConfinedError
		if !errors.As(err, &nc) || cmd.Process != nil {
			t.Errorf("Start = %v, want a NotConfinedError and no process", err)
		}
	})
}

// TestConfineNetworkProxy checks that a process allowed domains reaches
// them, and only them, through the Network's proxy, by the bridge on its
// own loopback; and that the proxy is asked for the profile's domains.
func TestConfineNetworkProxy(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "origin") }))
	defer origin.Close()
	_, port, _ := net.SplitHostPort(origin.Listener.Addr().String())
	for _, name := range []string{"bwrap", "bwrap-served", "landlock", "landlock-served"} {
		b, served := strings.CutSuffix(name, "-served")
		t.Run(name, func(t *testing.T) {
			socket := filepath.Join(t.TempDir(), "proxy.sock")
			rules, err := netproxy.NewRules([]string{"allowed.test"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			loopback := func(context.Context, string) ([]netip.Addr, error) {
				return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
			}
			proxy := netproxy.New(rules, netproxy.WithDialer(netproxy.Dialer{Resolve: loopback}))
			l, err := netproxy.Listen(socket)
			if err != nil {
				t.Fatal(err)
			}
			go proxy.Serve(l)
			defer proxy.Close()
			var asked []string
			network := sandbox.NetworkFunc(func(_ context.Context, domains []string) (string, error) {
				asked = domains
				return socket, nil
			})
			x := newBox(t, sandbox.Backend(b), sandbox.WithNetwork(network))
			x.served = served
			p := x.profile()
			p.AllowDomains = []string{"allowed.test"}
			if out := x.clientUnder(p, "http", "http://allowed.test:"+port+"/"); out != "200 origin\n" {
				t.Errorf("an allowed domain: %q, want 200 origin", out)
			}
			if out := x.clientUnder(p, "http", "http://denied.test:"+port+"/"); !strings.HasPrefix(out, "403 ") {
				t.Errorf("a denied domain: %q, want 403", out)
			}
			if !slices.Equal(asked, []string{"allowed.test"}) {
				t.Errorf("the proxy was asked for %q", asked)
			}
			// The proxy's socket itself is not there to be reached around
			// the bridge, nor is the host's loopback.
			if out := x.clientUnder(p, "unix", socket); !strings.HasPrefix(out, "dial:") {
				t.Errorf("the proxy's socket from the sandbox: %s", out)
			}
			if out := x.clientUnder(p, "tcp", origin.Listener.Addr().String()); !strings.HasPrefix(out, "dial:") {
				t.Errorf("the origin directly from the sandbox: %s", out)
			}
		})
	}
}

// TestConfineStartErrors checks that a missing program fails Start as
// it does on the host, and a bad profile is refused.
func TestConfineStartErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, x *box) {
		cmd := exec.Command("/nonexistent/program")
		err := x.sb.Start(sandbox.WithProfile(t.Context(), x.profile()), cmd)
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("missing program: Start = %v, want ErrNotExist", err)
		}
		cmd = exec.Command("true")
		err = x.sb.Start(sandbox.WithProfile(t.Context(), sandbox.Profile{Confine: sandbox.WorkspaceWrite}), cmd)
		if err == nil {
			_ = cmd.Wait()
			t.Error("a workspace-write profile without a workspace started")
		}
	})
}

// TestUnconfinedThroughSandbox checks that an Unconfined profile runs as
// the Host runs it, in the host's namespaces, keys hidden.
func TestUnconfinedThroughSandbox(t *testing.T) {
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-test")
	t.Setenv("GITHUB_TOKEN", "ghp-test")
	s := sandbox.New(sandbox.Profile{HideEnv: []string{"ANTHROPIC_API_KEY"}})
	cmd := exec.Command("/bin/sh", "-c", `env; readlink /proc/self/ns/net`)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := s.Start(t.Context(), cmd); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Readlink("/proc/self/ns/net")
	if strings.Contains(out.String(), "ANTHROPIC_API_KEY") || !strings.Contains(out.String(), "GITHUB_TOKEN=ghp-test") || !strings.Contains(out.String(), host) {
		t.Errorf("unconfined run:\n%s", out.String())
	}
}

// TestConfineRunner checks that a command run by the shell's Runner, its
// supervisor confined with it, keeps the Runner's guarantees: its exit
// status, a timeout that ends it, and nothing left running once the
// Runner is closed.
func TestConfineRunner(t *testing.T) {
	forEachBackend(t, func(t *testing.T, x *box) {
		r := shell.NewRunner(shell.WithExecutor(x.sb))
		ctx := sandbox.WithProfile(t.Context(), x.profile())
		res, err := r.Run(ctx, shell.Command{Script: "echo out; exit 3", Dir: x.ws})
		if err != nil || res.ExitCode != 3 || res.Output != "out\n" {
			t.Errorf("Run = %+v, %v; want out, exit 3", res, err)
		}
		res, err = r.Run(ctx, shell.Command{Script: "sleep 100", Dir: x.ws, Timeout: 300 * time.Millisecond})
		if err != nil || !res.TimedOut {
			t.Errorf("Run with a timeout = %+v, %v; want it timed out", res, err)
		}
		marker := filepath.Join(x.ws, "orphan")
		res, err = r.Run(ctx, shell.Command{Script: "(sleep 100; touch " + marker + ") & echo started", Dir: x.ws})
		if err != nil || res.Output != "started\n" {
			t.Errorf("Run of a command leaving a child = %+v, %v", res, err)
		}
		r.Close()
		out, _ := exec.Command("pgrep", "-f", "sleep 100").Output()
		if len(out) > 0 {
			// Only this test's sleeps would be running sleep 100 in a
			// sandbox's pid namespace; look at their namespaces.
			for _, pid := range strings.Fields(string(out)) {
				ns, _ := os.Readlink("/proc/" + pid + "/ns/pid")
				self, _ := os.Readlink("/proc/self/ns/pid")
				if ns != self {
					t.Errorf("process %s (sleep 100) outlived the closed Runner in its sandbox", pid)
				}
			}
		}
	})
}

// TestConfineProtectedAbsent checks that a workspace without .lathe or
// .claude does not get them from a command either, that the empty
// directories standing in for them go with the Sandbox, and that one
// Lathe or the user put something in stays.
func TestConfineProtectedAbsent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, x *box) {
		script := `
mkdir -p .lathe && echo x > .lathe/config.toml && echo wrote-lathe
mkdir -p .claude && echo x > .claude/settings.json && echo wrote-claude
rmdir .lathe && echo removed-lathe
mv .claude .claude-moved && echo moved-claude
echo x > src.go && echo wrote-src`
		out, _ := x.sh(x.profile(), script)
		if strings.Contains(out, "wrote-lathe") || strings.Contains(out, "wrote-claude") || strings.Contains(out, "removed-") || strings.Contains(out, "moved-") {
			t.Errorf("an absent protected directory was made from the sandbox:\n%s", out)
		}
		if !strings.Contains(out, "wrote-src") {
			t.Errorf("the rest of the workspace was not writable:\n%s", out)
		}
		for _, name := range []string{".lathe", ".claude"} {
			if entries, err := os.ReadDir(filepath.Join(x.ws, name)); err != nil || len(entries) != 0 {
				t.Errorf("%s during the session: %v, %v; want Lathe's empty directory", name, entries, err)
			}
		}
		// Lathe itself writes .lathe/config.local.toml ("always" rules).
		if err := os.WriteFile(filepath.Join(x.ws, ".lathe", "config.local.toml"), []byte("# kept\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := x.sb.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if _, err := os.Stat(filepath.Join(x.ws, ".claude")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf(".claude after Close: %v, want it removed", err)
		}
		if _, err := os.Stat(filepath.Join(x.ws, ".lathe", "config.local.toml")); err != nil {
			t.Errorf("a file Lathe wrote in .lathe during the session: %v", err)
		}
	})
}

// TestConfineProtectedDangling checks that a protected name that is a
// symbolic link to nothing refuses the start: a command could put a
// directory of its own where it points.
func TestConfineProtectedDangling(t *testing.T) {
	forEachBackend(t, func(t *testing.T, x *box) {
		if err := os.Symlink(filepath.Join(x.outside, "nowhere"), filepath.Join(x.ws, ".claude")); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("true")
		cmd.Dir = x.ws
		err := x.sb.Start(sandbox.WithProfile(t.Context(), x.profile()), cmd)
		if err == nil {
			_ = cmd.Wait()
			t.Fatal("a command started with .claude a link to nowhere")
		}
		if !strings.Contains(err.Error(), ".claude") {
			t.Errorf("Start = %v, want it to name .claude", err)
		}
	})
}

// TestConfineDotenv checks that the dotenv files of the workspace cannot
// be read from the sandbox, however a command finds them, those made
// after the Sandbox first confined a command included, while templates
// and a virtual environment named .env stay readable.
func TestConfineDotenv(t *testing.T) {
	forEachBackend(t, func(t *testing.T, x *box) {
		write := func(rel, content string) {
			t.Helper()
			path := filepath.Join(x.ws, rel)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		write(".env", "ROOT-SECRET\n")
		write("sub/.env.local", "LOCAL-SECRET\n")
		write(".env.example", "TEMPLATE\n")
		write("py/.env/bin/activate", "VENV\n")
		if err := os.Symlink(".env", filepath.Join(x.ws, "link")); err != nil {
			t.Fatal(err)
		}
		out, _ := x.sh(x.profile(), `x=.env; cat $x; cat sub/.env.local link .env.example py/.env/bin/activate; echo planted > .env; find . -name '.env*' -type f -exec cat {} +`)
		if strings.Contains(out, "SECRET") {
			t.Errorf("a dotenv file was read from the sandbox:\n%s", out)
		}
		if !strings.Contains(out, "TEMPLATE") || !strings.Contains(out, "VENV") {
			t.Errorf("a template or a virtual environment was hidden:\n%s", out)
		}
		if b, _ := os.ReadFile(filepath.Join(x.ws, ".env")); string(b) != "ROOT-SECRET\n" {
			t.Errorf(".env = %q after the command", b)
		}
		// Made since: in a new directory, and by a rename.
		write("new/deep/.env.production", "NEW-SECRET\n")
		write("staged", "RENAMED-SECRET\n")
		if err := os.Rename(filepath.Join(x.ws, "staged"), filepath.Join(x.ws, ".env.staging")); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(x.ws, "sub/.env.local")); err != nil {
			t.Fatal(err)
		}
		out, _ = x.sh(x.profile(), `cat new/deep/.env.production .env.staging; echo done`)
		if strings.Contains(out, "SECRET") || !strings.Contains(out, "done") {
			t.Errorf("a dotenv file made after the first command:\n%s", out)
		}
	})
}

// TestConfineProtectedUnwritable checks that a workspace Lathe cannot
// write in still runs commands: no placeholder is needed where a command
// could not make the directory either.
func TestConfineProtectedUnwritable(t *testing.T) {
	if os.Getuid() == 0 {
		t.Skip("root writes in a directory without write permission")
	}
	forEachBackend(t, func(t *testing.T, x *box) {
		if err := os.Chmod(x.ws, 0o555); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(x.ws, 0o755)
		out, code := x.sh(x.profile(), `mkdir .lathe 2>/dev/null && echo made; echo ran`)
		if code != 0 || out != "ran\n" {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})
}
