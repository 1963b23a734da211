package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/fakeapi"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/pkgguard/pkgguardtest"
)

// binDir holds the lathe binary the scripts run, built once by TestMain
// exactly as users build it.
var binDir string

// goEnv is the Go environment the scripts' own `go test` runs need, since
// each script gets a fresh HOME.
var goEnv []string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "lathe-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "lathe"), ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build lathe: %v\n%s", err, out)
		return 1
	}
	binDir = dir
	out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOROOT").Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go env: %v\n", err)
		return 1
	}
	v := strings.Split(strings.TrimSpace(string(out)), "\n")
	goEnv = []string{"GOCACHE=" + v[0], "GOMODCACHE=" + v[1], "GOROOT=" + v[2], "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOPROXY=off"}
	return m.Run()
}

// fastRetries keeps fault tests quick: the retry policy and stall detection
// are the real ones, with short delays. The stall limit stays long, since on
// a loaded machine a slow answer would pass for a stall and its retry use up
// the script's next step; a script that tests stalls sets a short one in its
// .lathe/config.toml.
const fastRetries = `[retry]
base_delay = "10ms"
max_delay = "50ms"
stream_idle_timeout = "30s"
`

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:       "testdata/script",
		Condition: condition,
		Cmds:      mergeCmds(fakeapi.Cmds(), pkgguardtest.Cmds(), scriptCmds(), eventCmds(), ttyCmds()),
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
			home := filepath.Join(env.WorkDir, ".home")
			env.Setenv("HOME", home)
			env.Setenv("XDG_STATE_HOME", filepath.Join(home, "state"))
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
			for _, kv := range goEnv {
				k, v, _ := strings.Cut(kv, "=")
				env.Setenv(k, v)
			}
			cfgDir := filepath.Join(home, "config", "lathe")
			if err := os.MkdirAll(cfgDir, 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(cfgDir, "config.toml"), []byte(fastRetries), 0o644)
		},
	})
}

func mergeCmds(sets ...map[string]func(ts *testscript.TestScript, neg bool, args []string)) map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	all := map[string]func(ts *testscript.TestScript, neg bool, args []string){}
	for _, set := range sets {
		maps.Copy(all, set)
	}
	return all
}

// eventCmds is the testscript command
//
//	validate-events FILE
//
// which checks a stream-json event stream: every line against
// docs/events.schema.json, and the invariants documented in docs/events.md.
// On failure it writes the problem to stderr; negated, it must fail.
func eventCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"validate-events": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 1 {
				ts.Fatalf("usage: validate-events FILE")
			}
			data, err := os.ReadFile(ts.MkAbs(args[0]))
			ts.Check(err)
			err = checkEvents(data)
			switch {
			case err != nil:
				fmt.Fprintf(ts.Stderr(), "validate-events: %v\n", err)
				if !neg {
					ts.Fatalf("%s: %v", args[0], err)
				}
			case neg:
				ts.Fatalf("%s: valid, want invalid", args[0])
			}
		},
	}
}

// eventSchemas holds docs/events.schema.json compiled once, whole and per
// variant, for errors that name what is wrong with a line of a known type
// rather than why it matches none of the variants.
type eventSchemas struct {
	all     *jsonschema.Schema
	variant map[string]*jsonschema.Schema
}

var eventSchema = sync.OnceValues(func() (*eventSchemas, error) {
	path := filepath.Join("..", "..", "docs", "events.schema.json")
	c := jsonschema.NewCompiler()
	all, err := c.Compile(path)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		OneOf []struct {
			Ref string `json:"$ref"`
		} `json:"oneOf"`
		Defs map[string]struct {
			Properties struct {
				Type struct {
					Const string `json:"const"`
				} `json:"type"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	s := &eventSchemas{all: all, variant: map[string]*jsonschema.Schema{}}
	for _, o := range doc.OneOf {
		v, err := c.Compile(path + o.Ref)
		if err != nil {
			return nil, err
		}
		s.variant[doc.Defs[strings.TrimPrefix(o.Ref, "#/$defs/")].Properties.Type.Const] = v
	}
	return s, nil
})

// validate checks one line.
func (s *eventSchemas) validate(line []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
	if err != nil {
		return err
	}
	err = s.all.Validate(inst)
	if err == nil {
		return nil
	}
	if obj, ok := inst.(map[string]any); ok {
		if typ, ok := obj["type"].(string); ok && s.variant[typ] != nil {
			if verr := s.variant[typ].Validate(inst); verr != nil {
				err = verr
			}
		}
	}
	return err
}

// checkEvents validates a whole stream. Each line is validated against the
// schema first, so the ordering checks can rely on the shapes.
func checkEvents(data []byte) error {
	schema, err := eventSchema()
	if err != nil {
		return err
	}
	var evs []event.Event
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 16<<20)
	for n := 1; sc.Scan(); n++ {
		if err := schema.validate(sc.Bytes()); err != nil {
			return fmt.Errorf("line %d: %s", n, strings.Join(strings.Fields(err.Error()), " "))
		}
		var e event.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return fmt.Errorf("line %d: %v", n, err)
		}
		evs = append(evs, e)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return checkOrder(evs)
}

// checkSeq checks that seq counts from 1 and goes up, and, in a stream
// that carries deltas (--include-partial-messages, so no delta is left
// out), by one from line to line, but for the numbers of the events
// stream-json leaves out: each turn's message event, after the turn's
// usage, thinking and text, before its calls; and each decided call's
// decision event, after its tool.start (or its approval.resolved).
func checkSeq(evs []event.Event) error {
	deltas := slices.ContainsFunc(evs, func(e event.Event) bool { return e.Type.Streaming() })
	// Subagents publish at once, so where their message and decision
	// events fell cannot be worked out: only the order is checked.
	if slices.ContainsFunc(evs, func(e event.Event) bool { return e.AgentID != "" }) {
		deltas = false
	}
	if evs[0].Seq != 1 {
		return fmt.Errorf("line 1: seq %d, want 1", evs[0].Seq)
	}
	messages := map[int]bool{} // turns whose message's number was skipped
	// open are the calls started, not ended, and not yet given one of the
	// skipped numbers; skipped counts the decisions' numbers skipped and
	// not yet given to a call. Read-only calls run concurrently, so their
	// decisions come in any order: a number is given to a call only at
	// its tool.end, before which its decision came, and giving it then is
	// never wrong, as it leaves the most calls to give the others to.
	var open []string
	skipped := 0
	for i := 1; i < len(evs); i++ {
		p, e := evs[i-1], evs[i]
		if p.Type == event.ToolStart {
			open = append(open, p.CallID)
		}
		message := seqAfterMessage(p, e) && !messages[p.Turn]
		gap := int(e.Seq - p.Seq - 1)
		if e.Seq > p.Seq && message && gap > 0 {
			messages[p.Turn] = true
			gap--
		}
		switch {
		case e.Seq <= p.Seq:
			return fmt.Errorf("line %d: seq %d after seq %d", i+1, e.Seq, p.Seq)
		case deltas && skipped+gap > len(open):
			return fmt.Errorf("line %d: seq %d after seq %d in a stream with deltas", i+1, e.Seq, p.Seq)
		case deltas:
			skipped += gap
		}
		if e.Type == event.ToolEnd {
			if k := slices.Index(open, e.CallID); k >= 0 {
				open = slices.Delete(open, k, k+1)
				if skipped > 0 {
					skipped--
				}
			}
		}
	}
	return nil
}

// seqAfterMessage reports whether a turn's message event can come between
// events p and e: after the turn's usage and blocks, before its calls or
// whatever follows the turn.
func seqAfterMessage(p, e event.Event) bool {
	switch p.Type {
	case event.Usage, event.Thinking, event.Text:
	default:
		return false
	}
	return e.Type == event.Result || e.Turn > p.Turn || e.Type == event.ToolStart
}

// checkOrder checks the invariants of docs/events.md: one session.start
// first and one result last, one session id, turns that never go back, a
// turn's deltas and retries before its usage and its tool calls after it,
// every tool.end after its tool.start and every tool.start ended, a call's
// checkpoint and command output between its tool.start and tool.end, one usage
// per completed turn adding up to the result's (and the summary requests'
// usage between each compaction.start and its compaction.end), denials listed in the
// result, and deltas that, after the turn's last retry, spell the blocks of
// a completed turn. Each subagent's events (agent_id) keep the turn rules
// on their own, between its subagent.start and its subagent.end, which
// sums its usage; the result's usage sums every agent's.
func checkOrder(evs []event.Event) error {
	if len(evs) == 0 {
		return errors.New("no events")
	}
	if evs[0].Type != event.SessionStart {
		return fmt.Errorf("line 1 is %s, want session.start", evs[0].Type)
	}
	last := evs[len(evs)-1]
	if last.Type != event.Result {
		return fmt.Errorf("last line is %s, want result", last.Type)
	}
	if err := checkSeq(evs); err != nil {
		return err
	}
	// text is a turn's text and thinking, from deltas and from blocks.
	type text struct{ deltas, blocks [2]string }
	// agent is what the checks keep of each agent's events: the main
	// agent's ("") and each subagent's follow the rules on their own.
	type agent struct {
		texts  map[int]*text
		closed map[int]bool // turns whose usage event has been seen
		turn   int
		// usage and cost sum the agent's usage events; start and end
		// are a subagent's subagent.start and subagent.end.
		usage      llm.Usage
		cost       float64
		start, end bool
	}
	var (
		started = map[string]event.Event{}
		ended   = map[string]event.Event{}
		agents  = map[string]*agent{}
		sum     llm.Usage
		cost    float64
	)
	// compacting is set between a compaction.start and its end.
	compacting := false
	for i, e := range evs {
		line := i + 1
		if e.SessionID != evs[0].SessionID {
			return fmt.Errorf("line %d: session_id %s, want %s", line, e.SessionID, evs[0].SessionID)
		}
		if (e.Type == event.SessionStart || e.Type == event.Result) && i != 0 && i != len(evs)-1 {
			return fmt.Errorf("line %d: %s in the middle of the stream", line, e.Type)
		}
		ag := agents[e.AgentID]
		if ag == nil {
			ag = &agent{texts: map[int]*text{}, closed: map[int]bool{}}
			agents[e.AgentID] = ag
		}
		texts, closed := ag.texts, ag.closed
		if e.AgentID != "" {
			switch {
			case e.Type == event.SubagentStart && ag.start:
				return fmt.Errorf("line %d: second subagent.start for agent %s", line, e.AgentID)
			case e.Type == event.SubagentStart:
				ag.start = true
			case !ag.start || ag.end:
				return fmt.Errorf("line %d: %s of agent %s outside its subagent.start and subagent.end", line, e.Type, e.AgentID)
			case e.Type == event.SubagentEnd:
				ag.end = true
				if *e.Usage != ag.usage || math.Abs(*e.CostUSD-ag.cost) > 1e-9 {
					return fmt.Errorf("line %d: subagent.end of agent %s has usage %+v, $%v; its usage events add up to %+v, $%v", line, e.AgentID, *e.Usage, *e.CostUSD, ag.usage, ag.cost)
				}
			}
		}
		turn := ag.turn
		if e.Turn != 0 {
			if e.Turn < turn {
				return fmt.Errorf("line %d: turn %d after turn %d", line, e.Turn, turn)
			}
			ag.turn = e.Turn
		}
		tx := texts[e.Turn]
		if tx == nil {
			tx = &text{}
			texts[e.Turn] = tx
		}
		switch e.Type {
		case event.TextDelta, event.ThinkingDelta, event.Retry:
			if closed[e.Turn] {
				return fmt.Errorf("line %d: %s after turn %d's usage", line, e.Type, e.Turn)
			}
		case event.Text, event.Thinking, event.ToolStart:
			if !closed[e.Turn] {
				return fmt.Errorf("line %d: %s before turn %d's usage", line, e.Type, e.Turn)
			}
		}
		switch e.Type {
		case event.Retry:
			tx.deltas = [2]string{} // the failed attempt's deltas are void
		case event.TextDelta:
			tx.deltas[0] += e.Text
		case event.ThinkingDelta:
			tx.deltas[1] += e.Text
		case event.Text:
			tx.blocks[0] += e.Text
		case event.Thinking:
			tx.blocks[1] += e.Text
		case event.CompactionStart, event.CompactionEnd:
			if compacting != (e.Type == event.CompactionEnd) {
				return fmt.Errorf("line %d: %s, but a compaction was %s", line, e.Type, map[bool]string{true: "running", false: "not running"}[compacting])
			}
			compacting = e.Type == event.CompactionStart
		case event.Usage:
			if compacting {
				// A summary request's: no turn of its own.
				sum = sum.Add(*e.Usage)
				cost += *e.CostUSD
				break
			}
			if closed[e.Turn] {
				return fmt.Errorf("line %d: second usage event for turn %d", line, e.Turn)
			}
			closed[e.Turn] = true
			sum = sum.Add(*e.Usage)
			cost += *e.CostUSD
			ag.usage = ag.usage.Add(*e.Usage)
			ag.cost += *e.CostUSD
		case event.ToolStart:
			if _, dup := started[e.CallID]; dup {
				return fmt.Errorf("line %d: second tool.start for call %s", line, e.CallID)
			}
			started[e.CallID] = e
		case event.Message, event.Decision:
			return fmt.Errorf("line %d: a %s event, which stream-json leaves out", line, e.Type)
		case event.Checkpoint:
			_, running := started[e.CallID]
			if _, done := ended[e.CallID]; !running || done || started[e.CallID].Name != e.Name || started[e.CallID].Turn != e.Turn {
				return fmt.Errorf("line %d: checkpoint for call %s outside its tool.start and tool.end", line, e.CallID)
			}
		case event.CommandOutput:
			_, running := started[e.CallID]
			if _, done := ended[e.CallID]; !running || done || started[e.CallID].Turn != e.Turn {
				return fmt.Errorf("line %d: command.output for call %s outside its tool.start and tool.end", line, e.CallID)
			}
		case event.ToolEnd:
			s, ok := started[e.CallID]
			switch {
			case !ok:
				return fmt.Errorf("line %d: tool.end for call %s without a tool.start before it", line, e.CallID)
			case s.Name != e.Name || s.Turn != e.Turn:
				return fmt.Errorf("line %d: tool.end %s (%s, turn %d) does not match its tool.start (%s, turn %d)", line, e.CallID, e.Name, e.Turn, s.Name, s.Turn)
			}
			if _, dup := ended[e.CallID]; dup {
				return fmt.Errorf("line %d: second tool.end for call %s", line, e.CallID)
			}
			ended[e.CallID] = e
		}
	}
	for id := range started {
		if _, ok := ended[id]; !ok {
			return fmt.Errorf("call %s has a tool.start and no tool.end", id)
		}
	}
	for id, ag := range agents {
		if id != "" && !ag.end {
			return fmt.Errorf("agent %s has no subagent.end", id)
		}
		for n, tx := range ag.texts {
			for k, kind := range []string{"text", "thinking"} {
				// Deltas that no usage event follows (the run ended) are void.
				if ag.closed[n] && tx.deltas[k] != "" && tx.deltas[k] != tx.blocks[k] {
					return fmt.Errorf("turn %d: the %s deltas after the last retry spell %q, the %s events %q", n, kind, tx.deltas[k], kind, tx.blocks[k])
				}
			}
		}
	}
	// The result counts the main agent's turns, and every agent's usage.
	if closed := agents[""].closed; len(closed) != last.Turns {
		return fmt.Errorf("%d usage events, result has turns %d", len(closed), last.Turns)
	}
	if sum != *last.Usage {
		return fmt.Errorf("usage events add up to %+v, result has %+v", sum, *last.Usage)
	}
	if math.Abs(cost-*last.TotalCostUSD) > 1e-9 {
		return fmt.Errorf("usage events cost $%v, result has total_cost_usd $%v", cost, *last.TotalCostUSD)
	}
	denied := map[string]bool{}
	for _, d := range last.DeniedCalls {
		if e, ok := ended[d.CallID]; !ok || !e.Denied {
			return fmt.Errorf("denied call %s has no tool.end with denied", d.CallID)
		}
		denied[d.CallID] = true
	}
	for id, e := range ended {
		if e.Denied && !denied[id] {
			return fmt.Errorf("call %s was denied but is not in the result's denied_calls", id)
		}
	}
	return nil
}

// TestCheckSeq pins the numbers checkSeq lets stream-json skip: the
// decisions of concurrent calls in any order, and nothing else.
func TestCheckSeq(t *testing.T) {
	start := func(seq uint64, id string) event.Event {
		return event.Event{Type: event.ToolStart, Seq: seq, CallID: id, Turn: 1}
	}
	end := func(seq uint64, id string) event.Event {
		return event.Event{Type: event.ToolEnd, Seq: seq, CallID: id, Turn: 1}
	}
	first := []event.Event{{Type: event.SessionStart, Seq: 1}, {Type: event.TextDelta, Seq: 2, Turn: 1}}
	for _, tc := range []struct {
		name string
		evs  []event.Event
		ok   bool
	}{
		// b's decision is 5, a's 7, after b's end.
		{"decisions out of order", []event.Event{start(3, "a"), start(4, "b"), end(6, "b"), end(8, "a")}, true},
		{"decision of each in turn", []event.Event{start(3, "a"), end(5, "a"), start(6, "b"), end(8, "b")}, true},
		{"more skipped than calls", []event.Event{start(3, "a"), end(6, "a")}, false},
		{"a number skipped with no call open", []event.Event{start(3, "a"), end(5, "a"), start(7, "b"), end(8, "b")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkSeq(append(slices.Clone(first), tc.evs...))
			if (err == nil) != tc.ok {
				t.Errorf("checkSeq = %v, want ok %v", err, tc.ok)
			}
		})
	}
}
