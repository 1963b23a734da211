package app

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/config"
)

// compactionConfig is when the session's conversation is compacted, and
// from what ledger a resumed compacted session goes on.
func (a *App) compactionConfig() agent.CompactionConfig {
	return a.compactionFrom(a.compaction)
}

// compactionFrom is c with the session's compaction settings.
func (a *App) compactionFrom(c agent.CompactionConfig) agent.CompactionConfig {
	c.Budget, c.Off = a.cfg.Compaction.Budget, !a.cfg.Compaction.Auto
	c.Native = a.prov.Compaction == config.CompactionNative
	// One flag for the session's agents, made when Open configures the
	// main agent, before any subagent can start: a provider that refused
	// native compaction is asked no more by any of them.
	if a.compaction.NativeRejected == nil {
		a.compaction.NativeRejected = new(atomic.Bool)
	}
	c.NativeRejected = a.compaction.NativeRejected
	return c
}

// Compact compacts the session's conversation now (`lathe compact`),
// keeping focus in particular, and ends like a prompt: the result, whose
// answer says how much the context shrank, is recorded and published.
func (a *App) Compact(ctx context.Context, focus string) Result {
	start := time.Now()
	return a.finish(start, a.agent.Compact(ctx, focus))
}
