package policy

import (
	"net/url"
	"path/filepath"
	"strings"
)

// Narrowest returns the narrowest allow rules that together cover call,
// as rule text, for an "always" answer to write: Bash(npm run test) for
// that command (one rule for each simple command a line runs, wrappers
// seen through), Edit(src/a.go) for a file, WebFetch(domain:go.dev) for
// a URL, or the tool's name for a tool the rules cannot look into. It
// returns nil when no rule could allow the call, such as a command line
// that runs code no rule sees.
func (p *Policy) Narrowest(call *Call) []string {
	var out []string
	add := func(r string) {
		for _, o := range out {
			if o == r {
				return
			}
		}
		out = append(out, r)
	}
	switch call.Kind {
	case Read, Edit:
		tool, paths := toolRead, call.Reads
		if call.Kind == Edit {
			tool, paths = toolEdit, call.Writes
		}
		if len(call.LexicalReads) > 0 && call.Kind == Read {
			paths = call.LexicalReads
		}
		if len(call.LexicalWrites) > 0 && call.Kind == Edit {
			paths = call.LexicalWrites
		}
		for _, path := range paths {
			add(tool + "(" + p.pathSpec(path) + ")")
		}
	case Fetch:
		for _, raw := range call.URLs {
			if u, err := url.Parse(raw); err == nil && u.Hostname() != "" {
				add(toolWebFetch + "(domain:" + strings.ToLower(u.Hostname()) + ")")
			}
		}
	case Exec:
		if call.Script == nil {
			if call.Command == "" && call.Agent != "" && isAgentTool(call.Tool) {
				return []string{call.Tool + "(" + call.Agent + ")"}
			}
			if call.Command == "" {
				return []string{call.Tool}
			}
			return nil
		}
		s := analyze(call.Script, call.Dir, p.Home)
		if s.opaque != "" {
			return nil
		}
		for _, c := range s.cmds {
			if c.opaque != "" || c.allow == "" || strings.TrimSpace(c.allow) != c.allow {
				// A program named by white space cannot be spelled in
				// a rule, which trims it.
				return nil
			}
			add(toolBash + "(" + strings.ReplaceAll(c.allow, "*", `\*`) + ")")
		}
		for _, w := range s.writes {
			if w == "" {
				return nil
			}
			if w != "/dev/null" {
				add(toolEdit + "(" + p.pathSpec(w) + ")")
			}
		}
	}
	if len(out) == 0 && call.Tool != "" {
		return []string{call.Tool}
	}
	return out
}

// pathSpec is the file rule specifier that names exactly path: from the
// project root when inside it, from home when inside that, else from the
// file system root; pattern characters escaped.
func (p *Policy) pathSpec(path string) string {
	esc := func(s string) string {
		var sb strings.Builder
		for i := 0; i < len(s); i++ {
			if strings.IndexByte(`*?[]\{}!#`, s[i]) >= 0 {
				sb.WriteByte('\\')
			}
			sb.WriteByte(s[i])
		}
		return sb.String()
	}
	if rel, ok := relWithin(p.Workspace, path); ok && p.Workspace != "" && rel != "." {
		if strings.Contains(rel, "/") {
			return esc(rel)
		}
		return "./" + esc(rel)
	}
	if rel, ok := relWithin(p.Home, path); ok && p.Home != "" && rel != "." {
		return "~/" + esc(rel)
	}
	return "/" + esc(filepath.ToSlash(path))
}
