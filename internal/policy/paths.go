package policy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/lathe-dev/lathe/internal/ignore"
)

// pathBases are the directories a file rule's anchors name.
type pathBases struct {
	// Workspace is the project root ("/x" rules) and the directory bare
	// and "./x" rules are taken from: the directory Lathe was started in,
	// so that a rule means the same whichever directory a call names.
	Workspace string
	// Home is the user's home directory ("~/x" rules).
	Home string
	// real maps each base to its name with links resolved.
	real map[string]string
}

func newBases(workspace, home string) pathBases {
	b := pathBases{Workspace: workspace, Home: home, real: map[string]string{"/": "/"}}
	for _, d := range []string{workspace, home} {
		if d != "" {
			b.real[d] = Resolve(d)
		}
	}
	return b
}

// pathRule is a file rule's specifier compiled: paths under base whose
// slash-separated name relative to base matches glob.
type pathRule struct {
	base, realBase string
	glob           string
}

// compilePath compiles a Read/Edit/Write specifier: "//abs" from the
// file system root, "~/x" from home, "/x" from the project root, and
// "./x" or "x" from the working directory, the rest being a gitignore
// pattern. With empty bases it only checks the pattern.
func compilePath(spec string, b pathBases) (pathRule, error) {
	var base, pat string
	switch {
	case strings.HasPrefix(spec, "//"):
		base, pat = "/", spec[1:]
	case spec == "~" || strings.HasPrefix(spec, "~/"):
		base, pat = b.Home, "/"+strings.TrimPrefix(strings.TrimPrefix(spec, "~"), "/")
	case strings.HasPrefix(spec, "~"):
		return pathRule{}, errors.New(`"~user" paths are not supported: write ~/ or //abs`)
	case strings.HasPrefix(spec, "/"):
		base, pat = b.Workspace, spec
	case spec == "." || strings.HasPrefix(spec, "./"):
		base, pat = b.Workspace, "/"+strings.TrimPrefix(strings.TrimPrefix(spec, "."), "/")
	default:
		base, pat = b.Workspace, spec
	}
	if strings.Trim(pat, "/") == "" {
		// The anchor itself: everything under it.
		pat = "/**"
	}
	glob, _, err := ignore.Glob(pat)
	if err != nil {
		return pathRule{}, fmt.Errorf("invalid path pattern %q", spec)
	}
	// A directory's rule covers what is inside it (ignore.Glob makes
	// "dir/**" mean only its contents), as a .gitignore line does; the
	// trailing "/" of a directory pattern is therefore moot here.
	glob = strings.TrimSuffix(glob, "/**/*")
	if glob == "" {
		glob = "**"
	}
	return pathRule{base: base, realBase: b.real[base], glob: glob}, nil
}

// match reports whether the absolute, clean path p is covered: the rule's
// glob matches p or one of its parents below base, tried from base as
// given and with its links resolved.
func (r pathRule) match(p string) bool {
	if r.base == "" {
		return false
	}
	bases := []string{r.base}
	if r.realBase != "" && r.realBase != r.base {
		bases = append(bases, r.realBase)
	}
	for _, base := range bases {
		rel, ok := relWithin(base, p)
		if !ok {
			continue
		}
		if r.glob == "**" {
			return true
		}
		for {
			if ok, _ := doublestar.Match(r.glob, rel); ok {
				return true
			}
			i := strings.LastIndexByte(rel, '/')
			if i < 0 {
				break
			}
			rel = rel[:i]
		}
	}
	return false
}

// relWithin is p relative to dir, slash-separated, when p is dir or
// inside it: a test of path components, never of string prefixes.
func relWithin(dir, p string) (string, bool) {
	if !within(dir, p) {
		return "", false
	}
	rel, err := filepath.Rel(dir, p)
	if err != nil {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// within reports whether path is dir or inside it, lexically: a test of
// path components.
func within(dir, path string) bool {
	if filepath.IsAbs(dir) && filepath.IsAbs(path) {
		d, p := filepath.Clean(dir), filepath.Clean(path)
		if d == string(filepath.Separator) {
			return true
		}
		return p == d || len(p) > len(d) && p[len(d)] == filepath.Separator && p[:len(d)] == d
	}
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// resolveArg is Resolve for a word of a command that may name a file:
// one that does not exist, by any way of reaching it, is its own name.
func resolveArg(p string) string {
	if _, err := os.Lstat(p); err != nil {
		return p
	}
	return Resolve(p)
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
