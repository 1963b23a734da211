// Package slash is the set of commands a person types after "/" in the
// interactive front end: the built-in ones ([Builtins]) and custom ones
// defined by Markdown files in Claude Code's format, under .lathe/commands
// and .claude/commands ([Load]). It finds commands by fuzzy subsequence
// ([Set.Match]), parses a typed line ([Set.Resolve]) and expands a custom
// command's body into the prompt it stands for ([Command.Expand]).
//
// What a built-in does is the front end's business: this package names
// them and says what they take.
package slash

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lathe-dev/lathe/internal/policy"
)

// Names of the built-in commands, for the front end to switch on.
const (
	Help        = "help"
	Clear       = "clear"
	Compact     = "compact"
	Recap       = "recap"
	Model       = "model"
	Mode        = "mode"
	Permissions = "permissions"
	Cost        = "cost"
	Status      = "status"
	Resume      = "resume"
	Rewind      = "rewind"
	Todo        = "todo"
	Init        = "init"
	Quit        = "quit"
)

// Command is one slash command.
type Command struct {
	// Name is what the command is typed as, without the "/"; Aliases are
	// other names for it. Names are matched without regard to case.
	Name    string
	Aliases []string
	// Description says what it does, on one line; ArgumentHint shows what
	// it takes ("[focus]").
	Description  string
	ArgumentHint string
	// Builtin is set for the built-in commands; the others are custom.
	Builtin bool

	// The rest is a custom command's.

	// Body is the prompt the command stands for, before [Command.Expand].
	Body string
	// AllowedTools are the permission rules its frontmatter names
	// (allowed-tools), parsed; Model the model it asks for. Neither is
	// applied by this package: whether a command may widen what the
	// session allows is the front end's decision, and never silent.
	AllowedTools []policy.Rule
	Model        string
	// Source is the file it is defined in, and Namespace the
	// subdirectory of its commands directory ("frontend" for
	// frontend/test.md), "" at the top.
	Source    string
	Namespace string
}

// Builtins are the commands every session has, in the order the palette
// lists them.
func Builtins() []Command {
	cmds := []Command{
		{Name: Help, Description: "Show the commands and keys"},
		{Name: Clear, Description: "Start a new conversation; the old one stays in its session log"},
		{Name: Compact, ArgumentHint: "[focus]", Description: "Summarise the conversation so far to free context, keeping what the focus names"},
		{Name: Recap, Description: "A short recap of the session so far"},
		{Name: Model, ArgumentHint: "[name]", Description: "Show or change the model"},
		{Name: Mode, ArgumentHint: "[mode]", Description: "Show or change the permission mode (Shift+Tab cycles)"},
		{Name: Permissions, Description: "The permission mode and every rule in effect, with its file"},
		{Name: Cost, Description: "Tokens and cost of the session so far"},
		{Name: Status, Description: "Model, mode, context used, workspace and session"},
		{Name: Resume, Description: "Resume or fork an earlier session of this directory"},
		{Name: Rewind, Description: "Go back to an earlier prompt, undoing the edits since"},
		{Name: Todo, Description: "Show the task list"},
		{Name: Init, Description: "Write an AGENTS.md describing this repository"},
		{Name: Quit, Aliases: []string{"exit"}, Description: "Quit; the session is saved"},
	}
	for i := range cmds {
		cmds[i].Builtin = true
	}
	return cmds
}

// Set is a list of commands, each name once. A Set is not changed after
// [NewSet], so it may be shared between goroutines.
type Set struct {
	cmds []Command
}

// NewSet makes a set of the built-in commands followed by custom, in
// that order; custom commands are those [Load] returns, whose names are
// already distinct from the built-ins' and from each other's.
func NewSet(custom []Command) *Set {
	return &Set{cmds: append(Builtins(), custom...)}
}

// Commands returns the set's commands, built-ins first.
func (s *Set) Commands() []Command { return slices.Clone(s.cmds) }

// Lookup finds a command by name or alias, without regard to case.
func (s *Set) Lookup(name string) (Command, bool) {
	for _, c := range s.cmds {
		if c.hasName(name) {
			return c, true
		}
	}
	return Command{}, false
}

func (c Command) hasName(name string) bool {
	return strings.EqualFold(c.Name, name) || slices.ContainsFunc(c.Aliases, func(a string) bool { return strings.EqualFold(a, name) })
}

// Parse splits a typed line into a command name and its arguments:
// "/compact keep the API" is "compact" and "keep the API". ok is false
// when the line does not start with "/" followed by a name, as in "/"
// alone or a path such as "/usr/bin/env is broken", which is a prompt.
func Parse(line string) (name, args string, ok bool) {
	line = strings.TrimLeft(line, " \t")
	rest, found := strings.CutPrefix(line, "/")
	if !found {
		return "", "", false
	}
	end := strings.IndexAny(rest, " \t\n")
	if end < 0 {
		end = len(rest)
	}
	name = rest[:end]
	if name == "" || !validName(name) {
		return "", "", false
	}
	return name, strings.TrimSpace(rest[end:]), true
}

// UnknownError is a line naming a command the set does not have.
type UnknownError struct {
	Name string
	// Suggestion is the best fuzzy match, or "" if nothing matches.
	Suggestion string
}

func (e *UnknownError) Error() string {
	if e.Suggestion != "" {
		return fmt.Sprintf("unknown command /%s (did you mean /%s?)", e.Name, e.Suggestion)
	}
	return fmt.Sprintf("unknown command /%s (/help lists them)", e.Name)
}

// Resolve parses line as a command and finds it. ok is false when line is
// not a command at all (see [Parse]) and is to be sent as a prompt; err
// is an [*UnknownError] for a command the set lacks.
func (s *Set) Resolve(line string) (cmd Command, args string, ok bool, err error) {
	name, args, ok := Parse(line)
	if !ok {
		return Command{}, "", false, nil
	}
	cmd, found := s.Lookup(name)
	if !found {
		e := &UnknownError{Name: name}
		if m := s.Match(name); len(m) > 0 {
			e.Suggestion = m[0].Command.Name
		}
		return Command{}, "", true, e
	}
	return cmd, args, true, nil
}
