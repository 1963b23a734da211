package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/config"
	"github.com/lathe-dev/lathe/internal/sandbox"
	"github.com/lathe-dev/lathe/internal/shell"
)

const sandboxUsage = "usage: lathe sandbox [--mode read-only|workspace-write] [--allow-domain DOMAIN]... -- COMMAND [ARG...]"

// exitSandbox is lathe sandbox's exit code when the command could not be
// started, confined or at all, as env(1) and timeout(1) use 125.
const exitSandbox = 125

// domains collects repeated --allow-domain flags.
type domains []string

func (d *domains) String() string { return strings.Join(*d, ",") }

func (d *domains) Set(s string) error {
	if s == "" || strings.ContainsAny(s, "/: ") {
		return fmt.Errorf("--allow-domain %q: want a domain name, like example.com", s)
	}
	*d = append(*d, s)
	return nil
}

// runSandbox runs one command in the current directory exactly as the
// shell tool runs it in a session: the same executor, with the profile
// a decision gives a command, its output as it comes, its exit code.
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
	env, sb := app.NewEnv(dir, cfg.Shell.Timeout, cfg.Providers, sandbox.WithIsolateCaches(cfg.Sandbox.IsolateCaches))
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
