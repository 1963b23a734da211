package app

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
)

// retryLog, before a run, tries the session log again after a write to
// it failed, so that an interactive session outlives a full disk or a
// permission problem once it is fixed. The conversation goes on from
// what the log holds, reloaded, so that the log and the next request
// agree and a resume loads what the session sent: whatever the failed
// run did after the failure is dropped from both. incomplete remembers
// that the log missed something. A log still failing fails the run.
func (a *App) retryLog(ctx context.Context) error {
	tr, err := a.log.Retry()
	if err != nil {
		return err
	}
	if tr == nil {
		return nil
	}
	a.incomplete.Store(true)
	if err := a.agent.Replace(ctx, llm.NewHistory(tr.Messages...)); err != nil {
		return fmt.Errorf("continue from the session log: %w", err)
	}
	return nil
}

// Incomplete reports whether a write to the session log failed during the
// session: then the log may lack part of what happened, and a resume of
// it may not have all of the conversation.
func (a *App) Incomplete() bool { return a.incomplete.Load() || a.log.Failed() != nil }

// logHint says, for the person, what to do about logErr, the session
// log's failed write, whose error names the path and errno.
func logHint(logErr error) string {
	hint := "check the disk"
	switch {
	case errors.Is(logErr, syscall.ENOSPC), errors.Is(logErr, syscall.EDQUOT):
		hint = "free some space on its disk"
	case errors.Is(logErr, syscall.EACCES), errors.Is(logErr, syscall.EPERM), errors.Is(logErr, syscall.EROFS):
		hint = "make the file and its directory writable"
	}
	return "The session log could not be written: " + hint + ". The next prompt tries again; what this run did after the failure is not in the log."
}

// failedRun is the outcome of a run that could not start because the
// session log still cannot be written.
func failedRun(err error) agent.Outcome {
	return agent.Outcome{Kind: event.Failed, CostKnown: true, Err: err}
}
