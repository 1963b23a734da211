package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/audit"
	"github.com/lathe-dev/lathe/internal/config"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/netproxy"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/session"
)

// AuditDir is the directory of the sessions' audit logs, next to their
// session logs under the state directory.
func AuditDir() (string, error) {
	dir := config.StateDir()
	if dir == "" {
		return "", usagef("cannot find the audit logs: set HOME or XDG_STATE_HOME")
	}
	return filepath.Join(dir, "audit"), nil
}

// openAudit opens the session's audit log, which a resumed session
// continues.
func (a *App) openAudit() error {
	dir, err := AuditDir()
	if err != nil {
		return err
	}
	a.audit, err = audit.Open(dir, a.log.ID(), audit.Info{Sandbox: a.perms.sandbox, RuleSources: a.perms.RuleSources(), User: account()})
	return err
}

// account names the user Lathe runs as, for the audit log: the person
// whose answers a run's approvals are. The uid is always there, as
// $USER can say anything and the name may not be found.
func account() string {
	uid := strconv.Itoa(os.Getuid())
	if u, err := user.LookupId(uid); err == nil && u.Username != "" {
		return u.Username + " (uid " + uid + ")"
	}
	return "uid " + uid
}

// networkReport returns the report function of the session's network
// proxies: each connection goes to the audit log with the file or flag
// of the WebFetch(domain:…) allow rule whose pattern decided it, the
// first such rule as the policy's domains are. It may be called from
// any goroutine.
func (a *App) networkReport() func(netproxy.Conn) {
	sources := map[string]string{}
	for _, r := range a.perms.Policy.Rules.Allow {
		d, ok := strings.CutPrefix(r.Specifier, "domain:")
		// The proxy's patterns are lower case, with no trailing dot.
		d = strings.TrimSuffix(strings.ToLower(d), ".")
		if _, seen := sources[d]; ok && r.Tool == "WebFetch" && !seen {
			sources[d] = r.Source
		}
	}
	return func(c netproxy.Conn) {
		c.RuleSource = sources[c.Rule]
		a.audit.Network(c)
	}
}

// audited is the policy of a session with an audit log: once the log
// cannot be written, every call is denied, since what it did could not
// be recorded.
type audited struct {
	agent.Decider
	log interface{ Err() error } // the *audit.Log
}

func (d audited) Decide(ctx context.Context, call *policy.Call) policy.Decision {
	if err := d.log.Err(); err != nil {
		return policy.Decision{Verdict: policy.Deny, Reason: fmt.Sprintf("the audit log cannot be written, and no call runs unrecorded: %v", err)}
	}
	return d.Decider.Decide(ctx, call)
}

// SessionRuns returns the start times of the runs session id's log
// records (its session.start events), for `lathe audit verify` to check
// that none is missing from the audit log; running says the session is
// running in another process now, and nothing else is returned then.
// It reads the log without changing it.
func SessionRuns(id string) (starts []string, running bool, err error) {
	store, err := Store(nil)
	if err != nil {
		return nil, false, err
	}
	// Repair reads past lines it cannot use, and writes nothing until an
	// append, which never comes.
	log, _, err := store.Repair(id)
	if errors.Is(err, session.ErrInUse) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer log.Close()
	err = log.Events(func(ev json.RawMessage) {
		var e struct {
			Type event.Type `json:"type"`
			Time string     `json:"time"`
		}
		if json.Unmarshal(ev, &e) == nil && e.Type == event.SessionStart {
			starts = append(starts, e.Time)
		}
	})
	return starts, false, err
}
