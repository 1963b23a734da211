package cells

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/patch"
)

// Caps on what a tool call cell shows: the rows of an edit's diff before it
// is expanded, and the rows of output (or diff) once it is. The session log
// and the model have the whole output; the cell is for a glance.
const (
	collapsedDiffRows = 16
	expandedRows      = 200
	// liveRows is how many of a running command's last lines show under
	// its line, and liveKeep how much of its live output a cell keeps.
	liveRows = 3
	liveKeep = 16 << 10
)

// ToolCall is the data of one tool call's cell: the call from its
// tool.start, and once it is done, what its tool.end reported.
type ToolCall struct {
	ID   string
	Name string
	// Input is the call's arguments; NewToolCall decodes them once, for
	// every render.
	Input  json.RawMessage
	parsed args
	// Dir is the working directory, which paths are shown relative to.
	Dir string
	// ByUser marks a command the user ran with "!", shown as they typed
	// it.
	ByUser bool
	// Live is the end of what the running command wrote so far (its
	// command.output events), raw; see AppendOutput.
	Live string

	// Done is set by End; the fields after it are the tool.end's.
	Done     bool
	Output   string
	IsError  bool
	Denied   bool
	Summary  string
	ExitCode *int
	Changes  []event.FileChange
	Duration time.Duration
	// SavedOutput is the file holding the whole output when Output has
	// only its head and tail.
	SavedOutput string
}

// NewToolCall returns the cell of the call that start (a tool.start)
// announces, in the working directory dir.
func NewToolCall(start event.Event, dir string) ToolCall {
	c := ToolCall{ID: start.CallID, Name: start.Name, Input: start.Input, Dir: dir, ByUser: start.ByUser}
	// Input that is not an object (a freeform tool's text, arguments
	// the model botched) leaves them empty; the tool.end says what was
	// wrong with it.
	_ = json.Unmarshal(c.Input, &c.parsed)
	return c
}

// AppendOutput adds a chunk of the running command's output (a
// command.output event's text). Only the last liveKeep bytes are kept, so a
// chatty command costs the cell no more memory than a quiet one.
func (c *ToolCall) AppendOutput(chunk string) {
	c.Live += chunk
	if len(c.Live) > liveKeep {
		cut := len(c.Live) - liveKeep
		if i := strings.IndexByte(c.Live[cut:], '\n'); i >= 0 {
			cut += i + 1
		}
		c.Live = c.Live[cut:]
	}
}

// End completes the call with its tool.end.
func (c *ToolCall) End(end event.Event) {
	c.Done, c.Live = true, ""
	c.Output = end.Output
	c.IsError = end.IsError
	c.Denied = end.Denied
	c.Summary = end.Summary
	c.ExitCode = end.ExitCode
	c.Changes = end.Changes
	c.Duration = time.Duration(end.DurationMS) * time.Millisecond
	c.SavedOutput = end.SavedOutput
}

// kind is what a tool does, as far as its cell is concerned.
type kind int

const (
	kindOther kind = iota
	kindRead
	kindSearch
	kindList
	kindEdit
	kindExec
)

// tools maps the tools of both dialects to the verb their cells show and
// their kind. A tool not in it (an MCP tool, a name the model made up) is
// shown by its own name.
var tools = map[string]struct {
	verb string
	kind kind
}{
	"Read":         {"Read", kindRead},
	"read_file":    {"Read", kindRead},
	"Glob":         {"Search", kindSearch},
	"Grep":         {"Search", kindSearch},
	"grep_files":   {"Search", kindSearch},
	"list_dir":     {"List", kindList},
	"Edit":         {"Edit", kindEdit},
	"Write":        {"Write", kindEdit},
	"apply_patch":  {"Edit", kindEdit},
	"Bash":         {"Bash", kindExec},
	"shell":        {"Bash", kindExec},
	"BashOutput":   {"BashOutput", kindOther},
	"KillShell":    {"KillShell", kindOther},
	"WebFetch":     {"Fetch", kindOther},
	"TodoWrite":    {"Todo", kindOther},
	"update_plan":  {"Todo", kindOther},
	"Task":         {"Task", kindOther},
	"spawn_agent":  {"Task", kindOther},
	"ExitPlanMode": {"Plan", kindOther},
	"exit_plan":    {"Plan", kindOther},
}

func (c ToolCall) kind() kind { return tools[c.Name].kind }

func (c ToolCall) verb() string {
	if c.ByUser {
		return "!"
	}
	if t, ok := tools[c.Name]; ok {
		return t.verb
	}
	return oneLine(clean(c.Name))
}

// args is the union of the arguments of the tools a cell knows, those it
// shows as the call's target.
type args struct {
	FilePath  string          `json:"file_path"`
	Path      string          `json:"path"`
	DirPath   string          `json:"dir_path"`
	Pattern   string          `json:"pattern"`
	URL       string          `json:"url"`
	Command   json.RawMessage `json:"command"`
	BashID    string          `json:"bash_id"`
	ShellID   string          `json:"shell_id"`
	Desc      string          `json:"description"`
	OldString string          `json:"old_string"`
	NewString string          `json:"new_string"`
	Content   *string         `json:"content"`
	All       bool            `json:"replace_all"`
	Input     string          `json:"input"` // apply_patch as a function tool
}

// args are the call's decoded arguments.
func (c ToolCall) args() args { return c.parsed }

// patchText is an apply_patch call's patch: the freeform tool's input is
// a JSON string, the function tool's an object with "input".
func (c ToolCall) patchText() string {
	var s string
	if json.Unmarshal(c.Input, &s) == nil {
		return s
	}
	return c.args().Input
}

// rel shows path relative to the working directory when it is inside it.
func (c ToolCall) rel(path string) string {
	if path == "" || c.Dir == "" || !filepath.IsAbs(path) {
		return path
	}
	if r, err := filepath.Rel(c.Dir, path); err == nil && r != ".." && !strings.HasPrefix(r, "../") {
		return r
	}
	return path
}

// target is what the call acts on, as one line of clean text; a is
// the call's arguments.
func (c ToolCall) target(a args) string {
	var t string
	switch c.Name {
	case "Bash", "shell":
		t = command(a.Command)
	case "apply_patch":
		var paths []string
		if p, err := patch.Parse(c.patchText()); err == nil {
			for _, h := range p.Hunks {
				paths = append(paths, h.Path)
			}
		}
		t = strings.Join(paths, ", ")
	case "BashOutput":
		t = a.BashID
	case "KillShell":
		t = a.ShellID
	case "Task", "spawn_agent":
		t = a.Desc
	default:
		for _, s := range []string{a.FilePath, a.DirPath, a.Pattern, a.URL, a.Path} {
			if s != "" {
				t = c.rel(s)
				break
			}
		}
		if a.Pattern != "" && a.Path != "" {
			t += " in " + c.rel(a.Path)
		}
	}
	return oneLine(clean(t))
}

// command is a command line from Bash's command, a string, or shell's, an
// argv whose script is its last word when it runs a shell with -c or -lc.
func command(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var argv []string
	if json.Unmarshal(raw, &argv) != nil {
		return ""
	}
	if len(argv) == 3 && (argv[1] == "-c" || argv[1] == "-lc") {
		return argv[2]
	}
	return strings.Join(argv, " ")
}

// Diffs are the changes a finished edit made, as far as the events tell:
// an Edit's strings, a new file's content, an apply_patch's chunks. A
// Write over an existing file has none: its old content is not in the
// events.
func (c ToolCall) Diffs() []Diff {
	return c.diffs(c.args())
}

// diffs is Diffs with the call's arguments a decoded.
func (c ToolCall) diffs(a args) []Diff {
	if !c.Done || c.IsError || c.kind() != kindEdit {
		return nil
	}
	switch c.Name {
	case "Edit":
		path := c.rel(a.FilePath)
		if a.OldString == "" {
			return []Diff{NewDiff(path, "", a.NewString, 1)}
		}
		first := 0
		if !a.All {
			first = editFirstLine(c.Output, a.NewString)
		}
		return []Diff{NewDiff(path, a.OldString, a.NewString, first)}
	case "Write":
		if a.Content != nil && strings.HasPrefix(c.Summary, "created ") {
			return []Diff{NewDiff(c.rel(a.FilePath), "", *a.Content, 1)}
		}
	case "apply_patch":
		return c.patchDiffs()
	}
	return nil
}

// patchDiffs are the diffs of an apply_patch call's file operations. Its
// chunks find their lines by context, so they have no line numbers.
func (c ToolCall) patchDiffs() []Diff {
	p, err := patch.Parse(c.patchText())
	if err != nil {
		return nil
	}
	var diffs []Diff
	for _, h := range p.Hunks {
		path := h.Path
		if h.MoveTo != "" {
			path += " → " + h.MoveTo
		}
		switch h.Op {
		case patch.OpAdd:
			diffs = append(diffs, NewDiff(path, "", h.Contents, 1))
		case patch.OpUpdate:
			d := Diff{Path: path}
			for _, ch := range h.Chunks {
				old, new := strings.Join(ch.Old, "\n"), strings.Join(ch.New, "\n")
				for _, hunk := range NewDiff(path, old, new, 0).Hunks {
					hunk.Header = ch.Anchor
					d.Hunks = append(d.Hunks, hunk)
				}
			}
			diffs = append(diffs, d)
		case patch.OpDelete:
			diffs = append(diffs, Diff{Path: path})
		}
	}
	return diffs
}

// editFirstLine finds the line an Edit's new_string starts at in the
// edited file from the call's output, which numbers the lines around the
// edit (internal/tool's snippet: up to three lines of context before it,
// each line "%6d\t%s"). It returns 0 when the output has no snippet.
func editFirstLine(output, newString string) int {
	_, body, ok := strings.Cut(output, "snippet of the edited file:\n")
	if !ok {
		return 0
	}
	var lines []string
	first := 0
	for i, l := range strings.Split(body, "\n") {
		num, text, ok := strings.Cut(l, "\t")
		n, err := strconv.Atoi(strings.TrimSpace(num))
		if !ok || err != nil {
			return 0
		}
		if i == 0 {
			first = n
		}
		lines = append(lines, text)
	}
	if first > 1 {
		// The snippet starts three lines before the edit whenever there
		// are three lines before it.
		return first + 3
	}
	// Near the top of the file, the edit starts where its text does;
	// the last match wins, so context that repeats the edit's first line
	// is taken for context.
	head, _, _ := strings.Cut(newString, "\n")
	for k := min(3, len(lines)-1); k > 0; k-- {
		if strings.Contains(lines[k], head) {
			return first + k
		}
	}
	return first
}

var summaryStat = regexp.MustCompile(`\(\+(\d+)(?: -(\d+))?\)$`)

// outcome is the call's state at the end of its line, painted: a mark,
// an exit status or error, a diffstat.
func (c ToolCall) outcome(diffs []Diff, st Styles) string {
	switch {
	case !c.Done:
		return st.paint(st.Dim, "…")
	case c.Denied:
		return st.paint(st.Fail, "✗ denied")
	case c.IsError && c.kind() == kindExec && c.ExitCode != nil:
		return st.paint(st.Fail, fmt.Sprintf("✗ exit %d", *c.ExitCode))
	case c.IsError:
		reason := oneLine(clean(c.Output))
		if reason == "" || c.Summary == "interrupted" {
			reason = oneLine(clean(c.Summary))
		}
		return st.paint(st.Fail, "✗ "+reason)
	case c.kind() == kindExec:
		return st.paint(st.OK, "✓")
	}
	if len(diffs) > 0 {
		var add, del int
		for _, d := range diffs {
			a, d := d.Stat()
			add, del = add+a, del+d
		}
		return diffstat(add, del, st)
	}
	if m := summaryStat.FindStringSubmatch(c.Summary); m != nil {
		add, _ := strconv.Atoi(m[1])
		del, _ := strconv.Atoi(m[2])
		return diffstat(add, del, st)
	}
	// The summary's parenthesis says how much: "read x.go (120 lines)".
	if i := strings.LastIndex(c.Summary, " ("); i >= 0 && strings.HasSuffix(c.Summary, ")") {
		return st.paint(st.Dim, oneLine(clean(c.Summary[i+2:len(c.Summary)-1])))
	}
	return ""
}

func diffstat(add, del int, st Styles) string {
	s := st.paint(st.Added, fmt.Sprintf("+%d", add))
	if del > 0 {
		s += " " + st.paint(st.Deleted, fmt.Sprintf("−%d", del))
	}
	return s
}

// Line renders the call's one line at width columns: verb, target and
// outcome ("Edit internal/x.go +3 −1", "Bash go test ./... ✗ exit 1").
// The target is cut to leave room for the outcome, which is cut last.
func (c ToolCall) Line(width int, st Styles) string {
	a := c.args()
	return line(c.verb(), c.target(a), c.outcome(c.diffs(a), st), width, st)
}

// line lays out a verb, a target and a painted outcome on width columns.
func line(verb, target, outcome string, width int, st Styles) string {
	verb = fit(verb, width)
	room := width - displayWidth(verb)
	ow := displayWidth(outcome) // painting adds no columns
	if ow > 0 && ow+1 > room {
		// No room for the outcome beside the verb: it alone is cut.
		outcome, ow = "", 0
	}
	if ow > 0 {
		room -= ow + 1
	}
	s := st.paint(st.Verb, verb)
	if target != "" && room > 1 {
		s += " " + st.paint(st.Target, fit(target, room-1))
	}
	if ow > 0 {
		s += " " + outcome
	}
	return s
}

// Render renders the call's cell at width columns: its line, and under it
// an edit's diffs (capped unless expanded), a running command's last
// lines, or, expanded, its output (capped). The result has no final
// newline.
func (c ToolCall) Render(width int, expanded bool, st Styles) string {
	a := c.args()
	diffs := c.diffs(a)
	head := line(c.verb(), c.target(a), c.outcome(diffs, st), width, st)
	var body []string
	if len(diffs) > 0 {
		rows := collapsedDiffRows
		if expanded {
			rows = expandedRows
		}
		// Only the lines that can show are rendered, so that a new file
		// of 100k lines costs what one of 20 does; those left out are
		// counted.
		skipped := 0
		for _, d := range diffs {
			if len(diffs) > 1 {
				body = append(body, st.paint(st.Header, fit(oneLine(clean(d.Path)), width-2)))
			}
			shown := d.head(max(0, rows+1-len(body)))
			skipped += d.lines() - shown.lines()
			if r := shown.Render(width-2, st); r != "" {
				body = append(body, strings.Split(r, "\n")...)
			}
		}
		body = capRows(body, rows, skipped, st)
	} else if !c.Done && c.Live != "" {
		// A running command shows its last lines: a progress bar's
		// redraws collapse to the last one.
		live := strings.Split(strings.TrimRight(clean(c.Live), "\n"), "\n")
		for _, l := range live[max(0, len(live)-liveRows):] {
			body = append(body, st.paint(st.Dim, fit(l, width-2)))
		}
	} else if expanded && c.Done && strings.TrimSpace(c.Output) != "" {
		for _, l := range strings.Split(clean(strings.TrimRight(c.Output, "\n")), "\n") {
			body = append(body, fit(l, width-2))
		}
		body = capRows(body, expandedRows, 0, st)
		if c.SavedOutput != "" {
			body = append(body, st.paint(st.Dim, fit(oneLine(clean("whole output in "+c.SavedOutput)), width-2)))
		}
	}
	if len(body) == 0 {
		return head
	}
	return head + "\n  " + strings.Join(body, "\n  ")
}

// capRows keeps the first n of rows, saying how many were left out,
// counting skipped more that were never rendered.
func capRows(rows []string, n, skipped int, st Styles) []string {
	if len(rows) <= n && skipped == 0 {
		return rows
	}
	more := max(0, len(rows)-n) + skipped
	return append(rows[:min(n, len(rows)):min(n, len(rows))], st.paint(st.Dim, fmt.Sprintf("… +%d %s", more, plural(more, "line", "lines"))))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
