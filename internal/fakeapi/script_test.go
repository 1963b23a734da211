package fakeapi

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseScript(t *testing.T) {
	good := `{"steps":[
		{"expect":{"tool_results":[{"call":0,"contains":["FAIL"],"is_error":true}],"extends_previous":true},
		 "reply":{"thinking":"t","text":"x","tool_calls":[{"name":"Bash","input":{"command":"ls"}},{"name":"apply_patch","custom":true,"input_text":"*** Begin Patch"}],"usage":{"input_tokens":5,"output_tokens":2}}},
		{"fault":{"status":429,"retry_after":"1","message":"slow down"}},
		{"reply":{"text":"hello"},"fault":{"cut":"mid_text"}},
		{"reply":{"tool_calls":[{"name":"Bash","input":{"command":"ls"}}]},"fault":{"cut":"mid_tool_args"}},
		{"reply":{"text":"hello"},"fault":{"stall_ms":100}},
		{"fault":{"stall_ms":100}},
		{"fault":{"context_window":true}},
		{"fault":{"mid_stream_error":"overloaded_error","message":"busy"}},
		{"reply":{"text":"cut","stop":"max_tokens"}}
	]}`
	s, err := ParseScript([]byte(good))
	if err != nil {
		t.Fatalf("valid script: %v", err)
	}
	if len(s.Steps) != 9 || !*s.Steps[0].Expect.ToolResults[0].IsError || s.Steps[1].Fault.Status != 429 || !s.Steps[0].Reply.ToolCalls[1].Custom {
		t.Errorf("decoded %+v", s.Steps)
	}

	bad := []struct {
		name, script, want string
	}{
		{"syntax", "{\"steps\": [\n  {\"reply\": }]}", "line 2, column 13"},
		{"unknown field", `{"steps":[{"reply":{"txt":"x"}}]}`, `unknown field "txt"`},
		{"trailing data", `{"steps":[]} {}`, "unexpected data after the script object"},
		{"empty step", `{"steps":[{"reply":{"text":"a"}},{}]}`, "step 2: needs a reply or a fault"},
		{"two faults", `{"steps":[{"fault":{"status":500,"cut":"mid_text"}}]}`, "set exactly one of"},
		{"no fault", `{"steps":[{"fault":{}}]}`, "set exactly one of"},
		{"status with reply", `{"steps":[{"reply":{"text":"a"},"fault":{"status":500}}]}`, "a status fault sends no reply"},
		{"not an error status", `{"steps":[{"fault":{"status":200}}]}`, "status 200 is not an error status"},
		{"retry_after without status", `{"steps":[{"reply":{"text":"a"},"fault":{"cut":"mid_text","retry_after":"1"}}]}`, "retry_after needs status"},
		{"cut without reply", `{"steps":[{"fault":{"cut":"before_done"}}]}`, "cut before_done needs a reply"},
		{"cut mid_text without text", `{"steps":[{"reply":{"tool_calls":[{"name":"a"}]},"fault":{"cut":"mid_text"}}]}`, "needs reply.text"},
		{"cut mid_tool_args without args", `{"steps":[{"reply":{"tool_calls":[{"name":"a","input":{}}]},"fault":{"cut":"mid_tool_args"}}]}`, "needs a tool call with non-empty input"},
		{"unknown cut", `{"steps":[{"reply":{"text":"a"},"fault":{"cut":"halfway"}}]}`, `cut "halfway"`},
		{"negative stall", `{"steps":[{"fault":{"stall_ms":-1}}]}`, "stall_ms -1 is negative"},
		{"context window with reply", `{"steps":[{"reply":{"text":"a"},"fault":{"context_window":true}}]}`, "this fault sends no reply"},
		{"nameless call", `{"steps":[{"reply":{"tool_calls":[{"input":{}}]}}]}`, "reply.tool_calls[0]: name is empty"},
		{"array input", `{"steps":[{"reply":{"tool_calls":[{"name":"a","input":[1]}]}}]}`, "input must be a JSON object"},
		{"custom with input", `{"steps":[{"reply":{"tool_calls":[{"name":"a","custom":true,"input":{}}]}}]}`, "a custom call takes input_text"},
		{"input_text without custom", `{"steps":[{"reply":{"tool_calls":[{"name":"a","input_text":"x"}]}}]}`, "input_text needs custom: true"},
		{"bad stop", `{"steps":[{"reply":{"stop":"end_turn"}}]}`, `reply.stop "end_turn"`},
		{"negative call", `{"steps":[{"expect":{"tool_results":[{"call":-1}]},"reply":{"text":"a"}}]}`, "call -1 is negative"},
		{"type without status", `{"steps":[{"reply":{"text":"a"},"fault":{"cut":"mid_text","type":"x"}}]}`, "type and message go with"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseScript([]byte(tt.script))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadScriptNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "steps.json")
	if err := os.WriteFile(path, []byte(`{"steps":[{"reply":{"text":1}}]}`), 0o666); err != nil {
		t.Fatal(err)
	}
	_, err := LoadScript(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "steps.reply.text") {
		t.Errorf("error = %v, want the file name and the bad field", err)
	}
	_, err = LoadScript(filepath.Join(t.TempDir(), "missing.json"))
	if err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("error = %v, want the missing file named", err)
	}
}

func TestInvalidScriptIsAFailure(t *testing.T) {
	srv := newTestServer(t, Step{Reply: &Reply{Text: "x"}, Fault: &Fault{Cut: CutMidToolArgs}})
	wantFailures(t, srv, "invalid script: step 1: fault: cut mid_tool_args needs a tool call", "script steps 1-1 of 1 were not consumed")
}

func TestSplit(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want []string
	}{
		{"", 3, nil},
		{"a", 3, []string{"a"}},
		{"ab", 3, []string{"a", "b"}},
		{"abcdef", 3, []string{"ab", "cd", "ef"}},
		{"abcdefg", 3, []string{"ab", "cd", "efg"}},
		{"héllo wörld", 2, []string{"héllo", " wörld"}},
		{"日本語", 3, []string{"日", "本", "語"}},
	}
	for _, tt := range tests {
		got := split(tt.in, tt.n)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("split(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestIDsAreDeterministic(t *testing.T) {
	if a, again := alnum("a", 22), alnum("a", 22); a != again || a == alnum("b", 22) {
		t.Error("alnum is not a deterministic function of its seed")
	}
	id := alnum("seed", 24)
	if len(id) != 24 || strings.Trim(id, base62) != "" {
		t.Errorf("alnum = %q", id)
	}
	if h := hexID("seed", 48); len(h) != 48 || strings.Trim(h, "0123456789abcdef") != "" {
		t.Errorf("hexID = %q", h)
	}
	reply := &Reply{ToolCalls: []ToolCall{{Name: "a"}, {Name: "b"}}}
	for _, d := range []dialect{anthropicDialect{}, responsesDialect{}, chatDialect{}} {
		one := d.callIDs(&turn{n: 1, reply: reply})
		again := d.callIDs(&turn{n: 1, reply: reply})
		other := d.callIDs(&turn{n: 2, reply: reply})
		if !reflect.DeepEqual(one, again) || one[0] == one[1] || one[0] == other[0] {
			t.Errorf("%T call ids: %v, %v, %v", d, one, again, other)
		}
	}
}

func TestStandingNeedsMatch(t *testing.T) {
	if _, err := ParseScript([]byte(`{"steps": [], "standing": [{"reply": {"text": "x"}}]}`)); err == nil || !strings.Contains(err.Error(), "standing step 1: no match") {
		t.Errorf("ParseScript: %v", err)
	}
}
