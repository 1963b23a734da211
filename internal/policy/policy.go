// Package policy decides whether a tool call may run. Every call the model
// makes is prepared into a [Call] and passes through [Policy.Decide] before
// its tool runs; this is the one decision point that permission rules,
// hooks and approvals plug into.
package policy

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lathe-dev/lathe/internal/sandbox"
	"mvdan.cc/sh/v3/syntax"
)

// Mode is the permission mode, named as in Claude Code.
type Mode string

const (
	// Plan allows only tools that change nothing.
	Plan Mode = "plan"
	// AcceptEdits allows reads and file edits inside the workspace; running
	// commands and editing outside the workspace need approval.
	AcceptEdits Mode = "acceptEdits"
	// BypassPermissions allows everything.
	BypassPermissions Mode = "bypassPermissions"
)

// ParseMode checks a mode name from a flag or config.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Plan, AcceptEdits, BypassPermissions:
		return m, nil
	}
	return "", fmt.Errorf("unknown permission mode %q (want plan, acceptEdits or bypassPermissions)", s)
}

// Wider reports whether m allows something that o does not. The modes
// nest: everything plan allows, acceptEdits allows, and bypassPermissions
// allows everything.
func (m Mode) Wider(o Mode) bool { return m.rank() > o.rank() }

func (m Mode) rank() int {
	switch m {
	case Plan:
		return 0
	case AcceptEdits:
		return 1
	}
	return 2
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
	// URLs are the addresses the call fetches.
	URLs []string
}

// ParseCommand parses a shell command line for [Call.Script], or returns
// nil when it does not parse as a shell script.
func ParseCommand(cmd string) *syntax.File {
	f, err := syntax.NewParser().Parse(strings.NewReader(cmd), "")
	if err != nil {
		return nil
	}
	return f
}

// Verdict is the outcome of a decision.
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
	// from; both are empty while decisions come from the mode alone.
	Rule   string
	Source string
	// Profile is the sandbox profile the call's processes must run under,
	// on top of the executor's own. The zero Profile adds nothing, which
	// is every decision today: unconfined, Lathe's keys removed by the
	// executor.
	Profile sandbox.Profile
}

// Policy decides tool calls by permission mode. Its fields are not
// changed after use, so Decide may be called concurrently.
type Policy struct {
	Mode Mode
	// Workspace is the directory edits are allowed in under AcceptEdits.
	Workspace string
}

// Decide returns the decision for call. It does not block; ctx is for the
// rules and hooks that will consult files and processes, and call is not
// modified.
func (p *Policy) Decide(ctx context.Context, call *Call) Decision {
	switch {
	case call.Kind == Read || p.Mode == BypassPermissions:
		return Decision{Verdict: Allow}
	case p.Mode == Plan:
		return Decision{Verdict: Deny, Reason: fmt.Sprintf("%s is not allowed in plan mode, which only permits reading", call.Tool)}
	case call.Kind == Exec:
		return Decision{Verdict: Ask, Reason: fmt.Sprintf("%s runs commands, which needs approval in %s mode", call.Tool, p.Mode)}
	}
	for _, path := range call.Writes {
		if prot, ok := protected(path); ok {
			return Decision{Verdict: Ask, Reason: fmt.Sprintf("%s writes %s, which configures %s, which needs approval in %s mode", call.Tool, path, prot, p.Mode)}
		}
		if !within(p.Workspace, path) {
			return Decision{Verdict: Ask, Reason: fmt.Sprintf("%s writes %s, outside the workspace, which needs approval", call.Tool, path)}
		}
	}
	return Decision{Verdict: Allow}
}

// protected reports whether writing path would change what Lathe or git
// may do — their configuration can grant permissions, run hooks and
// commands — and names whose it is. path is checked as written and with
// its symbolic links resolved, so that no link into .lathe/ or .git/
// hides one; names are compared without case, as case-insensitive file
// systems (macOS, Windows) see them.
func protected(path string) (string, bool) {
	for _, p := range []string{path, Resolve(path)} {
		parts := strings.Split(filepath.ToSlash(p), "/")
		for i, part := range parts {
			rest := parts[i+1:]
			switch {
			case strings.EqualFold(part, ".lathe"):
				return "Lathe", true
			// In a worktree or submodule .git is a file naming the git
			// directory; rewriting it redirects git to another config.
			case strings.EqualFold(part, ".git") && (len(rest) == 0 || runsCommands(rest)):
				return "git", true
			}
		}
	}
	return "", false
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

// Resolve resolves the symbolic links in path, or in its nearest existing
// parent when path does not exist yet, so that a file has one name
// whichever way it is reached.
func Resolve(path string) string {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		return real
	}
	parent := filepath.Dir(path)
	if parent == path {
		return path
	}
	return filepath.Join(Resolve(parent), filepath.Base(path))
}

func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
