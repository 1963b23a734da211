// Package policy decides whether a tool call may run. Every call the model
// makes is prepared into a [Call] and passes through [Policy.Decide] before
// its tool runs; this is the one decision point that permission rules,
// hooks and approvals plug into.
package policy

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/lathe-dev/lathe/internal/sandbox"
	"github.com/lathe-dev/lathe/internal/secret"
	"mvdan.cc/sh/v3/syntax"
)

// Mode is the permission mode, named as in Claude Code.
type Mode string

const (
	// Plan allows only what changes nothing: reading tools and commands
	// of the read-only set.
	Plan Mode = "plan"
	// Default asks before edits and before commands outside the
	// read-only set.
	Default Mode = "default"
	// AcceptEdits allows reads and file edits inside the workspace;
	// running commands and editing outside the workspace need approval.
	AcceptEdits Mode = "acceptEdits"
	// Auto allows whatever stays inside the sandbox: edits inside the
	// workspace, and commands, which run confined to writing the
	// workspace with no network. Crossing that boundary asks.
	Auto Mode = "auto"
	// BypassPermissions allows everything but what a deny rule denies,
	// unconfined.
	BypassPermissions Mode = "bypassPermissions"
)

// ParseMode checks a mode name from a flag or config.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Plan, Default, AcceptEdits, Auto, BypassPermissions:
		return m, nil
	}
	return "", fmt.Errorf("unknown permission mode %q (want plan, default, acceptEdits, auto or bypassPermissions)", s)
}

// Wider reports whether m allows something that o does not. The modes
// nest: plan < default < acceptEdits < auto < bypassPermissions.
func (m Mode) Wider(o Mode) bool { return m.rank() > o.rank() }

func (m Mode) rank() int {
	switch m {
	case Plan:
		return 0
	case Default:
		return 1
	case AcceptEdits:
		return 2
	case Auto:
		return 3
	}
	return 4
}

// Kind is what a tool call does, as far as permissions are concerned.
type Kind int

const (
	// Read changes nothing.
	Read Kind = iota
	// Edit writes files, at the paths in Call.Writes.
	Edit
	// Exec runs commands, which may do anything.
	Exec
	// Fetch reads from the network, the addresses in Call.URLs.
	Fetch
)

// Call is a tool call as the policy sees it, prepared from the call's
// arguments before it runs. The tool then runs exactly the call decided.
type Call struct {
	// Tool names the tool that runs the call, which may not be the one the
	// model named: a Codex shell call that applies a patch is an
	// apply_patch call.
	Tool string
	Kind Kind
	// Command is the shell command line an Exec call runs, and Script the
	// command parsed; Script is nil when the command does not parse, which
	// a rule must treat as a command it cannot see into.
	Command string
	Script  *syntax.File
	// Dir is the directory the call works in.
	Dir string
	// Reads and Writes are the absolute paths the call reads and writes,
	// each with its symbolic links resolved (see [Resolve]) and, when
	// inside the workspace, named from the workspace root as given.
	Reads  []string
	Writes []string
	// LexicalReads and LexicalWrites are the same paths, in the same
	// order, as the call names them: absolute and clean, links not
	// resolved. A rule denies a path if it matches either name, and
	// allows it only if it matches both.
	LexicalReads  []string
	LexicalWrites []string
	// URLs are the addresses the call fetches.
	URLs []string
	// Agent is the agent type a call that starts a subagent (Task,
	// spawn_agent) starts, for rules such as Task(explore).
	Agent string
}

// ParseCommand parses a shell command line for [Call.Script], or returns
// nil when it does not parse as a shell script.
func ParseCommand(cmd string) *syntax.File {
	p := parsers.Get().(*syntax.Parser)
	defer parsers.Put(p)
	f, err := p.Parse(strings.NewReader(cmd), "")
	if err != nil {
		return nil
	}
	return f
}

// parsers are reused: a Parser keeps nothing of one Parse in the next,
// and making one is most of a short line's cost.
var parsers = sync.Pool{New: func() any { return syntax.NewParser() }}

// Verdict is the outcome of a decision. Verdicts are ordered: a later
// one is stricter.
type Verdict int

const (
	Allow Verdict = iota
	// Ask means a person must approve; with nobody to ask, it is a denial.
	Ask
	Deny
)

// Decision is a verdict and, unless it is Allow, why.
type Decision struct {
	Verdict Verdict
	Reason  string
	// Rule and Source name the rule that decided and the file it came
	// from; both are empty when the mode or a built-in default decided.
	Rule   string
	Source string
	// Profile is the sandbox profile the call's processes must run under,
	// on top of the executor's own, whether the call is allowed or a
	// person approves it. Outside bypassPermissions, a command runs
	// confined whenever the executor can confine it; a command asked
	// about because it crosses the sandbox's boundary runs unconfined
	// once approved, as it does when there is no sandbox.
	Profile sandbox.Profile
}

// Policy decides tool calls by the permission rules and mode. Its fields
// are not changed after use, so Decide may be called concurrently.
type Policy struct {
	Mode Mode
	// Workspace is the project root: where edits are allowed under
	// AcceptEdits and Auto, and where file rules' "/x", "./x" and bare
	// paths are taken from.
	Workspace string
	// Rules are the user's allow, ask and deny rules.
	Rules Rules
	// Home is the user's home directory, for "~/" rules and the
	// credential stores nothing may read.
	Home string
	// Sandboxed says that the executor can confine processes. Without
	// it, every command outside bypassPermissions that the rules or the
	// read-only set do not allow asks, and runs unconfined if approved.
	Sandboxed bool
	// Network says that the executor routes confined commands to allowed
	// domains through Lathe's network proxy. With it, the hosts
	// WebFetch allow rules name are every confined command's
	// AllowDomains, and curl or wget of a URL on them runs unasked in
	// auto mode; without it, confined commands have no network.
	Network bool

	// once works out derived from the fields above at the first
	// decision: they do not change after it.
	once    sync.Once
	derived derived
}

// derived is what every decision of a Policy needs and none changes: the
// workspace's and home's names with links resolved, the credential
// stores under home by either name, and the file rules' specifiers
// compiled. Working it out once keeps system calls and allocations off
// each step.
type derived struct {
	bases   pathBases
	secrets []string
	// paths holds each file rule's specifier that compiles; one that
	// does not (checked when the rule was parsed) matches nothing.
	paths map[string]pathRule
}

func (p *Policy) derive() *derived {
	p.once.Do(func() {
		d := &p.derived
		d.bases = newBases(p.Workspace, p.Home)
		d.secrets = secret.Paths(p.Home)
		if real := d.bases.real[p.Home]; p.Home != "" && real != p.Home {
			d.secrets = append(d.secrets, secret.Paths(real)...)
		}
		d.paths = make(map[string]pathRule)
		for _, list := range [][]Rule{p.Rules.Allow, p.Rules.Ask, p.Rules.Deny} {
			for i := range list {
				r := &list[i]
				if f := family(r); (f != familyRead && f != familyEdit) || r.Specifier == "" {
					continue
				}
				if pr, err := compilePath(r.Specifier, d.bases); err == nil {
					d.paths[r.Specifier] = pr
				}
			}
		}
	})
	return &p.derived
}

// protected reports whether writing path would change what Lathe, an
// agent or git may do, or what a shell runs at start-up — their
// configuration can grant permissions, run hooks and commands — and
// names whose it is. path is checked as written and with its symbolic
// links resolved, so that no link into .lathe/ or .git/ hides one;
// names are compared without case, as case-insensitive file systems
// (macOS, Windows) see them.
func protected(path, home string) (string, bool) {
	for _, p := range []string{path, Resolve(path)} {
		if home != "" && filepath.Dir(p) == filepath.Clean(home) && shellStartup(filepath.Base(p)) {
			return "the shell", true
		}
		parts := strings.Split(filepath.ToSlash(p), "/")
		for i, part := range parts {
			rest := parts[i+1:]
			switch {
			case strings.EqualFold(part, ".lathe"):
				return "Lathe", true
			case strings.EqualFold(part, ".claude"):
				return "Claude Code", true
			// In a worktree or submodule .git is a file naming the git
			// directory; rewriting it redirects git to another config.
			case strings.EqualFold(part, ".git") && (len(rest) == 0 || runsCommands(rest)):
				return "git", true
			}
		}
	}
	return "", false
}

// shellStartup reports whether a file of this name in the home
// directory is one a shell runs when it starts.
func shellStartup(name string) bool {
	switch name {
	case ".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile", ".zshrc", ".zshenv",
		".zprofile", ".zlogin", ".zlogout", ".kshrc", ".mkshrc", ".cshrc", ".tcshrc", ".inputrc":
		return true
	}
	return false
}

// runsCommands reports whether the path inside a .git directory is one
// through which git runs commands: a config file (the repository's, or
// a worktree's or submodule's under worktrees/ or modules/, which git
// reads as surely) or a hook, which the next commit or checkout runs.
func runsCommands(rest []string) bool {
	last := rest[len(rest)-1]
	if strings.EqualFold(last, "config") || strings.EqualFold(last, "config.worktree") {
		return true
	}
	return slices.ContainsFunc(rest[:len(rest)-1], func(p string) bool { return strings.EqualFold(p, "hooks") })
}
