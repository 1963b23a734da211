package tui

import (
	"fmt"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/tui/cells"
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
		m.noticeAt(cells.Warning, e.Error)
	case event.SessionStart:
		m.status.model, m.status.mode = e.Model, e.PermissionMode
		if e.ForkedFrom != "" || e.Resumed {
			m.showHistory(e)
		}
		if e.ModeNotice != "" {
			m.notice(e.ModeNotice)
		}
		m.status.used, m.status.window = m.sess.ContextStatus()
	case event.TextDelta, event.ThinkingDelta:
		c := m.stream(e)
		c.text += e.Text
		if c.md != nil {
			c.md.Append(e.Text)
		}
		c.changed()
	case event.Text, event.Thinking:
		c := m.stream(e)
		if c.md != nil {
			if c.text != e.Text {
				// Deltas were lost on the way: render the whole text.
				c.md = cells.NewStream(m.width, m.opts.CellStyles)
				c.md.Append(e.Text)
			}
			c.md.Finish()
		}
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
		m.startCall(cells.NewToolCall(e, m.opts.Dir))
	case event.CommandOutput:
		if r, ok := m.tools[e.CallID]; ok {
			r.c.calls[r.i].AppendOutput(e.Text)
			r.c.changed()
		}
	case event.ToolEnd:
		r, ok := m.tools[e.CallID]
		if !ok {
			// A call that never started, as one refused before it ran.
			m.startCall(cells.NewToolCall(e, m.opts.Dir))
			r = m.tools[e.CallID]
		}
		delete(m.tools, e.CallID)
		r.c.calls[r.i].End(e)
		r.c.done = true
		for _, call := range r.c.calls {
			r.c.done = r.c.done && call.Done
		}
		r.c.changed()
	case event.SteeringDelivered:
		for i := m.printed; i < len(m.tr.cells); i++ {
			if c := m.tr.cells[i]; c.kind == steerCell && !c.delivered && c.text == e.Text {
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
		c := cells.NewCompaction(e)
		m.compaction = m.add(&cell{kind: compactionCell, compaction: &c})
	case event.CompactionEnd:
		if c := m.compaction; c != nil {
			c.compaction.End(e)
			c.done = true
			c.changed()
			m.compaction = nil
		}
	case event.TodoUpdated:
		t := cells.NewTodos(e)
		m.add(&cell{kind: todoCell, todos: &t, done: true})
	case event.PlanSubmitted:
		m.add(&cell{kind: assistantCell, text: "Plan:\n" + e.Text, done: true})
	case event.RuleAdded:
		m.notice(fmt.Sprintf("Added the rule %s to %s.", e.Rule, e.RuleSource))
	case event.SubagentStart:
		m.notice(fmt.Sprintf("Subagent %s (%s) started: %s", e.AgentID, e.Name, firstLine(e.Text)))
	case event.SubagentEnd:
		m.notice(fmt.Sprintf("Subagent %s ended: %s", e.AgentID, e.Outcome))
	case event.Result:
		if e.Outcome == event.Interrupted {
			m.noticeAt(cells.Warning, "Interrupted.")
		} else if e.Outcome != event.Success {
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
	c := &cell{kind: thinkingCell}
	if k.typ == event.TextDelta {
		c = &cell{kind: assistantCell, md: cells.NewStream(m.width, m.opts.CellStyles)}
	}
	m.add(c)
	m.streams[k] = c
	return c
}

// toolRef is where a running call is: call i of cell c.
type toolRef struct {
	c *cell
	i int
}

// startCall adds a call to the transcript: to the group of reads and
// searches at its end, if it is one and the group is still live, else as
// a cell of its own.
func (m *model) startCall(call cells.ToolCall) {
	if n := len(m.tr.cells); n > m.printed && cells.Groupable(call) {
		if last := m.tr.cell(n - 1); last.kind == toolCell && cells.Groupable(last.calls[0]) {
			last.calls = append(last.calls, call)
			last.done = false
			last.changed()
			m.tools[call.ID] = toolRef{last, len(last.calls) - 1}
			return
		}
	}
	c := m.add(&cell{kind: toolCell, calls: []cells.ToolCall{call}})
	m.tools[call.ID] = toolRef{c, 0}
}

// add appends c to the transcript, painted with the UI's styles, a blank
// line above it unless it is a call after a call.
func (m *model) add(c *cell) *cell {
	c.styles = &m.opts.CellStyles
	if n := len(m.tr.cells); n > 0 {
		c.gap = c.kind != toolCell || m.tr.cells[n-1].kind != toolCell
	}
	return m.tr.add(c)
}

// drop removes an empty cell that nothing was printed of, if it is the
// last: a void attempt's.
func (m *model) drop(c *cell) {
	if n := len(m.tr.cells); n > m.printed && m.tr.cells[n-1] == c {
		m.tr.cells = m.tr.cells[:n-1]
	}
}

func (m *model) notice(text string) { m.noticeAt(cells.Info, text) }

func (m *model) noticeAt(level cells.Level, text string) {
	m.add(&cell{kind: noticeCell, level: level, text: text, done: true})
}

func (m *model) errorf(format string, args ...any) {
	m.noticeAt(cells.Error, fmt.Sprintf(format, args...))
}
