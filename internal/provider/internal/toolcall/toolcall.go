// Package toolcall turns the tool calls the adapters read from a stream
// into llm parts by one set of rules, whichever API sent them, so that
// every call the model made reaches the agent and gets exactly one result.
//
// A call whose arguments cannot be read (not JSON, not an object, nested
// absurdly deep, or cut off at the output token limit) is kept and marked
// [llm.Part.Malformed], never dropped: the agent answers it with an error
// the model can act on. Call ids are made unique within a response, since
// a result pairs with its call by id alone.
package toolcall

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/provider/internal/freeform"
)

// MaxDepth bounds how deeply a call's arguments may nest. No tool's
// arguments need more than a few levels; deeper input is a model stuck in
// a loop, and would cost every later request its size.
const MaxDepth = 64

// Input reads a function call's arguments as the model wrote them. cut
// says the response stopped at its output token limit, so that arguments
// that do not parse are a fragment rather than a mistake. malformed is ""
// when input is the arguments' JSON object; otherwise it says what is
// wrong (see [llm.Part.Malformed]) and input is args as a JSON string.
// No arguments at all (or null) read as the empty object.
func Input(args string, cut bool) (input json.RawMessage, malformed string) {
	args = strings.TrimSpace(args)
	if args == "" || args == "null" {
		return json.RawMessage(`{}`), ""
	}
	if d := depth(args); d > MaxDepth {
		return quote(args), fmt.Sprintf("%s (more than %d levels)", llm.MalformedTooDeep, MaxDepth)
	}
	if err := json.Unmarshal([]byte(args), new(json.RawMessage)); err != nil {
		if cut {
			return quote(args), llm.MalformedCutOff
		}
		return quote(args), llm.MalformedJSON + ": " + err.Error()
	}
	if args[0] != '{' {
		return quote(args), fmt.Sprintf("%s but %s", llm.MalformedNotObject, kind(args[0]))
	}
	return json.RawMessage(args), ""
}

// depth returns how deeply the JSON text s nests its objects and arrays,
// looking only at brackets outside strings, so it costs one pass whatever
// s holds.
func depth(s string) int {
	d, deepest := 0, 0
	in, escaped := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case in:
			switch c {
			case '\\':
				escaped = true
			case '"':
				in = false
			}
		case c == '"':
			in = true
		case c == '{' || c == '[':
			d++
			deepest = max(deepest, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return deepest
}

// kind names the JSON value that begins with c, which is not an object.
func kind(c byte) string {
	switch c {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

func quote(s string) json.RawMessage {
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("toolcall: marshal string: %v", err)) // a string: cannot fail
	}
	return b
}

// Call returns the part of a call to the function tool name with the
// arguments args; see [Input] for cut. A call to a stand-in for a freeform
// tool (one of freeformTools, see package freeform) comes back as the
// freeform call it stands in for. A call without a name is malformed
// whatever its arguments: no tool could run it.
func Call(id, name, args string, cut bool, freeformTools map[string]bool) llm.Part {
	if name == "" {
		return llm.Part{Kind: llm.PartToolCall, CallID: id, Input: quote(strings.TrimSpace(args)), Malformed: llm.MalformedNoName}
	}
	input, malformed := Input(args, cut)
	p := llm.Part{Kind: llm.PartToolCall, CallID: id, Name: name, Input: input, Malformed: malformed}
	if malformed == "" && freeformTools[name] {
		if text, ok := freeform.Unwrap(input); ok {
			p.Input, p.Freeform = text, true
		}
	}
	return p
}

// Freeform returns the part of a call to a freeform tool, whose input is
// text; cut marks text that the output token limit cut short.
func Freeform(id, name, text string, cut bool) llm.Part {
	p := llm.Part{Kind: llm.PartToolCall, CallID: id, Name: name, Input: quote(text), Freeform: true}
	if cut {
		p.Malformed = llm.MalformedCutOff
	}
	return p
}

// NewID returns a fresh call id, for a call that came without one. Tests
// replace it to make ids predictable.
var NewID = func() string { return "call_" + rand.Text() }

// UniqueIDs gives every tool call in parts, a new response to history,
// an id that no other call in them or in history has: a call without one
// gets [NewID], and a call reusing an earlier call's id gets that id with
// a numeric suffix. Servers that number their calls carelessly (some
// start again from call_0 every turn) would otherwise have one result
// answer two calls, which the APIs reject or, worse, pair wrongly.
func UniqueIDs(parts []llm.Part, history []llm.Message) {
	seen := map[string]bool{}
	for _, m := range history {
		if m.Role != llm.RoleAssistant {
			continue
		}
		for _, p := range m.Parts {
			if p.Kind == llm.PartToolCall {
				seen[p.CallID] = true
			}
		}
	}
	for i := range parts {
		if id := parts[i].CallID; parts[i].Kind == llm.PartToolCall && id != "" && !seen[id] {
			seen[id] = false
		}
	}
	for i := range parts {
		p := &parts[i]
		if p.Kind != llm.PartToolCall {
			continue
		}
		switch used, ok := seen[p.CallID]; {
		case p.CallID == "":
			p.CallID = fresh(seen, NewID)
		case used:
			base, n := p.CallID, 1
			p.CallID = fresh(seen, func() string { n++; return base + "_" + strconv.Itoa(n) })
		case ok:
			seen[p.CallID] = true
		}
	}
}

// fresh returns the first id from next that no call has, and claims it.
func fresh(seen map[string]bool, next func() string) string {
	for {
		id := next()
		if _, taken := seen[id]; !taken {
			seen[id] = true
			return id
		}
	}
}

// Args returns the arguments of call as text, as the OpenAI APIs take a
// function call's arguments: its input, wrapped if it is a freeform call
// sent to a stand-in function, {} for none, and for a Malformed call the
// text the model wrote, so the model sees its own mistake.
func Args(call llm.Part) (string, error) {
	if call.Malformed != "" && !call.Freeform {
		var text string
		if err := json.Unmarshal(call.Input, &text); err != nil {
			return "", fmt.Errorf("tool call %s: malformed call's input is not a JSON string: %w", call.CallID, err)
		}
		return text, nil
	}
	args, err := freeform.Args(call)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(args)), nil
}

// Object returns the arguments of call as a JSON object, for an API whose
// calls must carry one (Anthropic's tool_use input). A call whose input is
// not an object (a Malformed one, or one recorded by an older Lathe that
// kept unreadable arguments as a string) is sent with {}: its result tells
// the model what was wrong.
func Object(call llm.Part) (json.RawMessage, error) {
	if call.Malformed != "" && !call.Freeform {
		return json.RawMessage(`{}`), nil
	}
	args, err := freeform.Args(call)
	if err != nil {
		return nil, err
	}
	if s := strings.TrimSpace(string(args)); s == "" || s[0] != '{' {
		return json.RawMessage(`{}`), nil
	}
	return args, nil
}
