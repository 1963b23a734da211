package app

import (
	"context"
	"time"
)

// Recap asks the model for a short recap of the session's conversation
// (`lathe recap`): the goal, the task in progress and the next action,
// as the result's answer. It ends like a prompt, recorded and published,
// and leaves the conversation as it was.
func (a *App) Recap(ctx context.Context) Result {
	start := time.Now()
	return a.finish(start, a.agent.Recap(ctx))
}
