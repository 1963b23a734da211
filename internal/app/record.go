package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/lathe-dev/lathe/internal/event"
)

// recordEvent keeps the audit trail of tool calls (a subagent's too,
// with its agent_id), checkpoints, retries and subagents in the session
// log, and the todo lists and plans, which a resume reads back; messages
// and usage are recorded by the agent itself. It is the bus's
// synchronous hook, so it misses nothing.
func (a *App) recordEvent(e event.Event) {
	switch e.Type {
	case event.ToolStart, event.ToolEnd, event.Retry, event.SessionStart, event.Checkpoint, event.TodoUpdated, event.PlanSubmitted, event.SubagentStart, event.SubagentEnd:
		// The call's message, recorded just before, holds the input: a
		// big Write is not stored twice. The digest is of the input as
		// that message records it, compacted, so that the two match.
		var in bytes.Buffer
		if e.Type == event.ToolStart && len(e.Input) > maxLoggedInput && json.Compact(&in, e.Input) == nil {
			sum := sha256.Sum256(in.Bytes())
			e.InputSHA256, e.InputBytes, e.Input = hex.EncodeToString(sum[:]), in.Len(), nil
		}
		b, err := json.Marshal(e)
		if err == nil {
			// A failure here resurfaces on the agent's next append,
			// which stops the run.
			_ = a.log.AppendEvent(b)
		}
	}
}

// maxLoggedInput is the largest tool.start input the session log keeps
// verbatim; docs/events.md documents it.
const maxLoggedInput = 4 << 10
