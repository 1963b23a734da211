// Package compact is local, provider-neutral compaction of a
// conversation: the task ledger the harness keeps, the prompt that asks
// the model for a summary in fixed sections, the check and cap on what
// the model returns, and the rebuilt conversation that replaces the old
// one. It is pure: it reads messages and returns messages and text, and
// leaves asking the model, recording and replacing the history to the
// agent (internal/agent/compact.go).
//
// The ledger is what a summary must never lose, so it is not left to the
// model to recall: the user's requests verbatim, the todo list, the files
// changed, the last outcome of each command and the user's constraints
// are taken from the conversation itself, by [Ledger.Fold], and carried
// from one compaction to the next in the session log's boundary record.
//
// Everything in the package is safe for concurrent use; a Ledger is a
// value, which Fold does not change.
package compact

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/lathe-dev/lathe/internal/llm"
)

// Ledger is the task state the harness keeps across compactions. Its
// JSON form is what the session log's boundary record stores.
type Ledger struct {
	// Requests are the user's messages, oldest first, verbatim: the
	// prompts and what the user said while a run went on.
	Requests []string `json:"requests,omitempty"`
	// Todo is the current todo list, as the last todo call set it,
	// rendered one item a line.
	Todo string `json:"todo,omitempty"`
	// Files are the files the model's edits changed, in the order they
	// were first changed, named from the workspace when inside it.
	Files []string `json:"files,omitempty"`
	// Commands are the last outcome of each distinct command the model
	// ran, the most recent last, at most maxCommands of them.
	Commands []Command `json:"commands,omitempty"`
	// Constraints are the sentences of the user's requests that say what
	// to do or not to do always ("do not touch the public API"), found by
	// their wording, at most maxConstraints.
	Constraints []string `json:"constraints,omitempty"`
}

// Command is the last outcome of a command.
type Command struct {
	Command string `json:"command"`
	// Passed is false for a command that failed, timed out or was
	// refused.
	Passed bool `json:"passed"`
	// ExitCode is the command's exit status when its result says it.
	ExitCode *int `json:"exit_code,omitempty"`
}

// Facts are what the harness knows a tool call does, from its arguments
// as the tool decoded them: the files it writes and reads and the
// command it runs. The agent's call preparation provides them, so that
// the ledger reads a call exactly as the policy judged it.
type Facts struct {
	Writes  []string
	Reads   []string
	Command string
}

// Classifier returns the facts of a tool call; ok is false for a call it
// cannot read (a malformed one, an unknown tool).
type Classifier func(call llm.Part) (f Facts, ok bool)

// Observer is what Fold needs besides the messages.
type Observer struct {
	// Classify reads a tool call; nil reads none, and no files or
	// commands are kept.
	Classify Classifier
	// Harness reports the user-role texts the harness itself wrote (a
	// request to continue a cut-off response), which are no request of
	// the user's; nil treats every user text as the user's.
	Harness func(text string) bool
	// Todo returns the list a todo call sets, rendered, and whether the
	// call is one; nil keeps no todo list.
	Todo func(name string, input json.RawMessage) (string, bool)
}

const (
	maxCommands    = 12
	maxConstraints = 20
	maxConstraint  = 300 // bytes of one constraint
)

// Fold returns l with msgs, the messages that followed the ones l
// already covers, taken into account. The messages must be a valid
// conversation's: tool results after the message that made their calls.
func (l Ledger) Fold(msgs []llm.Message, o Observer) Ledger {
	out := Ledger{
		Requests:    slices.Clone(l.Requests),
		Todo:        l.Todo,
		Files:       slices.Clone(l.Files),
		Commands:    slices.Clone(l.Commands),
		Constraints: slices.Clone(l.Constraints),
	}
	calls := map[string]llm.Part{}
	for _, m := range msgs {
		for _, p := range m.Parts {
			switch {
			case m.Role == llm.RoleUser && p.Kind == llm.PartText:
				if strings.TrimSpace(p.Text) == "" || (o.Harness != nil && o.Harness(p.Text)) {
					continue
				}
				out.Requests = append(out.Requests, p.Text)
				for _, c := range constraints(p.Text) {
					out.addConstraint(c)
				}
			case p.Kind == llm.PartToolCall:
				calls[p.CallID] = p
			case p.Kind == llm.PartToolResult:
				call, ok := calls[p.CallID]
				if !ok {
					continue
				}
				out.noteCall(call, p, o)
			}
		}
	}
	return out
}

// noteCall takes in one call and its result.
func (l *Ledger) noteCall(call, result llm.Part, o Observer) {
	if o.Todo != nil && !result.IsError {
		if list, ok := o.Todo(call.Name, call.Input); ok {
			l.Todo = list
			return
		}
	}
	if o.Classify == nil {
		return
	}
	f, ok := o.Classify(call)
	if !ok {
		return
	}
	if !result.IsError {
		for _, w := range f.Writes {
			if !slices.Contains(l.Files, w) {
				l.Files = append(l.Files, w)
			}
		}
	}
	if f.Command != "" {
		l.Commands = slices.DeleteFunc(l.Commands, func(c Command) bool { return c.Command == f.Command })
		l.Commands = append(l.Commands, Command{Command: f.Command, Passed: !result.IsError, ExitCode: exitCode(result.Text)})
		if n := len(l.Commands) - maxCommands; n > 0 {
			l.Commands = l.Commands[n:]
		}
	}
}

func (l *Ledger) addConstraint(c string) {
	if len(l.Constraints) < maxConstraints && !slices.Contains(l.Constraints, c) {
		l.Constraints = append(l.Constraints, c)
	}
}

// exitRE finds the exit status the shell tools write into a result:
// Bash on its last line, Codex's shell on its first.
var exitRE = regexp.MustCompile(`(?:\A|\n)Exit code: (-?\d+)`)

// exitCode is the exit status a command's result reports, if it does.
// A result that reports none ran to a zero exit, or did not run at all.
func exitCode(text string) *int {
	last := text
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		last = text[i:]
	}
	first, _, _ := strings.Cut(text, "\n")
	for _, s := range []string{last, first} {
		if m := exitRE.FindStringSubmatch(s); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil {
				return &n
			}
		}
	}
	return nil
}

// constraintRE matches the wording of a standing instruction.
var constraintRE = regexp.MustCompile(`(?i)\b(don'?t|do not|never|must|always|only|avoid|without|make sure|keep)\b`)

// constraints are the sentences of a request that read as standing
// instructions. The request itself is kept verbatim anyway; these are
// pulled out so that they stand out in the ledger.
func constraints(text string) []string {
	var out []string
	for _, s := range sentences(text) {
		if constraintRE.MatchString(s) {
			out = append(out, clip(s, maxConstraint))
		}
	}
	return out
}

// sentences splits text at line breaks and at sentence ends.
func sentences(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		start := 0
		for i := 0; i < len(line); i++ {
			if c := line[i]; (c == '.' || c == '!' || c == '?' || c == ';') && (i+1 == len(line) || line[i+1] == ' ') {
				out = appendTrimmed(out, line[start:i+1])
				start = i + 1
			}
		}
		out = appendTrimmed(out, line[start:])
	}
	return out
}

func appendTrimmed(out []string, s string) []string {
	s = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(s), "-*•>"))
	if len(s) >= 8 {
		out = append(out, s)
	}
	return out
}

// clip cuts s to at most n bytes, at a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !runeStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

func runeStart(b byte) bool { return b&0xC0 != 0x80 }

// Render caps on the ledger's text in the model's context. The ledger
// record keeps everything; what the model is shown of a long request is
// its head and tail.
const (
	maxFirstRequest = 16 << 10 // bytes of the first request shown
	maxRequest      = 4 << 10  // bytes of each later request shown
	maxRequests     = 24 << 10 // bytes of all requests shown
	maxFiles        = 200
)

// Format renders the ledger for the model, in sections with Markdown
// headings; empty sections are left out. The first request is shown
// first and in full up to a generous cap, so that the task is never lost.
func (l Ledger) Format() string {
	var b strings.Builder
	if len(l.Requests) > 0 {
		b.WriteString("### The user's requests, verbatim, oldest first\n")
		shown := l.shownRequests()
		for i := range l.Requests {
			text, ok := shown[i]
			if !ok {
				continue
			}
			fmt.Fprintf(&b, "<request n=%d>\n%s\n</request>\n", i+1, text)
		}
		if n := len(l.Requests) - len(shown); n > 0 {
			fmt.Fprintf(&b, "(%d earlier requests are left out here; the session log has them.)\n", n)
		}
	}
	if len(l.Constraints) > 0 {
		b.WriteString("\n### The user's constraints\n")
		for _, c := range l.Constraints {
			fmt.Fprintf(&b, "- %s\n", c)
		}
	}
	if l.Todo != "" {
		b.WriteString("\n### Todo list\n")
		b.WriteString(strings.TrimRight(l.Todo, "\n"))
		b.WriteString("\n")
	}
	if len(l.Files) > 0 {
		b.WriteString("\n### Files changed\n")
		files := l.Files
		if n := len(files) - maxFiles; n > 0 {
			fmt.Fprintf(&b, "(%d more before these)\n", n)
			files = files[n:]
		}
		for _, f := range files {
			fmt.Fprintf(&b, "- %s\n", f)
		}
	}
	if len(l.Commands) > 0 {
		b.WriteString("\n### Commands, each as it last ran\n")
		for _, c := range l.Commands {
			status := "passed"
			switch {
			case !c.Passed && c.ExitCode != nil:
				status = fmt.Sprintf("failed, exit %d", *c.ExitCode)
			case !c.Passed:
				status = "failed"
			}
			fmt.Fprintf(&b, "- %s: `%s`\n", status, oneLine(clip(c.Command, 300)))
		}
	}
	return b.String()
}

// shownRequests picks the requests shown, by index, each cut to its cap:
// the first always, then the latest ones as far as the total cap allows.
func (l Ledger) shownRequests() map[int]string {
	shown := map[int]string{0: headTail(l.Requests[0], maxFirstRequest)}
	total := len(shown[0])
	for i := len(l.Requests) - 1; i > 0; i-- {
		r := headTail(l.Requests[i], maxRequest)
		if total+len(r) > maxRequests {
			break
		}
		shown[i] = r
		total += len(r)
	}
	return shown
}

// headTail keeps the head and the tail of s, n bytes in all, and says
// what it cut.
func headTail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	head := clip(s, n/2)
	tail := s[len(s)-n/2:]
	for len(tail) > 0 && !runeStart(tail[0]) {
		tail = tail[1:]
	}
	return fmt.Sprintf("%s\n[… %d bytes cut here …]\n%s", strings.TrimSuffix(head, "…"), len(s)-len(head)-len(tail), tail)
}

func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}
