package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// ttyEnv are the variables of the script's environment that a command in
// the tmux pane gets, as a fresh tmux server starts it with its own.
var ttyEnv = []string{
	"PATH", "HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME",
	"ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_KEY",
	"GOCACHE", "GOMODCACHE", "GOROOT", "GOFLAGS", "GOTOOLCHAIN", "GOPROXY",
}

// ttyCmds is the testscript command tty, which runs a command in a
// terminal: a tmux pane of the script's own tmux server. Guard scripts
// with [exec:tmux].
//
//	tty start W H CMD      run the shell command CMD in a W×H pane of a
//	                       new tmux server (the later commands'); when
//	                       it exits the pane prints "echo" or "-echo" as
//	                       stty says, then "[exit N]", and stays
//	tty send KEYS...       tmux send-keys: key names (Enter, C-c, Escape)
//	tty type TEXT          type TEXT literally
//	tty wait [-all] RE     wait up to 20 s for the screen (with -all, the
//	                       scrollback too) to match the regexp RE
//	tty capture [-all] F   write the screen (or all) to F, trailing
//	                       blank lines trimmed
//	tty resize W H         resize the pane
//	tty alt on|off         assert the pane is (not) on the alternate screen
func ttyCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"tty": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) == 0 {
				ts.Fatalf("usage: tty start|send|type|wait|capture|resize|alt ...")
			}
			// Each start has its own server, on a socket of its own.
			if args[0] == "start" {
				n, _ := strconv.Atoi(ts.Getenv("TTY_N"))
				ts.Setenv("TTY_N", strconv.Itoa(n+1))
				ts.Setenv("TTY_SOCK", filepath.Join(ts.Getenv("WORK"), fmt.Sprintf(".tmux%d", n+1)))
			}
			sock := ts.Getenv("TTY_SOCK")
			if sock == "" {
				ts.Fatalf("tty: no terminal; tty start one first")
			}
			tmux := func(args ...string) string {
				cmd := exec.Command("tmux", append([]string{"-S", sock}, args...)...)
				// The server and its panes take PATH from the client's
				// environment, whatever -e says.
				cmd.Env = append(os.Environ(), "TMUX=", "PATH="+ts.Getenv("PATH"))
				out, err := cmd.CombinedOutput()
				if err != nil {
					ts.Fatalf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
				}
				return string(out)
			}
			capture := func(all bool) string {
				a := []string{"capture-pane", "-p", "-t", "lathe"}
				if all {
					a = append(a, "-S", "-", "-E", "-")
				}
				return strings.TrimRight(tmux(a...), "\n") + "\n"
			}
			all := len(args) > 1 && args[1] == "-all"
			if all {
				args = append(args[:1], args[2:]...)
			}
			switch {
			case args[0] == "start" && len(args) == 4 && !neg:
				a := []string{"-f", "/dev/null", "new-session", "-d", "-s", "lathe", "-x", args[1], "-y", args[2], "-c", ts.MkAbs(".")}
				a = append(a, "-e", "TERM=xterm-256color")
				for _, k := range ttyEnv {
					if v := ts.Getenv(k); v != "" {
						a = append(a, "-e", k+"="+v)
					}
				}
				a = append(a, "sh", "-c", args[3]+`; s=$?; stty -a | grep -o -- '-\?echo ' | head -1; echo "[exit $s]"; exec sleep 3600`)
				tmux(a...)
				ts.Defer(func() { exec.Command("tmux", "-S", sock, "kill-server").Run() })
			case args[0] == "send" && len(args) > 1 && !neg:
				tmux(append([]string{"send-keys", "-t", "lathe"}, args[1:]...)...)
			case args[0] == "type" && len(args) == 2 && !neg:
				tmux("send-keys", "-t", "lathe", "-l", args[1])
			case args[0] == "wait" && len(args) == 2:
				// ! tty wait RE waits for RE to leave the screen: the
				// end of a run, say, which the streamed answer shows
				// before it comes.
				re, err := regexp.Compile(args[1])
				ts.Check(err)
				deadline := time.Now().Add(20 * time.Second)
				for {
					screen := capture(all)
					if re.MatchString(screen) != neg {
						return
					}
					if time.Now().After(deadline) {
						if neg {
							ts.Fatalf("tty wait: %q still on the screen:\n%s", args[1], screen)
						}
						ts.Fatalf("tty wait: no %q on the screen:\n%s", args[1], screen)
					}
					time.Sleep(20 * time.Millisecond)
				}
			case args[0] == "capture" && len(args) == 2 && !neg:
				ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(capture(all)), 0o644))
			case args[0] == "resize" && len(args) == 3 && !neg:
				tmux("resize-window", "-t", "lathe", "-x", args[1], "-y", args[2])
			case args[0] == "alt" && len(args) == 2 && (args[1] == "on" || args[1] == "off") && !neg:
				got := strings.TrimSpace(tmux("display-message", "-p", "-t", "lathe", "#{alternate_on}"))
				if want := map[string]string{"on": "1", "off": "0"}[args[1]]; got != want {
					ts.Fatalf("tty alt: alternate_on is %s, want %s", got, want)
				}
			default:
				ts.Fatalf("tty: bad usage: %s", fmt.Sprint(args))
			}
		},
	}
}
