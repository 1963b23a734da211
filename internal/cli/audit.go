package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/audit"
	"github.com/lathe-dev/lathe/internal/regfile"
	"github.com/lathe-dev/lathe/internal/session"
	"github.com/lathe-dev/lathe/internal/termsafe"
)

const auditUsage = "usage: lathe audit verify [SESSION] | lathe audit export [SESSION] [--format json|csv] (SESSION: a session id or an audit log's path; by default the latest session in this directory)"

// runAudit is `lathe audit verify|export SESSION`: exit 0 for a log
// that verifies, 1 naming the first bad record for one that does not.
func runAudit(args []string, stdio IO) error {
	if len(args) == 0 {
		return usagef(auditUsage)
	}
	fs := newFlagSet("lathe audit " + args[0])
	var format *string
	if args[0] == "export" {
		format = fs.String("format", "json", "")
	}
	pos, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return flagError(err)
	}
	if len(pos) == 0 {
		// As --continue would: the latest session started here.
		id, err := latestSession(stdio)
		if err != nil {
			return err
		}
		pos = []string{id}
	}
	switch {
	case len(pos) != 1:
		return usagef(auditUsage)
	case args[0] == "verify":
		return verifyAudit(pos[0], stdio)
	case args[0] != "export":
		return usagef(auditUsage)
	case *format != "json" && *format != "csv":
		return usagef("unknown export format %q (want json or csv)", *format)
	}
	return exportAudit(pos[0], *format, stdio)
}

// latestSession is the id of the latest session started in the working
// directory.
func latestSession(stdio IO) (string, error) {
	store, err := app.Store(warner(stdio.Stderr))
	if err != nil {
		return "", err
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	id, err := store.Latest(wd)
	if err != nil {
		return "", usagef("no session to audit: %v; name one (see lathe sessions)", err)
	}
	return id, nil
}

// auditLog resolves SESSION to an audit log's path and the session it
// must be of: an id names a log in the audit directory; anything with a
// slash, or ending in .jsonl, is a path, whose log names its session.
func auditLog(arg string) (path, id string, err error) {
	if strings.ContainsRune(arg, filepath.Separator) || strings.HasSuffix(arg, ".jsonl") {
		return arg, "", nil
	}
	if arg == "" || strings.HasPrefix(arg, ".") {
		return "", "", usagef("invalid session id %q", arg)
	}
	dir, err := app.AuditDir()
	if err != nil {
		return "", "", err
	}
	return audit.Path(dir, arg), arg, nil
}

// verifyLog verifies the log SESSION names and checks its runs against
// the session log's: a run the session log records since the audit log
// began, and the audit log does not, was removed from its end. A session
// running now may lack its last run's end. note says what could not be
// checked, or that the session is running.
func verifyLog(arg string) (path string, sum *audit.Summary, note string, err error) {
	path, id, err := auditLog(arg)
	if err != nil {
		return "", nil, "", err
	}
	f, _, err := regfile.Open(path)
	if errors.Is(err, fs.ErrNotExist) && id != "" {
		if _, _, serr := app.SessionRuns(id); errors.Is(serr, session.ErrNotFound) {
			return "", nil, "", usagef("no session %s (see lathe sessions)", id)
		}
		return "", nil, "", fmt.Errorf("session %s has no audit log %s: it was removed, or the session is older than audit logs", id, path)
	}
	if err != nil {
		return "", nil, "", fmt.Errorf("audit log: %w", err)
	}
	defer f.Close()
	sum, err = audit.Verify(f, id)
	var p *audit.Problem
	if err != nil && (!errors.As(err, &p) || !p.Unended) {
		return path, nil, "", fmt.Errorf("audit log %s: %w", path, err)
	}
	starts, running, serr := app.SessionRuns(sum.SessionID)
	switch {
	case errors.Is(serr, session.ErrNotFound):
		note = "the session's log is gone, so its runs were not checked against it"
	case serr != nil:
		note = fmt.Sprintf("its runs were not checked against the session's log: %v", serr)
	case running && p != nil:
		return path, sum, "the session is running now, so its last run has no end yet", nil
	case running:
		note = "the session is running now"
	}
	if p != nil {
		return path, nil, "", fmt.Errorf("audit log %s: %w", path, err)
	}
	for _, t := range starts {
		if len(sum.Starts) > 0 && t >= sum.Starts[0] && !slices.Contains(sum.Starts, t) {
			return path, nil, "", fmt.Errorf("audit log %s: %w", path, &audit.Problem{Line: sum.Records,
				Msg: fmt.Sprintf("the session's log records a run started at %s, after this one's last record, which the audit log does not have: its records were removed", t)})
		}
	}
	return path, sum, note, nil
}

func verifyAudit(arg string, stdio IO) error {
	path, sum, note, err := verifyLog(arg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdio.Stdout, "audit log %s of session %s: intact\n", termsafe.Quote(path), termsafe.Quote(sum.SessionID))
	fmt.Fprintf(stdio.Stdout, "%d records, %d runs, %d calls (%d denied), %d network connections (%d refused), from %s to %s\n",
		sum.Records, sum.Runs, sum.Calls, sum.Denied, sum.Network, sum.Refused, termsafe.Quote(sum.First), termsafe.Quote(sum.Last))
	if note != "" {
		fmt.Fprintf(stdio.Stdout, "note: %s\n", note)
	}
	return nil
}

// exportAudit writes the report of the log SESSION names. A log that
// does not verify is reported all the same, as far as it can be read,
// and the command then fails naming its first bad record.
func exportAudit(arg, format string, stdio IO) error {
	path, _, _, verr := verifyLog(arg)
	var ue usageError
	if errors.As(verr, &ue) || path == "" {
		return verr
	}
	f, _, err := regfile.Open(path)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	defer f.Close()
	rows, err := audit.Rows(f)
	if err != nil {
		return fmt.Errorf("audit log %s: %w", path, err)
	}
	if format == "csv" {
		err = audit.WriteCSV(stdio.Stdout, rows)
	} else {
		err = audit.WriteJSON(stdio.Stdout, rows)
	}
	if err != nil {
		return fmt.Errorf("export audit log: %w", err)
	}
	if verr != nil {
		return fmt.Errorf("%w; the report is of a log that was altered", verr)
	}
	return nil
}
