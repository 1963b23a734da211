package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
)

// runHeadless runs one task without a person at the terminal. execCmd is
// set for `lathe exec`, which needs no -p.
func runHeadless(ctx context.Context, args []string, stdio IO, execCmd bool) error {
	fs := newFlagSet("lathe")
	var f runFlags
	f.register(fs)
	pos, err := f.parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case f.help:
		fmt.Fprint(stdio.Stdout, helpText)
		return nil
	case f.version:
		fmt.Fprintf(stdio.Stdout, "lathe %s\n", version())
		return nil
	}
	if interactive(&f, stdio, execCmd) {
		return runTUI(ctx, &f, pos, stdio)
	}
	out, err := newOutput(f.outputFormat, f.partial, f.verbose, stdio.Stdout, stdio.Stderr)
	if err != nil {
		return err
	}
	text, err := readPrompt(pos, stdio)
	if err != nil {
		return err
	}
	if text == "" {
		// Bare `lathe` is how people find out what it does.
		if len(args) == 0 && !execCmd {
			fmt.Fprint(stdio.Stdout, quickstart)
			return nil
		}
		return usagef("no prompt: give it as an argument (lathe -p \"fix the tests\") or on stdin")
	}
	a, err := app.Open(f.options(stdio.Stderr))
	if err != nil {
		return err
	}
	printNotices(stdio.Stderr, a.Permissions())
	// SIGHUP is a closed terminal: like the others, the run stops, records
	// its result and stays resumable rather than dying mid-write. Signals
	// stay caught until the output has printed everything.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	// The result is on disk before it is printed; a failure to close the
	// log after that loses nothing a resume needs, so it is a warning.
	defer closeApp(a, stdio.Stderr)
	for _, p := range a.Dropped() {
		fmt.Fprintf(stdio.Stderr, "lathe: %v\n", droppedLine(a, p))
	}
	images, err := readImages(a, f.images)
	if err != nil {
		return err
	}

	// The output is a lossless subscriber: a script reading stream-json
	// slowly must still get every event, and closing the app prints
	// everything before lathe exits, the result last.
	a.Subscribe("output", out.Emit, event.Lossless())
	a.Start()
	if res := a.Prompt(ctx, text, images...); res.ExitCode != app.ExitOK {
		return exitError{res.ExitCode}
	}
	return nil
}

// options are the session the flags ask for.
func (f *runFlags) options(stderr io.Writer) app.Options {
	o := app.Options{
		Dir:            f.dir,
		DirGiven:       f.given["cd"],
		Provider:       f.provider,
		Model:          f.model,
		PermissionMode: f.permissionMode,
		Then:           f.then,
		Resume:         f.resume,
		Continue:       f.continueLast,
		Repair:         f.repair,
		Fork:           f.fork,
		Version:        version(),
		Warn:           warner(stderr),
		Approver:       agent.Headless,
	}
	f.perm.apply(&o)
	if f.given["max-turns"] {
		o.MaxTurns = &f.maxTurns
	}
	if f.given["max-budget-usd"] {
		o.MaxBudgetUSD = &f.maxBudgetUSD
	}
	if f.given["max-duration"] {
		o.MaxDuration = &f.maxDuration
	}
	return o
}

// warner returns a warning function that prints to stderr.
// closeApp closes a, warning on stderr of what did not close cleanly: a
// log, a sandbox placeholder or temporary directory left behind, a proxy
// that stopped serving.
func closeApp(a *app.App, stderr io.Writer) {
	if err := a.Close(); err != nil {
		warner(stderr)(fmt.Errorf("closing the session: %w", err))
	}
}

func warner(stderr io.Writer) func(error) {
	return func(err error) { fmt.Fprintf(stderr, "lathe: warning: %v\n", err) }
}

// readImages reads the images --image attaches, each checked against the
// provider's limits: a file that is not an image, or too large, is a
// usage error that names it.
func readImages(a *app.App, paths []string) ([]llm.Part, error) {
	var out []llm.Part
	for _, p := range paths {
		img, err := a.ReadImage(p)
		if err != nil {
			return nil, usagef("--image: %v", err)
		}
		out = append(out, img)
	}
	return out, nil
}
