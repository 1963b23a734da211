package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/config"
	"github.com/lathe-dev/lathe/internal/netproxy"
	"github.com/lathe-dev/lathe/internal/sandbox"
	"github.com/lathe-dev/lathe/internal/shell"
	"github.com/lathe-dev/lathe/internal/termsafe"
)

const sandboxUsage = "usage: lathe sandbox [--mode read-only|workspace-write] [--allow-domain DOMAIN]... -- COMMAND [ARG...]"

// exitSandbox is lathe sandbox's exit code when the command could not be
// started, confined or at all, as env(1) and timeout(1) use 125.
const exitSandbox = 125

// domains collects repeated --allow-domain flags, each a pattern of the
// network proxy's rules.
type domains []string

func (d *domains) String() string { return strings.Join(*d, ",") }

func (d *domains) Set(s string) error {
	if _, err := netproxy.NewRules([]string{s}, nil); err != nil {
		return fmt.Errorf("--allow-domain %q: %v", s, errors.Unwrap(err))
	}
	*d = append(*d, s)
	return nil
}

// networkReport returns the report function of the sandbox's network
// proxies for lathe sandbox, which has no audit log: one line on w for
// each connection, allowed or refused, as it ends. It may be called
// from several goroutines at once.
func networkReport(w io.Writer) func(netproxy.Conn) {
	var mu sync.Mutex
	return func(c netproxy.Conn) {
		line := fmt.Sprintf("lathe sandbox: network: %s %s", c.Method, termsafe.String(net.JoinHostPort(c.Host, strconv.Itoa(c.Port))))
		switch {
		case !c.Allowed:
			line += " refused: " + termsafe.String(c.Reason)
		case c.Err != "":
			line += fmt.Sprintf(" allowed by %q, failed: %s", c.Rule, termsafe.String(c.Err))
		default:
			line += fmt.Sprintf(" allowed by %q: %d, %d bytes sent, %d received", c.Rule, c.Status, c.Sent, c.Received)
		}
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(w, line)
	}
}

// runSandbox runs one command in the current directory exactly as the
// shell tool runs it in a session: the same executor, with the profile
// a decision gives a command, its output as it comes, its exit code.
// The domains --allow-domain names are reached through the network
// proxy, which reports each connection on stderr.
func runSandbox(ctx context.Context, args []string, stdio IO) error {
	fs := newFlagSet("sandbox")
	mode := fs.String("mode", sandbox.WorkspaceWrite.String(), "")
	var allow domains
	fs.Var(&allow, "allow-domain", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdio.Stdout, sandboxUsage)
			return nil
		}
		return usagef("%v\n%s", err, sandboxUsage)
	}
	level, err := sandbox.ParseLevel(*mode)
	if err != nil || level == sandbox.Unconfined {
		return usagef("--mode %q: want read-only or workspace-write\n%s", *mode, sandboxUsage)
	}
	command := fs.Args()
	if len(command) == 0 {
		return usagef("which command?\n%s", sandboxUsage)
	}
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	cfg, err := config.Load(dir)
	if err != nil {
		return usageError{Msg: err.Error()}
	}
	env, sb := app.NewEnv(dir, cfg.Shell.Timeout, cfg.Providers, networkReport(stdio.Stderr), sandbox.WithIsolateCaches(cfg.Sandbox.IsolateCaches))
	defer sb.Close()
	defer env.Shell.Close()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	ctx = sandbox.WithProfile(ctx, sandbox.Profile{Confine: level, Workspace: dir, AllowDomains: allow})
	ctx = shell.WithOutput(ctx, func(chunk []byte) { _, _ = stdio.Stdout.Write(chunk) })
	res, err := env.Shell.Run(ctx, shell.Command{Args: command, Dir: dir})
	if err != nil {
		fmt.Fprintf(stdio.Stderr, "lathe sandbox: %v\n", err)
		return exitError{exitSandbox}
	}
	if res.TimedOut {
		fmt.Fprintf(stdio.Stderr, "lathe sandbox: stopped after the %v timeout\n", res.Timeout)
	}
	if res.ExitCode != 0 {
		return exitError{res.ExitCode}
	}
	return nil
}
