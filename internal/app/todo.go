package app

import (
	"encoding/json"
	"slices"
	"sync"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/todo"
)

// todoFold follows a transcript to the todo list it leaves: the list the
// last accepted todo call set (TodoWrite, update_plan), a call counting
// once its result says it was accepted. The same fold runs over a resumed
// transcript and, record by record, over the one being written, so that
// the list a resume finds is the list the run had.
type todoFold struct {
	items       []todo.Item
	explanation string
	set         bool
	// calls are the todo calls waiting for their results, by call id.
	calls map[string]llm.Part
}

// message takes the todo calls of an assistant message and the results
// of a user message, in order, and reports whether a result set the list.
func (f *todoFold) message(m llm.Message) (changed bool) {
	for _, p := range m.Parts {
		switch p.Kind {
		case llm.PartToolCall:
			f.call(p)
		case llm.PartToolResult:
			if _, ok := f.result(p); ok {
				changed = true
			}
		}
	}
	return changed
}

func (f *todoFold) call(p llm.Part) {
	if p.Malformed != "" || !todo.IsTool(p.Name) {
		return
	}
	if f.calls == nil {
		f.calls = make(map[string]llm.Part)
	}
	f.calls[p.CallID] = p
}

// result takes a call's result and reports whether it set the list, and
// the call that did.
func (f *todoFold) result(p llm.Part) (llm.Part, bool) {
	c, ok := f.calls[p.CallID]
	if !ok {
		return llm.Part{}, false
	}
	delete(f.calls, p.CallID)
	if p.IsError {
		return llm.Part{}, false
	}
	u, err := todo.Parse(c.Name, c.Input)
	if err != nil {
		return llm.Part{}, false
	}
	f.items, f.explanation, f.set = u.Items, u.Explanation, true
	return c, true
}

// todoRecorder is the agent's recorder: the session log, followed by the
// fold, which publishes each list a call sets as todo.updated. The agent
// records results in call order, so that is the order lists take effect
// in, whichever of a response's calls ran first.
//
// Concurrency: the agent calls it from one goroutine at a time; Todos may
// be called from any.
type todoRecorder struct {
	agent.Recorder
	emit func(event.Event)

	mu   sync.Mutex
	fold todoFold
	// turn is the run's turn of the response being recorded, which the
	// agent records the usage of before the response itself.
	turn int
}

func (r *todoRecorder) AppendUsage(turn int, u llm.Usage, costUSD float64) error {
	r.mu.Lock()
	r.turn = turn
	r.mu.Unlock()
	return r.Recorder.AppendUsage(turn, u, costUSD)
}

func (r *todoRecorder) AppendMessage(m llm.Message) error {
	if err := r.Recorder.AppendMessage(m); err != nil {
		return err
	}
	if m.Role == llm.RoleAssistant {
		r.mu.Lock()
		r.fold.message(m)
		r.mu.Unlock()
	}
	return nil
}

func (r *todoRecorder) AppendToolResult(p llm.Part) error {
	if err := r.Recorder.AppendToolResult(p); err != nil {
		return err
	}
	r.mu.Lock()
	c, ok := r.fold.result(p)
	e, turn := r.updated(), r.turn
	r.mu.Unlock()
	if ok {
		e.CallID, e.Name, e.Turn = c.CallID, c.Name, turn
		r.emit(e)
	}
	return nil
}

// updated is the todo.updated event of the list as it is now; r.mu is held.
func (r *todoRecorder) updated() event.Event {
	return event.Event{Type: event.TodoUpdated, Todos: slices.Clone(r.fold.items), Explanation: r.fold.explanation}
}

// Todos is the session's todo list now.
func (r *todoRecorder) Todos() []todo.Item {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.fold.items)
}

// resumeTodos finds a resumed or forked session's todo list: the one its
// transcript leaves, or, when a resumed transcript sets none (its history
// was compacted since the last todo call), the last one the log's
// todo.updated events record. It reports whether there is one.
func (a *App) resumeTodos(r *todoRecorder) (bool, error) {
	var f todoFold
	for _, m := range a.history {
		f.message(m)
	}
	// A fork's log is a new one, written only: what it copied of its
	// origin is the transcript.
	if !f.set && a.resumed {
		err := a.log.Events(func(raw json.RawMessage) {
			var e struct {
				Type        event.Type  `json:"type"`
				Todos       []todo.Item `json:"todos"`
				Explanation string      `json:"explanation"`
			}
			if json.Unmarshal(raw, &e) == nil && e.Type == event.TodoUpdated {
				f.items, f.explanation, f.set = e.Todos, e.Explanation, true
			}
		})
		if err != nil {
			return false, err
		}
	}
	// Calls still waiting for results belong to the transcript's past.
	f.calls = nil
	r.fold = f
	return f.set && len(f.items) > 0, nil
}

// Todos is the session's todo list as the model last set it: the
// compaction ledger's, and what a front end shows.
func (a *App) Todos() []todo.Item { return a.todos.Todos() }
