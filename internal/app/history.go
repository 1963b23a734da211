package app

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/session"
)

// Prompt is the type of the events History gives for a prompt the user
// sent: Text is the prompt. The live stream has none, since the front
// end that sent the prompt knows it.
const Prompt event.Type = "history.prompt"

// historyTypes are the recorded events a front end shows, as the live
// stream carried them; the rest of the log's events (checkpoints,
// retries, the runs' starts) are its audit trail.
var historyTypes = map[event.Type]bool{
	event.ToolStart: true, event.ToolEnd: true, event.TodoUpdated: true, event.PlanSubmitted: true,
	event.SubagentStart: true, event.SubagentEnd: true,
}

// History is the conversation the session's log holds so far, as the
// events a front end folds into its transcript: each prompt (Prompt),
// the model's text and thinking, and the tool calls with their results,
// in order. A resumed or forked session shows it before it goes on.
func (a *App) History() ([]event.Event, error) {
	var out []event.Event
	var bad error
	err := a.log.History(func(r session.HistoryRecord) {
		if r.Message != nil {
			out = append(out, messageEvents(*r.Message)...)
			return
		}
		var e event.Event
		if err := json.Unmarshal(r.Event, &e); err != nil {
			bad = fmt.Errorf("session %s: read an event of its history: %w", a.log.ID(), err)
			return
		}
		if historyTypes[e.Type] && e.AgentID == "" {
			out = append(out, e)
		}
	})
	if err != nil {
		return nil, err
	}
	return out, bad
}

// messageEvents are the events of a recorded message: a user's prompt,
// or an assistant's text and thinking (its calls are the tool.start
// events recorded after it). A user message that holds only tool
// results is none.
func messageEvents(m llm.Message) []event.Event {
	var out []event.Event
	if m.Role == llm.RoleUser {
		var texts []string
		for _, p := range m.Parts {
			if p.Kind == llm.PartText {
				texts = append(texts, p.Text)
			}
		}
		if len(texts) > 0 {
			out = append(out, event.Event{Type: Prompt, Text: strings.Join(texts, "\n\n")})
		}
		return out
	}
	for _, p := range m.Parts {
		switch p.Kind {
		case llm.PartText:
			out = append(out, event.Event{Type: event.Text, Text: p.Text})
		case llm.PartThinking:
			if p.Text != "" {
				out = append(out, event.Event{Type: event.Thinking, Text: p.Text})
			}
		}
	}
	return out
}
