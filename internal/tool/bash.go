package tool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"strings"
	"time"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/shell"
)

type bash struct{}

// NewBash returns Claude Code's Bash tool: a bash script run in the
// workspace root, in the foreground with a timeout or as a background job.
func NewBash() Tool { return bash{} }

func (bash) Def() llm.ToolDef {
	return llm.ToolDef{
		Name:        "Bash",
		Description: describe("Bash"),
		Schema: json.RawMessage(`{
			"type": "object",
			"properties": {
				"command": {"type": "string", "description": "The command to execute"},
				"timeout": {"type": "number", "description": "Optional timeout in milliseconds (max 600000)"},
				"description": {"type": "string", "description": "Clear, concise description of what this command does in 5-10 words"},
				"run_in_background": {"type": "boolean", "description": "Set to true to run this command in the background. Use BashOutput to read the output later."}
			},
			"required": ["command"],
			"additionalProperties": false
		}`),
	}
}

func (bash) ReadOnly() bool { return false }

func (t bash) Run(ctx context.Context, env *Env, input json.RawMessage) (Result, error) {
	p, err := t.Prepare(env, input)
	return runPrepared(ctx, p, err)
}

// Prepare decodes a Bash call and gives the command it runs.
func (bash) Prepare(env *Env, input json.RawMessage) (Prepared, error) {
	// Description is accepted for displaying the call; running it needs
	// none.
	var args struct {
		Command         string   `json:"command"`
		Timeout         *float64 `json:"timeout"`
		Description     string   `json:"description"`
		RunInBackground bool     `json:"run_in_background"`
	}
	if err := decodeArgs(input, &args, "command"); err != nil {
		return Prepared{}, err
	}
	if strings.TrimSpace(args.Command) == "" {
		return Prepared{}, errors.New("command must not be empty")
	}
	timeout, err := timeoutArg("timeout", args.Timeout)
	if err != nil {
		return Prepared{}, err
	}
	c := shell.Command{Script: args.Command, Dir: workDir(env), Timeout: timeout, Spill: env.Outputs}
	return Prepared{
		Access: policy.Call{Kind: policy.Exec, Dir: c.Dir, Command: c.Script},
		Run: func(ctx context.Context) (Result, error) {
			return runBash(ctx, env, c, args.RunInBackground)
		},
	}, nil
}

// runBash runs a Bash call's command c, in the background if asked.
func runBash(ctx context.Context, env *Env, c shell.Command, background bool) (Result, error) {
	if env.Shell == nil {
		return Result{}, errors.New("bash: no shell runner")
	}
	if background {
		// The job outlives this call, so not its cancellation, but keeps
		// its profile and output hook. KillShell, or the end of the
		// session, stops it.
		j, err := env.Shell.Start(context.WithoutCancel(ctx), c)
		if err != nil {
			if cannotStart(err) {
				return Errorf("%v", err), nil
			}
			return Result{}, err
		}
		return Result{
			Content: "Command running in background with ID: " + j.ID(),
			Summary: "started " + j.ID(),
		}, nil
	}

	res, err := env.Shell.Run(ctx, c)
	if err != nil {
		if cannotStart(err) {
			return Errorf("%v", err), nil
		}
		return Result{}, err
	}
	var sb strings.Builder
	if out := strings.TrimRight(res.Output, "\n"); out != "" {
		sb.WriteString(out)
	} else {
		sb.WriteString("(no output)")
	}
	switch {
	case res.TimedOut:
		fmt.Fprintf(&sb, "\nCommand timed out after %v", res.Timeout)
	case res.Signal != 0:
		fmt.Fprintf(&sb, "\nExit code: %d (%v)", res.ExitCode, res.Signal)
	case res.ExitCode != 0:
		fmt.Fprintf(&sb, "\nExit code: %d", res.ExitCode)
	}
	return Result{
		Content:  sb.String(),
		Capped:   true,
		Saved:    res.Saved,
		IsError:  res.TimedOut || res.ExitCode != 0,
		Summary:  summarize(res),
		ExitCode: exitCode(res),
	}, nil
}

// timeoutArg converts a timeout in milliseconds from the model, where
// absent or zero means the default. Values over the maximum are capped by
// the shell rather than refused: the intent is clear.
func timeoutArg(name string, ms *float64) (time.Duration, error) {
	if ms == nil {
		return 0, nil
	}
	if *ms < 0 {
		return 0, fmt.Errorf("%s must be a positive number of milliseconds", name)
	}
	return time.Duration(*ms * float64(time.Millisecond)), nil
}

// cannotStart reports whether an error from running a command is the
// model's to fix, a missing program or directory, rather than the
// harness's: a cancelled context, a closed runner, no pipes.
func cannotStart(err error) bool {
	return errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission)
}

// summarize describes a finished command in one line, such as
// "exit 1, 240 lines, 1.2s".
func summarize(res shell.Result) string {
	status := fmt.Sprintf("exit %d", res.ExitCode)
	if res.TimedOut {
		status = fmt.Sprintf("timed out after %v", res.Timeout)
	}
	lines := "lines"
	if res.Lines == 1 {
		lines = "line"
	}
	return fmt.Sprintf("%s, %d %s, %v", status, res.Lines, lines, roundDuration(res.Duration))
}

// roundDuration keeps two or three significant digits for display.
func roundDuration(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

// exitCode is a finished command's exit status; a command stopped by its
// timeout has none.
func exitCode(res shell.Result) *int {
	if res.TimedOut {
		return nil
	}
	return &res.ExitCode
}
