package policy

// WithMode returns a policy that decides as p does but in mode m: the same
// rules, workspace and sandbox, for a run that changes mode part way, as a
// plan-mode run does once its plan is approved (--then). p is not changed.
func (p *Policy) WithMode(m Mode) *Policy {
	return &Policy{Mode: m, Workspace: p.Workspace, Rules: p.Rules, Home: p.Home, Sandboxed: p.Sandboxed, Network: p.Network}
}
