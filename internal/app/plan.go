package app

import (
	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/tool"
)

// thenMode checks --then against the session's permissions: it names the
// mode a plan-mode session carries its approved plan out in, which must
// be a mode other than plan that the managed policy allows. Empty is no
// --then.
func thenMode(perms *Permissions, then string) (policy.Mode, error) {
	if then == "" {
		return "", nil
	}
	if perms.Policy.Mode != policy.Plan {
		return "", usagef("--then %s carries out the plan of a plan-mode session: use it with --permission-mode plan (the mode is %s)", then, perms.Policy.Mode)
	}
	m, err := policy.ParseMode(then)
	if err != nil {
		return "", usagef("--then: %v", err)
	}
	if m == policy.Plan {
		return "", usagef("--then plan: name the mode to carry out the plan in, such as acceptEdits")
	}
	if err := perms.Config.Managed.Allows(m, "--then "+then); err != nil {
		return "", UsageError{err.Error()}
	}
	return m, nil
}

// phases returns the tools a session starts with and, for a plan-mode
// session with --then, the phase its approved plan is carried out in:
// that mode's tools and policy, with the package guard and the audit log
// as the first phase's. In plan mode the model gets the tools that change
// nothing and the one that submits its plan.
func (a *App) phases(then policy.Mode, dialect tool.Dialect, freeform bool) ([]tool.Tool, *agent.Phase) {
	if a.perms.Policy.Mode != policy.Plan {
		return tool.Set(dialect, freeform), nil
	}
	tools := tool.PlanSet(dialect, string(then))
	if then == "" {
		return tools, nil
	}
	return tools, &agent.Phase{
		Mode:   string(then),
		Tools:  tool.Set(dialect, freeform),
		Policy: audited{a.perms.guard(a.perms.Policy.WithMode(then)), a.audit},
	}
}
