// Package subagent runs child agents for the model: a Task call (Claude
// Code's dialect) or a spawn_agent call (Codex's) hands a prompt to a new
// agent with a context of its own, a restricted tool set and its own
// limits, and returns its final message with a short machine-readable
// footer.
//
// The kinds of child are [Type]s: the built-in ones ([Builtins]) and those
// defined by Claude Code agent files, Markdown with YAML frontmatter, under
// .lathe/agents and .claude/agents ([Load]). Building a child (its
// provider, session log, policy) is internal/app's job, behind the small
// [Launcher] interface; this package decides which children may run, how
// many at once, for how long, and what the parent is told.
package subagent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/lathe-dev/lathe/internal/frontmatter"
	"github.com/lathe-dev/lathe/internal/regfile"
	"go.yaml.in/yaml/v3"
)

// Type is a kind of child agent the model may start.
type Type struct {
	// Name is what the model names it by (subagent_type, agent_type);
	// names are matched without regard to case.
	Name string
	// Description tells the model when to use it.
	Description string
	// Tools are the names of the tools the child gets, in either
	// dialect's names; nil means every tool the parent has but the ones
	// that start children. Disallowed are taken away from them.
	Tools      []string
	Disallowed []string
	// Model names the child's model; "" is the parent's ("inherit" in
	// the frontmatter). Claude Code's aliases (sonnet, opus, haiku) are
	// kept as they are, for the app to resolve for its provider.
	Model string
	// MaxTurns bounds the child's model responses; 0 means the default.
	MaxTurns int
	// Prompt is the child's system prompt: the file's Markdown body.
	Prompt string
	// Source is the file the type was defined in; "" for a built-in.
	Source string
}

// Explore is the built-in type that reads and searches the workspace and
// changes nothing, so that several can run at once.
const Explore = "explore"

// explorePrompt is the explore type's system prompt.
const explorePrompt = `You are a read-only exploration agent started by another agent to answer one question about a code base.
Search and read the files you need with the tools you have; you cannot change anything.
Be thorough but quick: stop as soon as you can answer.
Your final message is all the other agent sees: answer the question directly, name the files (with line numbers) that matter, and quote only what is needed.`

// generalPrompt is the general-purpose type's system prompt.
const generalPrompt = `You are an agent started by another agent to carry out one task in this workspace, with the tools you have.
Do the task completely, then stop.
Your final message is all the other agent sees: say what you did, which files you changed and what is left, briefly.`

// Builtins are the types every session has: explore, read-only, and
// general-purpose, with the parent's tools.
func Builtins() []Type {
	return []Type{
		{
			Name:        Explore,
			Description: "Fast read-only agent for exploring the code base: finding files, searching code, answering questions about how something works. It cannot change anything; several can run at once.",
			Tools:       []string{"Read", "Glob", "Grep"},
			Prompt:      explorePrompt,
		},
		{
			Name:        "general-purpose",
			Description: "Agent for multi-step tasks: researching a question across many files, or carrying out a self-contained change, with the same tools as you.",
			Prompt:      generalPrompt,
		},
	}
}

// Dirs are the directories agent files are loaded from for a workspace,
// lowest precedence first, as [frontmatter.Dirs] lists them.
func Dirs(home, userDir, root, workspace string) []string {
	return frontmatter.Dirs("agents", home, userDir, root, workspace)
}

// maxFileSize caps an agent file: its body is a system prompt, sent with
// every request of the child.
const maxFileSize = 256 << 10

// FileError is an agent file that could not be loaded.
type FileError = frontmatter.FileError

// fileKind names the files of this package in a [FileError].
const fileKind = "agent"

// Load returns the built-in types and those defined by the *.md files of
// dirs, in that order, each name once: a file's type replaces a built-in
// or an earlier file's of the same name, in its place. A file that
// cannot be loaded is left out and reported in problems (each a
// [*FileError]), and the others still load; a directory that does not
// exist is no problem.
func Load(dirs ...string) (types []Type, problems []error) {
	types = Builtins()
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission) {
				problems = append(problems, &FileError{Kind: fileKind, File: dir, Err: err})
			}
			continue
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".md") {
				continue
			}
			path := filepath.Join(dir, e.Name())
			t, err := loadFile(path)
			if err != nil {
				problems = append(problems, err)
				continue
			}
			if i := slices.IndexFunc(types, func(o Type) bool { return strings.EqualFold(o.Name, t.Name) }); i >= 0 {
				types[i] = t
			} else {
				types = append(types, t)
			}
		}
	}
	return types, problems
}

func loadFile(path string) (Type, error) {
	data, err := regfile.ReadFile(path, maxFileSize)
	if err != nil {
		return Type{}, &FileError{Kind: fileKind, File: path, Err: err}
	}
	t, err := Parse(data)
	var fe *FileError
	if errors.As(err, &fe) {
		fe.File = path
		return Type{}, fe
	}
	if err != nil {
		return Type{}, &FileError{Kind: fileKind, File: path, Err: err}
	}
	t.Source = path
	return t, nil
}

// Keys of the frontmatter.
const (
	keyName        = "name"
	keyDescription = "description"
	keyTools       = "tools"
	keyDisallowed  = "disallowedTools"
	keyModel       = "model"
	keyMaxTurns    = "maxTurns"
)

// ignoredKeys change only how Claude Code shows an agent.
var ignoredKeys = map[string]bool{"color": true}

// unsupportedKeys are Claude Code's keys for what Lathe does not do for
// a child. Ignoring them would run the child otherwise than its author
// meant, in a wider mode or without its hooks, so a file that sets one
// is refused.
var unsupportedKeys = map[string]string{
	"permissionMode": "a subagent runs in its parent's permission mode",
	"hooks":          "Lathe has no hooks yet",
	"mcpServers":     "Lathe has no MCP servers yet",
	"skills":         "Lathe has no skills yet",
	"memory":         "Lathe has no agent memory yet",
}

// validName is the shape of a type's name, as Claude Code documents it:
// lowercase letters, digits and hyphens.
var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Parse parses an agent file: YAML frontmatter between "---" lines, then
// the Markdown body, which is the type's prompt. name and description are
// required. tools and disallowedTools are comma-separated names or a
// list of them; model is a model name, an alias, or inherit; maxTurns is
// a positive number. An error names the key at fault ([*FileError]).
// The frontmatter is read as package frontmatter reads it.
func Parse(data []byte) (Type, error) {
	entries, body, ok, err := frontmatter.Read(data, fileKind)
	if err != nil {
		return Type{}, err
	}
	if !ok {
		return Type{}, &FileError{Kind: fileKind, Err: errors.New(`no frontmatter: the file must begin with a "---" line, then name and description, then "---"`)}
	}
	var t Type
	for _, e := range entries {
		key, bad := e.Key, e.Errorf
		v, err := e.Value()
		if err != nil {
			return Type{}, bad("invalid YAML: %v", err)
		}
		switch key {
		case keyName, keyDescription, keyModel:
			s, ok := frontmatter.Scalar(v)
			if !ok {
				return Type{}, bad("want a string")
			}
			switch key {
			case keyName:
				if !validName.MatchString(s) {
					return Type{}, bad("%q is not a name of lowercase letters, digits and hyphens", s)
				}
				t.Name = s
			case keyDescription:
				t.Description = strings.TrimSpace(s)
			case keyModel:
				if s != "inherit" {
					t.Model = strings.TrimSpace(s)
				}
			}
		case keyTools, keyDisallowed:
			names, err := toolList(v)
			if err != nil {
				return Type{}, bad("%v", err)
			}
			if key == keyTools {
				t.Tools = names
			} else {
				t.Disallowed = names
			}
		case keyMaxTurns:
			var n int
			if v.Kind != yaml.ScalarNode || v.Decode(&n) != nil || n < 1 {
				return Type{}, bad("want a positive whole number, not %q", v.Value)
			}
			t.MaxTurns = n
		default:
			if why, ok := unsupportedKeys[key]; ok {
				return Type{}, bad("not supported: %s", why)
			}
			if !ignoredKeys[key] {
				return Type{}, bad("unknown key (want name, description, tools, disallowedTools, model, maxTurns)")
			}
		}
	}
	for _, key := range []string{keyName, keyDescription} {
		if !slices.ContainsFunc(entries, func(e frontmatter.Entry) bool { return e.Key == key }) {
			return Type{}, &FileError{Kind: fileKind, Key: key, Err: errors.New("missing; every agent needs a name and a description")}
		}
	}
	if t.Description == "" {
		return Type{}, &FileError{Kind: fileKind, Key: keyDescription, Err: errors.New("empty")}
	}
	t.Prompt = strings.TrimSpace(string(body))
	return t, nil
}

// toolList reads a list of tool names: "Read, Grep" or [Read, Grep].
// An empty list is a type with no tools, as Claude Code reads it.
func toolList(v *yaml.Node) ([]string, error) {
	var raw []string
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return []string{}, nil
		}
		raw = strings.Split(v.Value, ",")
	case yaml.SequenceNode:
		for _, item := range v.Content {
			s, ok := frontmatter.Scalar(item)
			if !ok {
				return nil, errors.New("want tool names, as a list or separated by commas")
			}
			raw = append(raw, s)
		}
	default:
		return nil, errors.New("want tool names, as a list or separated by commas")
	}
	names := []string{}
	for _, s := range raw {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if strings.ContainsAny(s, " ()") {
			return nil, fmt.Errorf("%q is not a tool name (rules such as Bash(git:*) go in the permission settings)", s)
		}
		if !slices.Contains(names, s) {
			names = append(names, s)
		}
	}
	return names, nil
}
