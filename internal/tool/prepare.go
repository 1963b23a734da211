package tool

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"

	"github.com/lathe-dev/lathe/internal/policy"
	"mvdan.cc/sh/v3/syntax"
)

// Prepared is a call worked out from its arguments before it runs: what
// the permission policy decides on, and the call itself, bound to the
// arguments as decoded and the paths as resolved for that decision, so
// that what runs is exactly what was decided. The caller fills in
// Access.Tool when it is empty, and parses Access.Command.
type Prepared struct {
	// Access is the call as the policy sees it. Its Tool is set when
	// another tool's call runs in place of the one the model made: a
	// Codex shell call that applies a patch runs as apply_patch, in the
	// directory the shell call named.
	Access policy.Call
	// Run runs the call. It is called at most once, from any goroutine,
	// under the contract of [Tool]'s Run; it reads nothing of the input
	// the call was prepared from, so a change to those bytes after
	// Prepare changes nothing.
	Run func(ctx context.Context) (Result, error)
}

// runPrepared is the Run of a tool that prepares its calls: invalid
// arguments are an error result for the model, as the agent words them
// for a call it prepares itself; other calls run as prepared.
func runPrepared(ctx context.Context, p Prepared, err error) (Result, error) {
	if err != nil {
		return Errorf("%v", err), nil
	}
	return p.Run(ctx)
}

// failing is the Run of a call whose arguments are valid but that fails
// for what Prepare found on disk, such as a missing working directory:
// the policy still decides it, on what the call names, and running it
// reports the failure.
func failing(res Result) func(context.Context) (Result, error) {
	return func(context.Context) (Result, error) { return res, nil }
}

// filePath resolves the file_path argument of a call: the path as the
// tool names it to the model, and its canonical name, which the call
// reads or writes and the read tracker knows it by.
func filePath(env *Env, arg string) (path, key string, err error) {
	path, err = resolvePath(env, "file_path", arg)
	if err != nil {
		return "", "", err
	}
	return path, canonical(path), nil
}

// commandLine is the shell command an argv runs: the script of a "bash -c
// SCRIPT" call, or the argv quoted as a shell would need it.
func commandLine(argv []string) string {
	if len(argv) == 3 && (argv[1] == "-c" || argv[1] == "-lc") {
		switch filepath.Base(argv[0]) {
		case "bash", "sh", "zsh", "dash":
			return argv[2]
		}
	}
	words := make([]string, len(argv))
	for i, w := range argv {
		q, err := syntax.Quote(w, syntax.LangBash)
		if err != nil {
			// A word no shell can spell (a NUL byte) leaves the line
			// unparsable, which the policy treats as opaque.
			q = w
		}
		words[i] = q
	}
	return strings.Join(words, " ")
}

// resolveDir is the directory dir names from base, lexically.
func resolveDir(base, dir string) string {
	if filepath.IsAbs(dir) {
		return filepath.Clean(dir)
	}
	return filepath.Join(base, dir)
}

// prepareSearch prepares a call of a search tool (Grep, Glob, list_dir,
// grep_files), which reads under the file or directory its argument arg
// names, or the workspace when it names none: the policy judges that
// path as the call's read, by the Read rules and the secrets' defaults.
// The call then runs as run would run its input, kept as it was; bad
// arguments are run's to report.
func prepareSearch(env *Env, input json.RawMessage, arg string, run func(context.Context, *Env, json.RawMessage) (Result, error)) (Prepared, error) {
	input = bytes.Clone(input)
	access := policy.Call{Kind: policy.Read, Dir: workDir(env)}
	path := workDir(env)
	var args map[string]json.RawMessage
	var named string
	if json.Unmarshal(input, &args) == nil && json.Unmarshal(args[arg], &named) == nil && named != "" {
		if p, err := resolvePath(env, arg, named); err == nil {
			path = p
		}
	}
	access.Reads, access.LexicalReads = []string{policyPath(env, canonical(path))}, []string{path}
	return Prepared{Access: access, Run: func(ctx context.Context) (Result, error) { return run(ctx, env, input) }}, nil
}
