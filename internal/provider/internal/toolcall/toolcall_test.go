package toolcall

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/llm"
)

func TestInput(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	atLimit := `{"a":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`
	for _, tt := range []struct {
		args      string
		cut       bool
		want      string
		malformed string
	}{
		{args: `{"path":"a.go"}`, want: `{"path":"a.go"}`},
		{args: " \n{\"x\":1}\t", want: `{"x":1}`},
		{args: "", want: `{}`},
		{args: "null", want: `{}`},
		{args: "  ", cut: true, want: `{}`},
		{args: `{"path":"a.go`, want: `"{\"path\":\"a.go"`, malformed: "not valid JSON: unexpected end of JSON input"},
		{args: `{"path":"a.go`, cut: true, want: `"{\"path\":\"a.go"`, malformed: llm.MalformedCutOff},
		{args: `{command: ls}`, want: `"{command: ls}"`, malformed: "not valid JSON: invalid character 'c' looking for beginning of object key string"},
		{args: `["ls"]`, want: `"[\"ls\"]"`, malformed: "not a JSON object but an array"},
		{args: `"ls"`, want: `"\"ls\""`, malformed: "not a JSON object but a string"},
		{args: `42`, want: `"42"`, malformed: "not a JSON object but a number"},
		{args: `true`, want: `"true"`, malformed: "not a JSON object but a boolean"},
		{args: atLimit, want: atLimit},
		{args: deep, want: `"` + deep + `"`, malformed: fmt.Sprintf("nested too deeply (more than %d levels)", MaxDepth)},
		// Brackets inside strings do not nest.
		{args: `{"s":"` + strings.Repeat(`[\"`, 100) + `"}`, want: `{"s":"` + strings.Repeat(`[\"`, 100) + `"}`},
	} {
		got, malformed := Input(tt.args, tt.cut)
		if string(got) != tt.want || malformed != tt.malformed {
			t.Errorf("Input(%.40q, %v) = %.60s, %q; want %.60s, %q", tt.args, tt.cut, got, malformed, tt.want, tt.malformed)
		}
	}
}

func TestCallFreeformStandIn(t *testing.T) {
	stand := map[string]bool{"apply_patch": true}
	p := Call("c1", "apply_patch", `{"input":"*** Begin Patch"}`, false, stand)
	if !p.Freeform || string(p.Input) != `"*** Begin Patch"` || p.Malformed != "" {
		t.Errorf("stand-in call = %+v", p)
	}
	p = Call("c2", "apply_patch", `{"input":"*** Begin`, true, stand)
	if p.Freeform || p.Malformed != llm.MalformedCutOff {
		t.Errorf("cut stand-in call = %+v", p)
	}
}

func TestCallWithoutName(t *testing.T) {
	p := Call("c1", "", ` {"path":"a.go"} `, false, nil)
	if p.Malformed != llm.MalformedNoName || string(p.Input) != `"{\"path\":\"a.go\"}"` {
		t.Errorf("nameless call = %+v", p)
	}
	if args, err := Args(p); err != nil || args != `{"path":"a.go"}` {
		t.Errorf("Args(nameless) = %q, %v", args, err)
	}
}

func TestUniqueIDs(t *testing.T) {
	n := 0
	orig := NewID
	NewID = func() string { n++; return fmt.Sprintf("call_new_%d", n) }
	t.Cleanup(func() { NewID = orig })
	call := func(id string) llm.Part { return llm.Part{Kind: llm.PartToolCall, CallID: id, Name: "Bash"} }
	parts := []llm.Part{
		{Kind: llm.PartText, Text: "x"},
		call("a"), call(""), call("a"), call("a_2"), call("a"), call(""),
	}
	history := []llm.Message{
		{Role: llm.RoleAssistant, Parts: []llm.Part{call("b")}},
		{Role: llm.RoleUser, Parts: []llm.Part{{Kind: llm.PartToolResult, CallID: "b"}}},
	}
	parts = append(parts, call("b"))
	UniqueIDs(parts, history)
	var got []string
	for _, p := range parts[1:] {
		got = append(got, p.CallID)
	}
	// The second "a" may not take a_2, which a later call has; "b" was
	// an earlier response's.
	if want := "a call_new_1 a_3 a_2 a_4 call_new_2 b_2"; strings.Join(got, " ") != want {
		t.Errorf("ids = %s, want %s", strings.Join(got, " "), want)
	}
	if parts[0].CallID != "" {
		t.Errorf("text part got an id")
	}
}

func TestSendBack(t *testing.T) {
	input, malformed := Input(`{"cmd": "ls`, false)
	bad := llm.Part{Kind: llm.PartToolCall, CallID: "c1", Name: "Bash", Input: input, Malformed: malformed}
	if args, err := Args(bad); err != nil || args != `{"cmd": "ls` {
		t.Errorf("Args(malformed) = %q, %v; want the model's own text", args, err)
	}
	if obj, err := Object(bad); err != nil || string(obj) != `{}` {
		t.Errorf("Object(malformed) = %s, %v; want {}", obj, err)
	}
	good := llm.Part{Kind: llm.PartToolCall, CallID: "c2", Name: "Bash", Input: json.RawMessage(`{"cmd":"ls"}`)}
	if args, err := Args(good); err != nil || args != `{"cmd":"ls"}` {
		t.Errorf("Args = %q, %v", args, err)
	}
	if obj, err := Object(good); err != nil || string(obj) != `{"cmd":"ls"}` {
		t.Errorf("Object = %s, %v", obj, err)
	}
	// An older Lathe kept unreadable arguments as a string, unmarked.
	old := llm.Part{Kind: llm.PartToolCall, CallID: "c3", Name: "Bash", Input: json.RawMessage(`"{cmd"`)}
	if obj, err := Object(old); err != nil || string(obj) != `{}` {
		t.Errorf("Object(old string input) = %s, %v; want {}", obj, err)
	}
}

// FuzzInput holds Input to its contract for any text: input is always
// valid JSON; a call that is not malformed has an object, and a malformed
// one the text itself as a JSON string.
func FuzzInput(f *testing.F) {
	for _, s := range []string{
		``, `null`, `{}`, `{"command":"ls"}`, `{"a":[1,{"b":"\"]"}]}`, `{"a":`, `[1]`, `"x"`, `{x}`,
		strings.Repeat("[", 200), strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat("}", 70),
		"{\"s\":\"\xff\"}", `{"a":1}{"b":2}`, `{"s":"\u0000"}`,
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, args string, cut bool) {
		input, malformed := Input(args, cut)
		if !json.Valid(input) {
			t.Fatalf("Input(%q) = %q, not valid JSON", args, input)
		}
		if malformed == "" {
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(input, &obj); err != nil || obj == nil {
				t.Fatalf("Input(%q) = %s, not an object, yet not malformed", args, input)
			}
			if depth(string(input)) > MaxDepth {
				t.Fatalf("Input(%q) nests deeper than %d, yet not malformed", args, MaxDepth)
			}
			return
		}
		var text string
		if err := json.Unmarshal(input, &text); err != nil {
			t.Fatalf("malformed Input(%q) = %s, not a JSON string", args, input)
		}
		if cut && malformed != llm.MalformedCutOff && !strings.HasPrefix(malformed, llm.MalformedTooDeep) && !strings.HasPrefix(malformed, llm.MalformedNotObject) {
			t.Fatalf("cut Input(%q): malformed %q", args, malformed)
		}
		part := llm.Part{Kind: llm.PartToolCall, CallID: "c", Name: "t", Input: input, Malformed: malformed}
		if _, err := Args(part); err != nil {
			t.Fatalf("Args: %v", err)
		}
	})
}
