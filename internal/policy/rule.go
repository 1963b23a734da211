package policy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lathe-dev/lathe/internal/netproxy"
)

// Rule is one permission rule in Claude Code's syntax: a tool name, and
// optionally a specifier in parentheses that narrows which of the tool's
// calls the rule covers.
//
//	Bash                     every command
//	Bash(npm run test)       exactly that command
//	Bash(npm run test:*)     that command and any arguments after it
//	Bash(git * main)         "*" matches any text; a single trailing " *"
//	                         also matches the bare command
//	Read(src/**)             gitignore-style globs: //abs, ~/home,
//	Edit(/docs/*.md)         /project-root, ./cwd or bare (cwd; a bare
//	Write(~/notes/**)        name without a slash matches at any depth)
//	WebFetch(domain:go.dev)  fetches from that host (*.go.dev: subdomains)
//	mcp__server              every tool of an MCP server
//	mcp__server__tool        one of its tools
//
//	Task(explore)            subagents of that agent type (any case)
//
// Bash rules govern every tool that runs a command line (Bash, Codex's
// shell); Read rules every tool that reads files; Edit and Write rules
// every tool that changes files (Edit, Write, apply_patch); Task and
// spawn_agent rules both tools that start subagents. Other names govern
// the tool of that name, which need not exist yet.
type Rule struct {
	// Tool is the tool name as written.
	Tool string
	// Specifier is the text between the parentheses, or "" for a rule
	// that names the whole tool.
	Specifier string
	// Text is the rule as written, and Source the file it came from
	// ("" for one given on the command line or built in).
	Text   string
	Source string
}

// Rules are the permission lists. A call is denied if a deny rule
// matches it, else asked about if an ask rule does, else allowed if an
// allow rule does; how specific a rule is does not matter, so an allow
// rule never carves an exception out of a deny rule.
type Rules struct {
	Allow, Ask, Deny []Rule
}

// Rule tool names with a meaning of their own.
const (
	toolBash     = "Bash"
	toolRead     = "Read"
	toolEdit     = "Edit"
	toolWrite    = "Write"
	toolWebFetch = "WebFetch"
	mcpPrefix    = "mcp__"
)

// isAgentTool says whether rules naming tool govern the tools that start
// subagents: Claude Code's Task and Codex's spawn_agent, each the other's
// too, as Bash rules govern shell.
func isAgentTool(tool string) bool { return tool == "Task" || tool == "spawn_agent" }

// agentMatch reports whether r's specifier names the agent type call
// starts; types are named without regard to case, as the model may
// write them.
func agentMatch(r *Rule, call *Call) bool {
	return isAgentTool(r.Tool) && call.Agent != "" && strings.EqualFold(r.Specifier, call.Agent)
}

// ParseRule parses a rule as written in a settings file or flag. The
// error names the rule and what is wrong with it; a rule for a tool that
// does not exist is not an error (see [Rule.Inert]).
func ParseRule(text string) (Rule, error) {
	r, err := parseRule(text)
	if err != nil {
		return Rule{}, fmt.Errorf("permission rule %q: %w", text, err)
	}
	return r, nil
}

func parseRule(text string) (Rule, error) {
	s := strings.TrimSpace(text)
	r := Rule{Text: s}
	if s == "" {
		return r, errors.New("empty rule")
	}
	name, spec, hasSpec := strings.Cut(s, "(")
	if hasSpec {
		if !strings.HasSuffix(spec, ")") {
			return r, errors.New(`a specifier must end with ")"`)
		}
		spec = strings.TrimSpace(spec[:len(spec)-1])
		if spec == "" {
			return r, fmt.Errorf("empty specifier (write %s for every call)", name)
		}
	}
	name = strings.TrimSpace(name)
	if err := checkToolName(name); err != nil {
		return r, err
	}
	r.Tool, r.Specifier = name, spec
	if !hasSpec {
		return r, nil
	}
	switch {
	case name == toolBash:
		if i := strings.Index(spec, ":*"); i >= 0 && i != len(spec)-2 {
			return r, errors.New(`":*" may only end a Bash specifier`)
		}
		if spec == ":*" {
			return r, errors.New(`":*" needs a command before it`)
		}
	case isFileTool(name):
		if strings.ContainsRune(spec, 0) {
			return r, errors.New("a path must not contain a NUL byte")
		}
		if _, err := compilePath(spec, pathBases{}); err != nil {
			return r, err
		}
	case name == toolWebFetch:
		host, ok := strings.CutPrefix(spec, "domain:")
		if !ok {
			return r, errors.New(`a WebFetch specifier is "domain:HOST"`)
		}
		if err := checkDomain(host); err != nil {
			return r, err
		}
	case strings.HasPrefix(name, mcpPrefix):
		return r, errors.New("an MCP rule takes no specifier: write mcp__server or mcp__server__tool")
	case isAgentTool(name):
		if strings.ContainsAny(spec, "()*") {
			return r, fmt.Errorf("a %s specifier is an agent type's name, such as %s(explore)", name, name)
		}
	}
	return r, nil
}

// checkToolName accepts the names tools have: letters, digits, "_" and
// "-", starting with a letter; an MCP rule may end in "*" for every tool
// of a server.
func checkToolName(name string) error {
	if name == "" {
		return errors.New("no tool name")
	}
	body := name
	if strings.HasPrefix(name, mcpPrefix) {
		body = strings.TrimSuffix(name, "*")
		if len(body) <= len(mcpPrefix) {
			return errors.New("an MCP rule needs a server name: mcp__server")
		}
	}
	for i, c := range body {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_' || c == '-'):
		default:
			return fmt.Errorf("invalid tool name %q", name)
		}
	}
	return nil
}

func checkDomain(host string) error {
	h := strings.TrimPrefix(host, "*.")
	if h == "" || strings.ContainsAny(h, "/:*@ ?#") {
		return fmt.Errorf("invalid domain %q (want a host name such as example.com or *.example.com)", host)
	}
	// An allow rule's domain is every confined command's, through the
	// network proxy: one the proxy cannot take would fail them all.
	if _, err := netproxy.NewRules([]string{host}, nil); err != nil {
		return fmt.Errorf("invalid domain %q: %v", host, errors.Unwrap(err))
	}
	return nil
}

func isFileTool(name string) bool {
	return name == toolRead || name == toolEdit || name == toolWrite
}

// knownTools are the rule names of the tools Lathe has, in either
// dialect: a rule naming another tool can match nothing until that tool
// exists.
var knownTools = map[string]bool{
	toolBash: true, toolRead: true, toolEdit: true, toolWrite: true, toolWebFetch: true,
	"Glob": true, "Grep": true, "BashOutput": true, "KillShell": true,
	"shell": true, "apply_patch": true, "read_file": true, "list_dir": true, "grep_files": true, "web_fetch": true,
	"Task": true, "spawn_agent": true,
}

// Inert says why a rule can never match a call of Lathe's tools, or ""
// when it can: configuration warns about such a rule.
func (r Rule) Inert() string {
	switch {
	case strings.HasPrefix(r.Tool, mcpPrefix):
		return ""
	case !knownTools[r.Tool]:
		for name := range knownTools {
			if strings.EqualFold(name, r.Tool) {
				return fmt.Sprintf("no tool is named %s (tool names are case-sensitive: %s)", r.Tool, name)
			}
		}
		return fmt.Sprintf("no tool is named %s", r.Tool)
	case r.Specifier != "" && r.Tool != toolBash && !isFileTool(r.Tool) && r.Tool != toolWebFetch && !isAgentTool(r.Tool):
		return fmt.Sprintf("%s takes no specifier, so %s matches no call", r.Tool, r.Text)
	}
	return ""
}

// String is the rule as written.
func (r Rule) String() string {
	if r.Text != "" {
		return r.Text
	}
	if r.Specifier == "" {
		return r.Tool
	}
	return r.Tool + "(" + r.Specifier + ")"
}

// governs reports whether rules naming tool apply to call at all.
func governs(tool string, call *Call) bool {
	switch tool {
	case toolBash:
		return call.Kind == Exec && (call.Command != "" || call.Tool == "Bash" || call.Tool == "shell")
	case toolRead:
		return call.Kind == Read
	case toolEdit, toolWrite:
		return call.Kind == Edit
	case toolWebFetch:
		return call.Kind == Fetch
	}
	if isAgentTool(tool) {
		return isAgentTool(call.Tool)
	}
	if strings.HasPrefix(tool, mcpPrefix) {
		if prefix, ok := strings.CutSuffix(tool, "*"); ok {
			return strings.HasPrefix(call.Tool, prefix)
		}
		return call.Tool == tool || strings.HasPrefix(call.Tool, tool+"__")
	}
	return call.Tool == tool
}
