package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/checkpoint"
	"github.com/lathe-dev/lathe/internal/termsafe"
)

const rewindUsage = "usage: lathe rewind SESSION [--to STEP [--dry-run]]"

// rewind lists a session's checkpoints, or restores its workspace to one.
func rewind(ctx context.Context, args []string, stdio IO) error {
	var id string
	to, dryRun := 0, false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--dry-run" || a == "-n":
			dryRun = true
		case a == "--to" || strings.HasPrefix(a, "--to="):
			v, ok := strings.CutPrefix(a, "--to=")
			if !ok {
				if i++; i == len(args) {
					return usagef("--to needs a step number\n%s", rewindUsage)
				}
				v = args[i]
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return usagef("--to %s: a step is a number from 1 (lathe rewind SESSION lists them)", termsafe.Quote(v))
			}
			to = n
		case a == "-h" || a == "--help":
			fmt.Fprintln(stdio.Stdout, rewindUsage)
			return nil
		case strings.HasPrefix(a, "-"):
			return usagef("unknown flag %s\n%s", termsafe.Quote(a), rewindUsage)
		case id != "":
			return usagef("one session at a time\n%s", rewindUsage)
		default:
			id = a
		}
	}
	if id == "" {
		return usagef("which session? (lathe sessions lists them)\n%s", rewindUsage)
	}
	if dryRun && to == 0 {
		return usagef("--dry-run goes with --to STEP\n%s", rewindUsage)
	}
	// A restore stopped by a signal reports what it did change.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	r, err := app.OpenRewind(ctx, id, warner(stdio.Stderr))
	if err != nil {
		return err
	}
	defer r.Close()
	if to == 0 {
		return listSteps(r, id, stdio)
	}
	st, changes, err := r.Preview(ctx, to)
	if err != nil {
		return err
	}
	what := "before step " + strconv.Itoa(st.Step) + " (" + describe(st) + ")"
	if len(changes) == 0 {
		fmt.Fprintf(stdio.Stdout, "%s is already as it was %s: nothing to change.\n", termsafe.Quote(r.Dir()), what)
		return nil
	}
	if dryRun {
		fmt.Fprintf(stdio.Stdout, "Rewinding %s to how it was %s would change %s:\n", termsafe.Quote(r.Dir()), what, files(len(changes)))
		printChanges(stdio.Stdout, changes)
		fmt.Fprintln(stdio.Stdout, "Dry run: nothing was changed.")
		return nil
	}
	undo, done, err := r.Rewind(ctx, to)
	if undo.Step != 0 {
		fmt.Fprintf(stdio.Stdout, "Rewound %s to how it was %s, changing %s:\n", termsafe.Quote(r.Dir()), what, files(len(done)))
		printChanges(stdio.Stdout, done)
		fmt.Fprintf(stdio.Stdout, "The state before this rewind is step %d: to undo the rewind, run\n  lathe rewind %s --to %d\n", undo.Step, termsafe.Quote(id), undo.Step)
	}
	return err
}

func files(n int) string {
	if n == 1 {
		return "1 file"
	}
	return strconv.Itoa(n) + " files"
}

// describe says what a step was, for people.
func describe(st app.Step) string {
	switch {
	case st.Tool == app.RewindTool:
		return "lathe rewind " + st.Target
	case st.Tool == "":
		return "unknown call"
	case st.Target == "":
		return termsafe.Quote(st.Tool)
	}
	return termsafe.Quote(st.Tool) + " " + oneLine(st.Target, 60)
}

// printChanges lists what a rewind changes, one file a line, in the words
// of what happens to the file.
func printChanges(w io.Writer, changes []checkpoint.Change) {
	for _, c := range changes {
		p := termsafe.Quote(c.Path)
		switch c.Kind {
		case checkpoint.Add:
			fmt.Fprintf(w, "  restore  %s\n", p)
		case checkpoint.Update:
			fmt.Fprintf(w, "  revert   %s\n", p)
		case checkpoint.Delete:
			fmt.Fprintf(w, "  delete   %s\n", p)
		case checkpoint.Mode:
			fmt.Fprintf(w, "  mode     %s (%o -> %o)\n", p, c.OldMode, c.NewMode)
		}
	}
}

// listSteps prints a session's checkpoints.
func listSteps(r *app.Rewinder, id string, stdio IO) error {
	steps := r.Steps()
	if len(steps) == 0 {
		fmt.Fprintf(stdio.Stdout, "Session %s has no checkpoints: it changed nothing in %s.\n", termsafe.Quote(id), termsafe.Quote(r.Dir()))
		return nil
	}
	fmt.Fprintf(stdio.Stdout, "Checkpoints of session %s in %s, each the state before its step:\n", termsafe.Quote(id), termsafe.Quote(r.Dir()))
	tw := tabwriter.NewWriter(stdio.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tTIME\tTOOL\tTARGET")
	for _, st := range steps {
		when := "-"
		if !st.Time.IsZero() {
			when = st.Time.Local().Format("2006-01-02 15:04:05")
		}
		tool, target := termsafe.Quote(st.Tool), oneLine(st.Target, 60)
		if st.Tool == app.RewindTool {
			tool, target = "(rewind)", "lathe rewind "+target
		}
		if st.ID == "" {
			target += " [no checkpoint: " + oneLine(st.Err, 60) + "]"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", st.Step, when, tool, target)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdio.Stdout, "Restore one with: lathe rewind %s --to STEP [--dry-run]\n", termsafe.Quote(id))
	return nil
}
