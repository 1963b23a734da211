package app

import (
	"context"

	"github.com/lathe-dev/lathe/internal/agent"
)

// Shell runs command, which the user typed (the terminal UI's `!`),
// through the session's policy and sandbox as the agent's Bash calls run,
// and adds it and its output to the conversation for the next prompt, as
// [agent.Agent.RunUser] says. Its events are published and recorded like
// a call's. It refuses, with [agent.ErrBusy], while a prompt runs;
// cancelling ctx stops the command.
func (a *App) Shell(ctx context.Context, command string) agent.UserCommand {
	return a.agent.RunUser(ctx, command)
}
