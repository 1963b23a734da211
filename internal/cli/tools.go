package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/patch"
	"github.com/lathe-dev/lathe/internal/termsafe"
	"github.com/lathe-dev/lathe/internal/tool"
	"io"
	"os"
	"slices"
)

// runTool runs one built-in tool once in the current directory and prints
// exactly what the model would see.
func runTool(ctx context.Context, args []string, stdio IO) error {
	if len(args) != 2 {
		return usagef("usage: lathe tool NAME 'JSON-ARGS' (tools: %s)", toolNames())
	}
	t, ok := findTool(args[0])
	if !ok {
		return usagef("unknown tool %q (tools: %s)", args[0], toolNames())
	}
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	env, sb := app.NewEnv(dir, 0, nil, nil)
	defer sb.Close()
	defer env.Shell.Close()
	res, err := t.Run(ctx, env, json.RawMessage(args[1]))
	if err != nil {
		return err
	}
	// What the model would see, except that it may not drive the
	// terminal: a Read of a file full of escape sequences prints none.
	fmt.Fprintln(stdio.Stdout, termsafe.String(res.Content))
	if res.IsError {
		return exitError{app.ExitFailed}
	}
	return nil
}

// allTools is every built-in tool of every dialect, each name once.
func allTools() []tool.Tool {
	var all []tool.Tool
	seen := map[string]bool{}
	for _, t := range slices.Concat(tool.Set(tool.DialectClaude, false), tool.Set(tool.DialectCodex, false)) {
		if name := t.Def().Name; !seen[name] {
			seen[name] = true
			all = append(all, t)
		}
	}
	return all
}

func findTool(name string) (tool.Tool, bool) {
	for _, t := range allTools() {
		if t.Def().Name == name {
			return t, true
		}
	}
	return nil, false
}

func toolNames() string {
	var names []string
	for _, t := range allTools() {
		names = append(names, t.Def().Name)
	}
	return fmt.Sprint(names)
}

// applyPatch applies a patch from a file or stdin in the current directory.
func applyPatch(ctx context.Context, args []string, stdio IO) error {
	var text []byte
	var err error
	switch len(args) {
	case 0:
		if stdio.StdinIsTerminal {
			return usagef("usage: lathe apply-patch [FILE] (or the patch on stdin)")
		}
		text, err = io.ReadAll(stdio.Stdin)
	case 1:
		text, err = os.ReadFile(args[0])
	default:
		return usagef("usage: lathe apply-patch [FILE] (or the patch on stdin)")
	}
	if err != nil {
		return fmt.Errorf("read patch: %w", err)
	}
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	res, err := patch.Apply(ctx, dir, string(text))
	var perr *patch.Error
	if errors.As(err, &perr) {
		fmt.Fprintln(stdio.Stderr, termsafe.String(perr.Error()))
		return exitError{app.ExitFailed}
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdio.Stdout, termsafe.String(res.String()))
	return nil
}
