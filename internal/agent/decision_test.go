package agent

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/policy"
)

// ruleDecider decides every call by one rule.
type ruleDecider policy.Decision

func (d ruleDecider) Decide(context.Context, *policy.Call) policy.Decision { return policy.Decision(d) }

// TestDecisionEvents: each decided call gets one decision event, after
// any approval and before the call runs, saying who decided.
func TestDecisionEvents(t *testing.T) {
	const bash = `{"name": "Bash", "input": {"command": "touch ran"}}`
	const write = `{"name": "Write", "input": {"file_path": "notes.txt", "content": "x"}}`
	const read = `{"name": "Read", "input": {"file_path": "notes.txt"}}`
	answer := func(ans Answer, err error) Approver {
		return ApproverFunc(func(context.Context, *Approval) (Answer, error) { return ans, err })
	}
	for _, tc := range []struct {
		name     string
		calls    string
		mode     policy.Mode
		decider  Decider
		approver Approver
		// want is each decision as verdict/decided_by/approval/kind,
		// then rule, source and message where set.
		want string
	}{
		{"mode allows an edit", write, policy.AcceptEdits, nil, nil, "allow/mode//edit"},
		{"mode allows a read", write + "," + read, policy.AcceptEdits, nil, nil, "allow/mode//edit allow/mode//read"},
		{"mode denies", write, policy.Plan, nil, nil, "deny/mode//edit"},
		{"nobody to ask", bash, policy.AcceptEdits, nil, nil, "deny/nobody//exec " + nobodyCanApprove},
		{"asking fails", bash, policy.AcceptEdits, nil, answer(Answer{}, fmt.Errorf("terminal gone")), "deny/nobody//exec terminal gone"},
		{"person allows once", bash, policy.AcceptEdits, nil, answer(Answer{Grant: Once}, nil), "allow/person/once/exec"},
		{"person denies", bash, policy.AcceptEdits, nil, answer(Answer{Message: "use make"}, nil), "deny/person/deny/exec use make"},
		{"person allows for the session", bash + "," + bash, policy.AcceptEdits, nil, answer(Answer{Grant: Session}, nil), "allow/person/session/exec allow/session//exec granted by #0"},
		{"person allows always", bash + "," + bash + "," + bash, policy.AcceptEdits, nil, answer(Answer{Grant: Always}, nil), "allow/person/always/exec allow/session//exec granted by #0 allow/session//exec granted by #0"},
		{"rule allows", bash, "", ruleDecider{Verdict: policy.Allow, Rule: "Bash(touch ran)", Source: "/p/.lathe/config.toml"}, nil, "allow/rule//exec Bash(touch ran) /p/.lathe/config.toml"},
		{"rule asks, person allows", bash, "", ruleDecider{Verdict: policy.Ask, Rule: "Bash", Source: "/p/.lathe/config.toml"}, answer(Answer{Grant: Always}, nil), "allow/person/always/exec Bash /p/.lathe/config.toml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, `{"steps": [{"reply": {"tool_calls": [`+tc.calls+`]}}, {"reply": {"text": "done"}}]}`)
			h.cfg.Policy = tc.decider
			if tc.decider == nil {
				h.cfg.Policy = &policy.Policy{Mode: tc.mode, Workspace: h.dir}
			}
			h.cfg.Approver = tc.approver
			h.run(t.Context(), "go")
			var got []string
			started := map[string]bool{}
			index := map[string]int{} // call id → the order of its tool.start
			for _, e := range h.events {
				switch e.Type {
				case event.ToolStart:
					started[e.CallID] = true
					index[e.CallID] = len(index)
				case event.ToolEnd:
					started[e.CallID] = false
				case event.Decision:
					if !started[e.CallID] {
						t.Errorf("decision of %s outside its tool.start and tool.end", e.CallID)
					}
					d := strings.Join([]string{string(e.Verdict), string(e.DecidedBy), string(e.Approval), e.Kind}, "/")
					for _, s := range []string{e.Rule, e.RuleSource, e.Message} {
						if s != "" {
							d += " " + s
						}
					}
					if e.GrantedBy != "" {
						i, ok := index[e.GrantedBy]
						if !ok {
							t.Errorf("granted by %q, no call of this turn", e.GrantedBy)
						}
						d += fmt.Sprintf(" granted by #%d", i)
					}
					got = append(got, d)
					if e.Kind == "edit" && (len(e.Writes) != 1 || e.Writes[0] != filepath.Join(h.dir, "notes.txt")) {
						t.Errorf("edit writes %q", e.Writes)
					}
				}
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("decisions:\n got %s\nwant %s", g, tc.want)
			}
		})
	}
}
