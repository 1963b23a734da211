package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/secret"
	"github.com/lathe-dev/lathe/internal/session"
	"github.com/lathe-dev/lathe/internal/termsafe"
)

// listSessions prints the saved sessions, most recent first.
func listSessions(args []string, stdio IO) error {
	if len(args) > 0 {
		return usagef("usage: lathe sessions")
	}
	store, err := app.Store(warner(stdio.Stderr))
	if err != nil {
		return err
	}
	list, err := store.List()
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(stdio.Stdout, "No sessions yet.")
		return nil
	}
	// CACHED is the share of the input read from the prompt cache.
	// Every field but the numbers comes from a session file: its control
	// characters are shown, not obeyed, and a key pasted into a prompt is
	// redacted.
	tw := tabwriter.NewWriter(stdio.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUPDATED\tMODEL\tTURNS\tINPUT\tCACHED\tOUTPUT\tCOST\tDIRECTORY\tPROMPT")
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%.0f%%\t%d\t$%.4f\t%s\t%s\n",
			termsafe.Quote(s.SessionID), s.Updated.Local().Format("2006-01-02 15:04"), termsafe.Quote(s.Model), s.Turns,
			s.Usage.TotalInput(), 100*s.Usage.CachedShare(), s.Usage.Output, s.Cost, termsafe.Quote(s.Cwd), lineage(s.Meta)+oneLine(secret.Redact(s.Prompt), 50))
	}
	return tw.Flush()
}

// lineage says where a session came from, before its prompt: the session
// a subagent's was started by, or the one a fork began from. Both come
// from the log, so they are shown as the prompt is.
func lineage(m session.Meta) string {
	switch {
	case m.Parent != "":
		return "[" + oneLine(m.AgentType+" agent of "+m.Parent, 60) + "] "
	case m.ForkedFrom != "":
		return "[" + oneLine("fork of "+m.ForkedFrom, 60) + "] "
	}
	return ""
}
