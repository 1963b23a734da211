package event_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/todo"
)

const (
	schemaPath = "../../docs/events.schema.json"
	docPath    = "../../docs/events.md"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	s, err := jsonschema.NewCompiler().Compile(schemaPath)
	if err != nil {
		t.Fatalf("compile %s: %v", schemaPath, err)
	}
	return s
}

// validate marshals e as the stream-json sink does and validates it.
func validate(s *jsonschema.Schema, e any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return err
	}
	return validateJSON(s, buf.Bytes())
}

func validateJSON(s *jsonschema.Schema, line []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
	if err != nil {
		return err
	}
	return s.Validate(v)
}

func ptr[T any](v T) *T { return &v }

const sid = "20261121T153435-7d3150"

// valid are representative events of every type, as the agent and the CLI
// build them: the smallest each emitter produces and the fullest.
// The bus stamps seq and time on every one.
func valid() map[string]event.Event {
	u := llm.Usage{Input: 65, CacheWrite: 2602, Output: 14}
	m := map[string]event.Event{
		"session.start": {Type: event.SessionStart, SessionID: sid, Provider: "anthropic", Model: "claude-sonnet-4-5",
			Cwd: "/work/repo", Tools: []string{"Bash", "Read"}, PermissionMode: "acceptEdits", Version: "dev"},
		"session.start resumed": {Type: event.SessionStart, SessionID: sid, Provider: "local", Model: "qwen3-coder",
			Cwd: "/work/repo", Tools: []string{"shell"}, PermissionMode: "plan", Resumed: true, Version: "v1.2.3"},
		"text.delta":        {Type: event.TextDelta, SessionID: sid, Turn: 1, Text: "I'll"},
		"text.delta empty":  {Type: event.TextDelta, SessionID: sid, Turn: 1},
		"thinking.delta":    {Type: event.ThinkingDelta, SessionID: sid, Turn: 2, Text: "The test"},
		"text":              {Type: event.Text, SessionID: sid, Turn: 1, Text: "I'll run the tests first.\n<b>&</b>"},
		"text empty":        {Type: event.Text, SessionID: sid, Turn: 1},
		"thinking":          {Type: event.Thinking, SessionID: sid, Turn: 3, Text: "It truncates."},
		"tool.start":        {Type: event.ToolStart, SessionID: sid, Turn: 1, CallID: "toolu_01", Name: "Bash", Input: json.RawMessage(`{"command":"go test ./..."}`)},
		"tool.start custom": {Type: event.ToolStart, SessionID: sid, Turn: 3, CallID: "call_3", Name: "apply_patch", Input: json.RawMessage(`"*** Begin Patch\n*** End Patch\n"`)},
		"tool.end minimal":  {Type: event.ToolEnd, SessionID: sid, Turn: 2, CallID: "toolu_02", Name: "Read"},
		"tool.end command": {Type: event.ToolEnd, SessionID: sid, Turn: 1, CallID: "toolu_01", Name: "Bash",
			Output: "FAIL\nExit code: 1", IsError: true, Summary: "exit 1, 2 lines, 1.2s", DurationMS: 1200, ExitCode: ptr(1)},
		"tool.end edit": {Type: event.ToolEnd, SessionID: sid, Turn: 3, CallID: "toolu_03", Name: "apply_patch",
			Output: "Success.", Summary: "M pager/pager.go", DurationMS: 3,
			Changes: []event.FileChange{{Path: "/work/repo/pager/pager.go", Kind: event.ChangeUpdate}, {Path: "/work/repo/new.go", Kind: event.ChangeAdd}}},
		"tool.end spilled": {Type: event.ToolEnd, SessionID: sid, Turn: 4, CallID: "toolu_05", Name: "Bash",
			Output: "1\n\n... [588895 characters truncated; the full output is in /s/outputs/1.txt] ...\n\n100000", Summary: "exit 0, 100000 lines",
			ExitCode: ptr(0), SavedOutput: "/s/outputs/1.txt"},
		"tool.end denied": {Type: event.ToolEnd, SessionID: sid, Turn: 2, CallID: "toolu_04", Name: "Bash",
			Output: "Permission denied: ...", IsError: true, Denied: true, Summary: "denied"},
		"retry":         {Type: event.Retry, SessionID: sid, Turn: 1, Attempt: 1, DelayMS: 1000, Status: 429, Error: "429 rate_limit_error"},
		"retry cut":     {Type: event.Retry, SessionID: sid, Turn: 4, Attempt: 2, Error: "stream cut"},
		"usage":         {Type: event.Usage, SessionID: sid, Turn: 1, Usage: &u, CostUSD: ptr(0.0101625)},
		"usage unknown": {Type: event.Usage, SessionID: sid, Turn: 1, Usage: &llm.Usage{}, CostUSD: ptr(0.0)},
		"result success": {Type: event.Result, SessionID: sid, Outcome: event.Success, Answer: "Done.", Turns: 5,
			DurationMS: 14568, Usage: &u, TotalCostUSD: ptr(0.017), CostKnown: ptr(true), ExitCode: ptr(0)},
		"result denied": {Type: event.Result, SessionID: sid, Outcome: event.Success, Answer: "Could not run it.", Turns: 2,
			DurationMS: 30, Usage: &u, TotalCostUSD: ptr(0.0), CostKnown: ptr(false), ExitCode: ptr(5),
			DeniedCalls: []event.DeniedCall{{CallID: "toolu_04", Name: "Bash", Input: json.RawMessage(`{"command":"rm -rf /"}`), Reason: "plan mode allows no commands"}}},
		"result provider_error": {Type: event.Result, SessionID: sid, Outcome: event.ProviderError, Error: "500 api_error",
			DurationMS: 120, Usage: &llm.Usage{}, TotalCostUSD: ptr(0.0), CostKnown: ptr(true), ExitCode: ptr(3)},
		"result max_turns": {Type: event.Result, SessionID: sid, Outcome: event.MaxTurns, Error: "reached the limit of 1 turns", Turns: 1,
			Usage: &u, TotalCostUSD: ptr(0.01), CostKnown: ptr(true), ExitCode: ptr(4)},
		"result interrupted": {Type: event.Result, SessionID: sid, Outcome: event.Interrupted, Error: "context canceled", Turns: 1,
			Usage: &u, TotalCostUSD: ptr(0.01), CostKnown: ptr(true), ExitCode: ptr(130),
			DeniedCalls: []event.DeniedCall{{CallID: "c", Name: "Write", Input: json.RawMessage(`{}`), Reason: "outside the workspace"}}},
		"result killed background": {Type: event.Result, SessionID: sid, Outcome: event.Success, Answer: "Started the server.", Turns: 2,
			Usage: &u, TotalCostUSD: ptr(0.01), CostKnown: ptr(true), ExitCode: ptr(0),
			KilledBackground: []event.BackgroundCommand{{ID: "bash_1", Command: "npm run dev"}, {ID: "bash_3", Command: "sleep 300"}}},
		"result error": {Type: event.Result, SessionID: sid, Outcome: event.Failed, Error: "record response: disk full", Turns: 1,
			Usage: &u, TotalCostUSD: ptr(0.01), CostKnown: ptr(true), ExitCode: ptr(1)},
		"message":             {Type: event.Message, SessionID: sid, Turn: 2, Text: "Running the tests.", CallIDs: []string{"toolu_01", "toolu_02"}},
		"message no calls":    {Type: event.Message, SessionID: sid, Turn: 5, Text: "Done."},
		"message of subagent": {Type: event.Message, AgentID: "explore-1", SessionID: sid, Turn: 1},
		"approval.requested": {Type: event.ApprovalRequested, SessionID: sid, Turn: 2, CallID: "toolu_04", Name: "Bash",
			Input: json.RawMessage(`{"command":"rm -rf build"}`), Reason: "commands need approval in acceptEdits mode"},
		"approval.resolved":        {Type: event.ApprovalResolved, SessionID: sid, Turn: 2, CallID: "toolu_04", Name: "Bash", Approval: event.ApproveSession},
		"approval.resolved denied": {Type: event.ApprovalResolved, SessionID: sid, Turn: 2, CallID: "toolu_04", Name: "Bash", Approval: event.ApproveDeny, Message: "use make clean"},
		"command.output":           {Type: event.CommandOutput, SessionID: sid, Turn: 1, CallID: "toolu_01", Text: "ok  \tpager\t0.01s\n"},
		"steering.delivered":       {Type: event.SteeringDelivered, SessionID: sid, Turn: 3, Text: "skip the slow tests"},
		"compaction.start":         {Type: event.CompactionStart, SessionID: sid, Turn: 40, Reason: "auto", TokensBefore: 168_250},
		"compaction.end":           {Type: event.CompactionEnd, SessionID: sid, Turn: 40, Reason: "reactive", TokensBefore: 201_000, TokensAfter: 9_400},
		"compaction.end ledger only": {Type: event.CompactionEnd, SessionID: sid, Turn: 40, Reason: "manual", TokensBefore: 20_000, TokensAfter: 3_100,
			LedgerOnly: true, Error: "not a summary: the model called a tool"},
		"decision by mode": {Type: event.Decision, SessionID: sid, Turn: 1, CallID: "toolu_01", Name: "Read", Verdict: event.Allowed, DecidedBy: event.ByMode, Kind: "read"},
		"decision by rule": {Type: event.Decision, SessionID: sid, Turn: 1, CallID: "toolu_02", Name: "Edit", Verdict: event.Allowed, DecidedBy: event.ByRule,
			Rule: "Edit(src/**)", RuleSource: "/work/repo/.lathe/config.toml", Kind: "edit", Writes: []string{"/work/repo/src/a.go"}},
		"decision by person": {Type: event.Decision, SessionID: sid, Turn: 2, CallID: "toolu_04", Name: "Bash", Verdict: event.Denied, DecidedBy: event.ByPerson,
			Reason: "commands need approval", Approval: event.ApproveDeny, Message: "use make clean", Kind: "exec"},
		"permission.rule_added": {Type: event.RuleAdded, SessionID: sid, Turn: 2, CallID: "toolu_05", Name: "Bash",
			Rule: "Bash(npm test)", RuleSource: "/work/repo/.lathe/config.local.toml"},
		"session.start notice": {Type: event.SessionStart, SessionID: sid, Provider: "anthropic", Model: "claude-sonnet-4-5",
			Cwd: "/work/repo", Tools: []string{"Bash"}, PermissionMode: "acceptEdits", Version: "dev",
			ModeNotice: "the sandbox is unavailable (no user namespaces), so the permission mode is acceptEdits rather than auto"},
	}
	m["todo.updated"] = event.Event{Type: event.TodoUpdated, SessionID: sid, Turn: 2, CallID: "toolu_07", Name: "TodoWrite", Todos: []todo.Item{
		{Text: "Run the tests", Status: todo.Completed, Active: "Running the tests"},
		{Text: "Fix the parser", Status: todo.InProgress, Active: "Fixing the parser"},
		{Text: "Update the docs", Status: todo.Pending, Active: "Updating the docs"},
	}}
	m["todo.updated codex"] = event.Event{Type: event.TodoUpdated, SessionID: sid, Turn: 1, CallID: "call_1", Name: "update_plan",
		Explanation: "tests first", Todos: []todo.Item{{Text: "Run the tests", Status: todo.InProgress}}}
	m["todo.updated cleared"] = event.Event{Type: event.TodoUpdated, SessionID: sid, Turn: 4, CallID: "toolu_09", Name: "TodoWrite"}
	m["todo.updated resumed"] = event.Event{Type: event.TodoUpdated, SessionID: sid, Todos: []todo.Item{{Text: "a", Status: todo.Pending, Active: "A"}}}
	m["plan.submitted"] = event.Event{Type: event.PlanSubmitted, SessionID: sid, Turn: 3, CallID: "toolu_08", Name: "ExitPlanMode", Text: "1. Split cache.go\n2. Test"}
	m["plan.submitted then"] = event.Event{Type: event.PlanSubmitted, SessionID: sid, Turn: 3, CallID: "call_3", Name: "exit_plan", Text: "1. Split", PermissionMode: "acceptEdits"}
	cost := 0.00105
	m["subagent.start"] = event.Event{Type: event.SubagentStart, AgentID: "20261207T010203-ab12cd", SessionID: sid, Name: "explore", Model: "claude-sonnet-4-5", Text: "find the tests"}
	m["subagent.end"] = event.Event{Type: event.SubagentEnd, AgentID: "20261207T010203-ab12cd", SessionID: sid, Name: "explore", Outcome: event.Success, Turns: 2, Usage: &u, CostUSD: &cost}
	m["subagent.end failed"] = event.Event{Type: event.SubagentEnd, AgentID: "20261207T010203-ab12cd", SessionID: sid, Name: "reviewer", Outcome: event.Interrupted, Usage: &llm.Usage{}, CostUSD: new(0.0),
		Error: "the subagent did not finish within 10m0s and was stopped"}
	m["warning"] = event.Event{Type: event.Warning, SessionID: sid, Turn: 1, Text: "the provider rejected native compaction; compacting locally from now on",
		Error: "anthropic: 400 invalid_request_error: compact_20260112 is not supported on this model"}
	m["compaction.end native"] = event.Event{Type: event.CompactionEnd, SessionID: sid, Turn: 12, Reason: "native", TokensBefore: 151_000, TokensAfter: 4_200}
	m["checkpoint"] = event.Event{Type: event.Checkpoint, SessionID: sid, Turn: 2, CallID: "toolu_05", Name: "Bash", Step: 3,
		CheckpointID: "4b825dc642cb6eb9a060e54bf8d69288fbee4904", Target: "rm -rf build"}
	m["checkpoint failed"] = event.Event{Type: event.Checkpoint, SessionID: sid, Turn: 1, CallID: "toolu_06", Name: "Edit", Step: 1,
		Error: "checkpoints need git, and no git is on PATH"}
	for k, e := range m {
		e.Seq, e.Time = 7, "2026-12-07T01:02:03.045Z"
		m[k] = e
	}
	return m
}

func TestSchemaAcceptsEvents(t *testing.T) {
	s := compileSchema(t)
	for name, e := range valid() {
		if err := validate(s, e); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestSchemaRejects proves the schema can fail: each of these is a bug in
// an emitter or a consumer's invention.
func TestSchemaRejects(t *testing.T) {
	s := compileSchema(t)
	ev := valid()
	for name, line := range map[string]string{
		"unknown type":           `{"type":"tool.progress","session_id":"s","turn":1}`,
		"no type":                `{"session_id":"s","turn":1,"text":"x"}`,
		"missing session_id":     `{"type":"text","turn":1,"text":"x"}`,
		"empty session_id":       `{"type":"text","session_id":"","turn":1,"text":"x"}`,
		"extra field":            `{"type":"text","session_id":"s","turn":1,"text":"x","role":"assistant"}`,
		"field of another type":  `{"type":"text","session_id":"s","turn":1,"text":"x","call_id":"c"}`,
		"turn as string":         `{"type":"text","session_id":"s","turn":"1","text":"x"}`,
		"turn 0":                 `{"type":"text","session_id":"s","turn":0,"text":"x"}`,
		"not an object":          `["text"]`,
		"tool.start no call_id":  `{"type":"tool.start","session_id":"s","turn":1,"name":"Bash","input":{}}`,
		"tool.start no input":    `{"type":"tool.start","session_id":"s","turn":1,"call_id":"c","name":"Bash"}`,
		"denied without error":   `{"type":"tool.end","session_id":"s","turn":1,"call_id":"c","name":"Bash","denied":true}`,
		"denied yet ran":         `{"type":"tool.end","session_id":"s","turn":1,"call_id":"c","name":"Bash","denied":true,"is_error":true,"exit_code":0}`,
		"bad change kind":        `{"type":"tool.end","session_id":"s","turn":1,"call_id":"c","name":"Write","changes":[{"path":"/a","kind":"create"}]}`,
		"retry no attempt":       `{"type":"retry","session_id":"s","turn":1,"error":"x"}`,
		"usage no cost":          `{"type":"usage","session_id":"s","turn":1,"usage":{"input_tokens":1,"cache_read_tokens":0,"cache_write_tokens":0,"output_tokens":1}}`,
		"usage partial tokens":   `{"type":"usage","session_id":"s","turn":1,"usage":{"input_tokens":1},"cost_usd":0}`,
		"usage cached_input":     `{"type":"usage","session_id":"s","turn":1,"usage":{"input_tokens":1,"cache_read_tokens":0,"cache_write_tokens":0,"output_tokens":1,"cached_input_tokens":0},"cost_usd":0}`,
		"session.start no model": `{"type":"session.start","session_id":"s","provider":"anthropic","cwd":"/","tools":["Bash"],"permission_mode":"plan","version":"dev"}`,
		"session.start bad mode": `{"type":"session.start","session_id":"s","provider":"anthropic","model":"m","cwd":"/","tools":["Bash"],"permission_mode":"yolo","version":"dev"}`,
		"session.start turn":     `{"type":"session.start","session_id":"s","turn":1,"provider":"anthropic","model":"m","cwd":"/","tools":["Bash"],"permission_mode":"plan","version":"dev"}`,
		"no seq":                 `{"type":"text","session_id":"s","turn":1}`,
		"seq 0":                  `{"type":"text","seq":0,"session_id":"s","turn":1}`,
		"time without ms":        `{"type":"text","time":"2026-12-07T01:02:03Z","session_id":"s","turn":1}`,
		"time not UTC":           `{"type":"text","time":"2026-12-07T01:02:03.000+01:00","session_id":"s","turn":1}`,
		"empty agent_id":         `{"type":"text","agent_id":"","session_id":"s","turn":1}`,
		"approval bad answer":    `{"type":"approval.resolved","session_id":"s","call_id":"c","name":"Bash","approval":"yes"}`,
		"approval no reason":     `{"type":"approval.requested","session_id":"s","call_id":"c","name":"Bash","input":{}}`,
		"output no call_id":      `{"type":"command.output","session_id":"s","turn":1,"text":"x"}`,
		"output no turn":         `{"type":"command.output","session_id":"s","call_id":"c","text":"x"}`,
		"checkpoint no step":     `{"type":"checkpoint","session_id":"s","turn":1,"call_id":"c","name":"Bash","checkpoint_id":"4b825dc642cb6eb9a060e54bf8d69288fbee4904"}`,
		"checkpoint no id":       `{"type":"checkpoint","session_id":"s","turn":1,"call_id":"c","name":"Bash","step":1}`,
		"checkpoint id, error":   `{"type":"checkpoint","session_id":"s","turn":1,"call_id":"c","name":"Bash","step":1,"checkpoint_id":"4b825dc642cb6eb9a060e54bf8d69288fbee4904","error":"x"}`,
		"todo bad status":        `{"type":"todo.updated","session_id":"s","turn":1,"call_id":"c","name":"TodoWrite","todos":[{"text":"a","status":"done"}]}`,
		"todo without text":      `{"type":"todo.updated","session_id":"s","turn":1,"call_id":"c","name":"TodoWrite","todos":[{"status":"pending"}]}`,
		"todo call without name": `{"type":"todo.updated","session_id":"s","turn":1,"call_id":"c","todos":[{"text":"a","status":"pending"}]}`,
		"todo other tool":        `{"type":"todo.updated","session_id":"s","turn":1,"call_id":"c","name":"Bash"}`,
		"plan without text":      `{"type":"plan.submitted","session_id":"s","turn":1,"call_id":"c","name":"ExitPlanMode"}`,
		"plan then plan":         `{"type":"plan.submitted","session_id":"s","turn":1,"call_id":"c","name":"ExitPlanMode","text":"x","permission_mode":"plan"}`,
		"checkpoint bad id":      `{"type":"checkpoint","session_id":"s","turn":1,"call_id":"c","name":"Bash","step":1,"checkpoint_id":"HEAD"}`,
	} {
		// Each line has a stamp but for the field it is about, so it
		// fails for its own reason.
		if !strings.Contains(line, `"seq"`) && name != "no seq" {
			line = strings.Replace(line, "{", `{"seq":1,`, 1)
		}
		if !strings.Contains(line, `"time"`) {
			line = strings.Replace(line, "{", `{"time":"2026-12-07T01:02:03.045Z",`, 1)
		}
		if err := validateJSON(s, []byte(line)); err == nil {
			t.Errorf("%s: accepted %s", name, line)
		}
	}

	// Results whose fields contradict each other.
	for name, mutate := range map[string]func(*event.Event){
		"no exit_code":       func(e *event.Event) { e.ExitCode = nil },
		"no usage":           func(e *event.Event) { e.Usage = nil },
		"unknown outcome":    func(e *event.Event) { e.Outcome = "cancelled" },
		"success exiting 1":  func(e *event.Event) { e.ExitCode = ptr(1) },
		"success with error": func(e *event.Event) { e.Error = "boom" },
		"success denied exiting 0": func(e *event.Event) {
			e.DeniedCalls = []event.DeniedCall{{CallID: "c", Name: "Bash", Input: json.RawMessage(`{}`), Reason: "r"}}
		},
		"failure without error": func(e *event.Event) { e.Outcome, e.ExitCode, e.Answer = event.Failed, ptr(1), "" },
		"failure with answer":   func(e *event.Event) { e.Outcome, e.ExitCode, e.Error = event.Failed, ptr(1), "x" },
		"provider_error exit 1": func(e *event.Event) { e.Outcome, e.ExitCode, e.Answer, e.Error = event.ProviderError, ptr(1), "", "x" },
		"max_budget exit 3":     func(e *event.Event) { e.Outcome, e.ExitCode, e.Answer, e.Error = event.MaxBudget, ptr(3), "", "x" },
		"interrupted exit 1":    func(e *event.Event) { e.Outcome, e.ExitCode, e.Answer, e.Error = event.Interrupted, ptr(1), "", "x" },
		"usage exit code 2":     func(e *event.Event) { e.ExitCode = ptr(2) },
		"turn on result":        func(e *event.Event) { e.Turn = 5 },
		"text on result":        func(e *event.Event) { e.Text = "Done." },
		"negative cost":         func(e *event.Event) { e.TotalCostUSD = ptr(-1.0) },
		"denied call incomplete": func(e *event.Event) {
			e.DeniedCalls, e.ExitCode = []event.DeniedCall{{CallID: "c", Name: "Bash"}}, ptr(5)
		},
	} {
		e := ev["result success"]
		mutate(&e)
		if err := validate(s, e); err == nil {
			t.Errorf("result %s: accepted", name)
		}
	}
}

// constants returns the values of the constants of typ declared in
// event.go, read from the source so that a new constant cannot be missed.
func constants(t *testing.T, typ string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "event.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var vals []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typ {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("constant of type %s is not a string literal", typ)
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				vals = append(vals, s)
			}
		}
	}
	if len(vals) == 0 {
		t.Fatalf("no constants of type %s in event.go", typ)
	}
	return vals
}

// schemaDoc is the part of the schema file the drift tests read.
type schemaDoc struct {
	Properties struct {
		Type struct {
			Enum []string `json:"enum"`
		} `json:"type"`
	} `json:"properties"`
	OneOf []struct {
		Ref string `json:"$ref"`
	} `json:"oneOf"`
	Defs map[string]struct {
		Properties map[string]json.RawMessage `json:"properties"`
	} `json:"$defs"`
}

func readSchemaDoc(t *testing.T) (schemaDoc, []byte) {
	t.Helper()
	b, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var d schemaDoc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d, b
}

// variants maps each event type to the properties its schema variant allows.
func variants(t *testing.T, d schemaDoc) map[string]map[string]json.RawMessage {
	t.Helper()
	out := map[string]map[string]json.RawMessage{}
	for _, o := range d.OneOf {
		name := strings.TrimPrefix(o.Ref, "#/$defs/")
		def, ok := d.Defs[name]
		if !ok {
			t.Fatalf("oneOf refers to missing $defs/%s", name)
		}
		var typ struct {
			Const string `json:"const"`
		}
		if err := json.Unmarshal(def.Properties["type"], &typ); err != nil || typ.Const == "" {
			t.Fatalf("$defs/%s has no const type", name)
		}
		out[typ.Const] = def.Properties
	}
	return out
}

func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTypesDocumented keeps event.go, the schema and docs/events.md in step:
// every event type and outcome is in all three, and nothing else is.
func TestTypesDocumented(t *testing.T) {
	d, _ := readSchemaDoc(t)
	vs := variants(t, d)
	doc := readDoc(t)
	types := constants(t, "Type")

	var fromSchema []string
	for typ := range vs {
		fromSchema = append(fromSchema, typ)
	}
	slices.Sort(fromSchema)
	want := slices.Sorted(slices.Values(types))
	if !slices.Equal(fromSchema, want) {
		t.Errorf("schema variants %v, event.go types %v", fromSchema, want)
	}
	enum := slices.Sorted(slices.Values(d.Properties.Type.Enum))
	if !slices.Equal(enum, want) {
		t.Errorf("schema type enum %v, event.go types %v", enum, want)
	}
	for _, typ := range types {
		if !strings.Contains(doc, "### `"+typ+"`") {
			t.Errorf("docs/events.md has no section \"### `%s`\"", typ)
		}
	}
	covered := map[event.Type]bool{}
	for _, e := range valid() {
		covered[e.Type] = true
	}
	for _, typ := range types {
		if !covered[event.Type(typ)] {
			t.Errorf("no representative %s event in valid()", typ)
		}
	}

	for _, o := range constants(t, "Outcome") {
		if !strings.Contains(string(vs["result"]["outcome"]), strconv.Quote(o)) {
			t.Errorf("outcome %q is not in the schema's result.outcome", o)
		}
		if !strings.Contains(doc, "`"+o+"`") {
			t.Errorf("outcome %q is not in docs/events.md", o)
		}
	}
	for _, k := range constants(t, "ChangeKind") {
		if !strings.Contains(doc, "`"+k+"`") {
			t.Errorf("change kind %q is not in docs/events.md", k)
		}
	}
}

// jsonFields returns the JSON names of a struct's fields.
func jsonFields(typ reflect.Type) []string {
	var names []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

// TestFieldsDocumented: every field of event.Event is allowed by some
// variant of the schema and described in docs/events.md, and the schema
// allows no field that event.Event cannot produce.
func TestFieldsDocumented(t *testing.T) {
	d, _ := readSchemaDoc(t)
	vs := variants(t, d)
	doc := readDoc(t)
	fields := jsonFields(reflect.TypeFor[event.Event]())
	allowed := map[string]bool{}
	for typ, props := range vs {
		for p := range props {
			allowed[p] = true
			if !slices.Contains(fields, p) {
				t.Errorf("schema variant %s allows %q, which event.Event has no field for", typ, p)
			}
		}
	}
	for _, f := range fields {
		if !allowed[f] {
			t.Errorf("event.Event field %q is in no schema variant", f)
		}
		if !regexp.MustCompile("\\| `" + regexp.QuoteMeta(f) + "` +\\|").MatchString(doc) {
			t.Errorf("event.Event field %q has no row in a field table of docs/events.md", f)
		}
	}
	for def, typ := range map[string]reflect.Type{
		"deniedCall":        reflect.TypeFor[event.DeniedCall](),
		"backgroundCommand": reflect.TypeFor[event.BackgroundCommand](),
		"fileChange":        reflect.TypeFor[event.FileChange](),
		"tokens":            reflect.TypeFor[llm.Usage](),
	} {
		fs := jsonFields(typ)
		props := slices.Sorted(maps.Keys(d.Defs[def].Properties))
		if !slices.Equal(props, slices.Sorted(slices.Values(fs))) {
			t.Errorf("schema $defs/%s has properties %v, %s has %v", def, props, typ, fs)
		}
		for _, f := range fs {
			if !strings.Contains(doc, "`"+f+"`") {
				t.Errorf("%s field %q is not in docs/events.md", typ, f)
			}
		}
	}
}

// TestDocExampleValid validates every line of the example streams in
// docs/events.md (```jsonl blocks), so the examples cannot rot.
func TestDocExampleValid(t *testing.T) {
	s := compileSchema(t)
	doc := readDoc(t)
	blocks := 0
	in := false
	sc := bufio.NewScanner(strings.NewReader(doc))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case line == "```jsonl":
			in = true
			blocks++
		case in && line == "```":
			in = false
		case in:
			if err := validateJSON(s, []byte(line)); err != nil {
				t.Errorf("docs/events.md:%d: %v", n, err)
			}
		}
	}
	if blocks == 0 {
		t.Error("docs/events.md has no ```jsonl example")
	}
}
