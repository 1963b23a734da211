package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/netproxy"
)

// Emit records what e says about the session: a run's start, a call's
// decision and result (with the checkpoint taken before it ran), a rule
// a person added, the end of a turn or a prompt (when the log is
// synced). It is meant as the event bus's synchronous hook, so that it
// misses nothing and sees a call's decision before the call runs: the
// hashes of the files an allowed edit is to write are taken then, and
// those of the files it changed when its tool.end comes. A failure to
// write stops the log (see [Log.Err]).
func (l *Log) Emit(e event.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch e.Type {
	case event.SessionStart:
		l.mode = e.PermissionMode
		_ = l.append(&Record{
			Time: e.Time, Type: TypeStart, SessionID: e.SessionID, Mode: e.PermissionMode, Workspace: e.Cwd,
			Provider: e.Provider, Model: e.Model, Version: e.Version, Resumed: e.Resumed, ModeNotice: e.ModeNotice,
			Sandbox: l.info.Sandbox, RuleSources: l.info.RuleSources, User: l.info.User,
		})
	case event.PlanSubmitted:
		// A plan approved beforehand (--then) moves the run to another
		// mode, which decides the calls from here on.
		if e.PermissionMode != "" {
			l.mode = e.PermissionMode
		}
	case event.ToolStart:
		l.inputs[e.CallID] = e.Input
	case event.Decision:
		r := &Record{
			Time: e.Time, Type: TypeDecision, AgentID: e.AgentID, CallID: e.CallID, Tool: e.Name,
			Verdict: string(e.Verdict), DecidedBy: string(e.DecidedBy), Rule: e.Rule, RuleSource: e.RuleSource,
			Answer: string(e.Approval), Message: e.Message, GrantedBy: e.GrantedBy, Reason: e.Reason, ByUser: e.ByUser,
		}
		if r.DecidedBy == string(event.ByMode) {
			r.Mode = l.mode
		}
		setInput(r, l.inputs[e.CallID])
		delete(l.inputs, e.CallID)
		_ = l.append(r)
		if e.Verdict != event.Allowed {
			break
		}
		// The hashes before are taken now, just before the call runs:
		// calls that may change something run one at a time.
		switch e.Kind {
		case "edit":
			files := make([]File, len(e.Writes))
			for i, p := range e.Writes {
				files[i] = File{Path: p, Before: hashFile(p)}
			}
			l.before[e.CallID] = files
		case "exec":
			l.before[e.CallID] = nil
		}
	case event.RuleAdded:
		_ = l.append(&Record{Time: e.Time, Type: TypeRuleAdded, CallID: e.CallID, Tool: e.Name, Rule: e.Rule, RuleSource: e.RuleSource})
	case event.Checkpoint:
		l.checkpoints[e.CallID] = e
	case event.ToolEnd:
		r := &Record{
			Time: e.Time, Type: TypeResult, AgentID: e.AgentID, CallID: e.CallID, Tool: e.Name,
			ExitCode: e.ExitCode, IsError: e.IsError, Denied: e.Denied, Summary: e.Summary, ByUser: e.ByUser,
		}
		sum := sha256.Sum256([]byte(e.Output))
		r.OutputSHA256, r.OutputBytes = hex.EncodeToString(sum[:]), len(e.Output)
		// A call that was never decided (invalid, or interrupted before
		// it ran) has its arguments recorded here.
		if in, ok := l.inputs[e.CallID]; ok {
			setInput(r, in)
			delete(l.inputs, e.CallID)
		}
		if c, ok := l.checkpoints[e.CallID]; ok {
			r.Step, r.Checkpoint, r.CheckpointError = c.Step, c.CheckpointID, c.Error
			delete(l.checkpoints, e.CallID)
		}
		if files, ran := l.before[e.CallID]; ran {
			r.Files, r.FilesUnknown = changed(files, e.Changes), files == nil
			delete(l.before, e.CallID)
		}
		_ = l.append(r)
	case event.Usage:
		l.sync()
	case event.Result:
		l.outcome = string(e.Outcome)
		l.sync()
	}
}

// changed lists the files an edit was to write (with their hashes before)
// and those it reports changed, with their hashes now.
func changed(before []File, changes []event.FileChange) []File {
	files := slices.Clone(before)
	for _, c := range changes {
		i := slices.IndexFunc(files, func(f File) bool { return f.Path == c.Path })
		if i < 0 {
			// Not named before it ran, so not hashed then.
			files = append(files, File{Path: c.Path, Before: unknown})
			i = len(files) - 1
		}
		files[i].Kind = string(c.Kind)
	}
	kept := files[:0]
	for _, f := range files {
		f.After = hashFile(f.Path)
		// A file the call was to write but did not report is listed
		// only if it changed: the old path of a move, say.
		if f.Kind == "" {
			switch {
			case f.After == f.Before:
				continue
			case f.After == "":
				f.Kind = string(event.ChangeDelete)
			case f.Before == "":
				f.Kind = string(event.ChangeAdd)
			default:
				f.Kind = string(event.ChangeUpdate)
			}
		}
		kept = append(kept, f)
	}
	return kept
}

// unknown stands in for a hash that was not taken.
const unknown = "unknown"

// setInput records a call's arguments, or their digest when they are
// large (a Write of a big file, whose result's file hashes say more).
func setInput(r *Record, in json.RawMessage) {
	if len(in) == 0 {
		return
	}
	var buf bytes.Buffer
	if json.Compact(&buf, in) != nil {
		// Not JSON: keep it as a string, as the event stream does.
		buf.Reset()
		q, _ := json.Marshal(string(in))
		buf.Write(q)
	}
	if buf.Len() > maxInput {
		sum := sha256.Sum256(buf.Bytes())
		r.InputSHA256, r.InputBytes = hex.EncodeToString(sum[:]), buf.Len()
		return
	}
	r.Input = json.RawMessage(buf.Bytes())
}

// maxInput is the largest input recorded verbatim, as in the session log.
const maxInput = 4 << 10

// Network records c, the network proxy's report of a connection as it
// ended: pass it to netproxy.WithReport. It may be called from any
// goroutine, and does not block on anything but the log's file.
func (l *Log) Network(c netproxy.Conn) {
	r := &Record{
		Type: TypeNetwork, Host: c.Host, Port: c.Port, Method: c.Method, Allowed: &c.Allowed, Rule: c.Rule, RuleSource: c.RuleSource,
		Reason: c.Reason, Addr: c.Addr, Error: c.Err, Status: c.Status, Sent: c.Sent, Received: c.Received, DurationMS: c.Duration.Milliseconds(),
	}
	if !c.Start.IsZero() {
		r.Time = c.Start.UTC().Format(timeFormat)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.append(r)
}
