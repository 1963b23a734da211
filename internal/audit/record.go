package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Record types, the "type" field of each line.
const (
	// TypeStart opens each run on the session: the mode, the workspace,
	// the sandbox, the rules in force.
	TypeStart = "session.start"
	// TypeDecision is a tool call's decision: allowed or denied, by whom.
	TypeDecision = "decision"
	// TypeResult is what a call did: its output's digest, its exit code,
	// the files it changed.
	TypeResult = "result"
	// TypeNetwork is a network connection a command made through the
	// proxy, allowed or refused.
	TypeNetwork = "network"
	// TypeRuleAdded is a permission rule a person's "always" answer
	// added to a configuration file, for later sessions.
	TypeRuleAdded = "rule.added"
	// TypeEnd closes a run. A run without one was cut off: the log was
	// truncated, or lathe was killed.
	TypeEnd = "session.end"
)

// Record is one line of an audit log. Which fields are set depends on
// Type; empty ones are left out. Seq, Time, Type and Prev are on every
// record, and Hash ends every line.
//
// The fields are in a fixed order, and a record's line is its JSON
// encoding with ,"hash":"…" added before the closing brace, where the hash
// is the hex SHA-256 of the line without it. Prev is the previous record's
// hash; the first record's Prev is [Genesis] of the session id. So a
// record's hash covers its own bytes and, through Prev, every record
// before it.
type Record struct {
	Seq  uint64 `json:"seq"`
	Time string `json:"time"`
	Type string `json:"type"`
	Prev string `json:"prev"`

	// session.start
	SessionID string `json:"session_id,omitempty"`
	Mode      string `json:"mode,omitempty"`
	// ModeNotice says why the mode is not what one may expect (no
	// sandbox), as session.start does.
	ModeNotice string `json:"mode_notice,omitempty"`
	Workspace  string `json:"workspace,omitempty"`
	Provider   string `json:"provider,omitempty"`
	Model      string `json:"model,omitempty"`
	Version    string `json:"version,omitempty"`
	Resumed    bool   `json:"resumed,omitempty"`
	// Sandbox says whether commands run confined, and if not, why.
	Sandbox string `json:"sandbox,omitempty"`
	// RuleSources are the files the permission rules came from.
	RuleSources []string `json:"rule_sources,omitempty"`
	// User is the account Lathe runs as: the person a "person" decision
	// of the run is from.
	User string `json:"user,omitempty"`

	// decision and result; AgentID names the subagent that made the
	// call (its session's id), empty for the session's own agent.
	AgentID string `json:"agent_id,omitempty"`
	CallID  string `json:"call_id,omitempty"`
	Tool    string `json:"tool,omitempty"`
	// Input is the call's arguments, secrets redacted; one larger than
	// 4 KiB is InputSHA256 and InputBytes instead, as in the session log.
	Input       json.RawMessage `json:"input,omitempty"`
	InputSHA256 string          `json:"input_sha256,omitempty"`
	InputBytes  int             `json:"input_bytes,omitempty"`
	// Verdict is allow or deny; DecidedBy one of event.DecidedBy's
	// values, with Rule and RuleSource, Mode, Answer and Message, or
	// GrantedBy: the call whose approval granted a call decided by the
	// session's grant.
	// ByUser marks the decision and result of a command the user ran
	// from the terminal UI (`!`), not the model.
	ByUser     bool   `json:"by_user,omitempty"`
	Verdict    string `json:"verdict,omitempty"`
	DecidedBy  string `json:"decided_by,omitempty"`
	Rule       string `json:"rule,omitempty"`
	RuleSource string `json:"rule_source,omitempty"`
	Answer     string `json:"answer,omitempty"`
	Message    string `json:"message,omitempty"`
	GrantedBy  string `json:"granted_by,omitempty"`
	Reason     string `json:"reason,omitempty"`

	// result: the digest of what the model was sent, and the files the
	// call changed. FilesUnknown says the call may have changed files
	// that Lathe cannot name (a shell command).
	OutputSHA256 string `json:"output_sha256,omitempty"`
	OutputBytes  int    `json:"output_bytes,omitempty"`
	ExitCode     *int   `json:"exit_code,omitempty"`
	IsError      bool   `json:"is_error,omitempty"`
	Denied       bool   `json:"denied,omitempty"`
	Summary      string `json:"summary,omitempty"`
	Files        []File `json:"files,omitempty"`
	FilesUnknown bool   `json:"files_unknown,omitempty"`
	// Step and Checkpoint name the snapshot of the workspace taken just
	// before the call ran (see lathe rewind), CheckpointError why there
	// is none.
	Step            int    `json:"step,omitempty"`
	Checkpoint      string `json:"checkpoint,omitempty"`
	CheckpointError string `json:"checkpoint_error,omitempty"`

	// network: the target as the command named it, the proxy's verdict
	// (Rule, Reason above), the address dialed, and how it went. Its
	// Time is when the command asked; it is recorded as it ends.
	Host       string `json:"host,omitempty"`
	Port       int    `json:"port,omitempty"`
	Method     string `json:"method,omitempty"`
	Allowed    *bool  `json:"allowed,omitempty"`
	Addr       string `json:"addr,omitempty"`
	Error      string `json:"error,omitempty"`
	Status     int    `json:"status,omitempty"`
	Sent       int64  `json:"sent,omitempty"`
	Received   int64  `json:"received,omitempty"`
	DurationMS int64  `json:"duration_ms,omitempty"`

	// session.end: how the run's last prompt ended.
	Outcome string `json:"outcome,omitempty"`

	Hash string `json:"hash,omitempty"`
}

// File is a file a call changed, with its hex SHA-256 before and after
// the call. An empty hash means the file did not exist; "unknown" that it
// was not hashed, and "unreadable: …" why it could not be.
type File struct {
	Path   string `json:"path"`
	Kind   string `json:"kind,omitempty"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// Genesis is the Prev of a session's first record: a hash binding the
// log to its session, so that one session's log cannot pass for another's.
func Genesis(sessionID string) string {
	sum := sha256.Sum256([]byte("lathe audit log\x00" + sessionID))
	return hex.EncodeToString(sum[:])
}

// hashKey is what precedes a record's hash at the end of its line.
const hashKey = `,"hash":"`

// encode returns r's line, newline included, with secrets redacted, and
// its hash. r.Hash must be empty.
func encode(r *Record) (line []byte, hash string, err error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// People read audit logs with grep and jq: keep <, > and & as they are.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, "", fmt.Errorf("encode audit record: %w", err)
	}
	// What looks like a secret is redacted before the record is hashed:
	// the log is for people, and must not become a copy of the keys the
	// agent came across.
	body := RedactJSON(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	sum := sha256.Sum256(body)
	hash = hex.EncodeToString(sum[:])
	line = make([]byte, 0, len(body)+len(hashKey)+len(hash)+3)
	line = append(line, body[:len(body)-1]...)
	line = append(line, hashKey...)
	line = append(line, hash...)
	line = append(line, "\"}\n"...)
	return line, hash, nil
}

// bodyHash checks the end of a line (without its newline) and returns the
// hash the line claims and the hash of the line without it.
func bodyHash(line []byte) (claimed, actual string, ok bool) {
	const n = len(hashKey) + sha256.Size*2 + 2
	if len(line) < n+1 || line[0] != '{' || !bytes.HasSuffix(line, []byte(`"}`)) {
		return "", "", false
	}
	tail := line[len(line)-n:]
	if !bytes.HasPrefix(tail, []byte(hashKey)) {
		return "", "", false
	}
	claimed = string(tail[len(hashKey) : len(tail)-2])
	if _, err := hex.DecodeString(claimed); err != nil {
		return "", "", false
	}
	h := sha256.New()
	h.Write(line[:len(line)-n])
	h.Write([]byte("}"))
	return claimed, hex.EncodeToString(h.Sum(nil)), true
}
