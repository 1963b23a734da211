package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/lathe-dev/lathe/internal/sandbox"
)

// scriptCmds are the testscript commands for lathe's own scripts.
func scriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		// waitfile FILE waits up to 20 s for FILE to exist, so a script
		// can act while a background lathe is in the middle of a command.
		"waitfile": func(ts *testscript.TestScript, neg bool, args []string) {
			if neg || len(args) != 1 {
				ts.Fatalf("usage: waitfile FILE")
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				if _, err := os.Stat(ts.MkAbs(args[0])); err == nil {
					return
				}
				if time.Now().After(deadline) {
					ts.Fatalf("waitfile: %s did not appear", args[0])
				}
				time.Sleep(10 * time.Millisecond)
			}
		},
		// webserve DIR serves the files of DIR on a loopback port for the
		// rest of the script and sets WEB_URL to its base URL, for the
		// fetches of a script's WebFetch calls, and WEB_PORT to its port.
		"webserve": func(ts *testscript.TestScript, neg bool, args []string) {
			if neg || len(args) != 1 {
				ts.Fatalf("usage: webserve DIR")
			}
			srv := httptest.NewServer(http.FileServer(http.Dir(ts.MkAbs(args[0]))))
			ts.Defer(srv.Close)
			ts.Setenv("WEB_URL", srv.URL)
			ts.Setenv("WEB_PORT", srv.URL[strings.LastIndex(srv.URL, ":")+1:])
		},
		// tmpfs DIR SIZE mounts a tmpfs of SIZE on DIR for the rest of the
		// script, to fill a disk on purpose. Guard it with [tmpfs].
		"tmpfs": func(ts *testscript.TestScript, neg bool, args []string) {
			if neg || len(args) != 2 {
				ts.Fatalf("usage: tmpfs DIR SIZE")
			}
			dir := ts.MkAbs(args[0])
			ts.Check(os.MkdirAll(dir, 0o755))
			if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+args[1], "tmpfs", dir).CombinedOutput(); err != nil {
				ts.Fatalf("tmpfs: mount: %v: %s", err, out)
			}
			ts.Defer(func() { exec.Command("umount", "-l", dir).Run() })
		},
		// signal SIG FILE sends SIG (HUP, INT, TERM or KILL) to the
		// process whose id FILE holds, for the signals testscript's own
		// kill does not send. A script starts lathe as
		// `exec sh -c 'echo $$ > lathe.pid; exec lathe ...' &lathe&`.
		"signal": func(ts *testscript.TestScript, neg bool, args []string) {
			sigs := map[string]syscall.Signal{"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "TERM": syscall.SIGTERM, "KILL": syscall.SIGKILL}
			if neg || len(args) != 2 || sigs[args[0]] == 0 {
				ts.Fatalf("usage: signal HUP|INT|TERM|KILL FILE")
			}
			ts.Check(syscall.Kill(readPID(ts, args[1]), sigs[args[0]]))
		},
		// gone FILE... waits up to 20 s for the processes whose ids the
		// files hold to end. The kernel needs a moment to deliver a
		// kill, and a killed orphan may stay a zombie where PID 1 does
		// not reap, which counts as ended.
		"gone": func(ts *testscript.TestScript, neg bool, args []string) {
			if neg || len(args) == 0 {
				ts.Fatalf("usage: gone FILE...")
			}
			deadline := time.Now().Add(20 * time.Second)
			for _, f := range args {
				pid := readPID(ts, f)
				for !processGone(pid) {
					if time.Now().After(deadline) {
						ts.Fatalf("gone: process %d (%s) is still running", pid, f)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
		},
		// session VAR sets VAR to the id of the newest session, and
		// VAR_FILE to its log's path.
		"session": func(ts *testscript.TestScript, neg bool, args []string) {
			if neg || len(args) != 1 {
				ts.Fatalf("usage: session VAR")
			}
			dir := filepath.Join(ts.Getenv("XDG_STATE_HOME"), "lathe", "sessions")
			logs, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
			ts.Check(err)
			if len(logs) == 0 {
				ts.Fatalf("session: no session logs in %s", dir)
			}
			// Session ids sort by creation time, but only to the second:
			// the meta record's time tells two of one second apart.
			created := func(log string) string {
				b, err := os.ReadFile(log)
				ts.Check(err)
				first, _, _ := strings.Cut(string(b), "\n")
				var meta struct{ Time time.Time }
				ts.Check(json.Unmarshal([]byte(first), &meta))
				return meta.Time.UTC().Format("20060102T150405.000000000") + filepath.Base(log)
			}
			newest := slices.MaxFunc(logs, func(a, b string) int { return strings.Compare(created(a), created(b)) })
			ts.Setenv(args[0], strings.TrimSuffix(filepath.Base(newest), ".jsonl"))
			ts.Setenv(args[0]+"_FILE", newest)
		},
	}
}

// readPID reads the process id in file.
func readPID(ts *testscript.TestScript, file string) int {
	b, err := os.ReadFile(ts.MkAbs(file))
	ts.Check(err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		ts.Fatalf("%s holds %q, not a process id", file, b)
	}
	return pid
}

// processGone reports whether process pid has ended: it does not exist,
// or it is a zombie.
func processGone(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the parenthesised command name.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	return len(fields) > 0 && (fields[0] == "Z" || fields[0] == "X")
}

// condition adds [tmpfs]: whether this process may mount a tmpfs (it must
// be root). CI runs as root, so there it is an error not to be able to.
func condition(cond string) (bool, error) {
	if b, ok := strings.CutPrefix(cond, "sandbox:"); ok {
		return sandboxWorks(b)
	}
	if cond != "tmpfs" {
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	dir, err := os.MkdirTemp("", "lathe-tmpfs-")
	if err != nil {
		return false, err
	}
	defer os.Remove(dir)
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", dir).CombinedOutput()
	if err != nil {
		if os.Getenv("CI") == "true" {
			return false, fmt.Errorf("cannot mount a tmpfs under CI: %v: %s", err, out)
		}
		return false, nil
	}
	return true, exec.Command("umount", dir).Run()
}

// sandboxWorks reports whether the sandbox backend named b confines
// commands here; under CI, where both must, it is an error that it does
// not.
func sandboxWorks(b string) (bool, error) {
	backend, err := sandbox.ParseBackend(b)
	if err != nil {
		return false, err
	}
	s := sandbox.New(sandbox.Profile{}, sandbox.WithBackend(backend))
	defer s.Close()
	if _, err := s.Backend(); err != nil {
		if os.Getenv("CI") == "true" {
			return false, fmt.Errorf("the %s sandbox must work under CI: %v", b, err)
		}
		return false, nil
	}
	return true, nil
}
