package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/termsafe"
)

// trust runs `lathe trust [-C DIR]`: it remembers the workspace's project
// configuration, as it is now, as trusted, and says what it widens.
func trust(ctx context.Context, args []string, stdio IO) error {
	fs := newFlagSet("lathe trust")
	var dir string
	fs.StringVar(&dir, "cd", "", "")
	fs.StringVar(&dir, "C", "", "")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(pos) != 0 {
		return usagef("usage: lathe trust [--cd DIR]")
	}
	if dir == "" {
		if dir, err = os.Getwd(); err != nil {
			return err
		}
	}
	// Loaded as trusted, so that what it widens is checked and listed.
	perms, err := app.LoadPermissions(ctx, dir, &app.Options{TrustWorkspace: true})
	if err != nil {
		return err
	}
	t := perms.Config.Trust
	if len(t.Files) == 0 {
		fmt.Fprintf(stdio.Stdout, "Nothing to trust: %s has no project configuration.\n", termsafe.String(t.Dir))
		return nil
	}
	if err := t.Remember(); err != nil {
		return err
	}
	fmt.Fprintf(stdio.Stdout, "Trusted the project configuration of %s as it is now:\n", termsafe.String(t.Dir))
	for _, f := range t.Files {
		fmt.Fprintf(stdio.Stdout, "  %s\n", termsafe.String(f))
	}
	if len(t.Granted) > 0 {
		fmt.Fprintln(stdio.Stdout, "It widens permissions with:")
		for _, w := range t.Granted {
			fmt.Fprintf(stdio.Stdout, "  %s (%s)\n", termsafe.String(w.What), termsafe.String(w.File))
		}
	}
	fmt.Fprintln(stdio.Stdout, "A change to any of these files needs lathe trust again.")
	return nil
}
