package subagent

import (
	"slices"

	"github.com/lathe-dev/lathe/internal/tool"
)

// equivalents are the tools that do the same job in the two dialects,
// so that an agent file written for Claude Code's tools works for a Codex
// model, and one naming Codex's tools for a Claude model.
var equivalents = [][]string{
	{"Read", "read_file"},
	{"Grep", "grep_files"},
	{"Glob", "LS", "list_dir"},
	{"Bash", "BashOutput", "KillShell", "shell"},
	{"Edit", "Write", "MultiEdit", "apply_patch"},
	{"WebFetch", "web_fetch"},
}

// Select returns the tools of set that a child of type t gets: those its
// Tools name, or all of set when it names none, less its Disallowed. A
// name that no tool of set has stands for the tools of set that do its
// job in the other dialect. set is the parent's tools without the ones
// that start children, which a child never gets. unknown are the names
// that match no tool of set.
func (t Type) Select(set []tool.Tool) (tools []tool.Tool, unknown []string) {
	names := make([]string, len(set))
	for i, tl := range set {
		names[i] = tl.Def().Name
	}
	// expand is the names of set that names stand for.
	expand := func(list []string) (out []string) {
		for _, n := range list {
			var got []string
			if slices.Contains(names, n) {
				got = []string{n}
			} else {
				for _, e := range equivalent(n) {
					if slices.Contains(names, e) {
						got = append(got, e)
					}
				}
			}
			if len(got) == 0 && !slices.Contains(unknown, n) {
				unknown = append(unknown, n)
			}
			out = append(out, got...)
		}
		return out
	}
	allowed, denied := names, expand(t.Disallowed)
	if t.Tools != nil {
		allowed = expand(t.Tools)
	}
	for i, tl := range set {
		if slices.Contains(allowed, names[i]) && !slices.Contains(denied, names[i]) {
			tools = append(tools, tl)
		}
	}
	return tools, unknown
}

// equivalent lists the tools that do name's job in either dialect, name
// included; nil for a name it does not know.
func equivalent(name string) []string {
	for _, g := range equivalents {
		if slices.Contains(g, name) {
			return g
		}
	}
	return nil
}

// ReadOnly reports whether every one of tools changes nothing, so that
// a child with them may run alongside other read-only calls.
func ReadOnly(tools []tool.Tool) bool {
	for _, t := range tools {
		if !t.ReadOnly() {
			return false
		}
	}
	return true
}

// bookkeeping are the tools of an agent's own bookkeeping, its todo list
// and its plan, which a child, whose final message is all the parent
// sees, has no use for; and the tools that start children, which a child
// never gets.
var bookkeeping = []string{TaskTool, SpawnTool, "TodoWrite", "update_plan", "ExitPlanMode", "exit_plan"}

// ChildTools are the tools of set that children's tools may be chosen
// from: all but the bookkeeping ones.
func ChildTools(set []tool.Tool) []tool.Tool {
	var out []tool.Tool
	for _, t := range set {
		if !slices.Contains(bookkeeping, t.Def().Name) {
			out = append(out, t)
		}
	}
	return out
}
