package policy

import "slices"

// WithMode returns a policy that decides as p does but in mode m: the same
// rules, workspace and sandbox, for a run that changes mode part way, as a
// plan-mode run does once its plan is approved (--then). p is not changed.
func (p *Policy) WithMode(m Mode) *Policy {
	return &Policy{Mode: m, Workspace: p.Workspace, Rules: p.Rules, Home: p.Home, Sandboxed: p.Sandboxed, Network: p.Network}
}

// WithAllow returns a policy that decides as p does with rules added to
// its allow rules, to tell whether rules a person would keep allow a
// call. p is not changed.
func (p *Policy) WithAllow(rules ...Rule) *Policy {
	q := p.WithMode(p.Mode)
	q.Rules.Allow = append(slices.Clip(p.Rules.Allow), rules...)
	return q
}
