package tool

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/shell"
)

type bashOutput struct{}

// NewBashOutput returns Claude Code's BashOutput tool, which reads the new
// output and the status of a background command.
func NewBashOutput() Tool { return bashOutput{} }

func (bashOutput) Def() llm.ToolDef {
	return llm.ToolDef{
		Name:        "BashOutput",
		Description: describe("BashOutput"),
		Schema: json.RawMessage(`{
			"type": "object",
			"properties": {
				"bash_id": {"type": "string", "description": "The ID of the background shell to retrieve output from"},
				"filter": {"type": "string", "description": "Optional regular expression to filter the output lines. Only lines matching this regex will be included in the result. Any lines that do not match will no longer be available to read."}
			},
			"required": ["bash_id"],
			"additionalProperties": false
		}`),
	}
}

func (bashOutput) ReadOnly() bool { return true }

func (bashOutput) Run(_ context.Context, env *Env, input json.RawMessage) (Result, error) {
	var args struct {
		BashID string `json:"bash_id"`
		Filter string `json:"filter"`
	}
	if err := decodeArgs(input, &args, "bash_id"); err != nil {
		return Errorf("%v", err), nil
	}
	var filter *regexp.Regexp
	if args.Filter != "" {
		var err error
		if filter, err = regexp.Compile(args.Filter); err != nil {
			return Errorf("invalid filter: %v", err), nil
		}
	}
	j, res, ok := findJob(env, args.BashID)
	if !ok {
		return res, nil
	}

	state, out := j.Read()
	text := strings.TrimRight(out.Output, "\n")
	if filter != nil && text != "" {
		var kept []string
		for line := range strings.SplitSeq(text, "\n") {
			if filter.MatchString(line) {
				kept = append(kept, line)
			}
		}
		text = strings.Join(kept, "\n")
	}

	status := state.String()
	switch {
	case state == shell.Exited && out.ExitCode == 0:
		status = "completed"
	case state == shell.Exited:
		status = "failed"
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "<status>%s</status>", status)
	if state != shell.Running {
		fmt.Fprintf(&sb, "\n\n<exit_code>%d</exit_code>", out.ExitCode)
	}
	if text != "" {
		fmt.Fprintf(&sb, "\n\n<output>\n%s\n</output>", text)
	}
	newLines := 0
	if text != "" {
		newLines = strings.Count(text, "\n") + 1
	}
	return Result{
		Content: sb.String(),
		Capped:  true,
		Saved:   out.Saved,
		Summary: fmt.Sprintf("%s %s, %d new lines", j.ID(), status, newLines),
	}, nil
}

type killShell struct{}

// NewKillShell returns Claude Code's KillShell tool, which stops a
// background command and everything it started.
func NewKillShell() Tool { return killShell{} }

func (killShell) Def() llm.ToolDef {
	return llm.ToolDef{
		Name:        "KillShell",
		Description: describe("KillShell"),
		Schema: json.RawMessage(`{
			"type": "object",
			"properties": {
				"shell_id": {"type": "string", "description": "The ID of the background shell to kill"}
			},
			"required": ["shell_id"],
			"additionalProperties": false
		}`),
	}
}

func (killShell) ReadOnly() bool { return false }

func (killShell) Run(_ context.Context, env *Env, input json.RawMessage) (Result, error) {
	var args struct {
		ShellID string `json:"shell_id"`
	}
	if err := decodeArgs(input, &args, "shell_id"); err != nil {
		return Errorf("%v", err), nil
	}
	j, res, ok := findJob(env, args.ShellID)
	if !ok {
		return res, nil
	}
	if !j.Kill() {
		return Errorf("Shell %s is not running.", j.ID()), nil
	}
	return Result{
		Content: fmt.Sprintf("Successfully killed shell: %s (%s)", j.ID(), headline(j.Command())),
		Summary: "killed " + j.ID(),
	}, nil
}

// findJob looks up a background job by the ID the model gave, returning
// the error Result to send when there is none.
func findJob(env *Env, id string) (*shell.Job, Result, bool) {
	if env.Shell == nil {
		return nil, Errorf("No shell found with ID: %s", id), false
	}
	j, ok := env.Shell.Job(id)
	if !ok {
		return nil, Errorf("No shell found with ID: %s", id), false
	}
	return j, Result{}, true
}

// headline shortens a command to its first line and at most 80
// characters, to name it without echoing a whole script back.
func headline(command string) string {
	line, _, multi := strings.Cut(command, "\n")
	if r := []rune(line); len(r) > 80 {
		line, multi = string(r[:80]), true
	}
	if multi {
		line += "…"
	}
	return line
}
