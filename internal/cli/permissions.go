package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/termsafe"
)

// permissionFlags are the flags that shape a session's permissions, on a
// run and on `lathe permissions`. Rules and settings files may be given
// any number of times, so they are registered apart from the
// single-valued flags.
type permissionFlags struct {
	settings, allow, deny listFlag
	trust                 bool
}

func (p *permissionFlags) register(fs *flag.FlagSet) {
	fs.Var(&p.settings, "settings", "")
	fs.Var(&p.allow, "allow", "")
	fs.Var(&p.deny, "deny", "")
	fs.BoolVar(&p.trust, "trust-workspace", false, "")
}

func (p *permissionFlags) apply(o *app.Options) {
	o.Settings, o.Allow, o.Deny, o.TrustWorkspace = p.settings, p.allow, p.deny, p.trust
}

// listFlag is a flag that may be given any number of times.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ", ") }

func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// printNotices tells the user, on stderr, what they must know about the
// session's permissions before it starts.
func printNotices(stderr io.Writer, p *app.Permissions) {
	for _, n := range p.Notices() {
		fmt.Fprintf(stderr, "lathe: %s\n", termsafe.String(n))
	}
}

// Exit codes of `lathe permissions check`.
const (
	exitCheckAsk  = 10
	exitCheckDeny = 11
)

const permissionsUsage = "usage: lathe permissions check [--settings FILE]... TOOL ARG, or lathe permissions list"

// permissions runs `lathe permissions check|list`.
func permissions(ctx context.Context, args []string, stdio IO) error {
	if len(args) == 0 {
		return usagef("%s", permissionsUsage)
	}
	fs := newFlagSet("lathe permissions " + args[0])
	var pf permissionFlags
	pf.register(fs)
	var mode, dir string
	fs.StringVar(&mode, "permission-mode", "", "")
	fs.StringVar(&dir, "cd", "", "")
	fs.StringVar(&dir, "C", "", "")
	pos, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return flagError(err)
	}
	if dir == "" {
		if dir, err = os.Getwd(); err != nil {
			return err
		}
	}
	opts := app.Options{PermissionMode: mode}
	pf.apply(&opts)
	switch args[0] {
	case "check":
		if len(pos) != 2 {
			return usagef("usage: lathe permissions check [--settings FILE]... TOOL ARG (tools: %s)", strings.Join(app.CheckTools(), ", "))
		}
		perms, err := app.LoadPermissions(ctx, dir, &opts)
		if err != nil {
			return err
		}
		return check(ctx, perms, pos[0], pos[1], stdio)
	case "list":
		if len(pos) != 0 {
			return usagef("usage: lathe permissions list [--settings FILE]...")
		}
		perms, err := app.LoadPermissions(ctx, dir, &opts)
		if err != nil {
			return err
		}
		return listPermissions(perms, stdio)
	}
	return usagef("%s", permissionsUsage)
}

// check prints the decision on one call: its verdict first, then the
// rule and its file, or the reason.
func check(ctx context.Context, perms *app.Permissions, toolName, arg string, stdio IO) error {
	printNotices(stdio.Stderr, perms)
	_, d, err := perms.Check(ctx, toolName, arg)
	if err != nil {
		return err
	}
	verdict, code := "allow", app.ExitOK
	switch d.Verdict {
	case policy.Ask:
		verdict, code = "ask", exitCheckAsk
	case policy.Deny:
		verdict, code = "deny", exitCheckDeny
	}
	line := verdict
	switch {
	case d.Rule != "":
		line += fmt.Sprintf(" rule %s from %s", d.Rule, d.Source)
		if d.Reason != "" {
			line += "; reason: " + d.Reason
		}
	case d.Reason != "":
		line += " reason: " + d.Reason
	default:
		line += fmt.Sprintf(" in %s mode", perms.Policy.Mode)
	}
	fmt.Fprintln(stdio.Stdout, termsafe.String(line))
	if code != app.ExitOK {
		return exitError{code}
	}
	return nil
}

// listPermissions prints the mode and the effective rules, each with the
// file it came from, and what an untrusted workspace's configuration
// would have added.
func listPermissions(perms *app.Permissions, stdio IO) error {
	printNotices(stdio.Stderr, perms)
	cfg := perms.Config
	out := stdio.Stdout
	fmt.Fprintf(out, "mode: %s", perms.Policy.Mode)
	if cfg.ModeSource != "" {
		fmt.Fprintf(out, " (from %s)", cfg.ModeSource)
	}
	fmt.Fprintln(out)
	for _, f := range cfg.Managed.Files {
		fmt.Fprintf(out, "managed policy: %s\n", f)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LIST\tRULE\tFROM")
	for _, l := range []struct {
		name  string
		rules []policy.Rule
	}{{"deny", cfg.Rules.Deny}, {"ask", cfg.Rules.Ask}, {"allow", cfg.Rules.Allow}} {
		for _, r := range l.rules {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", l.name, termsafe.String(r.Text), termsafe.String(r.Source))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if ign := cfg.Trust.Ignored; len(ign) > 0 {
		fmt.Fprintln(out, "ignored, as this workspace is not trusted (see lathe trust):")
		for _, w := range ign {
			fmt.Fprintf(out, "  %s  %s\n", termsafe.String(w.What), termsafe.String(w.File))
		}
	}
	return nil
}
