package checkpoint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/lathe-dev/lathe/internal/sandbox"
)

// ErrNoGit is returned by [Open] when no git program is found.
var ErrNoGit = errors.New("checkpoints need git, and no git is on PATH")

// git runs git commands for one workspace through the executor.
type git struct {
	exec sandbox.Executor
	path string
	dir  string   // the working directory of every command: the workspace
	env  []string // the environment of every command, GIT_DIR and GIT_WORK_TREE set
}

// overrides are passed to every command. Each keeps a snapshot from
// reaching outside the private index or running code: no file system
// monitor hook, no split index (its shared part would be written into
// the user's git directory), no automatic gc, and no advice on stderr.
var overrides = []string{
	"-c", "core.fsmonitor=false",
	"-c", "core.splitIndex=false",
	"-c", "gc.auto=0",
	"-c", "maintenance.auto=false",
	"-c", "advice.addEmbeddedRepo=false",
	"-c", "core.quotePath=false",
}

// locating are the variables that tell git which repository, work tree,
// index or object store to use, or how to read pathspecs. Lathe may run
// inside a git hook, which sets some of them; a snapshot must use only
// the ones Store sets.
var locating = []string{
	"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
	"GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE",
	"GIT_PREFIX", "GIT_QUARANTINE_PATH", "GIT_REPLACE_REF_BASE", "GIT_GRAFT_FILE",
	"GIT_SHALLOW_FILE", "GIT_NO_REPLACE_OBJECTS", "GIT_LITERAL_PATHSPECS",
	"GIT_GLOB_PATHSPECS", "GIT_NOGLOB_PATHSPECS", "GIT_ICASE_PATHSPECS",
	"GIT_ATTR_SOURCE", "LC_ALL", "LANGUAGE",
}

// baseEnv returns Lathe's environment without the locating variables,
// with git's messages in English (Open reads one) and no prompts.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(locating, name) {
			env = append(env, kv)
		}
	}
	return append(env, "LC_ALL=C", "GIT_TERMINAL_PROMPT=0")
}

// stopGrace is how long a git command has to remove its lock files after
// SIGTERM once its context is done, before it is killed.
const stopGrace = 5 * time.Second

// run runs git with args and returns its standard output. extraEnv is
// added to g.env for this command. The error names the command and
// carries git's standard error.
func (g *git) run(ctx context.Context, stdin io.Reader, extraEnv []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, g.path, append(overrides[:len(overrides):len(overrides)], args...)...)
	cmd.Dir = g.dir
	cmd.Env = append(g.env[:len(g.env):len(g.env)], extraEnv...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	// git removes its lock files when terminated, not when killed: a
	// killed `git add` would leave the private index locked.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopGrace
	if err := g.exec.Start(ctx, cmd); err != nil {
		return nil, fmt.Errorf("git %s: %w", args[0], err)
	}
	err := cmd.Wait()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("git %s: %w", args[0], context.Cause(ctx))
	}
	if err != nil {
		return nil, &gitError{args: args, err: err, stderr: strings.TrimSpace(stderr.String())}
	}
	return stdout.Bytes(), nil
}

// gitError is a git command that failed.
type gitError struct {
	args   []string
	err    error
	stderr string
}

func (e *gitError) Error() string {
	if e.stderr == "" {
		return fmt.Sprintf("git %s: %v", strings.Join(e.args, " "), e.err)
	}
	return fmt.Sprintf("git %s: %v: %s", strings.Join(e.args, " "), e.err, e.stderr)
}

func (e *gitError) Unwrap() error { return e.err }

// line returns out without its trailing newline.
func line(out []byte) string { return strings.TrimSuffix(string(out), "\n") }
