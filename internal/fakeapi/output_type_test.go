package fakeapi

import (
	"strings"
	"testing"
)

// TestResponsesOutputMatchesCall checks that, like the Responses API, the
// fake refuses a tool output of the wrong kind for its call: a resumed
// session that answered a custom tool call with a function output would
// fail against the real API.
func TestResponsesOutputMatchesCall(t *testing.T) {
	body := func(output string) string {
		return `{"model":"m","stream":true,"input":[
		  {"role":"user","content":"go"},
		  {"type":"custom_tool_call","call_id":"c1","name":"apply_patch","input":"*** Begin Patch"},
		  {"type":"` + output + `","call_id":"c1","output":"done"}]}`
	}
	parse(t, APIResponses, body("custom_tool_call_output"))
	_, err := parseRequest(APIResponses, []byte(body("function_call_output")))
	if err == nil || !strings.Contains(err.Error(), "a function_call_output answers custom_tool_call c1, which needs a custom_tool_call_output") {
		t.Errorf("parse = %v, want the mismatched output refused", err)
	}
}
