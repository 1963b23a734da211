package sandbox

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// Level is how far a process is confined. Levels are ordered: a higher
// Level allows less.
type Level int

const (
	// Unconfined runs a process as Lathe itself runs: only its
	// environment is narrowed (HideEnv).
	Unconfined Level = iota
	// WorkspaceWrite confines a process's writes to the workspace, its
	// private temporary directory, the writable roots and the language
	// caches; it reads everything but secret locations, and has no
	// network but the allowed domains.
	WorkspaceWrite
	// ReadOnly is WorkspaceWrite with nothing writable but the private
	// temporary directory.
	ReadOnly
)

// String returns the level's name, as ParseLevel reads it.
func (l Level) String() string {
	switch l {
	case Unconfined:
		return "unconfined"
	case WorkspaceWrite:
		return "workspace-write"
	case ReadOnly:
		return "read-only"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// ParseLevel returns the level named s: "unconfined",
// "workspace-write" or "read-only".
func ParseLevel(s string) (Level, error) {
	for l := Unconfined; l <= ReadOnly; l++ {
		if s == l.String() {
			return l, nil
		}
	}
	return 0, fmt.Errorf("unknown sandbox mode %q (want read-only, workspace-write or unconfined)", s)
}

// Profile says how a process is confined. The zero Profile confines
// nothing and hides nothing.
//
// An executor that cannot give a process its profile's confinement
// refuses to start it, with an error naming what is missing: a profile
// is never run with weaker protection than it asks for.
type Profile struct {
	// HideEnv names variables of Lathe's environment the process does not
	// get, such as Lathe's own API keys.
	HideEnv []string

	// Confine is how far the process is confined. The fields below apply
	// only to a confined profile; an Unconfined one ignores them.
	Confine Level
	// Workspace is the directory a WorkspaceWrite process may write in,
	// an absolute path.
	Workspace string
	// WritableRoots are other directories a WorkspaceWrite process may
	// write in, absolute paths.
	WritableRoots []string
	// AllowDomains are the domains a confined process may reach, through
	// Lathe's proxy. None means no network at all.
	AllowDomains []string
	// PassEnv names credential-looking variables (see secret.EnvName) a
	// confined process keeps; every other one is removed.
	PassEnv []string
}

// Narrow returns the profile that allows only what both p and q allow.
// The hidden variables of both are hidden. When both are confined, the
// stricter level holds, a write location must be writable in both, a
// domain allowed in both, and a variable passed by both; an Unconfined
// profile restricts nothing of the other's confinement.
func (p Profile) Narrow(q Profile) Profile {
	hide := slices.Concat(p.HideEnv, q.HideEnv)
	slices.Sort(hide)
	r := Profile{HideEnv: slices.Compact(hide)}
	switch {
	case p.Confine == Unconfined:
		p.HideEnv = r.HideEnv
		return p.cloneConfinement(q)
	case q.Confine == Unconfined:
		return r.cloneConfinement(p)
	}
	r.Confine = max(p.Confine, q.Confine)
	switch {
	case p.Workspace == q.Workspace || q.Workspace == "":
		r.Workspace = p.Workspace
	case p.Workspace == "" || within(q.Workspace, p.Workspace):
		r.Workspace = q.Workspace
	case within(p.Workspace, q.Workspace):
		r.Workspace = p.Workspace
	default:
		// Disjoint workspaces: nowhere is writable in both.
		r.Confine, r.Workspace = ReadOnly, p.Workspace
	}
	for _, root := range p.WritableRoots {
		if q.writable(root) && !slices.Contains(r.WritableRoots, root) {
			r.WritableRoots = append(r.WritableRoots, root)
		}
	}
	for _, root := range q.WritableRoots {
		if p.writable(root) && !slices.Contains(r.WritableRoots, root) {
			r.WritableRoots = append(r.WritableRoots, root)
		}
	}
	r.AllowDomains = intersect(p.AllowDomains, q.AllowDomains)
	r.PassEnv = intersect(p.PassEnv, q.PassEnv)
	return r
}

// cloneConfinement returns p with the confinement of q, its slices
// copied so that the result shares nothing with q.
func (p Profile) cloneConfinement(q Profile) Profile {
	p.Confine = q.Confine
	p.Workspace = q.Workspace
	p.WritableRoots = slices.Clone(q.WritableRoots)
	p.AllowDomains = slices.Clone(q.AllowDomains)
	p.PassEnv = slices.Clone(q.PassEnv)
	return p
}

// writable reports whether a confined p lets a process write under dir.
func (p Profile) writable(dir string) bool {
	if p.Confine != WorkspaceWrite {
		return false
	}
	if p.Workspace != "" && within(dir, p.Workspace) {
		return true
	}
	return slices.ContainsFunc(p.WritableRoots, func(root string) bool { return within(dir, root) })
}

// Check returns an error naming what is wrong with a profile no
// executor could give a process: a relative or missing workspace, a
// relative writable root.
func (p Profile) Check() error {
	if p.Confine < Unconfined || p.Confine > ReadOnly {
		return fmt.Errorf("sandbox profile: unknown confinement %v", p.Confine)
	}
	if p.Confine == Unconfined {
		return nil
	}
	if p.Confine == WorkspaceWrite && p.Workspace == "" {
		return fmt.Errorf("sandbox profile: %v without a workspace", p.Confine)
	}
	if p.Workspace != "" && !filepath.IsAbs(p.Workspace) {
		return fmt.Errorf("sandbox profile: workspace %q is not an absolute path", p.Workspace)
	}
	for _, root := range p.WritableRoots {
		if !filepath.IsAbs(root) {
			return fmt.Errorf("sandbox profile: writable root %q is not an absolute path", root)
		}
	}
	return nil
}

// within reports whether path is root or below it, component by
// component: /proj-secrets is not within /proj.
func within(path, root string) bool {
	path, root = filepath.Clean(path), filepath.Clean(root)
	if path == root || root == "/" {
		return true
	}
	return strings.HasPrefix(path, root+"/")
}

// intersect returns the elements of a that are also in b, in a's order.
func intersect(a, b []string) []string {
	var out []string
	for _, s := range a {
		if slices.Contains(b, s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
