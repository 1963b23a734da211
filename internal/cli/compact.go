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

// compactSession compacts a saved session, as /compact will in the
// terminal UI.
func compactSession(ctx context.Context, args []string, stdio IO) error {
	fs := newFlagSet("lathe compact")
	var f runFlags
	f.register(fs)
	pos, err := f.parse(fs, args)
	if err != nil {
		return err
	}
	if f.help {
		fmt.Fprint(stdio.Stdout, compactUsage)
		return nil
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
	defer a.Close()
	a.Subscribe("output", out.Emit, event.Lossless())
	a.Start()
	if res := a.Compact(ctx, strings.Join(pos, " ")); res.ExitCode != app.ExitOK {
		return exitError{res.ExitCode}
	}
	return nil
}
