// Package todo is the model's task list: the items a todo tool call sets,
// in either dialect's shape — Claude Code's TodoWrite
// ({"todos": [{content, status, activeForm}]}) or Codex's update_plan
// ({"explanation", "plan": [{step, status}]}) — validated once, here, for
// the tools that accept the calls and for everything that reads them back
// from a transcript (the compaction ledger, resume).
//
// Each call replaces the whole list, so the current list is the one the
// last accepted call set. The package has no state and no dependencies
// beyond the standard library; everything in it is safe for concurrent use.
package todo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The tool names the two dialects call their todo tools by.
const (
	ToolClaude = "TodoWrite"
	ToolCodex  = "update_plan"
)

// The statuses an item can have, the same words in both dialects.
const (
	Pending    = "pending"
	InProgress = "in_progress"
	Completed  = "completed"
)

// Limits on a list, so that a list stays a summary: it is re-sent to the
// model in every compacted context.
const (
	MaxItems    = 100
	MaxTextSize = 1000 // bytes, of an item's text and of its active form each
)

// Item is one entry of the list. Its JSON form is the todo.updated
// event's (docs/events.md).
type Item struct {
	// Text is the task: TodoWrite's content, update_plan's step.
	Text string `json:"text"`
	// Status is Pending, InProgress or Completed.
	Status string `json:"status"`
	// Active is TodoWrite's activeForm, the present-continuous phrase
	// shown while the item is in progress ("Running the tests"); empty
	// for update_plan.
	Active string `json:"active_form,omitempty"`
}

// Update is what one accepted call says.
type Update struct {
	Items []Item
	// Explanation is update_plan's optional note on why the plan
	// changed; always empty for TodoWrite.
	Explanation string
}

// FromCall returns the list a call of the named tool sets, and whether it
// is a todo call that the tool accepts. A call the tool would reject sets
// nothing, so it returns false, as does any other tool's call.
func FromCall(tool string, input json.RawMessage) ([]Item, bool) {
	u, err := Parse(tool, input)
	if err != nil {
		return nil, false
	}
	return u.Items, true
}

// IsTool reports whether name is a todo tool of either dialect.
func IsTool(name string) bool { return name == ToolClaude || name == ToolCodex }

// Parse decodes and validates a call of the named todo tool. Its errors
// are meant for the model: each names the field at fault and what would
// be accepted. Text is kept as the model wrote it but for surrounding
// white space.
func Parse(tool string, input json.RawMessage) (Update, error) {
	switch tool {
	case ToolClaude:
		return parseClaude(input)
	case ToolCodex:
		return parseCodex(input)
	}
	return Update{}, fmt.Errorf("%q is not a todo tool", tool)
}

func parseClaude(input json.RawMessage) (Update, error) {
	var args struct {
		Todos *[]struct {
			Content    *string `json:"content"`
			Status     *string `json:"status"`
			ActiveForm *string `json:"activeForm"`
		} `json:"todos"`
	}
	if err := decode(input, &args, claudeShape); err != nil {
		return Update{}, err
	}
	if args.Todos == nil {
		return Update{}, errors.New(`invalid tool arguments: required parameter "todos" is missing; send the whole list: ` + claudeShape)
	}
	items := make([]Item, 0, len(*args.Todos))
	for i, t := range *args.Todos {
		at := fmt.Sprintf("todos[%d]", i)
		text, err := field(at, "content", t.Content)
		if err != nil {
			return Update{}, err
		}
		active, err := field(at, "activeForm", t.ActiveForm)
		if err != nil {
			return Update{}, err
		}
		status, err := statusField(at, t.Status)
		if err != nil {
			return Update{}, err
		}
		items = append(items, Item{Text: text, Status: status, Active: active})
	}
	return Update{Items: items}, checkList("todos", items)
}

func parseCodex(input json.RawMessage) (Update, error) {
	var args struct {
		Explanation *string `json:"explanation"`
		Plan        *[]struct {
			Step   *string `json:"step"`
			Status *string `json:"status"`
		} `json:"plan"`
	}
	if err := decode(input, &args, codexShape); err != nil {
		return Update{}, err
	}
	if args.Plan == nil {
		return Update{}, errors.New(`invalid tool arguments: required parameter "plan" is missing; send the whole plan: ` + codexShape)
	}
	var u Update
	if args.Explanation != nil {
		u.Explanation = strings.TrimSpace(*args.Explanation)
		if len(u.Explanation) > MaxTextSize {
			return Update{}, fmt.Errorf("explanation is %d bytes; keep it under %d", len(u.Explanation), MaxTextSize)
		}
	}
	u.Items = make([]Item, 0, len(*args.Plan))
	for i, s := range *args.Plan {
		at := fmt.Sprintf("plan[%d]", i)
		text, err := field(at, "step", s.Step)
		if err != nil {
			return Update{}, err
		}
		status, err := statusField(at, s.Status)
		if err != nil {
			return Update{}, err
		}
		u.Items = append(u.Items, Item{Text: text, Status: status})
	}
	return u, checkList("plan", u.Items)
}

// Examples of a valid call, for the errors.
const (
	claudeShape = `{"todos": [{"content": "Run the tests", "status": "in_progress", "activeForm": "Running the tests"}]}`
	codexShape  = `{"explanation": "why it changed (optional)", "plan": [{"step": "Run the tests", "status": "in_progress"}]}`
)

// decode decodes a JSON object into v, refusing unknown fields, in the
// words the other tools use for bad arguments; shape is an example of a
// valid call. The type of v is anonymous, so a type error shows shape
// rather than Go's name for it.
func decode(input json.RawMessage, v any, shape string) error {
	dec := json.NewDecoder(bytes.NewReader(input))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			if typeErr.Field == "" {
				return fmt.Errorf("invalid tool arguments: expected a JSON object, not %s: %s", typeErr.Value, shape)
			}
			return fmt.Errorf("invalid tool arguments: %q is a JSON %s, which does not fit: %s", typeErr.Field, typeErr.Value, shape)
		}
		return fmt.Errorf("invalid tool arguments: %v: %s", strings.TrimPrefix(err.Error(), "json: "), shape)
	}
	if dec.More() {
		return errors.New("invalid tool arguments: expected one JSON object")
	}
	return nil
}

// field checks a required text field of item at.
func field(at, name string, v *string) (string, error) {
	if v == nil {
		return "", fmt.Errorf("%s.%s is missing", at, name)
	}
	s := strings.TrimSpace(*v)
	switch {
	case s == "":
		return "", fmt.Errorf("%s.%s is empty", at, name)
	case len(s) > MaxTextSize:
		return "", fmt.Errorf("%s.%s is %d bytes; keep it under %d", at, name, len(s), MaxTextSize)
	}
	return s, nil
}

func statusField(at string, v *string) (string, error) {
	if v == nil {
		return "", fmt.Errorf("%s.status is missing (want %q, %q or %q)", at, Pending, InProgress, Completed)
	}
	switch *v {
	case Pending, InProgress, Completed:
		return *v, nil
	}
	return "", fmt.Errorf("%s.status is %q (want %q, %q or %q)", at, *v, Pending, InProgress, Completed)
}

// checkList checks what holds across the items of list name.
func checkList(name string, items []Item) error {
	if len(items) > MaxItems {
		return fmt.Errorf("%s has %d items; keep it to %d: merge small steps, drop completed ones", name, len(items), MaxItems)
	}
	first := -1
	for i, it := range items {
		if it.Status != InProgress {
			continue
		}
		if first >= 0 {
			return fmt.Errorf("%s[%d] and %s[%d] are both %q; at most one item may be in progress: mark the others %q or %q", name, first, name, i, InProgress, Pending, Completed)
		}
		first = i
	}
	return nil
}

// Format renders a list for the model and for people, one item a line
// ("[x] done", "[>] in progress", "[ ] pending"), the in-progress item's
// active form after it. Line breaks inside an item become spaces so that
// each item stays one line. An empty list is the empty string.
func Format(items []Item) string {
	var b strings.Builder
	for _, it := range items {
		switch it.Status {
		case Completed:
			b.WriteString("[x] ")
		case InProgress:
			b.WriteString("[>] ")
		default:
			b.WriteString("[ ] ")
		}
		b.WriteString(oneLine(it.Text))
		if it.Status == InProgress && it.Active != "" && it.Active != it.Text {
			b.WriteString(" (")
			b.WriteString(oneLine(it.Active))
			b.WriteString(")")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}
