package audit

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/event"
)

// A fake key of a shape secret.Redact knows.
const awsKey = "AKIAIOSFODNN7EXAMPLE"

func TestRedactJSON(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"command":"echo hi"}`, `{"command":"echo hi"}`},
		{`{"command":"aws --key ` + awsKey + `"}`, `{"command":"aws --key [REDACTED:aws-access-key]"}`},
		// Escapes are decoded before matching and the rest kept as it was.
		{`{"a" : "x\n` + awsKey + `\"", "b": [1, "<&>"]}`, `{"a" : "x\n[REDACTED:aws-access-key]\"", "b": [1, "<&>"]}`},
		{`"password=\"hunter2hunter2\""`, `"password=\"[REDACTED:assigned-secret]\""`},
		// A member named like a secret has its value redacted whole, as
		// password="…" is in text; a short one, or one not a member's
		// value, is not.
		{`{"password":"hunter2 hunter2"}`, `{"password":"[REDACTED:assigned-secret]"}`},
		{`{"env": {"DB_PASSWORD" :` + "\n\t" + `"s3cr3tvalue", "HOME": "/home/someone"}}`, `{"env": {"DB_PASSWORD" :` + "\n\t" + `"[REDACTED:assigned-secret]", "HOME": "/home/someone"}}`},
		{`{"Api_Key":"abc\u0064efgh1"}`, `{"Api_Key":"[REDACTED:assigned-secret]"}`},
		{`{"token":"short"}`, `{"token":"short"}`},
		{`{"token":12345678901}`, `{"token":12345678901}`},
		{`["password", "hunter2hunter2"]`, `["password", "hunter2hunter2"]`},
		{`{"password_hint":"the dog's name"}`, `{"password_hint":"the dog's name"}`},
		{`{"token":"[REDACTED:jwt] trailing"}`, `{"token":"[REDACTED:jwt] trailing"}`},
		// Not JSON: left alone but for whole quoted spans.
		{`{"unterminated": "` + awsKey, `{"unterminated": "` + awsKey},
		{``, ``},
	} {
		got := string(RedactJSON([]byte(tc.in)))
		if got != tc.want {
			t.Errorf("RedactJSON(%s) = %s, want %s", tc.in, got, tc.want)
		}
		if json.Valid([]byte(tc.in)) && !json.Valid([]byte(got)) {
			t.Errorf("RedactJSON(%s) = %s, which is not JSON", tc.in, got)
		}
	}
}

func FuzzRedactJSON(f *testing.F) {
	f.Add([]byte(`{"command":"aws --key ` + awsKey + `","x":"\u00e9\\"}`))
	f.Add([]byte(`["password: 'abcdefgh1'", "sk-ant-aaaaaaaaaaaaaaaaaaaaaaaa"]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got := RedactJSON(b)
		if json.Valid(b) && !json.Valid(got) {
			t.Fatalf("RedactJSON(%q) = %q, not JSON", b, got)
		}
	})
}

// TestLogRedacts: a secret in a call's arguments, a person's message or
// a reason never reaches the audit log, and the log still verifies.
func TestLogRedacts(t *testing.T) {
	l, err := Open(t.TempDir(), sid, Info{})
	if err != nil {
		t.Fatal(err)
	}
	l.Emit(event.Event{Type: event.SessionStart, SessionID: sid})
	l.Emit(event.Event{Type: event.ToolStart, CallID: "c", Name: "Bash", Input: json.RawMessage(`{"command":"AWS_ACCESS_KEY_ID=` + awsKey + ` aws s3 ls"}`)})
	l.Emit(event.Event{Type: event.Decision, CallID: "c", Name: "Bash", Verdict: event.Denied, DecidedBy: event.ByPerson, Approval: event.ApproveDeny, Message: "never use " + awsKey})
	l.Emit(event.Event{Type: event.ToolEnd, CallID: "c", Name: "Bash", Output: awsKey, Summary: "printed " + awsKey})
	// A structured input's member named like a secret, as an MCP tool's
	// may be.
	l.Emit(event.Event{Type: event.ToolStart, CallID: "d", Name: "mcp__db__connect", Input: json.RawMessage(`{"user": "app", "password": "hunter2 hunter2"}`)})
	l.Emit(event.Event{Type: event.Decision, CallID: "d", Name: "mcp__db__connect", Verdict: event.Denied, DecidedBy: event.ByMode})
	l.Close()
	data, err := os.ReadFile(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(awsKey)) || bytes.Contains(data, []byte("hunter2")) {
		t.Errorf("the audit log holds the key:\n%s", data)
	}
	if n := strings.Count(string(data), "[REDACTED:aws-access-key]"); n != 3 {
		t.Errorf("%d redactions, want 3:\n%s", n, data)
	}
	if _, err := Verify(bytes.NewReader(data), sid); err != nil {
		t.Error(err)
	}
}

// BenchmarkRedactJSON is the redaction's cost on a stream-json line of a
// command's tool.end, 4 KiB of test output with nothing to redact: what
// every printed event pays.
func BenchmarkRedactJSON(b *testing.B) {
	out := strings.Repeat("ok  \texample.com/pkg/sub\t0.012s\n--- PASS: TestThing (0.00s)\n", 64)
	line, err := json.Marshal(event.Event{Type: event.ToolEnd, SessionID: sid, CallID: "toolu_01", Name: "Bash", Output: out, Summary: "exit 0, 128 lines"})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		RedactJSON(line)
	}
}
