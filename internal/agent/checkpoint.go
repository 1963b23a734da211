package agent

import (
	"context"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/policy"
)

// Checkpointer snapshots the workspace before a call that may change it,
// so that the session can be rewound to the state before that call.
//
// Checkpoint numbers the snapshot as the session's next step and returns
// the step and the snapshot's ID. A failed snapshot still uses up its
// step, which it returns with the error. It should return promptly, with
// ctx's error, when ctx is done.
//
// Concurrency: the agent calls Checkpoint from one goroutine at a time and
// only while none of its other calls runs (a call that may change
// something runs alone), so that the snapshot sees a quiet workspace; it
// waits for Checkpoint to return before running the call.
type Checkpointer interface {
	Checkpoint(ctx context.Context) (step int, id string, err error)
}

// checkpoint snapshots the workspace before a call that may change it,
// and reports the step in a checkpoint event. A snapshot that fails does
// not stop the call: a checkpoint is a way back, not a protection, and
// refusing every edit and command where git cannot snapshot (no git
// installed, a repository it cannot write to) would stop the user's work
// for the sake of an undo; the event says the snapshot failed, and the
// Checkpointer warns the user. It reports false, and the call must not
// run, only when ctx is done.
func (a *Agent) checkpoint(ctx context.Context, call llm.Part, p *prepared) bool {
	if a.cfg.Checkpoints == nil || !mutating(&p.access) {
		return true
	}
	step, id, err := a.cfg.Checkpoints.Checkpoint(ctx)
	if ctx.Err() != nil {
		return false
	}
	e := event.Event{Type: event.Checkpoint, CallID: call.CallID, Name: call.Name, Step: step, CheckpointID: id, Target: target(a.cfg.Env.Dir, &p.access)}
	if err != nil {
		e.CheckpointID, e.Error = "", err.Error()
	}
	a.emit(e)
	return true
}

// mutating reports whether a call may change the workspace: an edit, or
// a command the policy does not know to be read-only.
func mutating(c *policy.Call) bool {
	return c.Kind == policy.Edit || c.Kind == policy.Exec && !policy.ReadOnly(c)
}

// maxTarget is the longest Target a checkpoint event carries, in bytes:
// enough to recognise a call in a list of steps.
const maxTarget = 200

// target is what a call writes (workspace-relative where it can be) or
// the command it runs, on one line and shortened, for the list of steps.
func target(dir string, c *policy.Call) string {
	var s string
	if c.Kind == policy.Edit {
		paths := make([]string, len(c.Writes))
		for i, w := range c.Writes {
			paths[i] = w
			if rel, err := filepath.Rel(dir, w); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				paths[i] = rel
			}
		}
		s = strings.Join(paths, ", ")
	} else {
		s = strings.Join(strings.Fields(c.Command), " ")
	}
	if len(s) <= maxTarget {
		return s
	}
	cut := maxTarget
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
