// Package cli is Lathe's command line: it parses arguments, reads the
// prompt, runs it on a session that internal/app builds, handles signals,
// and turns the session's events into output and an exit code.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/termsafe"
)

const quickstartCommand = "lathe -p \"the tests in pager/ fail, fix them\""

// Version is the release version, set at link time with
// -ldflags "-X github.com/lathe-dev/lathe/internal/cli.Version=v1.2.3".
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// IO is the process's standard streams.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// StdinIsTerminal is set when stdin is a terminal, so a prompt is not
	// read from it.
	StdinIsTerminal bool
}

// Main runs lathe with args (without the program name) and returns the
// exit code.
func Main(ctx context.Context, args []string, stdio IO) int {
	if err := harden(); err != nil {
		fmt.Fprintf(stdio.Stderr, "lathe: warning: %v\n", err)
	}
	err := dispatch(ctx, args, stdio)
	var exit exitError
	switch {
	case err == nil:
		return app.ExitOK
	case errors.As(err, &exit):
		return exit.code
	}
	// Errors quote files, servers and commands; their control characters
	// must not reach the terminal.
	fmt.Fprintf(stdio.Stderr, "lathe: %s\n", termsafe.String(err.Error()))
	var ue usageError
	if errors.As(err, &ue) {
		return app.ExitUsage
	}
	return app.ExitFailed
}

// exitError carries an exit code whose cause was already reported.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func dispatch(ctx context.Context, args []string, stdio IO) error {
	if len(args) > 0 {
		switch args[0] {
		case "exec":
			return runHeadless(ctx, args[1:], stdio, true)
		case "sessions":
			return listSessions(args[1:], stdio)
		case "compact":
			return compactSession(ctx, args[1:], stdio)
		case "recap":
			return recapSession(ctx, args[1:], stdio)
		case "audit":
			return runAudit(args[1:], stdio)
		case "tool":
			return runTool(ctx, args[1:], stdio)
		case "rewind":
			return rewind(ctx, args[1:], stdio)
		case "sandbox":
			return runSandbox(ctx, args[1:], stdio)
		case "doctor":
			return doctor(ctx, args[1:], stdio)
		case "apply-patch":
			return applyPatch(ctx, args[1:], stdio)
		case "permissions":
			return permissions(ctx, args[1:], stdio)
		case "trust":
			return trust(ctx, args[1:], stdio)
		case "version":
			fmt.Fprintf(stdio.Stdout, "lathe %s\n", version())
			return nil
		case "help":
			fmt.Fprint(stdio.Stdout, helpText)
			return nil
		}
	}
	return runHeadless(ctx, args, stdio, false)
}

const helpText = `lathe — a coding agent for your terminal

Usage:
  lathe [flags] ["PROMPT"]      on a terminal, the interactive UI (with a first prompt)
  lathe -p [flags] "PROMPT"     run a task headless and print the answer
  lathe exec [flags] "PROMPT"   the same (Codex style)
  echo PROMPT | lathe -p        the prompt may come on stdin
  lathe sessions                list saved sessions
  lathe compact [--resume ID] [FOCUS...]   compact a saved session (default: the latest here)
  lathe recap [ID]              a short recap of a saved session: goal, current task, next action
  lathe rewind SESSION          list a session's checkpoints (before each edit and command)
  lathe rewind SESSION --to N [--dry-run]
                                restore the files to how they were before step N
  lathe audit verify [SESSION]  check a session's audit log (default: the latest here); exit 1 naming the first altered record
  lathe audit export [SESSION] [--format json|csv]   the audit log as a report, one row per action
  lathe sandbox [--mode read-only|workspace-write] [--allow-domain D]... -- CMD [ARG...]
                                run a command confined as the shell tool runs it
  lathe doctor                  say what of the sandbox works here, and what is missing
  lathe tool NAME 'JSON-ARGS'   run one built-in tool in this directory
  lathe apply-patch [FILE]      apply a patch (Codex apply_patch format) from FILE or stdin
  lathe permissions check TOOL ARG   how a call would be decided: allow (exit 0), ask (10) or deny (11)
  lathe permissions list        the permission mode and rules in effect, each with its file
  lathe trust                   let this workspace's configuration widen permissions (see README)
  lathe version

Examples:
  lathe -p "the tests in pager/ fail, fix them"
  lathe -p --permission-mode bypassPermissions "run go test and fix what fails"
  lathe -p --permission-mode plan --then acceptEdits "split internal/cache into two packages"
  lathe -p --output-format stream-json "add a --json flag to cmd/report" > events.jsonl
  lathe -p --continue "now update the README"
  lathe -p --provider local --model qwen3-coder "explain internal/cache"
  lathe tool Read '{"file_path":"main.go","limit":20}'

Flags (before or after the prompt):
  -p, --print                  run headless; without it, on a terminal, lathe starts its interactive UI
  --no-alt-screen              run the interactive UI inline, in the terminal's scrollback, not full screen
  --output-format FORMAT       text (the answer), json (one result object) or stream-json (one event per line)
  --include-partial-messages   with stream-json, also emit the deltas and command output as they stream
  --provider NAME              anthropic, openai, openai-chat, or a provider named in config.toml
  -m, --model NAME             the model to use
  -i, --image FILE             attach the PNG, JPEG, GIF or WebP image FILE to the prompt (repeatable)
  --permission-mode MODE       plan (read only), default (ask for edits and commands), acceptEdits (edits in
                               the workspace), auto (the default where the sandbox works: commands run inside it)
                               or bypassPermissions (everything, no sandbox)
  --then MODE                  with --permission-mode plan, carry out the plan the model submits in MODE
  --allow RULE, --deny RULE    a permission rule, such as 'Bash(npm test)' (repeatable)
  --settings FILE              a settings file: Lathe's TOML or Claude Code's settings.json (repeatable)
  --trust-workspace            let this workspace's configuration widen permissions for this run
  --max-turns N                stop after N model responses (default: no limit)
  --max-budget-usd X           stop once the run has cost X dollars
  --max-duration D             stop once the run has taken D of wall-clock time, such as 30m or 2h
  -c, --continue               continue the latest session in this directory
  -r, --resume ID              continue session ID
  --repair                     with --resume or --continue, drop the records of the session that cannot be read
  --fork-session               with --resume or --continue, start a new session from that one's conversation, leaving it as it was
  -C, --cd DIR                 work in DIR (to resume a session started elsewhere, its directory)
  --verbose                    with text output, report each tool call on stderr
  -v, --version                print the version

Environment:
  ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL   the anthropic provider
  OPENAI_API_KEY, OPENAI_BASE_URL         the openai and openai-chat providers
  Config: ~/.config/lathe/config.toml, .lathe/config.toml, .lathe/config.local.toml and
  /etc/lathe/managed.toml (see README); LATHE_MANAGED_CONFIG names one more managed policy file.
  Sessions: $XDG_STATE_HOME/lathe/sessions (default ~/.local/state/lathe).

Exit codes:
  0 done   1 failed   2 usage or configuration error   3 provider error after retries
  4 limit reached (turns, budget, duration, context window)   5 done, but some tool calls were denied
  130 interrupted
`

const quickstart = `lathe — a coding agent for your terminal

Run a task in this repository:
  ` + quickstartCommand + `

Lathe needs a model. Set one of:
  export ANTHROPIC_API_KEY=...          # Claude
  export OPENAI_API_KEY=...             # GPT
or name a local OpenAI-compatible server (Ollama, vLLM, llama.cpp) in ~/.config/lathe/config.toml.

See lathe --help for all flags.
`

// readPrompt joins positional arguments into the prompt, or reads it from
// stdin when there are none and stdin is not a terminal.
func readPrompt(pos []string, stdio IO) (string, error) {
	if len(pos) > 0 {
		return strings.Join(pos, " "), nil
	}
	if stdio.StdinIsTerminal || stdio.Stdin == nil {
		return "", nil
	}
	b, err := io.ReadAll(stdio.Stdin)
	if err != nil {
		return "", fmt.Errorf("read prompt from stdin: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// stdinIsTerminal reports whether f is a character device, which is how
// a terminal shows up without cgo or a terminal library.
func stdinIsTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// StdIO returns the process's standard streams.
func StdIO() IO {
	return IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, StdinIsTerminal: stdinIsTerminal(os.Stdin)}
}
