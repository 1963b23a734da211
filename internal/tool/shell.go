package tool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/shell"
)

type shellTool struct{}

// NewShell returns Codex's shell tool: an argv run in a working directory.
// Calls that invoke apply_patch, which Codex models often make through
// shell, are handed to the apply_patch tool.
func NewShell() Tool { return shellTool{} }

func (shellTool) Def() llm.ToolDef {
	return llm.ToolDef{
		Name:        "shell",
		Description: describe("shell"),
		Schema: json.RawMessage(`{
			"type": "object",
			"properties": {
				"command": {"type": "array", "items": {"type": "string"}, "description": "The command to execute"},
				"workdir": {"type": "string", "description": "The working directory to execute the command in"},
				"timeout_ms": {"type": "number", "description": "The timeout for the command in milliseconds"}
			},
			"required": ["command"],
			"additionalProperties": false
		}`),
	}
}

func (shellTool) ReadOnly() bool { return false }

func (t shellTool) Run(ctx context.Context, env *Env, input json.RawMessage) (Result, error) {
	p, err := t.Prepare(env, input)
	return runPrepared(ctx, p, err)
}

// Prepare decodes a shell call and gives the command line it runs and the
// directory it runs in, or, for a call that applies a patch, the
// apply_patch call it stands for.
func (shellTool) Prepare(env *Env, input json.RawMessage) (Prepared, error) {
	var args struct {
		Command   []string `json:"command"`
		Workdir   string   `json:"workdir"`
		TimeoutMS *float64 `json:"timeout_ms"`
	}
	if err := decodeArgs(input, &args, "command"); err != nil {
		return Prepared{}, err
	}
	if len(args.Command) == 0 || args.Command[0] == "" {
		return Prepared{}, errors.New("command must not be empty")
	}
	timeout, err := timeoutArg("timeout_ms", args.TimeoutMS)
	if err != nil {
		return Prepared{}, err
	}
	exec := policy.Call{Kind: policy.Exec, Command: commandLine(args.Command)}
	dir, err := workdir(workDir(env), args.Workdir)
	if err != nil {
		// The policy judges the command where it would run.
		exec.Dir = resolveDir(workDir(env), args.Workdir)
		return Prepared{Access: exec, Run: failing(Errorf("%v", err))}, nil
	}
	exec.Dir = dir
	if text, cd, ok := applyPatchCall(args.Command); ok {
		at, err := workdir(dir, cd)
		if err != nil {
			return Prepared{Access: exec, Run: failing(Errorf("%v", err))}, nil
		}
		p, err := preparePatch(env, at, text)
		if err != nil {
			return Prepared{}, err
		}
		p.Access.Tool = "apply_patch"
		return p, nil
	}
	c := shell.Command{Args: nonLogin(args.Command), Dir: dir, Timeout: timeout, Spill: env.Outputs}
	return Prepared{Access: exec, Run: func(ctx context.Context) (Result, error) { return runShell(ctx, env, c) }}, nil
}

// runShell runs a shell call's command c.
func runShell(ctx context.Context, env *Env, c shell.Command) (Result, error) {
	if env.Shell == nil {
		return Result{}, errors.New("shell: no shell runner")
	}
	res, err := env.Shell.Run(ctx, c)
	if err != nil {
		if !cannotStart(err) {
			return Result{}, err
		}
		return Errorf("execution error: %v", err), nil
	}

	// Codex's own format; its models are trained on it. A timeout is
	// reported as exit code 124, as by timeout(1).
	output := res.Output
	code := res.ExitCode
	if res.TimedOut {
		output = fmt.Sprintf("command timed out after %d milliseconds\n%s", res.Timeout.Milliseconds(), output)
		code = 124
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "Exit code: %d\nWall time: %.1f seconds\n", code, res.Duration.Seconds())
	if res.Truncated > 0 {
		fmt.Fprintf(&sb, "Total output lines: %d\n", res.Lines)
	}
	sb.WriteString("Output:\n")
	sb.WriteString(output)
	return Result{
		Content:  sb.String(),
		Capped:   true,
		Saved:    res.Saved,
		IsError:  code != 0,
		Summary:  summarize(res),
		ExitCode: exitCode(res),
	}, nil
}

// nonLogin turns the login shell Codex's models ask for (["bash", "-lc",
// script]) into a plain one. A login shell re-reads /etc/profile, which on
// many systems resets PATH, so the command would lose the environment the
// user started Lathe in (a toolchain, an activated virtualenv); it also
// costs 100-300 ms per command.
func nonLogin(argv []string) []string {
	if len(argv) == 3 && argv[1] == "-lc" {
		switch filepath.Base(argv[0]) {
		case "bash", "sh", "zsh", "dash":
			return []string{argv[0], "-c", argv[2]}
		}
	}
	return argv
}

// workdir resolves dir against base and checks that it is a directory.
func workdir(base, dir string) (string, error) {
	if dir == "" {
		return base, nil
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(base, dir)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("workdir %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("workdir %s is not a directory", dir)
	}
	return dir, nil
}

// heredocPatch matches the script Codex models use to apply a patch
// through a shell: "apply_patch <<'EOF'" on the first line, optionally
// after "cd DIR &&", then the patch and the delimiter.
var heredocPatch = regexp.MustCompile(`^\s*(?:cd\s+("[^"]*"|'[^']*'|\S+)\s*&&\s*)?(?:apply_patch|applypatch)\s*<<\s*(?:'(\w+)'|"(\w+)"|(\w+))[ \t]*\n`)

// applyPatchCall recognises a shell call that applies a patch, either the
// argv ["apply_patch", PATCH] or a "bash -lc" script feeding one to
// apply_patch through a here-document, and returns the patch and the
// directory the script changes to, if any.
func applyPatchCall(argv []string) (patch, cd string, ok bool) {
	if len(argv) == 2 && (argv[0] == "apply_patch" || argv[0] == "applypatch") {
		return argv[1], "", true
	}
	if len(argv) != 3 || (argv[1] != "-lc" && argv[1] != "-c") {
		return "", "", false
	}
	switch filepath.Base(argv[0]) {
	case "bash", "sh", "zsh":
	default:
		return "", "", false
	}
	script := argv[2]
	m := heredocPatch.FindStringSubmatchIndex(script)
	if m == nil {
		return "", "", false
	}
	sub := func(i int) string {
		if m[2*i] < 0 {
			return ""
		}
		return script[m[2*i]:m[2*i+1]]
	}
	cd = strings.Trim(sub(1), `"'`)
	delim := sub(2) + sub(3) + sub(4)
	body := script[m[1]:]
	// The patch ends at the delimiter's line; nothing may follow it, or
	// the script does more than apply a patch and runs as a script.
	off := 0
	for line := range strings.Lines(body) {
		if strings.TrimRight(line, "\r\n") == delim {
			if strings.TrimSpace(body[off+len(line):]) != "" {
				return "", "", false
			}
			return body[:off], cd, true
		}
		off += len(line)
	}
	return "", "", false
}
