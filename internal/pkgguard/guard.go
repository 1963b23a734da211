package pkgguard

import (
	"context"
	"strings"

	"github.com/lathe-dev/lathe/internal/policy"
)

// Decider is a permission policy, as the agent consults it.
type Decider interface {
	Decide(ctx context.Context, call *policy.Call) policy.Decision
}

// Source is the Decision.Source of the guard's decisions by a setting at
// its default; one set in a file names the file (Config.Sources).
const Source = "package guard"

// Guard is a Decider that checks the packages a command installs on top
// of the decision of the policy it wraps. It only ever narrows that
// decision: a call the policy denies is not looked at, and one it allows
// or asks about may become an ask or a denial, keeping the policy's
// sandbox profile.
//
// Concurrency: Decide may be called concurrently, as the Checker's Check
// may. It blocks for the look-ups, each bounded by the Config's timeout,
// and returns when ctx is done with the packages not yet checked asked
// about.
type Guard struct {
	next  Decider
	check *Checker
}

// Wrap returns a Guard around next that checks installs with c.
func Wrap(next Decider, c *Checker) *Guard { return &Guard{next: next, check: c} }

// Decide returns next's decision on call, narrowed by the findings about
// the packages its command installs.
func (g *Guard) Decide(ctx context.Context, call *policy.Call) policy.Decision {
	d := g.next.Decide(ctx, call)
	if d.Verdict == policy.Deny || call.Kind != policy.Exec || call.Script == nil {
		return d
	}
	installs := Installs(call.Script)
	if len(installs) == 0 {
		return d
	}
	var pkgs []Package
	var findings []Finding
	for _, in := range installs {
		pkgs = append(pkgs, in.Packages...)
		if in.Unchecked != "" {
			findings = append(findings, Finding{Verdict: policy.Ask, Rule: "package_guard.enabled", Reason: in.Unchecked})
		}
	}
	findings = append(g.check.Check(ctx, pkgs), findings...)
	if len(findings) == 0 {
		return d
	}
	// The strictest finding decides and is named; every reason is
	// given, so that one answer fixes them all.
	out, worst := d, findings[0]
	var reasons []string
	for _, f := range findings {
		if f.Verdict > worst.Verdict {
			worst = f
		}
		reasons = append(reasons, f.Reason)
	}
	out.Verdict = max(d.Verdict, worst.Verdict)
	out.Reason = strings.Join(reasons, "; ")
	out.Rule, out.Source = worst.Rule, g.check.source(worst.Rule)
	if d.Verdict == policy.Ask && out.Verdict == policy.Ask {
		out.Reason += "; and " + d.Reason
	}
	return out
}
