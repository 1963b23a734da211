// Package event is Lathe's event model: what happens during a run, as a
// stream of flat JSON-friendly values. The headless output formats and the
// session log are sinks of this one stream (and the terminal UI will be
// another), so anything a consumer needs to know must be an event.
//
// The schema is documented in docs/events.md and docs/events.schema.json.
package event

import (
	"encoding/json"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/todo"
)

// Type names an event.
type Type string

const (
	// SessionStart opens every run: session id, model, tools.
	SessionStart Type = "session.start"
	// TextDelta and ThinkingDelta stream a response as it arrives. They
	// are provisional: after a Retry event, the deltas of the failed
	// attempt are void and the response streams again.
	TextDelta     Type = "text.delta"
	ThinkingDelta Type = "thinking.delta"
	// Text and Thinking carry a completed block of a model response.
	Text     Type = "text"
	Thinking Type = "thinking"
	// ToolStart and ToolEnd bracket one tool call.
	ToolStart Type = "tool.start"
	ToolEnd   Type = "tool.end"
	// Retry says a model request failed and is being retried.
	Retry Type = "retry"
	// Usage reports the tokens and cost of one model response.
	Usage Type = "usage"
	// Result closes every run, exactly once.
	Result Type = "result"
	// Message says an assistant message is complete: Text is the whole
	// of its text blocks, concatenated, and CallIDs the tool calls it
	// makes, in order. It follows the message's text and thinking events.
	Message Type = "message"
	// ApprovalRequested says a call (CallID, Name, Input) waits for a
	// person to approve it, and why (Reason). ApprovalResolved, with the
	// same CallID, carries the Approval and the person's optional Message
	// for the model.
	ApprovalRequested Type = "approval.requested"
	ApprovalResolved  Type = "approval.resolved"
	// CommandOutput is a chunk (Text) of the live output of the command
	// that call CallID runs, as it arrives. Like the other deltas it may
	// be dropped for a slow subscriber; the call's tool.end carries what
	// the model was sent.
	CommandOutput Type = "command.output"
	// SteeringDelivered says Text, which the user typed while the loop
	// ran, was delivered to the model at a tool boundary.
	SteeringDelivered Type = "steering.delivered"
	// Checkpoint says the workspace was snapshotted before call CallID
	// (Name), which may change it, ran: Step numbers the snapshot within
	// the session, CheckpointID names it, and Target is what the call
	// writes or runs, shortened. A failed snapshot has Error instead of
	// CheckpointID; the call runs anyway. `lathe rewind` lists them.
	Checkpoint Type = "checkpoint"
	// Decision says whether call CallID (Name) may run (Verdict) and who
	// decided (DecidedBy, with Rule and RuleSource, Reason, or the
	// person's Approval and Message), after any approval and before the
	// call runs. Kind is what the call does, and Writes the files an edit
	// is to write. It is the audit log's record of the decision; like
	// message, stream-json leaves it out.
	Decision Type = "decision"
	// RuleAdded says a person's "always" answer to the approval of call
	// CallID (Name) was kept as the allow rule Rule in the file
	// RuleSource, for later sessions. It comes before the call's
	// approval.resolved.
	RuleAdded Type = "permission.rule_added"
	// CompactionStart says the conversation is being compacted, and why
	// (Reason: auto, reactive or manual), filling TokensBefore tokens.
	// CompactionEnd says it was replaced by its compacted form, which
	// fills TokensAfter; LedgerOnly, with Error saying why, when the
	// model gave no usable summary. The summary request's usage event
	// comes between them.
	CompactionStart Type = "compaction.start"
	CompactionEnd   Type = "compaction.end"
	// TodoUpdated says a todo call (CallID, Name: TodoWrite or
	// update_plan) set the model's task list to Todos, with update_plan's
	// Explanation; a resumed session's list is announced again after
	// session.start, without a call.
	TodoUpdated Type = "todo.updated"
	// PlanSubmitted says the model, in plan mode, submitted the plan Text
	// (call CallID, Name). PermissionMode is the mode the run carries it
	// out in (--then); empty, the plan is the run's answer and it ends.
	PlanSubmitted Type = "plan.submitted"
	// SubagentStart says a subagent, AgentID, of type Name started on
	// Model for the task Text; every event it produces carries its
	// AgentID, which is also the id of its own session log.
	// SubagentEnd says how it ended: Outcome, Turns, Usage, CostUSD, and
	// Error for an outcome but success. The parent's result counts its
	// usage and cost.
	SubagentStart Type = "subagent.start"
	SubagentEnd   Type = "subagent.end"
	// Warning says, in Text, that something did not work as configured
	// and the run goes on without it: the provider rejected native
	// compaction (Error), which falls back to local compaction.
	Warning Type = "warning"
)

// Verdict is a decision's outcome.
type Verdict string

const (
	Allowed Verdict = "allow"
	Denied  Verdict = "deny"
)

// DecidedBy says who decided a call.
type DecidedBy string

const (
	// ByRule: a permission rule, Rule, from the file RuleSource.
	ByRule DecidedBy = "rule"
	// ByMode: the permission mode's default.
	ByMode DecidedBy = "mode"
	// ByPerson: a person's Approval (and Message).
	ByPerson DecidedBy = "person"
	// BySession: a person allowed the same call for the session earlier.
	BySession DecidedBy = "session"
	// ByNobody: the call needed approval and nobody gave it: nobody could
	// be asked (a headless run), asking failed, or the run was interrupted
	// while it waited; Message says which.
	ByNobody DecidedBy = "nobody"
)

// Streaming reports whether events of type t are deltas of something a
// later event carries whole, and so may be dropped for a slow subscriber.
func (t Type) Streaming() bool {
	return t == TextDelta || t == ThinkingDelta || t == CommandOutput
}

// ApprovalAnswer is a person's answer to an approval request.
type ApprovalAnswer string

const (
	// ApproveOnce allows this call; ApproveSession allows calls like it
	// for the rest of the session; ApproveAlways also remembers it beyond
	// the session; ApproveDeny refuses it.
	ApproveOnce    ApprovalAnswer = "once"
	ApproveSession ApprovalAnswer = "session"
	ApproveAlways  ApprovalAnswer = "always"
	ApproveDeny    ApprovalAnswer = "deny"
)

// Event is one thing that happened. Which fields are set depends on Type;
// the others are omitted from the JSON form.
type Event struct {
	Type Type `json:"type"`
	// Seq numbers the events of a run from 1, with no gaps, in the order
	// they were published; Time is when, in UTC, RFC 3339 with
	// milliseconds. The Bus stamps both: producers leave them zero.
	Seq  uint64 `json:"seq,omitempty"`
	Time string `json:"time,omitempty"`
	// AgentID names the agent that produced the event; empty is the main
	// agent (subagents get ids).
	AgentID   string `json:"agent_id,omitempty"`
	SessionID string `json:"session_id"`
	// Turn is the 1-based number of the model response the event belongs
	// to, within this run.
	Turn int `json:"turn,omitempty"`

	// session.start
	Provider       string   `json:"provider,omitempty"`
	Model          string   `json:"model,omitempty"`
	Cwd            string   `json:"cwd,omitempty"`
	Tools          []string `json:"tools,omitempty"`
	PermissionMode string   `json:"permission_mode,omitempty"`
	ModeNotice     string   `json:"mode_notice,omitempty"` // why the mode is not what one may expect
	Resumed        bool     `json:"resumed,omitempty"`
	// ForkedFrom names the session whose conversation a forked one
	// began with.
	ForkedFrom string `json:"forked_from,omitempty"`
	Version    string `json:"version,omitempty"`

	// text, thinking and their deltas
	Text string `json:"text,omitempty"`

	// tool.start, tool.end, approval.*, command.output
	CallID string          `json:"call_id,omitempty"`
	Name   string          `json:"name,omitempty"`
	Input  json.RawMessage `json:"input,omitempty"`
	// InputSHA256 and InputBytes stand in for a large Input in the
	// session log's copy of a tool.start, whose call's message holds the
	// input already. The stream always carries Input.
	InputSHA256 string `json:"input_sha256,omitempty"`
	InputBytes  int    `json:"input_bytes,omitempty"`
	// Output is what the model was sent as the call's result.
	Output     string `json:"output,omitempty"`
	IsError    bool   `json:"is_error,omitempty"`
	Denied     bool   `json:"denied,omitempty"`
	Summary    string `json:"summary,omitempty"`
	DurationMS int64  `json:"duration_ms,omitempty"`
	// SavedOutput is the file holding the whole of a tool.end's output
	// when Output shows only its head and tail.
	SavedOutput string `json:"saved_output,omitempty"`
	// ByUser marks the tool.start, decision and tool.end of a command
	// the user ran from the terminal UI (`!`), not the model.
	ByUser bool `json:"by_user,omitempty"`
	// Changes are the files a tool.end's call changed (edit tools only).
	// ExitCode, below, is a command's exit status on a tool.end.
	Changes []FileChange `json:"changes,omitempty"`

	// message
	CallIDs []string `json:"call_ids,omitempty"`

	// checkpoint (and Error when the snapshot failed)
	Step         int    `json:"step,omitempty"`
	CheckpointID string `json:"checkpoint_id,omitempty"`
	Target       string `json:"target,omitempty"`

	// decision (and Reason, Approval, Message below); Rule and
	// RuleSource also on permission.rule_added
	Verdict    Verdict   `json:"verdict,omitempty"`
	DecidedBy  DecidedBy `json:"decided_by,omitempty"`
	Rule       string    `json:"rule,omitempty"`
	RuleSource string    `json:"rule_source,omitempty"`
	// GrantedBy is, for a call decided BySession, the call whose
	// approval granted it.
	GrantedBy string `json:"granted_by,omitempty"`
	// Kind is read, edit, exec or fetch (see policy.Kind).
	Kind   string   `json:"kind,omitempty"`
	Writes []string `json:"writes,omitempty"`

	// approval.requested (Reason) and approval.resolved (Approval, and
	// the person's optional Message to the model)
	Reason   string         `json:"reason,omitempty"`
	Approval ApprovalAnswer `json:"approval,omitempty"`
	Message  string         `json:"message,omitempty"`

	// todo.updated
	Todos       []todo.Item `json:"todos,omitempty"`
	Explanation string      `json:"explanation,omitempty"`

	// retry
	Attempt int    `json:"attempt,omitempty"`
	DelayMS int64  `json:"delay_ms,omitempty"`
	Status  int    `json:"status,omitempty"`
	Error   string `json:"error,omitempty"`

	// compaction.start and compaction.end (and Reason, Error above)
	TokensBefore int  `json:"tokens_before,omitempty"`
	TokensAfter  int  `json:"tokens_after,omitempty"`
	LedgerOnly   bool `json:"ledger_only,omitempty"`

	// usage (per turn) and result (per run)
	Usage   *llm.Usage `json:"usage,omitempty"`
	CostUSD *float64   `json:"cost_usd,omitempty"`

	// result
	Outcome      Outcome  `json:"outcome,omitempty"`
	Answer       string   `json:"answer,omitempty"`
	Turns        int      `json:"turns,omitempty"`
	TotalCostUSD *float64 `json:"total_cost_usd,omitempty"`
	CostKnown    *bool    `json:"cost_known,omitempty"`
	// CachedShare is the fraction of the run's input read from the
	// prompt cache, rounded to three places; absent without input.
	CachedShare *float64     `json:"cached_input_share,omitempty"`
	DeniedCalls []DeniedCall `json:"denied_calls,omitempty"`
	// KilledBackground are the background commands still running when
	// the run ended, which Lathe killed.
	KilledBackground []BackgroundCommand `json:"killed_background,omitempty"`
	// ExitCode is lathe's exit code on a result, and the exit status of
	// the command a tool.end's call ran, when it ran one to completion.
	ExitCode *int `json:"exit_code,omitempty"`
}

// FileChange is one file a call changed. A move is a delete of the old
// path and an add of the new one.
type FileChange struct {
	// Path is absolute.
	Path string     `json:"path"`
	Kind ChangeKind `json:"kind"`
}

// ChangeKind says how a file changed.
type ChangeKind string

const (
	ChangeAdd    ChangeKind = "add"
	ChangeUpdate ChangeKind = "update"
	ChangeDelete ChangeKind = "delete"
)

// DeniedCall is a tool call the permission policy refused.
type DeniedCall struct {
	CallID string          `json:"call_id"`
	Name   string          `json:"name"`
	Input  json.RawMessage `json:"input"`
	Reason string          `json:"reason"`
}

// BackgroundCommand is a command the model ran in the background.
type BackgroundCommand struct {
	// ID is the job's name, as the model used it (bash_1).
	ID      string `json:"id"`
	Command string `json:"command"`
}

// Outcome is how a run ended.
type Outcome string

const (
	// Success: the model finished and answered.
	Success Outcome = "success"
	// Failed: the run could not continue (a repeated failing call, a
	// harness error such as a full disk).
	Failed Outcome = "error"
	// ProviderError: the model could not be reached after retries.
	ProviderError Outcome = "provider_error"
	// MaxTurns, MaxBudget, MaxDuration, ContextWindow, OutputLimit: a
	// limit stopped the run. OutputLimit: response after response was cut
	// off at the output token limit.
	MaxTurns      Outcome = "max_turns"
	MaxBudget     Outcome = "max_budget"
	MaxDuration   Outcome = "max_duration"
	ContextWindow Outcome = "context_window"
	OutputLimit   Outcome = "output_limit"
	// Interrupted: SIGINT, SIGTERM or SIGHUP.
	Interrupted Outcome = "interrupted"
)

// Sink receives events. Emit is called from one goroutine at a time.
type Sink interface {
	Emit(Event)
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(Event)

// Emit calls f(e).
func (f SinkFunc) Emit(e Event) { f(e) }

// Multi returns a Sink that emits to each of sinks in order.
func Multi(sinks ...Sink) Sink {
	return SinkFunc(func(e Event) {
		for _, s := range sinks {
			s.Emit(e)
		}
	})
}
