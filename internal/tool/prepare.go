package tool

import (
	"encoding/json"
	"path/filepath"
	"strings"

	"github.com/lathe-dev/lathe/internal/policy"
	"mvdan.cc/sh/v3/syntax"
)

// Prepared is a call worked out from its arguments before it runs: what
// the permission policy decides on and, when the call stands for another
// tool's call, that call, which then runs in its place. The caller fills
// in Access.Tool when Tool is nil, and parses Access.Command.
type Prepared struct {
	Access policy.Call
	// Tool, Input and Env, when Tool is not nil, are the call that runs in
	// place of the one the model made: a Codex shell call that applies a
	// patch runs as apply_patch, in the directory the shell call named.
	Tool  Tool
	Input json.RawMessage
	Env   *Env
}

// Prepare lists the file a Read call reads.
func (readTool) Prepare(env *Env, input json.RawMessage) Prepared {
	return Prepared{Access: policy.Call{Kind: policy.Read, Dir: workDir(env), Reads: pathArg(env, input)}}
}

// Prepare lists the file a read_file call reads.
func (readFileTool) Prepare(env *Env, input json.RawMessage) Prepared {
	return Prepared{Access: policy.Call{Kind: policy.Read, Dir: workDir(env), Reads: pathArg(env, input)}}
}

// Prepare lists the file a Write call writes.
func (t writeTool) Prepare(env *Env, input json.RawMessage) Prepared {
	return Prepared{Access: policy.Call{Kind: policy.Edit, Dir: workDir(env), Writes: t.Paths(env, input)}}
}

// Prepare lists the file an Edit call writes.
func (t editTool) Prepare(env *Env, input json.RawMessage) Prepared {
	return Prepared{Access: policy.Call{Kind: policy.Edit, Dir: workDir(env), Writes: t.Paths(env, input)}}
}

// Prepare lists every file a patch adds, updates, deletes or moves to.
func (t applyPatch) Prepare(env *Env, input json.RawMessage) Prepared {
	return Prepared{Access: policy.Call{Kind: policy.Edit, Dir: workDir(env), Writes: t.Paths(env, input)}}
}

// Prepare gives the command a Bash call runs.
func (bash) Prepare(env *Env, input json.RawMessage) Prepared {
	var args struct {
		Command string `json:"command"`
	}
	_ = json.Unmarshal(input, &args) // Run reports bad arguments; an Exec call without a command is still one.
	return Prepared{Access: policy.Call{Kind: policy.Exec, Dir: workDir(env), Command: args.Command}}
}

// Prepare gives the command line a shell call runs and the directory it
// runs in, or, for a call that applies a patch, the apply_patch call it
// stands for.
func (shellTool) Prepare(env *Env, input json.RawMessage) Prepared {
	var args struct {
		Command []string `json:"command"`
		Workdir string   `json:"workdir"`
	}
	_ = json.Unmarshal(input, &args) // Run reports bad arguments; an Exec call without a command is still one.
	exec := Prepared{Access: policy.Call{Kind: policy.Exec, Dir: workDir(env), Command: commandLine(args.Command)}}
	dir, err := workdir(workDir(env), args.Workdir)
	if err != nil {
		// Run refuses it; the policy judges the command where it would run.
		exec.Access.Dir = resolveDir(workDir(env), args.Workdir)
		return exec
	}
	exec.Access.Dir = dir
	if p, ok, err := patchCall(env, dir, args.Command); ok && err == nil {
		return p
	}
	return exec
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
