package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/config"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/sandbox"
	"github.com/lathe-dev/lathe/internal/tool"
)

// Permissions is how the calls of a session are decided: the policy built
// from the configuration and the options, and what the user must be told
// about it.
type Permissions struct {
	// Policy is what decides each call.
	Policy *policy.Policy
	// ModeNotice, when not empty, says why the mode is not what the user
	// may expect: the sandbox cannot be set up here, so the default is
	// acceptEdits rather than auto, or auto cannot run commands unasked.
	// A front end shows it every time, and session.start carries it.
	ModeNotice string
	// Config is the configuration the policy was built from: its rules
	// with their sources, the managed policy, the workspace's trust.
	Config *config.Config
	// guard wraps the policy in the package guard.
	guard func(agent.Decider) agent.Decider
	// sandbox says whether commands run confined, and if not, why.
	sandbox string
}

// RuleSources lists the files and flags the permission rules came from,
// each once, for the audit log.
func (p *Permissions) RuleSources() []string {
	var out []string
	r := p.Policy.Rules
	for _, rule := range slices.Concat(r.Deny, r.Ask, r.Allow) {
		if !slices.Contains(out, rule.Source) {
			out = append(out, rule.Source)
		}
	}
	return out
}

// sandboxWorks reports whether the sandbox can confine commands here and,
// if not, what is missing. It is a variable so that tests can choose.
var sandboxWorks = func(ctx context.Context) (ok bool, missing string) {
	// The same choice as the session's sandbox (NewEnv) makes, which
	// the sandbox package probes once per process.
	if _, err := sandbox.New(sandbox.Profile{}).Backend(); err != nil {
		return false, err.Error()
	}
	return true, ""
}

// LoadPermissions builds the permissions a session in dir opened with
// opts runs under: the configuration's layers with the options' settings
// files, rules and workspace trust, and the mode the options ask for, the
// configuration sets or, by default, auto where the sandbox works and
// acceptEdits elsewhere; never wider than the managed policy allows.
func LoadPermissions(ctx context.Context, dir string, opts *Options) (*Permissions, error) {
	var copts []config.Option
	if len(opts.Settings) > 0 {
		copts = append(copts, config.WithSettings(opts.Settings...))
	}
	if len(opts.Allow)+len(opts.Deny) > 0 {
		copts = append(copts, config.WithRules(opts.Allow, opts.Deny))
	}
	if opts.TrustWorkspace {
		copts = append(copts, config.WithTrustedWorkspace())
	}
	cfg, err := config.Load(dir, copts...)
	if err != nil {
		return nil, UsageError{err.Error()}
	}
	guard, err := packageGuard(cfg.PackageGuard)
	if err != nil {
		return nil, err
	}
	sandboxed, missing := sandboxWorks(ctx)
	mode, notice := cfg.PermissionMode, ""
	switch {
	case opts.PermissionMode != "":
		if mode, err = policy.ParseMode(opts.PermissionMode); err != nil {
			return nil, UsageError{err.Error()}
		}
		if err := cfg.Managed.Allows(mode, "--permission-mode "+opts.PermissionMode); err != nil {
			return nil, UsageError{err.Error()}
		}
	case mode != "":
	case sandboxed:
		mode = cfg.Managed.Clamp(policy.Auto)
	default:
		mode = cfg.Managed.Clamp(policy.AcceptEdits)
		notice = fmt.Sprintf("the sandbox is unavailable (%s), so the permission mode is %s rather than auto: commands need approval, which a headless run denies; choose a mode with --permission-mode", missing, mode)
	}
	if mode == policy.Auto && !sandboxed {
		notice = fmt.Sprintf("the sandbox is unavailable (%s), so in auto mode commands need approval, which a headless run denies", missing)
	}
	return &Permissions{
		Policy: &policy.Policy{
			Mode:      mode,
			Workspace: dir,
			Rules:     cfg.Rules,
			Home:      os.Getenv("HOME"),
			Sandboxed: sandboxed,
			// NewEnv gives every sandbox the network proxies.
			Network: sandboxed,
		},
		ModeNotice: notice,
		Config:     cfg,
		guard:      guard,
		sandbox:    sandboxState(sandboxed, missing),
	}, nil
}

func sandboxState(ok bool, missing string) string {
	if ok {
		return "confined"
	}
	return "unavailable: " + missing
}

// decider is what the agent asks about each call: the policy, inside the
// package guard. `lathe permissions check` asks the same one, so that
// what it says is what a call gets.
func (p *Permissions) decider() agent.Decider { return p.guard(p.Policy) }

// Notices are what the user must be told before a session starts, one
// line each: the mode's notice, the project configuration an untrusted
// workspace ignored and how to trust it, and the configuration's
// warnings.
func (p *Permissions) Notices() []string {
	var out []string
	if p.ModeNotice != "" {
		out = append(out, p.ModeNotice)
	}
	if ign := p.Config.Trust.Ignored; len(ign) > 0 {
		var what []string
		for _, w := range ign {
			what = append(what, fmt.Sprintf("%s (%s)", w.What, displayPath(w.File)))
		}
		out = append(out, fmt.Sprintf("this workspace's configuration is not trusted, so what it widens was ignored: %s; "+
			"run `lathe trust` to trust it as it is, or pass --trust-workspace for one run", strings.Join(what, ", ")))
	}
	for _, w := range p.Config.Warnings {
		out = append(out, "warning: "+w)
	}
	return out
}

// displayPath shows a path under the home directory as ~/...
func displayPath(path string) string {
	home := os.Getenv("HOME")
	if rest, ok := strings.CutPrefix(path, home+string(os.PathSeparator)); ok && home != "" && home != "/" {
		return "~" + string(os.PathSeparator) + rest
	}
	return path
}

// checkInputs are the tools Check can decide a call of, each with the
// input of a call that does to its argument what the tool does: runs the
// command, reads or writes the file, fetches the URL.
var checkInputs = map[string]func(arg string) any{
	"Bash":      func(arg string) any { return map[string]any{"command": arg} },
	"shell":     func(arg string) any { return map[string]any{"command": []string{"bash", "-lc", arg}} },
	"Read":      func(arg string) any { return map[string]any{"file_path": arg} },
	"read_file": func(arg string) any { return map[string]any{"file_path": arg} },
	"Write":     func(arg string) any { return map[string]any{"file_path": arg, "content": ""} },
	"Edit":      func(arg string) any { return map[string]any{"file_path": arg, "old_string": "", "new_string": "\n"} },
	"apply_patch": func(arg string) any {
		return map[string]any{"input": "*** Begin Patch\n*** Add File: " + arg + "\n+\n*** End Patch\n"}
	},
	"WebFetch":  func(arg string) any { return map[string]any{"url": arg, "prompt": "lathe permissions check"} },
	"web_fetch": func(arg string) any { return map[string]any{"url": arg} },
}

// CheckTools lists the tools Check can decide a call of.
func CheckTools() []string {
	var names []string
	for _, t := range checkTools() {
		names = append(names, t.Def().Name)
	}
	slices.Sort(names)
	return names
}

func checkTools() []tool.Tool {
	var out []tool.Tool
	for _, t := range slices.Concat(tool.Set(tool.DialectClaude, false), tool.Set(tool.DialectCodex, false)) {
		name := t.Def().Name
		if _, ok := checkInputs[name]; ok && !slices.ContainsFunc(out, func(o tool.Tool) bool { return o.Def().Name == name }) {
			out = append(out, t)
		}
	}
	return out
}

// Check decides a call of the named tool as a session in dir would, for
// `lathe permissions check`: the same permissions, and the call prepared
// by the tool as the agent prepares a model's call, in the workspace.
// arg is the command of a shell tool, the path of a file tool and the
// URL of a fetch. Nothing runs.
func (p *Permissions) Check(ctx context.Context, toolName, arg string) (policy.Call, policy.Decision, error) {
	i := slices.IndexFunc(checkTools(), func(t tool.Tool) bool { return t.Def().Name == toolName })
	if i < 0 {
		return policy.Call{}, policy.Decision{}, usagef("cannot check tool %q (tools: %s)", toolName, strings.Join(CheckTools(), ", "))
	}
	t := checkTools()[i]
	input, err := json.Marshal(checkInputs[toolName](arg))
	if err != nil {
		return policy.Call{}, policy.Decision{}, err
	}
	env, sb := NewEnv(p.Policy.Workspace, 0, p.Config.Providers, nil)
	defer sb.Close()
	defer env.Shell.Close()
	a := agent.New(agent.Config{Tools: []tool.Tool{t}, Env: env, Policy: p.decider()})
	call, d, err := a.Check(ctx, toolName, input)
	if err != nil {
		return call, d, usagef("%s %q: %v", toolName, arg, err)
	}
	return call, d, nil
}

// alwaysApprover keeps an approver's "always" answers as rules. It tells
// the approver what "always" would keep (agent.Approval.Keep): the
// narrowest rules that cover the call and the file of each scope; and
// how the policy judged each part of the call (agent.Approval.Parts). It
// keeps the rules the answer carries, edited or not, in the file of its
// scope: the workspace's .lathe/config.local.toml, or the user's
// config.toml; and the session is told each rule and the file.
type alwaysApprover struct {
	next  agent.Approver
	perms *Permissions
	emit  func(event.Event)
	warn  func(error)
}

func (a alwaysApprover) Approve(ctx context.Context, req *agent.Approval) (agent.Answer, error) {
	offer := *req
	offer.Keep = a.keep(req.Call)
	if req.Call != nil {
		_, offer.Parts = a.perms.Policy.Explain(ctx, req.Call)
	}
	ans, err := a.next.Approve(ctx, &offer)
	if err != nil || ans.Grant != agent.Always {
		return ans, err
	}
	// The call stays approved for the session, as the person asked,
	// whether or not it can be kept for later ones.
	rules := ans.Rules
	if rules == nil {
		rules = offer.Keep.Rules
	}
	if len(rules) == 0 {
		a.warned(fmt.Errorf("no rule can allow %s for later sessions (it runs code the rules cannot see); approved for this session only", req.Name))
		return ans, nil
	}
	if err := a.perms.allowsWith(ctx, req.Call, rules); err != nil {
		a.warned(fmt.Errorf("keep %s for later sessions: %w; approved for this session only", strings.Join(rules, ", "), err))
		return ans, nil
	}
	var path string
	if ans.Scope == agent.UserScope {
		path, err = config.AllowAlwaysUser(rules...)
	} else {
		path, err = a.perms.Config.AllowAlways(rules...)
	}
	if err != nil {
		a.warned(fmt.Errorf("keep %s for later sessions: %w; approved for this session only", strings.Join(rules, ", "), err))
		return ans, nil
	}
	for _, r := range rules {
		a.emit(event.Event{Type: event.RuleAdded, CallID: req.CallID, Name: req.Name, Rule: r, RuleSource: path})
	}
	return ans, nil
}

// allowsWith returns nil if the policy, with rules added to its allow
// list, would allow call, and otherwise the error that says why not: a
// rule that does not parse, or what still asks about or denies the call
// (a protected path asks whatever the rules say).
func (p *Permissions) allowsWith(ctx context.Context, call *policy.Call, rules []string) error {
	return allowsWith(ctx, p.Policy, call, rules)
}

func allowsWith(ctx context.Context, pol *policy.Policy, call *policy.Call, rules []string) error {
	if call == nil {
		return errors.New("the call is not known")
	}
	if len(rules) == 0 {
		return errors.New("no rule given")
	}
	var add []policy.Rule
	for _, text := range rules {
		rule, err := policy.ParseRule(text)
		if err != nil {
			return err
		}
		add = append(add, rule)
	}
	q := pol.WithAllow(add...)
	if d := q.Decide(ctx, call); d.Verdict != policy.Allow {
		return fmt.Errorf("%s would not allow this call: %s", strings.Join(rules, ", "), d.Reason)
	}
	return nil
}

// keep is what an "always" answer to the approval of call would keep.
func (a alwaysApprover) keep(call *policy.Call) *agent.Keep {
	k := &agent.Keep{Files: map[agent.Scope]string{agent.ProjectScope: a.perms.Config.LocalRulesFile()}}
	if call == nil {
		return k
	}
	k.Check = func(rules []string) error { return a.perms.allowsWith(context.Background(), call, rules) }
	k.Rules = a.perms.Policy.Narrowest(call)
	if len(k.Rules) == 0 {
		k.Reason = "no rule can allow this call: it runs code the rules cannot see"
	} else if err := k.Check(k.Rules); err != nil {
		k.Rules, k.Reason = nil, "a rule would not help: "+err.Error()
	}
	// A command the read-only set or a rule already allows needs no rule
	// of its own, in any mode: default mode allows nothing more.
	strict := a.perms.Policy.WithMode(policy.Default)
	for i := 0; i < len(k.Rules) && len(k.Rules) > 1; {
		rest := slices.Delete(slices.Clone(k.Rules), i, i+1)
		if allowsWith(context.Background(), strict, call, rest) == nil {
			k.Rules = rest
			continue
		}
		i++
	}
	if f := config.UserRulesFile(); f != "" {
		k.Files[agent.UserScope] = f
	}
	return k
}

func (a alwaysApprover) warned(err error) {
	if a.warn != nil {
		a.warn(err)
	}
}
