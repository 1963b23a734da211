package app

import (
	"context"
	"fmt"

	"github.com/lathe-dev/lathe/internal/agent"
)

// Shell runs command, which the user typed (the terminal UI's `!`),
// through the session's policy and sandbox as the agent's Bash calls run,
// and adds it and its output to the conversation for the next prompt, as
// [agent.Agent.RunUser] says. Its events are published and recorded like
// a call's. It refuses, with [agent.ErrBusy], while a prompt runs;
// cancelling ctx stops the command.
func (a *App) Shell(ctx context.Context, command string) agent.UserCommand {
	if err := a.retryLog(ctx); err != nil {
		return agent.UserCommand{Err: fmt.Errorf("%w\n%s", err, logHint(err))}
	}
	uc := a.agent.RunUser(ctx, command)
	if lerr := a.log.Failed(); uc.Err != nil && lerr != nil {
		uc.Err = fmt.Errorf("%w\n%s", uc.Err, logHint(lerr))
	}
	return uc
}
