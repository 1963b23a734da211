package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
)

// stub is a session for frames: nothing runs.
type stub struct{}

func (stub) Subscribe(string, func(event.Event), ...event.SubscribeOption) *event.Subscription {
	return nil
}
func (stub) Start()                                                 {}
func (stub) Prompt(context.Context, string, ...llm.Part) app.Result { return app.Result{} }
func (stub) Steer(string) bool                                      { return false }
func (stub) Compact(context.Context, string) app.Result             { return app.Result{} }
func (stub) Recap(context.Context) app.Result                       { return app.Result{} }
func (stub) ContextStatus() (used, window int)                      { return 52_000, 200_000 }
func (stub) Close() error                                           { return nil }
func (stub) History() ([]event.Event, error)                        { return nil, nil }
func (stub) SessionID() string                                      { return "stub" }
func (stub) RewindPoints(context.Context) ([]app.RewindPoint, error) {
	return nil, nil
}
func (stub) Shell(context.Context, string) agent.UserCommand {
	return agent.UserCommand{}
}

// TestStatusLineGolden pins the status line at several widths: model,
// mode, context, tokens, cost, branch and whether a run is working, with
// the activity indicator still and moving.
func TestStatusLineGolden(t *testing.T) {
	s := status{
		model: "claude-sonnet-4-5", mode: "auto", branch: "main", used: 52_000, window: 200_000,
		usage: llm.Usage{Input: 1_200, CacheWrite: 3_400, CacheRead: 45_000, Output: 950}, cost: 0.0421, running: true,
	}
	for _, w := range []int{120, 50} {
		t.Run(fmt.Sprint(w), func(t *testing.T) { golden.RequireEqual(t, s.line(w)+"\n") })
	}
	s.animated, s.frame, s.elapsed = true, 3, 12*time.Second+400*time.Millisecond
	for _, w := range []int{160, 80} {
		t.Run(fmt.Sprint("animated-", w), func(t *testing.T) { golden.RequireEqual(t, s.line(w)+"\n") })
	}
}

// TestFrameGolden pins a whole frame at 80×20: the transcript's cells
// from events, the composer and the status line.
func TestFrameGolden(t *testing.T) {
	m := newModel(context.Background(), stub{}, newFeed(), Options{Dir: "/work/repo"})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 20})
	input := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	zero, one := 0, 1
	m.add(&cell{kind: userCell, text: "fix the failing test in pager/", done: true})
	m.apply([]event.Event{
		{Type: event.SessionStart, Model: "claude-sonnet-4-5", PermissionMode: "auto"},
		{Type: event.TextDelta, Text: "Let me look at the test."},
		{Type: event.Text, Text: "Let me look at the test."},
		{Type: event.ToolStart, CallID: "1", Name: "Read", Input: input(map[string]any{"file_path": "/work/repo/pager/pager.go"})},
		{Type: event.ToolStart, CallID: "2", Name: "Read", Input: input(map[string]any{"file_path": "/work/repo/pager/pager_test.go"})},
		{Type: event.ToolEnd, CallID: "1", Name: "Read", Output: "package pager"},
		{Type: event.ToolEnd, CallID: "2", Name: "Read", Output: "package pager"},
		{Type: event.ToolStart, CallID: "3", Name: "Bash", Input: input(map[string]any{"command": "go test ./pager/"})},
		{Type: event.ToolEnd, CallID: "3", Name: "Bash", Output: "FAIL", IsError: true, ExitCode: &one},
		{Type: event.ToolStart, CallID: "4", Name: "Edit", Input: input(map[string]any{"file_path": "/work/repo/pager/pager.go", "old_string": "n - 1", "new_string": "n"})},
		{Type: event.ToolEnd, CallID: "4", Name: "Edit", Output: "ok", Changes: []event.FileChange{{Path: "/work/repo/pager/pager.go", Kind: event.ChangeUpdate}}},
		{Type: event.ToolStart, CallID: "5", Name: "Bash", Input: input(map[string]any{"command": "go test ./pager/"})},
		{Type: event.ToolEnd, CallID: "5", Name: "Bash", Output: "ok", ExitCode: &zero},
		{Type: event.Usage, Usage: &llm.Usage{Input: 2_000, CacheRead: 18_000, Output: 400}, CostUSD: ptr(0.0123)},
		{Type: event.TextDelta, Text: "The off-by-one in `Pages` is fixed; the tests pass."},
	})
	golden.RequireEqual(t, m.View().Content+"\n")
}

func ptr[T any](v T) *T { return &v }
