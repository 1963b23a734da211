package policy

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lathe-dev/lathe/internal/sandbox"
	"github.com/lathe-dev/lathe/internal/secret"
	"mvdan.cc/sh/v3/syntax"
)

// Decide returns the decision for call. Each thing the call does — a
// file it reads or writes, each simple command of its command line, a
// URL — is judged on its own, in this order: deny rules, the built-in
// denials (in plan mode anything that changes something), ask rules, the
// built-in questions (protected paths), allow rules, the secrets'
// defaults (credential stores and dotenv files denied, key files
// asked about), the read-only command set, and last the mode's default.
// The call gets the strictest of those verdicts. Decide does not block; ctx is for
// the hooks that will consult processes, and call is not modified.
func (p *Policy) Decide(ctx context.Context, call *Call) Decision {
	return p.decide(call, nil)
}

// Part is one thing a call does, as [Policy.Decide] judges it on its own:
// a simple command of its command line, a file it reads or writes, a URL.
type Part struct {
	// What names it: "git push", "/w/a.go", "https://go.dev/x".
	What string
	// Start and End, for a command of the line, are the byte offsets in
	// Call.Command of its text (for a command another runs, as bash -c
	// or xargs does, the text of that one); both are 0 for other parts.
	Start, End int
	// Decision is its own, of which the call gets the strictest.
	Decision Decision
}

// Explain decides call as Decide does and also returns the decision of
// each of its parts, in the order they were judged, so that a person
// asked to approve it can be shown which part needs approval and why.
func (p *Policy) Explain(ctx context.Context, call *Call) (Decision, []Part) {
	parts := []Part{}
	d := p.decide(call, &parts)
	return d, parts
}

// decide is Decide; with trace, it judges every part, not stopping at a
// denial, and appends each part's decision to *trace.
func (p *Policy) decide(call *Call, trace *[]Part) Decision {
	if path, ok := nulPath(call); ok {
		return Decision{Verdict: Deny, Reason: fmt.Sprintf("%s names a path with a NUL byte (%q), which no file can have", call.Tool, path)}
	}
	dv := p.derive()
	j := judge{p: p, call: call, bases: dv.bases, paths: dv.paths, secrets: dv.secrets, trace: trace}
	j.toolRules()
	switch call.Kind {
	case Read:
		j.files(familyRead, call.Reads, call.LexicalReads)
	case Edit:
		j.files(familyEdit, call.Writes, call.LexicalWrites)
	case Fetch:
		j.fetches()
	case Exec:
		j.exec()
	}
	if j.parts == 0 {
		j.whole()
	}
	return j.decision()
}

func nulPath(call *Call) (string, bool) {
	for _, list := range [][]string{call.Reads, call.Writes, call.LexicalReads, call.LexicalWrites, {call.Dir}} {
		for _, p := range list {
			if strings.ContainsRune(p, 0) {
				return p, true
			}
		}
	}
	return "", false
}

// Rule families: the kinds of thing a rule's specifier names.
const (
	familyBash  = "Bash"
	familyRead  = "Read"
	familyEdit  = "Edit"
	familyFetch = "WebFetch"
	familyTool  = ""
)

func family(r *Rule) string {
	switch r.Tool {
	case toolBash:
		return familyBash
	case toolRead:
		return familyRead
	case toolEdit, toolWrite:
		return familyEdit
	case toolWebFetch:
		return familyFetch
	}
	return familyTool
}

// part is one thing a call does, judged on its own.
type part struct {
	family string
	// match reports whether a rule of the part's family covers it; allow
	// asks for the strict reading allow rules need.
	match func(r *Rule, allow bool) bool
	// what describes it for reasons: "git push", "/w/a.go".
	what string
	// forms, for a file, are its names: allow rules must cover each of
	// them (not necessarily with the same rule), deny rules any.
	forms []string
	// builtin is the built-in denial or question no allow rule
	// overrides (plan mode's denials, protected paths), if any.
	builtin *Decision
	// secret is the built-in default for a credential file, which an
	// allow rule naming the file overrides.
	secret *Decision
	// noAllow says why neither allow rules nor the read-only set may
	// allow it, or is "".
	noAllow  string
	readOnly bool
	// dflt is the mode's decision; nil for a part only deny and ask
	// rules judge, which is otherwise allowed.
	dflt *Decision
	// escalate marks a question about crossing the sandbox's boundary:
	// approved, it runs unconfined.
	escalate bool
	// span is where a command is in the line (see [command.span]).
	span [2]int
}

// judge accumulates the verdicts of a call's parts.
type judge struct {
	p     *Policy
	call  *Call
	bases pathBases
	d     Decision
	set   bool
	parts int
	// allowedBy is the first rule that allowed a part.
	allowedBy *Rule
	// toolAllowed is set when a rule naming the tool allowed it.
	toolAllowed bool
	// paths are the file rules' specifiers compiled (see [derived]).
	paths map[string]pathRule
	// resolved caches resolveArg's answers for the decision.
	resolved map[string]string
	// secrets are the credential stores under Home.
	secrets []string
	// escalate is set when a question is about crossing the sandbox's
	// boundary, so that an approved command runs unconfined.
	escalate bool
	// trace, when not nil, receives each part's own decision.
	trace *[]Part
}

func (j *judge) done() bool { return j.set && j.d.Verdict == Deny }

func (j *judge) add(d Decision, escalate bool) {
	if !j.set || d.Verdict > j.d.Verdict {
		j.d, j.set = d, true
	}
	if d.Verdict == Ask && escalate {
		j.escalate = true
	}
}

func ruled(v Verdict, r *Rule, reason string) Decision {
	return Decision{Verdict: v, Reason: reason, Rule: r.String(), Source: r.Source}
}

func (j *judge) verb(v Verdict) string {
	if v == Deny {
		return "deny"
	}
	return "ask"
}

// first is the first rule of list that covers pt.
func (j *judge) first(list []Rule, pt *part, allow bool) *Rule {
	for i := range list {
		r := &list[i]
		if family(r) == pt.family && pt.match(r, allow) {
			return r
		}
	}
	return nil
}

// firstAllow is the allow rule that covers pt, or for a file the first
// of those that cover each of its names.
func (j *judge) firstAllow(pt *part) *Rule {
	if pt.forms == nil {
		return j.first(j.p.Rules.Allow, pt, true)
	}
	var found *Rule
	for _, f := range pt.forms {
		one := *pt
		one.forms = nil
		one.match = func(r *Rule, allow bool) bool { return j.pathMatch(r, []string{f}, true) }
		r := j.first(j.p.Rules.Allow, &one, true)
		if r == nil {
			return nil
		}
		if found == nil {
			found = r
		}
	}
	return found
}

// pathMatch reports whether file rule r covers the file named forms:
// any of them for a deny or ask rule, every one for an allow rule.
func (j *judge) pathMatch(r *Rule, forms []string, allow bool) bool {
	if r.Specifier == "" {
		return true
	}
	pr, ok := j.paths[r.Specifier]
	if !ok {
		return false // a specifier that does not compile matches nothing
	}
	for _, f := range forms {
		if pr.match(f) != allow {
			return !allow
		}
	}
	return allow
}

func (j *judge) judge(pt *part) {
	j.parts++
	if j.done() && j.trace == nil {
		return
	}
	d, escalate := j.verdict(pt)
	j.add(d, escalate)
	if j.trace != nil {
		*j.trace = append(*j.trace, Part{What: pt.what, Start: pt.span[0], End: pt.span[1], Decision: d})
	}
}

// verdict is pt's own decision, and whether, as a question, it is about
// crossing the sandbox's boundary.
func (j *judge) verdict(pt *part) (Decision, bool) {
	if r := j.first(j.p.Rules.Deny, pt, false); r != nil {
		return ruled(Deny, r, fmt.Sprintf("%s: %s matches the deny rule %s%s", j.call.Tool, pt.what, r, from(r))), false
	}
	if j.p.Mode == BypassPermissions {
		return Decision{Verdict: Allow}, false
	}
	if pt.builtin != nil && pt.builtin.Verdict == Deny {
		return *pt.builtin, false
	}
	if r := j.first(j.p.Rules.Ask, pt, false); r != nil {
		return ruled(Ask, r, fmt.Sprintf("%s: %s matches the ask rule %s%s", j.call.Tool, pt.what, r, from(r))), false
	}
	if pt.builtin != nil {
		return *pt.builtin, pt.escalate
	}
	if r := j.firstAllow(pt); r != nil && pt.noAllow == "" {
		if j.allowedBy == nil {
			j.allowedBy = r
		}
		return Decision{Verdict: Allow, Rule: r.String(), Source: r.Source}, false
	}
	if pt.secret != nil {
		return *pt.secret, false
	}
	if pt.noAllow == "" && pt.readOnly {
		return Decision{Verdict: Allow}, false
	}
	if pt.dflt == nil {
		return Decision{Verdict: Allow}, false
	}
	return *pt.dflt, pt.escalate
}

func from(r *Rule) string {
	if r.Source == "" {
		return ""
	}
	return " (" + r.Source + ")"
}

// toolRules applies the rules that name the call's tool itself (Glob,
// KillShell, mcp__server, Task(explore)): a deny or ask decides, an
// allow covers the call's whole-call default.
func (j *judge) toolRules() {
	match := func(r *Rule) bool {
		return family(r) == familyTool && governs(r.Tool, j.call) && (r.Specifier == "" || agentMatch(r, j.call))
	}
	for _, list := range []struct {
		rules []Rule
		v     Verdict
	}{{j.p.Rules.Deny, Deny}, {j.p.Rules.Ask, Ask}} {
		for i := range list.rules {
			if r := &list.rules[i]; match(r) && (list.v == Deny || j.p.Mode != BypassPermissions) {
				j.add(ruled(list.v, r, fmt.Sprintf("%s matches the %s rule %s%s", j.call.Tool, j.verb(list.v), r, from(r))), false)
				return
			}
		}
	}
	for i := range j.p.Rules.Allow {
		if r := &j.p.Rules.Allow[i]; match(r) {
			j.toolAllowed, j.allowedBy = true, r
			return
		}
	}
}

// whole judges a call that names nothing the rules look into: a tool
// without paths or a command, by the mode's default for its kind.
func (j *judge) whole() {
	if j.done() || j.set && j.d.Verdict == Ask {
		return
	}
	if j.toolAllowed || j.p.Mode == BypassPermissions {
		j.add(Decision{Verdict: Allow}, false)
		return
	}
	switch j.call.Kind {
	case Read:
		j.add(Decision{Verdict: Allow}, false)
	case Edit:
		if j.p.Mode == Plan {
			j.add(j.planDenies(), false)
			return
		}
		j.add(Decision{Verdict: Ask, Reason: fmt.Sprintf("%s changes files, which needs approval in %s mode", j.call.Tool, j.p.Mode)}, false)
	case Fetch:
		j.add(Decision{Verdict: Ask, Reason: fmt.Sprintf("%s reaches the network, which needs approval", j.call.Tool)}, true)
	case Exec:
		d, esc := j.commandDefault(nil)
		j.add(d, esc)
	}
}

func (j *judge) planDenies() Decision {
	return Decision{Verdict: Deny, Reason: fmt.Sprintf("%s is not allowed in plan mode, which only permits reading", j.call.Tool)}
}

// files judges the paths a Read or Edit call names, each by its resolved
// and lexical names.
func (j *judge) files(fam string, resolved, lexical []string) {
	for i, p := range resolved {
		names := []string{p}
		if i < len(lexical) && len(lexical) == len(resolved) {
			names = append(names, lexical[i])
		}
		j.file(fam, names, false)
	}
	if len(lexical) != len(resolved) {
		for _, p := range lexical {
			j.file(fam, []string{p}, false)
		}
	}
}

// file judges one file a call reads or writes, known by names (the
// lexical and resolved ones; links in each are resolved again here). A
// path a command's argument may name is judged only by deny and ask
// rules and the secrets (argOnly).
func (j *judge) file(fam string, names []string, argOnly bool) {
	forms := make([]string, 0, len(names)+1)
	for _, n := range names {
		if !slices.Contains(forms, n) {
			forms = append(forms, n)
		}
	}
	resolve := Resolve
	if argOnly {
		resolve = func(p string) string {
			if r, ok := j.resolved[p]; ok {
				return r
			}
			if j.resolved == nil {
				j.resolved = make(map[string]string)
			}
			r := resolveArg(p)
			j.resolved[p] = r
			return r
		}
	}
	if r := resolve(forms[0]); !slices.Contains(forms, r) {
		forms = append(forms, r)
	}
	pt := &part{family: fam, what: forms[0], forms: forms}
	pt.match = func(r *Rule, allow bool) bool { return j.pathMatch(r, forms, allow) }
	verb := "reads"
	if fam == familyEdit {
		verb = "writes"
	}
	switch {
	case fam == familyRead:
		pt.secret = j.secret(forms)
	case argOnly:
	case j.p.Mode == Plan:
		d := j.planDenies()
		pt.builtin = &d
	default:
		for _, f := range forms {
			if prot, ok := protected(f, j.p.Home); ok {
				pt.builtin = &Decision{Verdict: Ask, Reason: fmt.Sprintf("%s writes %s, which configures %s, which needs approval in %s mode", j.call.Tool, forms[0], prot, j.p.Mode)}
				break
			}
		}
	}
	if argOnly {
		j.judge(pt)
		return
	}
	switch {
	case fam == familyRead:
	case j.p.Mode == Default || j.p.Mode == Plan:
		pt.dflt = &Decision{Verdict: Ask, Reason: fmt.Sprintf("%s %s %s, which needs approval in %s mode", j.call.Tool, verb, forms[0], j.p.Mode)}
	case !j.inWorkspace(forms):
		pt.dflt = &Decision{Verdict: Ask, Reason: fmt.Sprintf("%s writes %s, outside the workspace, which needs approval", j.call.Tool, forms[0])}
		pt.escalate = true
	}
	j.judge(pt)
}

func (j *judge) inWorkspace(forms []string) bool {
	if j.p.Workspace == "" {
		return false
	}
	ws := []string{j.p.Workspace, j.bases.real[j.p.Workspace]}
	for _, f := range forms {
		if !within(ws[0], f) && !within(ws[1], f) {
			return false
		}
	}
	return true
}

// secret is the built-in decision on reading a file by any of its names:
// credential stores and dotenv files are denied, key files asked about.
func (j *judge) secret(forms []string) *Decision {
	for _, f := range forms {
		// Every credential store is under home.
		if j.p.Home != "" && (within(j.p.Home, f) || within(j.bases.real[j.p.Home], f)) {
			for _, s := range j.secrets {
				if within(s, f) {
					return &Decision{Verdict: Deny, Reason: fmt.Sprintf("%s reads %s, in the credential store %s, which is never readable", j.call.Tool, forms[0], s)}
				}
			}
		}
		if secret.DenyName(filepath.Base(f)) {
			return &Decision{Verdict: Deny, Reason: fmt.Sprintf("%s reads %s, a dotenv file that holds secrets, which is denied by default (allow it with a rule such as Read(%s))", j.call.Tool, forms[0], filepath.Base(f))}
		}
	}
	for _, f := range forms {
		if secret.AskName(filepath.Base(f)) {
			return &Decision{Verdict: Ask, Reason: fmt.Sprintf("%s reads %s, which may hold a private key, which needs approval", j.call.Tool, forms[0])}
		}
	}
	return nil
}

// fetches judges the URLs a Fetch call reaches, by their hosts.
func (j *judge) fetches() {
	for _, raw := range j.call.URLs {
		host := ""
		if u, err := url.Parse(raw); err == nil {
			host = strings.ToLower(u.Hostname())
		}
		pt := &part{family: familyFetch, what: raw}
		pt.match = func(r *Rule, allow bool) bool {
			if r.Specifier == "" {
				return true
			}
			return host != "" && domainMatch(strings.TrimPrefix(r.Specifier, "domain:"), host)
		}
		pt.dflt = &Decision{Verdict: Ask, Reason: fmt.Sprintf("%s fetches %s, which needs approval (allow its host with WebFetch(domain:%s))", j.call.Tool, raw, host)}
		pt.escalate = true
		j.judge(pt)
	}
}

// domainMatch reports whether host is pattern's domain: the same name,
// or for "*.example.com" any name below example.com.
func domainMatch(pattern, host string) bool {
	pattern = strings.ToLower(pattern)
	if sub, ok := strings.CutPrefix(pattern, "*."); ok {
		return strings.HasSuffix(host, "."+sub)
	}
	return host == pattern
}

// exec judges a command line: each simple command, the files its
// redirections write and read, and the files its arguments name.
func (j *judge) exec() {
	c := j.call
	if c.Command == "" && c.Tool != "Bash" && c.Tool != "shell" {
		return
	}
	if c.Script == nil {
		why := "it does not parse as a shell command"
		if c.Command == "" {
			why = "it names no command"
		}
		pt := &part{family: familyBash, what: c.Command, noAllow: why, match: func(r *Rule, allow bool) bool { return r.Specifier == "" }}
		d := Decision{Verdict: Ask, Reason: fmt.Sprintf("%s runs a command that cannot be judged (%s), which needs approval", c.Tool, why)}
		switch j.p.Mode {
		case Plan:
			d = j.planDenies()
			pt.builtin = &d
		case Default, AcceptEdits:
			d.Reason = fmt.Sprintf("%s runs commands, which needs approval in %s mode", c.Tool, j.p.Mode)
		}
		pt.dflt = &d
		j.judge(pt)
		return
	}
	s := analyze(c.Script, c.Dir, j.p.Home)
	hidden := j.hasCommandRules()
	for i := range s.cmds {
		j.command(s, &s.cmds[i], hidden)
	}
	for _, w := range s.writes {
		j.redirect(w)
	}
	for _, r := range s.reads {
		if r != "" {
			j.file(familyRead, []string{r}, true)
		}
	}
}

// hasCommandRules reports whether deny or ask rules judge commands: a
// command that runs code no rule can see may be one of theirs.
func (j *judge) hasCommandRules() bool { return j.hasRules(familyBash) }

// hasRules reports whether deny or ask rules of family fam exist.
func (j *judge) hasRules(fam string) bool {
	for _, list := range [][]Rule{j.p.Rules.Deny, j.p.Rules.Ask} {
		for i := range list {
			if family(&list[i]) == fam {
				return true
			}
		}
	}
	return false
}

// rulesName reports whether a deny or ask rule may match a command
// whose program is args[0], whatever its arguments turn out to be.
func (j *judge) rulesName(args []string) bool {
	if len(args) == 0 {
		return true
	}
	prog := filepath.Base(args[0])
	for _, list := range [][]Rule{j.p.Rules.Deny, j.p.Rules.Ask} {
		for i := range list {
			r := &list[i]
			if family(r) != familyBash {
				continue
			}
			first, _, _ := strings.Cut(strings.TrimSuffix(r.Specifier, ":*"), " ")
			if r.Specifier == "" || strings.Contains(first, "*") || filepath.Base(first) == prog {
				return true
			}
		}
	}
	return false
}

func (j *judge) command(s *script, c *command, hidden bool) {
	text := strings.Join(c.args, " ")
	pt := &part{family: familyBash, what: text, noAllow: c.opaque, span: c.span}
	if pt.noAllow == "" {
		pt.noAllow = s.opaque
	}
	pt.readOnly = pt.noAllow == "" && readOnlyCommand(c.args)
	pt.match = func(r *Rule, allow bool) bool {
		if r.Specifier == "" {
			return true
		}
		if allow {
			return c.allow != "" && matchCommand(r.Specifier, c.allow, c.wild)
		}
		for _, f := range c.forms {
			if matchCommand(r.Specifier, f, true) {
				return true
			}
		}
		return false
	}
	switch {
	case j.p.Mode == Plan && !pt.readOnly:
		d := j.planDenies()
		pt.builtin = &d
	case c.unseen && hidden:
		pt.builtin = &Decision{Verdict: Ask, Reason: fmt.Sprintf("%s runs %s, and %s, so the deny and ask rules cannot see all it runs", j.call.Tool, text, c.opaque)}
	case c.dynamic && hidden && j.rulesName(c.args):
		// xargs with nothing after it runs a program named only at run
		// time: there is no args[0] to name.
		named := "a command it may run"
		if len(c.args) > 0 {
			named = c.args[0]
		}
		pt.builtin = &Decision{Verdict: Ask, Reason: fmt.Sprintf("%s runs %s, some of whose arguments are known only at run time, and a deny or ask rule names %s", j.call.Tool, text, named)}
	}
	d, esc := j.commandDefault(c)
	pt.dflt, pt.escalate = &d, esc
	j.judge(pt)
	// The words of a command that changes things may name files it
	// writes, which Edit deny and ask rules judge.
	editRules := j.hasRules(familyEdit)
	for _, w := range c.paths {
		if strings.HasPrefix(w, "-") {
			continue // an option; its value is a word of its own
		}
		for _, p := range pathsFrom(s.dirs, w) {
			j.file(familyRead, []string{p}, true)
			if !pt.readOnly && editRules {
				j.file(familyEdit, []string{p}, true)
			}
		}
		if secret.DenyName(filepath.Base(w)) || secret.AskName(filepath.Base(w)) {
			// Whatever directory it is taken from.
			j.file(familyRead, []string{filepath.Join(j.p.Workspace, filepath.Base(w))}, true)
		}
	}
}

// pathsFrom is where word w may name a file: itself when absolute, else
// from each directory the line may be in.
func pathsFrom(dirs []string, w string) []string {
	if w == "" || strings.ContainsRune(w, 0) {
		return nil
	}
	if filepath.IsAbs(w) {
		return []string{filepath.Clean(w)}
	}
	out := make([]string, 0, len(dirs))
	for _, d := range dirs {
		if d != "" {
			out = append(out, filepath.Join(d, w))
		}
	}
	return out
}

// commandDefault is the mode's decision on a command c (nil: a call that
// runs commands it does not name).
func (j *judge) commandDefault(c *command) (Decision, bool) {
	tool := j.call.Tool
	switch j.p.Mode {
	case BypassPermissions:
		return Decision{Verdict: Allow}, false
	case Plan:
		return j.planDenies(), false
	case Auto:
		if !j.p.Sandboxed {
			return Decision{Verdict: Ask, Reason: fmt.Sprintf("%s runs commands, and the sandbox is unavailable, so they would run unconfined, which needs approval", tool)}, true
		}
		if c != nil && networkCommand(c.args) && !j.p.reachable(c.args) {
			return Decision{Verdict: Ask, Reason: fmt.Sprintf("%s runs %s, which reaches the network, outside the sandbox, which needs approval", tool, strings.Join(c.args, " "))}, true
		}
		return Decision{Verdict: Allow}, false
	}
	return Decision{Verdict: Ask, Reason: fmt.Sprintf("%s runs commands, which needs approval in %s mode", tool, j.p.Mode)}, false
}

// redirect judges a file a command line writes through a redirection,
// as an edit of it; "" is a target known only at run time.
func (j *judge) redirect(w string) {
	if w == "" {
		pt := &part{family: familyEdit, what: "a file named at run time", match: func(r *Rule, allow bool) bool { return !allow && r.Specifier == "" }, noAllow: "its name is known only at run time"}
		pt.dflt = &Decision{Verdict: Ask, Reason: fmt.Sprintf("%s redirects output to a file named only at run time, which needs approval", j.call.Tool)}
		pt.escalate = true
		if j.p.Mode == BypassPermissions {
			pt.dflt = nil
		}
		j.judge(pt)
		return
	}
	switch w {
	case "/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty":
		return
	}
	if strings.HasPrefix(w, "/dev/fd/") {
		return
	}
	j.file(familyEdit, []string{w}, false)
}

// decision is the call's verdict, with the profile its processes run
// under.
func (j *judge) decision() Decision {
	d := j.d
	if d.Verdict == Allow {
		d.Reason = ""
		if j.allowedBy != nil {
			d.Rule, d.Source = j.allowedBy.String(), j.allowedBy.Source
		}
	}
	if j.call.Kind == Exec && j.p.Mode != BypassPermissions && j.p.Sandboxed && !(d.Verdict == Ask && j.escalate) {
		level := sandbox.WorkspaceWrite
		if j.p.Mode == Plan {
			level = sandbox.ReadOnly
		}
		d.Profile = sandbox.Profile{Confine: level, Workspace: j.p.Workspace, AllowDomains: j.p.domains()}
	}
	return d
}

// domains are the hosts a confined command may reach through the
// network proxy, when there is one: those WebFetch allow rules name, but for a pattern
// under which a deny or ask rule names a host, since the proxy's list
// has no exceptions.
func (p *Policy) domains() []string {
	if !p.Network {
		return nil
	}
	var out []string
	for _, a := range p.Rules.Allow {
		pat, ok := strings.CutPrefix(a.Specifier, "domain:")
		if a.Tool != toolWebFetch || !ok {
			continue
		}
		pat = strings.ToLower(pat)
		if !p.narrowed(pat) && !slices.Contains(out, pat) {
			out = append(out, pat)
		}
	}
	return out
}

// narrowed reports whether a deny or ask rule names a host pattern pat
// covers, or one that covers pat.
func (p *Policy) narrowed(pat string) bool {
	for _, list := range [][]Rule{p.Rules.Deny, p.Rules.Ask} {
		for _, r := range list {
			if family(&r) != familyFetch {
				continue
			}
			d, ok := strings.CutPrefix(r.Specifier, "domain:")
			if !ok {
				return true // every domain
			}
			d = strings.ToLower(d)
			if d == pat || domainMatch(pat, strings.TrimPrefix(d, "*.")) || domainMatch(d, strings.TrimPrefix(pat, "*.")) {
				return true
			}
		}
	}
	return false
}

// reachable reports whether every URL a network command names is on a
// host confined commands may reach; a command that names none (git push,
// npm install) reaches hosts no rule can tell.
func (p *Policy) reachable(args []string) bool {
	domains := p.domains()
	if len(domains) == 0 {
		return false
	}
	switch args[0] {
	case "curl", "wget", "http", "https":
	default:
		return false
	}
	n := 0
	for _, w := range args[1:] {
		u, err := url.Parse(w)
		if err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" {
			continue
		}
		host := strings.ToLower(u.Hostname())
		if !slices.ContainsFunc(domains, func(d string) bool { return domainMatch(d, host) }) {
			return false
		}
		n++
	}
	return n > 0
}

// matchCommand reports whether a Bash rule's specifier covers the
// command text cmd: "prefix:*" is prefix alone or followed by a space
// and anything; "*" matches any text (never, unless wild, for a command
// with options that run other code); a single trailing " *" also matches
// the bare command; "\*" is a literal star.
func matchCommand(spec, cmd string, wild bool) bool {
	spec = normalSpec(spec)
	if prefix, ok := strings.CutSuffix(spec, ":*"); ok {
		if !wild {
			return false
		}
		return starMatch(prefix, cmd) || starMatch(prefix+" *", cmd)
	}
	hasStar := strings.Contains(strings.ReplaceAll(spec, `\*`, ""), "*")
	if hasStar && !wild {
		return false
	}
	if bare, ok := strings.CutSuffix(spec, " *"); ok && starMatch(bare, cmd) {
		return true
	}
	return starMatch(spec, cmd)
}

// normalSpec is a Bash specifier as the command texts are spelled: words
// separated by one space, and quotes, as in Bash(git commit -m "fix"),
// removed as the shell removes them; stars are kept as written.
func normalSpec(spec string) string {
	if !strings.ContainsAny(spec, "'\"") {
		if strings.Contains(spec, "  ") || strings.ContainsAny(spec, "\t\n") {
			return strings.Join(strings.Fields(spec), " ")
		}
		return spec
	}
	f := ParseCommand(spec)
	if f == nil || len(f.Stmts) != 1 {
		return spec
	}
	call, ok := f.Stmts[0].Cmd.(*syntax.CallExpr)
	if !ok || len(call.Assigns) > 0 || len(f.Stmts[0].Redirs) > 0 {
		return spec
	}
	words := make([]string, len(call.Args))
	for i, w := range call.Args {
		var sb strings.Builder
		for _, part := range w.Parts {
			switch p := part.(type) {
			case *syntax.Lit:
				sb.WriteString(p.Value)
			case *syntax.SglQuoted:
				if p.Dollar {
					return spec
				}
				sb.WriteString(p.Value)
			case *syntax.DblQuoted:
				for _, q := range p.Parts {
					lit, ok := q.(*syntax.Lit)
					if !ok {
						return spec
					}
					sb.WriteString(unescapeDouble(lit.Value))
				}
			default:
				return spec
			}
		}
		words[i] = sb.String()
	}
	return strings.Join(words, " ")
}

// starMatch matches s against pattern, where "*" is any text and "\*" a
// star.
func starMatch(pattern, s string) bool {
	// Iterative wildcard matching with backtracking to the last star.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p+1 < len(pattern) && pattern[p] == '\\' && pattern[p+1] == '*' && s[i] == '*':
			p += 2
			i++
		case p < len(pattern) && pattern[p] != '*' && !(pattern[p] == '\\' && p+1 < len(pattern) && pattern[p+1] == '*') && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
