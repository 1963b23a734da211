package audit

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/lathe-dev/lathe/internal/secret"
)

// Row is one action of a session, as a report shows it: a run's start or
// end, a tool call (its decision and result together), or a network
// connection.
type Row struct {
	Time string `json:"time"`
	// Action is "session start", "session end", "call", "network" or
	// "rule added".
	Action string `json:"action"`
	CallID string `json:"call_id,omitempty"`
	Tool   string `json:"tool,omitempty"`
	// Arguments is the call's arguments in brief: the command, the path,
	// or the JSON; or the run's mode and workspace; or the host.
	Arguments string `json:"arguments,omitempty"`
	// Decision is allow or deny; DecidedBy who decided, in words.
	Decision  string `json:"decision,omitempty"`
	DecidedBy string `json:"decided_by,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// Result is how the call ended: its summary, exit code, error.
	Result string `json:"result,omitempty"`
	// OutputSHA256 is the digest of what the model was sent.
	OutputSHA256 string `json:"output_sha256,omitempty"`
	// Files are the files changed, with their hashes before and after.
	Files []File `json:"files,omitempty"`
	// FilesUnknown says the call ran commands, which may have changed
	// files the log cannot name.
	FilesUnknown bool `json:"files_unknown,omitempty"`
	// Step is the checkpoint of the workspace taken before the call ran,
	// which `lathe rewind SESSION --to STEP --dry-run` compares with
	// the workspace: what a command changed.
	Step int `json:"step,omitempty"`
}

// Rows reads an audit log into its report, in the log's order; a call's
// row is where its decision is (or its result, for a call that was never
// decided). It does not verify the log (see [Verify]); a line it cannot
// read is an error naming it.
func Rows(r io.Reader) ([]Row, error) {
	var rows []Row
	calls := map[string]int{} // call id → index in rows
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := readLine(br)
		if err == io.EOF {
			break
		}
		if p, ok := err.(*Problem); ok {
			p.Line = n
			return nil, p
		}
		if err != nil {
			return nil, err
		}
		var rec Record
		if err := json.Unmarshal(line, &rec); err != nil {
			return nil, &Problem{Line: n, Msg: fmt.Sprintf("not an audit record: %v", err)}
		}
		switch rec.Type {
		case TypeStart:
			args := "mode " + rec.Mode + ", workspace " + rec.Workspace
			if rec.Sandbox != "" {
				args += ", sandbox " + rec.Sandbox
			}
			if len(rec.RuleSources) > 0 {
				args += ", rules from " + strings.Join(rec.RuleSources, ", ")
			}
			if rec.User != "" {
				args += ", user " + rec.User
			}
			if rec.ModeNotice != "" {
				args += " (" + rec.ModeNotice + ")"
			}
			rows = append(rows, Row{Time: rec.Time, Action: "session start", Arguments: args, Result: modelOf(&rec)})
		case TypeEnd:
			rows = append(rows, Row{Time: rec.Time, Action: "session end", Result: rec.Outcome})
		case TypeNetwork:
			rows = append(rows, network(&rec))
		case TypeRuleAdded:
			rows = append(rows, Row{Time: rec.Time, Action: "rule added", CallID: rec.CallID, Tool: rec.Tool,
				Arguments: fmt.Sprintf("allow %s in %s", rec.Rule, rec.RuleSource), DecidedBy: "person: always"})
		case TypeDecision:
			calls[rec.CallID] = len(rows)
			rows = append(rows, Row{
				Time: rec.Time, Action: "call", CallID: rec.CallID, Tool: rec.Tool, Arguments: arguments(&rec),
				Decision: rec.Verdict, DecidedBy: decidedBy(&rec), Reason: rec.Reason,
			})
		case TypeResult:
			i, ok := calls[rec.CallID]
			if !ok {
				i = len(rows)
				rows = append(rows, Row{Time: rec.Time, Action: "call", CallID: rec.CallID, Tool: rec.Tool, Arguments: arguments(&rec), Decision: "none"})
			}
			delete(calls, rec.CallID)
			row := &rows[i]
			row.Result, row.OutputSHA256, row.Files, row.FilesUnknown, row.Step = result(&rec), rec.OutputSHA256, rec.Files, rec.FilesUnknown, rec.Step
		}
	}
	return rows, nil
}

// network is the row of a connection through the proxy.
func network(r *Record) Row {
	row := Row{Time: r.Time, Action: "network", Arguments: strings.TrimSpace(fmt.Sprintf("%s %s:%d", r.Method, r.Host, r.Port)),
		Decision: "deny", DecidedBy: "network rules", Reason: r.Reason}
	if r.Allowed != nil && *r.Allowed {
		row.Decision = "allow"
	}
	if r.Rule != "" {
		row.DecidedBy = "network rule " + r.Rule
		if r.RuleSource != "" {
			row.DecidedBy += " in " + r.RuleSource
		}
	}
	var res []string
	if r.Status != 0 {
		res = append(res, fmt.Sprintf("status %d", r.Status))
	}
	if r.Addr != "" {
		res = append(res, "to "+r.Addr)
	}
	if r.Sent+r.Received > 0 {
		res = append(res, fmt.Sprintf("%d bytes sent, %d received", r.Sent, r.Received))
	}
	if r.Error != "" {
		res = append(res, "error: "+r.Error)
	}
	row.Result = strings.Join(res, ", ")
	return row
}

func modelOf(r *Record) string {
	s := r.Provider + " " + r.Model
	if r.Resumed {
		s += ", resumed"
	}
	return strings.TrimSpace(s)
}

// arguments sums up a call's arguments: the command or path they name,
// else their JSON, cut to a line. The JSON is redacted member by member
// first, as the log's own records are now: a log written before may not
// have been, and the summary's text alone no longer says which value is
// a member's.
func arguments(r *Record) string {
	if len(r.Input) == 0 {
		if r.InputSHA256 != "" {
			return fmt.Sprintf("(%d bytes, sha256 %s)", r.InputBytes, r.InputSHA256)
		}
		return ""
	}
	input := RedactJSON(r.Input)
	var obj map[string]any
	if json.Unmarshal(input, &obj) == nil {
		for _, k := range []string{"command", "file_path", "path", "url", "pattern"} {
			if s, ok := obj[k].(string); ok {
				return clip(s)
			}
		}
		if cmd, ok := obj["command"].([]any); ok {
			parts := make([]string, len(cmd))
			for i, c := range cmd {
				parts[i] = fmt.Sprint(c)
			}
			return clip(strings.Join(parts, " "))
		}
	}
	var s string
	if json.Unmarshal(input, &s) == nil {
		return clip(s)
	}
	return clip(string(input))
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		return string(r[:199]) + "…"
	}
	return s
}

// decidedBy says who decided a call, in words.
func decidedBy(r *Record) string {
	switch r.DecidedBy {
	case "rule":
		if r.RuleSource != "" {
			return fmt.Sprintf("rule %s in %s", r.Rule, r.RuleSource)
		}
		return "rule " + r.Rule
	case "mode":
		return "mode " + r.Mode
	case "person":
		s := "person: " + r.Answer
		if r.Message != "" {
			s += " (" + r.Message + ")"
		}
		return s
	case "session":
		if r.GrantedBy != "" {
			return "person, earlier in the session (call " + r.GrantedBy + ")"
		}
		return "person, earlier in the session"
	case "nobody":
		if r.Message != "" {
			return "nobody: " + r.Message
		}
		return "nobody"
	}
	return r.DecidedBy
}

func result(r *Record) string {
	var parts []string
	switch {
	case r.Denied:
		parts = append(parts, "denied")
	case r.IsError:
		parts = append(parts, "error")
	default:
		parts = append(parts, "ok")
	}
	if r.ExitCode != nil {
		parts = append(parts, fmt.Sprintf("exit %d", *r.ExitCode))
	}
	if r.Summary != "" && !r.Denied {
		parts = append(parts, r.Summary)
	}
	return strings.Join(parts, ", ")
}

// WriteJSON writes rows as one indented JSON array, secrets redacted
// (again: the log may be older than a pattern that finds them).
func WriteJSON(w io.Writer, rows []Row) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if rows == nil {
		rows = []Row{}
	}
	if err := enc.Encode(rows); err != nil {
		return err
	}
	_, err := w.Write(RedactJSON(buf.Bytes()))
	return err
}

// csvHeader names WriteCSV's columns.
var csvHeader = []string{"time", "action", "call_id", "tool", "arguments", "decision", "decided_by", "reason", "result", "output_sha256", "files_changed"}

// WriteCSV writes rows as CSV with a header line, the files changed in
// one column: "kind path before→after; …", secrets redacted.
func WriteCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, r := range rows {
		files := make([]string, len(r.Files))
		for i, f := range r.Files {
			files[i] = fmt.Sprintf("%s %s %s→%s", f.Kind, f.Path, shortHash(f.Before), shortHash(f.After))
		}
		if r.FilesUnknown {
			files = append(files, "not tracked (commands)")
		}
		if r.Step > 0 {
			files = append(files, fmt.Sprintf("checkpoint before: step %d", r.Step))
		}
		rec := []string{r.Time, r.Action, r.CallID, r.Tool, r.Arguments, r.Decision, r.DecidedBy, r.Reason, r.Result, r.OutputSHA256, strings.Join(files, "; ")}
		for i, s := range rec {
			rec[i] = csvSafe(secret.Redact(s))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// shortHash shows a hash as its first 12 digits, and no file as "none".
func shortHash(h string) string {
	switch {
	case h == "":
		return "none"
	case len(h) == 64:
		return h[:12]
	}
	return h
}

// csvSafe keeps a spreadsheet from taking a cell for a formula: the
// arguments are the model's, and a cell such as =HYPERLINK(…) would run
// in the reviewer's spreadsheet (CSV injection).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
