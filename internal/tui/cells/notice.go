package cells

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/todo"
)

// Level is how much a notice matters.
type Level int

const (
	Info Level = iota
	Warning
	Error
)

// Notice is a line of Lathe's own about the session: a mode notice, a
// retry, a failure to write the session log, a rule added.
type Notice struct {
	Level Level
	Text  string
}

// Render renders the notice at width columns, wrapped, marked by its
// level. The result has no final newline.
func (n Notice) Render(width int, st Styles) string {
	mark, style := "·", st.Dim
	switch n.Level {
	case Warning:
		mark, style = "!", st.Warning
	case Error:
		mark, style = "✗", st.Fail
	}
	var rows []string
	for _, para := range strings.Split(clean(strings.TrimSpace(n.Text)), "\n") {
		rows = append(rows, strings.Split(ansi.Wrap(para, max(width-2, 1), ""), "\n")...)
	}
	for i, r := range rows {
		prefix := "  "
		if i == 0 {
			prefix = mark + " "
		}
		rows[i] = st.paint(style, prefix+r)
	}
	return strings.Join(rows, "\n")
}

// Compaction is the boundary where the conversation was compacted: what
// came before it is in the transcript, but the model sees it only as the
// summary.
type Compaction struct {
	// Reason is auto, reactive or manual.
	Reason       string
	TokensBefore int
	// Done is set by End; TokensAfter, LedgerOnly and Error come with it.
	Done        bool
	TokensAfter int
	LedgerOnly  bool
	Error       string
}

// NewCompaction returns the boundary that start (a compaction.start)
// opens.
func NewCompaction(start event.Event) Compaction {
	return Compaction{Reason: start.Reason, TokensBefore: start.TokensBefore}
}

// End completes the boundary with its compaction.end.
func (c *Compaction) End(end event.Event) {
	c.Done = true
	c.TokensAfter = end.TokensAfter
	c.LedgerOnly = end.LedgerOnly
	c.Error = end.Error
}

// Render renders the boundary as a rule across width columns with what
// happened in it: "── compacted (auto) 182k → 24k tokens ──────".
func (c Compaction) Render(width int, st Styles) string {
	var text string
	switch {
	case !c.Done:
		text = fmt.Sprintf("compacting (%s) %s tokens…", c.Reason, tokens(c.TokensBefore))
	case c.LedgerOnly:
		text = fmt.Sprintf("compacted (%s) %s → %s tokens, without a summary", c.Reason, tokens(c.TokensBefore), tokens(c.TokensAfter))
	default:
		text = fmt.Sprintf("compacted (%s) %s → %s tokens", c.Reason, tokens(c.TokensBefore), tokens(c.TokensAfter))
	}
	text = fit(oneLine(clean(text)), max(width-6, 1))
	rule := "── " + text + " "
	rule += strings.Repeat("─", max(0, width-displayWidth(rule)))
	style := st.Dim
	if c.LedgerOnly {
		style = st.Warning
	}
	out := st.paint(style, rule)
	if c.Done && c.Error != "" {
		out += "\n" + Notice{Level: Warning, Text: c.Error}.Render(width, st)
	}
	return out
}

// tokens shows a token count the way the status line does: 950, 12.3k,
// 182k, 1.2M.
func tokens(n int) string {
	switch {
	case n < 1000:
		return fmt.Sprint(n)
	case n < 10_000:
		return trimZero(fmt.Sprintf("%.1fk", float64(n)/1000))
	case n < 1_000_000:
		return fmt.Sprintf("%dk", (n+500)/1000)
	}
	return trimZero(fmt.Sprintf("%.1fM", float64(n)/1e6))
}

func trimZero(s string) string {
	return strings.Replace(s, ".0", "", 1)
}

// Todos is the model's task list, as a todo.updated event set it.
type Todos struct {
	Items []todo.Item
	// Explanation is update_plan's note on the change.
	Explanation string
}

// NewTodos returns the list that e, a todo.updated, sets.
func NewTodos(e event.Event) Todos {
	return Todos{Items: e.Todos, Explanation: e.Explanation}
}

// Render renders the list at width columns, an item a row (wrapped): done
// items ticked and dim, the one in progress by its active form.
func (t Todos) Render(width int, st Styles) string {
	done := 0
	for _, it := range t.Items {
		if it.Status == todo.Completed {
			done++
		}
	}
	rows := []string{st.paint(st.Verb, "Todo") + " " + st.paint(st.Dim, fmt.Sprintf("%d/%d done", done, len(t.Items)))}
	if t.Explanation != "" {
		for _, r := range strings.Split(ansi.Wrap(oneLine(clean(t.Explanation)), max(width-2, 1), ""), "\n") {
			rows = append(rows, "  "+st.paint(st.Dim, r))
		}
	}
	for _, it := range t.Items {
		mark, text, style := "☐", it.Text, st.Target
		switch it.Status {
		case todo.Completed:
			mark, style = "☑", st.Dim
		case todo.InProgress:
			mark, style = "▶", st.Verb
			if it.Active != "" {
				text = it.Active
			}
		}
		for i, r := range strings.Split(ansi.Wrap(oneLine(clean(text)), max(width-4, 1), ""), "\n") {
			prefix := "    "
			if i == 0 {
				prefix = "  " + mark + " "
			}
			rows = append(rows, st.paint(style, prefix+r))
		}
	}
	return strings.Join(rows, "\n")
}
