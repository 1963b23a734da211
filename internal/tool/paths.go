package tool

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lathe-dev/lathe/internal/policy"
)

// workDir is the workspace root, or the process's directory when the
// environment names none.
func workDir(env *Env) string {
	if env.Dir != "" {
		return env.Dir
	}
	if wd, err := os.Getwd(); err == nil {
		return wd
	}
	return "/"
}

// resolvePath turns a path argument into an absolute, clean path. Models
// are told to pass absolute paths, but a relative one is taken from the
// workspace root and "~" from the home directory. Nothing is trimmed: a
// file name may end in a space.
func resolvePath(env *Env, name, p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("%s must not be empty", name)
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("%s: cannot expand ~: %v", name, err)
		}
		p = filepath.Join(home, p[1:])
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(workDir(env), p)
	}
	return filepath.Clean(p), nil
}

// canonical resolves symbolic links in p, or in its nearest existing
// parent when p does not exist yet, so that a file has one name in the
// read tracker and in the workspace check whichever way it is reached.
func canonical(p string) string { return policy.Resolve(p) }

// inWorkspace reports whether the canonical path p lies inside the
// workspace root.
func inWorkspace(env *Env, p string) bool {
	rel, err := filepath.Rel(canonical(workDir(env)), p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// policyPath is the path that the permission policy judges for a call on
// the file whose canonical name is real: symbolic links resolved, so that
// a link inside the workspace to a file outside it is judged as outside.
// A file inside the workspace is named from the workspace root as given,
// which is what the policy compares with.
func policyPath(env *Env, real string) string {
	if rel, err := filepath.Rel(canonical(workDir(env)), real); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return filepath.Join(workDir(env), rel)
	}
	return real
}

// displayPath names a file in tool output: relative to the workspace root
// when inside it, absolute otherwise.
func displayPath(env *Env, p string) string {
	if rel, err := filepath.Rel(workDir(env), p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		p = rel
	}
	return quotePath(p)
}

// quotePath quotes a path that holds a control character or invalid
// UTF-8, as git does, so that every path in a listing stays on one line.
func quotePath(p string) string {
	if !utf8.ValidString(p) || strings.ContainsFunc(p, unicode.IsControl) {
		return strconv.Quote(p)
	}
	return p
}

// Texts the model acts on, worded as Claude Code words them because
// models are trained on them.
const (
	msgNotRead = "File has not been read yet. Read it first before writing to it."
	msgStale   = "File has been modified since read, either by the user or by a linter. Read it again before attempting to write it."
)

func msgNotExist(env *Env) string {
	return fmt.Sprintf("File does not exist. Note: your current working directory is %s.", workDir(env))
}

// checkFresh applies the rules for changing an existing file whose
// canonical path is key and whose content is cur: a file the model has
// seen must not have changed since, and a file outside the workspace must
// have been seen at all. It returns the refusal for the model, or "".
func checkFresh(env *Env, key string, cur []byte) string {
	seen, ok := env.Reads.Seen(key)
	switch {
	case ok && seen != sha256.Sum256(cur):
		return msgStale
	case !ok && !inWorkspace(env, key):
		return msgNotRead
	}
	return ""
}

// fileError words an error opening or reading a file for the model, or
// returns nil when it is not one the model can act on.
func fileError(env *Env, p string, err error) *Result {
	var res Result
	switch {
	case errors.Is(err, os.ErrNotExist):
		res = Errorf("%s", msgNotExist(env))
	case errors.Is(err, os.ErrPermission):
		res = Errorf("Permission denied: %s", p)
	default:
		var pe *os.PathError
		if !errors.As(err, &pe) {
			return nil
		}
		res = Errorf("Cannot open %s: %v", p, pe.Err)
	}
	return &res
}
