package agent

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/tool"
)

// sentMessage is a message of an Anthropic request body, its content
// reduced to what the tests compare.
type sentMessage struct {
	Role    string
	Content []struct {
		Type      string `json:"type"`
		Text      string `json:"text"`
		ToolUseID string `json:"tool_use_id"`
	}
}

// sent returns the messages of the nth request (from 0) the fake got.
func (h *harness) sent(n int) []sentMessage {
	h.t.Helper()
	reqs := h.server.Requests()
	if n >= len(reqs) {
		h.t.Fatalf("the fake got %d requests, want at least %d", len(reqs), n+1)
	}
	var body struct{ Messages []sentMessage }
	if err := json.Unmarshal(reqs[n].Body, &body); err != nil {
		h.t.Fatalf("request %d: %v", n, err)
	}
	return body.Messages
}

// summary writes msgs as role: kind kind …, texts quoted, one per line.
func summary(msgs []sentMessage) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(m.Role + ":")
		for _, c := range m.Content {
			b.WriteString(" " + c.Type)
			if c.Text != "" {
				b.WriteString(" " + strings.ReplaceAll(c.Text, " ", "_"))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestSendKeepsTheConversation(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"text": "first answer"}},
	  {"expect": {"extends_previous": true, "user_contains": ["second prompt"]}, "reply": {"text": "second answer"}}]}`)
	a := New(h.cfg)
	if o := a.Send(context.Background(), "first prompt"); o.Kind != event.Success || o.Answer != "first answer" {
		t.Fatalf("first Send: %v %q (%v)", o.Kind, o.Answer, o.Err)
	}
	o := a.Send(context.Background(), "second prompt")
	h.check()
	if o.Kind != event.Success || o.Answer != "second answer" || o.Turns != 1 {
		t.Fatalf("second Send: %v %q after %d turns (%v)", o.Kind, o.Answer, o.Turns, o.Err)
	}
	want := "user: text first_prompt\nassistant: text first_answer\nuser: text second_prompt\n"
	if got := summary(h.sent(1)); got != want {
		t.Errorf("second request sent\n%s\nwant\n%s", got, want)
	}
	if got := a.History().Len(); got != 4 {
		t.Errorf("History has %d messages, want 4", got)
	}
}

func TestReplacedHistoryIsWhatTheNextRequestSends(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "echo hi"}}]}},
	  {"reply": {"text": "long answer"}},
	  {"expect": {"new_conversation": true, "user_contains": ["go on"]}, "reply": {"text": "after compaction"}}]}`)
	a := New(h.cfg)
	if o := a.Send(context.Background(), "start"); o.Kind != event.Success {
		t.Fatalf("first Send: %v (%v)", o.Kind, o.Err)
	}
	old := a.History()
	summaryMsgs := []llm.Message{
		{Role: llm.RoleUser, Parts: []llm.Part{{Kind: llm.PartText, Text: "summary of the work so far"}}},
		{Role: llm.RoleAssistant, Parts: []llm.Part{{Kind: llm.PartText, Text: "understood"}}},
	}
	if err := a.Replace(context.Background(), llm.NewHistory(summaryMsgs...)); err != nil {
		t.Fatal(err)
	}
	o := a.Send(context.Background(), "go on")
	h.check()
	if o.Kind != event.Success || o.Answer != "after compaction" {
		t.Fatalf("Send after Replace: %v %q (%v)", o.Kind, o.Answer, o.Err)
	}
	want := "user: text summary_of_the_work_so_far\nassistant: text understood\nuser: text go_on\n"
	if got := summary(h.sent(2)); got != want {
		t.Errorf("request after Replace sent\n%s\nwant\n%s", got, want)
	}
	if old.Len() != 4 {
		t.Errorf("the snapshot taken before Replace has %d messages, want its 4: a replacement must not edit it", old.Len())
	}
}

// gate is a tool whose calls each wait for the test: entered says a call
// runs, and it returns once release is closed.
type gate struct {
	entered chan struct{}
	release chan struct{}
}

func newGate() *gate { return &gate{entered: make(chan struct{}, 8), release: make(chan struct{})} }

func (g *gate) Def() llm.ToolDef {
	return llm.ToolDef{Name: "Gate", Description: "test", Schema: json.RawMessage(`{"type":"object"}`)}
}
func (g *gate) ReadOnly() bool { return false }
func (g *gate) Run(ctx context.Context, _ *tool.Env, _ json.RawMessage) (tool.Result, error) {
	g.entered <- struct{}{}
	select {
	case <-g.release:
		return tool.Result{Content: "opened"}, nil
	case <-ctx.Done():
		return tool.Result{Content: "cancelled", IsError: true}, nil
	}
}

func TestSteeringIsDeliveredAtTheNextToolBoundary(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Gate", "input": {}}]}},
	  {"expect": {"extends_previous": true, "tool_results": [{"call": 0, "contains": ["opened"]}], "user_contains": ["use tabs, not spaces"]},
	   "reply": {"text": "done, with tabs"}}]}`)
	g := newGate()
	h.cfg.Tools = append(h.cfg.Tools, g)
	a := New(h.cfg)
	if a.Steer("too early") {
		t.Fatal("Steer queued text with no Send running")
	}
	done := make(chan Outcome)
	go func() { done <- a.Send(context.Background(), "format the file") }()
	<-g.entered
	if !a.Steer("use tabs, not spaces") {
		t.Fatal("Steer refused text while a call ran")
	}
	close(g.release)
	o := <-done
	h.check()
	if o.Kind != event.Success || o.Answer != "done, with tabs" || len(o.Undelivered) != 0 {
		t.Fatalf("outcome = %v %q, undelivered %q (%v)", o.Kind, o.Answer, o.Undelivered, o.Err)
	}
	want := "user: text format_the_file\nassistant: tool_use\nuser: tool_result text use_tabs,_not_spaces\n"
	if got := summary(h.sent(1)); got != want {
		t.Errorf("the request after the call sent\n%s\nwant the result and the steering in one turn:\n%s", got, want)
	}
	// Delivered after the call's result, before the next response.
	var order []string
	for _, e := range h.events {
		switch e.Type {
		case event.ToolEnd, event.SteeringDelivered, event.Usage:
			order = append(order, string(e.Type)+" "+e.Text)
		}
	}
	if want := []string{"usage ", "tool.end ", "steering.delivered use tabs, not spaces", "usage "}; !slices.Equal(order, want) {
		t.Errorf("events %q, want %q", order, want)
	}
	// Recorded, so a resume sends what this run sent.
	tr := h.transcript()
	var texts []string
	for _, m := range tr.Messages {
		if m.Role == llm.RoleUser && m.Text() != "" {
			texts = append(texts, m.Text())
		}
	}
	if want := []string{"format the file", "use tabs, not spaces"}; !slices.Equal(texts, want) {
		t.Errorf("transcript's user texts %q, want %q", texts, want)
	}
}

// steerOn is a provider that, before passing its nth request (from 0)
// on, calls fn.
type steerOn struct {
	llm.Provider
	n     int
	fn    func()
	count int
}

func (p *steerOn) Stream(ctx context.Context, req *llm.Request, onDelta func(llm.Delta)) (*llm.Response, error) {
	if p.count == p.n {
		p.fn()
	}
	p.count++
	return p.Provider.Stream(ctx, req, onDelta)
}

func TestSteeringDuringTheAnswerContinuesTheRun(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"text": "here is the plan"}},
	  {"expect": {"extends_previous": true, "user_contains": ["and the docs"]}, "reply": {"text": "docs too"}}]}`)
	var a *Agent
	h.cfg.Provider = &steerOn{Provider: h.cfg.Provider, n: 0, fn: func() {
		if !a.Steer("and the docs") {
			t.Error("Steer refused text while the model answered")
		}
	}}
	a = New(h.cfg)
	o := a.Send(context.Background(), "plan it")
	h.check()
	if o.Kind != event.Success || o.Answer != "docs too" || o.Turns != 2 {
		t.Fatalf("outcome = %v %q after %d turns (%v), want the answer to the steering", o.Kind, o.Answer, o.Turns, o.Err)
	}
	if a.Steer("after the end") {
		t.Error("Steer queued text after the Send ended")
	}
}

func TestSteeringQueuedAtCancellationIsHandedBack(t *testing.T) {
	h := newHarness(t, `{"steps": [{"reply": {"tool_calls": [{"name": "Gate", "input": {}}]}}]}`)
	g := newGate()
	h.cfg.Tools = append(h.cfg.Tools, g)
	a := New(h.cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan Outcome)
	go func() { done <- a.Send(ctx, "start") }()
	<-g.entered
	a.Steer("one")
	a.Steer("two")
	// Replace waits for the running Send; a context that ends first ends
	// the wait, and nothing is replaced.
	gone, stop := context.WithCancel(context.Background())
	stop()
	if err := a.Replace(gone, llm.NewHistory()); !errors.Is(err, context.Canceled) {
		t.Errorf("Replace during a Send with a cancelled context = %v, want context.Canceled", err)
	}
	cancel()
	o := <-done
	if o.Kind != event.Interrupted || !slices.Equal(o.Undelivered, []string{"one", "two"}) {
		t.Fatalf("outcome = %v, undelivered %q (%v), want interrupted with [one two] handed back", o.Kind, o.Undelivered, o.Err)
	}
	for _, e := range h.events {
		if e.Type == event.SteeringDelivered {
			t.Errorf("steering %q reported delivered by a cancelled run", e.Text)
		}
	}
	if a.History().Len() == 0 {
		t.Error("the cancelled Replace emptied the history")
	}
	for _, m := range h.transcript().Messages {
		if m.Role == llm.RoleUser && (strings.Contains(m.Text(), "one") || strings.Contains(m.Text(), "two")) {
			t.Errorf("undelivered steering recorded: %q", m.Text())
		}
	}
}

func TestMessageEventFollowsItsBlocks(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"text": "let me look", "tool_calls": [{"name": "Bash", "input": {"command": "true"}}, {"name": "Bash", "input": {"command": "true"}}]}},
	  {"reply": {"text": "fine"}}]}`)
	if o := h.run(context.Background(), "go"); o.Kind != event.Success {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
	var got, ids []string
	for _, e := range h.events {
		switch e.Type {
		case event.Text, event.Message:
			got = append(got, string(e.Type)+" "+e.Text+" "+strings.Join(e.CallIDs, ","))
		case event.ToolStart:
			got = append(got, "tool.start "+e.CallID)
			ids = append(ids, e.CallID)
		}
	}
	if len(ids) != 2 {
		t.Fatalf("%d tool.start events, want 2", len(ids))
	}
	want := []string{
		"text let me look ", "message let me look " + ids[0] + "," + ids[1],
		"tool.start " + ids[0], "tool.start " + ids[1],
		"text fine ", "message fine ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("events\n%q\nwant\n%q", got, want)
	}
}
