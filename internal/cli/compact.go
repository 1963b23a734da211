package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/event"
)

const compactUsage = `usage: lathe compact [--resume ID] [--cd DIR] [--output-format text|json|stream-json] [FOCUS...]

Compacts a saved session headless: the model summarises the conversation,
which is replaced by the summary, the task ledger and the last step, so
that the next --continue or --resume sends that instead of the whole
history. Without --resume, the latest session in this directory. FOCUS is
what the summary should keep in particular.
`

const recapUsage = `usage: lathe recap [ID] [--cd DIR] [--output-format text|json|stream-json]

Prints a short recap of a saved session (at most 400 characters: the
goal, the task in progress, the next action), asked of the model as a
fork of the session's cached prompt, which it leaves as it was. Without
ID, the latest session in this directory.
`

// compactSession compacts a saved session, as /compact will in the
// terminal UI.
func compactSession(ctx context.Context, args []string, stdio IO) error {
	return onSaved(ctx, args, stdio, compactUsage, func(f *runFlags, pos []string) (func(*app.App, context.Context) app.Result, error) {
		focus := strings.Join(pos, " ")
		return func(a *app.App, ctx context.Context) app.Result { return a.Compact(ctx, focus) }, nil
	})
}

// recapSession prints a recap of a saved session.
func recapSession(ctx context.Context, args []string, stdio IO) error {
	return onSaved(ctx, args, stdio, recapUsage, func(f *runFlags, pos []string) (func(*app.App, context.Context) app.Result, error) {
		switch {
		case len(pos) > 1:
			return nil, usagef("usage: lathe recap [ID]")
		case len(pos) == 1 && f.resume != "":
			return nil, usagef("lathe recap: name the session once, as ID or with --resume")
		case len(pos) == 1:
			f.resume = pos[0]
		}
		return (*app.App).Recap, nil
	})
}

// onSaved runs what prepare returns on a saved session (--resume ID, or
// the latest in the directory), headless, with the run flags parsed from
// args; prepare sees the flags and positional arguments first.
func onSaved(ctx context.Context, args []string, stdio IO, usage string, prepare func(f *runFlags, pos []string) (func(*app.App, context.Context) app.Result, error)) error {
	fs := newFlagSet("lathe " + strings.Fields(usage)[2])
	var f runFlags
	f.register(fs)
	pos, err := f.parse(fs, args)
	if err != nil {
		return err
	}
	if f.help {
		fmt.Fprint(stdio.Stdout, usage)
		return nil
	}
	run, err := prepare(&f, pos)
	if err != nil {
		return err
	}
	out, err := newOutput(f.outputFormat, f.partial, f.verbose, stdio.Stdout, stdio.Stderr)
	if err != nil {
		return err
	}
	if f.resume == "" {
		f.continueLast = true
	}
	a, err := app.Open(f.options(stdio.Stderr))
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	defer closeApp(a, stdio.Stderr)
	a.Subscribe("output", out.Emit, event.Lossless())
	a.Start()
	if res := run(a, ctx); res.ExitCode != app.ExitOK {
		return exitError{res.ExitCode}
	}
	return nil
}
