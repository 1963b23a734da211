package cli

import (
	"context"

	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/sandbox"
)

// doctor prints what of the sandbox works here and what is missing, and
// fails when no backend can confine commands.
func doctor(ctx context.Context, args []string, stdio IO) error {
	if len(args) > 0 {
		return usagef("usage: lathe doctor")
	}
	st := sandbox.Probe(ctx)
	if err := st.Print(stdio.Stdout); err != nil {
		return err
	}
	if !st.OK() {
		return exitError{app.ExitFailed}
	}
	return nil
}
