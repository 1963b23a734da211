package tui

import (
	"fmt"
	"strings"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/todo"
)

// apply folds a batch of events into the transcript and the status line.
func (m *model) apply(batch []event.Event) {
	for _, e := range batch {
		m.applyOne(e)
	}
}

func (m *model) applyOne(e event.Event) {
	if e.AgentID != "" && e.Type != event.Usage {
		// A subagent's own work shows as its start and end, which its
		// parent publishes.
		return
	}
	switch e.Type {
	case warning:
		m.errorf("%s", e.Error)
	case event.SessionStart:
		m.status.model, m.status.mode = e.Model, e.PermissionMode
		if e.ModeNotice != "" {
			m.notice(e.ModeNotice)
		}
		m.status.used, m.status.window = m.sess.ContextStatus()
	case event.TextDelta, event.ThinkingDelta:
		m.stream(e).text += e.Text
		m.stream(e).changed()
	case event.Text, event.Thinking:
		c := m.stream(e)
		c.text, c.done = e.Text, true
		c.changed()
		delete(m.streams, streamKey{e.AgentID, deltaOf(e.Type)})
	case event.Retry:
		// The failed attempt's deltas are void: the response streams
		// again.
		for k, c := range m.streams {
			c.text = ""
			c.changed()
			delete(m.streams, k)
			m.drop(c)
		}
		m.errorf("%s; retrying (attempt %d)", e.Error, e.Attempt)
	case event.ToolStart:
		c := m.tr.add(&cell{kind: toolCell, tool: &toolCall{callID: e.CallID, name: e.Name, input: e.Input}})
		m.tools[e.CallID] = c
	case event.CommandOutput:
		if c := m.tools[e.CallID]; c != nil {
			c.tool.output += e.Text
			c.changed()
		}
	case event.ToolEnd:
		c := m.tools[e.CallID]
		if c == nil {
			c = m.tr.add(&cell{kind: toolCell, tool: &toolCall{callID: e.CallID, name: e.Name, input: e.Input}})
		}
		delete(m.tools, e.CallID)
		t := c.tool
		t.output, t.isError, t.denied, t.summary, t.exitCode, t.changes = e.Output, e.IsError, e.Denied, e.Summary, e.ExitCode, e.Changes
		c.done = true
		c.changed()
	case event.SteeringDelivered:
		for _, c := range m.tr.cells[m.printed:] {
			if c.kind == steerCell && !c.delivered && c.text == e.Text {
				c.delivered = true
				c.changed()
				break
			}
		}
	case event.Usage:
		if e.Usage != nil {
			m.status.usage = m.status.usage.Add(*e.Usage)
		}
		if e.CostUSD != nil {
			m.status.cost += *e.CostUSD
		}
		m.status.used, m.status.window = m.sess.ContextStatus()
	case event.CompactionStart:
		m.notice(fmt.Sprintf("Compacting the conversation (%s, %s tokens)…", e.Reason, tokens(int64(e.TokensBefore))))
	case event.CompactionEnd:
		if e.LedgerOnly {
			m.errorf("Compaction kept only the ledger: %s", e.Error)
		} else {
			m.notice(fmt.Sprintf("Compacted: %s → %s tokens.", tokens(int64(e.TokensBefore)), tokens(int64(e.TokensAfter))))
		}
	case event.TodoUpdated:
		m.notice(todoText(e.Todos))
	case event.PlanSubmitted:
		m.tr.add(&cell{kind: assistantCell, text: "Plan:\n" + e.Text, done: true})
	case event.RuleAdded:
		m.notice(fmt.Sprintf("Added the rule %s to %s.", e.Rule, e.RuleSource))
	case event.SubagentStart:
		m.notice(fmt.Sprintf("Subagent %s (%s) started: %s", e.AgentID, e.Name, firstLine(e.Text)))
	case event.SubagentEnd:
		m.notice(fmt.Sprintf("Subagent %s ended: %s", e.AgentID, e.Outcome))
	case event.Result:
		if e.Outcome != event.Success {
			text := "Stopped: " + string(e.Outcome)
			if e.Error != "" {
				text += ": " + e.Error
			}
			m.errorf("%s", text)
		}
	}
}

// deltaOf is the delta type of a block type.
func deltaOf(t event.Type) event.Type {
	if t == event.Thinking {
		return event.ThinkingDelta
	}
	return event.TextDelta
}

// stream is the cell e's text goes to: the one streaming, or a new one.
func (m *model) stream(e event.Event) *cell {
	k := streamKey{e.AgentID, deltaOf(e.Type)}
	if c := m.streams[k]; c != nil {
		return c
	}
	kind := assistantCell
	if k.typ == event.ThinkingDelta {
		kind = thinkingCell
	}
	c := m.tr.add(&cell{kind: kind})
	m.streams[k] = c
	return c
}

// drop removes an empty cell that nothing was printed of, if it is the
// last: a void attempt's.
func (m *model) drop(c *cell) {
	if n := len(m.tr.cells); n > m.printed && m.tr.cells[n-1] == c {
		m.tr.cells = m.tr.cells[:n-1]
	}
}

func (m *model) notice(text string) {
	m.tr.add(&cell{kind: noticeCell, text: text, done: true})
}

func (m *model) errorf(format string, args ...any) {
	m.tr.add(&cell{kind: errorCell, text: fmt.Sprintf(format, args...), done: true})
}

// todoText is the task list, one item a line.
func todoText(items []todo.Item) string {
	var b strings.Builder
	b.WriteString("Tasks:")
	for _, it := range items {
		mark := "☐"
		switch it.Status {
		case todo.Completed:
			mark = "☑"
		case todo.InProgress:
			mark = "▶"
		}
		fmt.Fprintf(&b, "\n  %s %s", mark, it.Text)
	}
	return b.String()
}
