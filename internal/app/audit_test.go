package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/audit"
	"github.com/lathe-dev/lathe/internal/policy"
)

// TestAuditLog checks that a session's audit log records the run's
// start with the sandbox's status, the rules' files and the user who
// answers its approvals, a call allowed
// by a rule with the rule and its file, and the run's end, and verifies.
func TestAuditLog(t *testing.T) {
	dir := isolate(t)
	withSandbox(t, false)
	srv := fake(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "touch ran"}}]}},
	  {"expect": {"tool_results": [{"call": 0, "is_error": false}]}, "reply": {"text": "Done."}}]}`)
	a, res, _ := runPrompt(t, srv, Options{Dir: dir, Allow: []string{"Bash(touch ran)"}}, "go")
	if res.ExitCode != ExitOK {
		t.Fatalf("Prompt = %+v", res)
	}
	data, err := os.ReadFile(a.AuditLog().Path())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Verify(bytes.NewReader(data), a.SessionID()); err != nil {
		t.Fatal(err)
	}
	var recs []audit.Record
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r audit.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 4 {
		t.Fatalf("%d records:\n%s", len(recs), data)
	}
	start, decision := recs[0], recs[1]
	if start.Sandbox != "unavailable: no user namespaces" || len(start.RuleSources) != 1 || start.ModeNotice == "" || start.Workspace != dir ||
		!strings.HasSuffix(start.User, fmt.Sprintf("uid %d)", os.Getuid())) && start.User != fmt.Sprintf("uid %d", os.Getuid()) {
		t.Errorf("session.start = %+v", start)
	}
	if decision.Verdict != "allow" || decision.DecidedBy != "rule" || decision.Rule != "Bash(touch ran)" || decision.RuleSource != start.RuleSources[0] {
		t.Errorf("decision = %+v", decision)
	}
	if recs[3].Type != audit.TypeEnd || recs[3].Outcome != "success" {
		t.Errorf("session.end = %+v", recs[3])
	}
	if filepath.Dir(a.AuditLog().Path()) != filepath.Join(os.Getenv("XDG_STATE_HOME"), "lathe", "audit") {
		t.Errorf("audit log at %s", a.AuditLog().Path())
	}
}

type failed struct{ err error }

func (f failed) Err() error { return f.err }

// TestAuditedFailsClosed: once the audit log cannot be written, every
// call is denied, even one the policy allows, and the reason says why.
func TestAuditedFailsClosed(t *testing.T) {
	allow := &policy.Policy{Mode: policy.BypassPermissions}
	call := &policy.Call{Tool: "Read", Kind: policy.Read}
	if d := (audited{allow, failed{}}).Decide(context.Background(), call); d.Verdict != policy.Allow {
		t.Errorf("with a working log: %+v", d)
	}
	d := (audited{allow, failed{errors.New("append to audit log: no space left on device")}}).Decide(context.Background(), call)
	if d.Verdict != policy.Deny || !strings.Contains(d.Reason, "no call runs unrecorded: append to audit log: no space left on device") {
		t.Errorf("with a failed log: %+v", d)
	}
}
