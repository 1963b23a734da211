package compact

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/llm"
)

func user(texts ...string) llm.Message {
	m := llm.Message{Role: llm.RoleUser}
	for _, t := range texts {
		m.Parts = append(m.Parts, llm.Part{Kind: llm.PartText, Text: t})
	}
	return m
}

func assistant(text string, calls ...llm.Part) llm.Message {
	m := llm.Message{Role: llm.RoleAssistant}
	if text != "" {
		m.Parts = append(m.Parts, llm.Part{Kind: llm.PartText, Text: text})
	}
	return llm.Message{Role: m.Role, Parts: append(m.Parts, calls...)}
}

func call(id, name, input string) llm.Part {
	return llm.Part{Kind: llm.PartToolCall, CallID: id, Name: name, Input: json.RawMessage(input)}
}

func results(rs ...llm.Part) llm.Message { return llm.Message{Role: llm.RoleUser, Parts: rs} }

func result(id, text string, isError bool) llm.Part {
	return llm.Part{Kind: llm.PartToolResult, CallID: id, Text: text, IsError: isError}
}

// classify reads the test's calls: Edit writes file_path, Read reads it,
// Bash runs command.
func classify(c llm.Part) (Facts, bool) {
	var in struct {
		FilePath string `json:"file_path"`
		Command  string `json:"command"`
	}
	if json.Unmarshal(c.Input, &in) != nil {
		return Facts{}, false
	}
	switch c.Name {
	case "Edit":
		return Facts{Writes: []string{in.FilePath}}, true
	case "Read":
		return Facts{Reads: []string{in.FilePath}}, true
	case "Bash":
		return Facts{Command: in.Command}, true
	}
	return Facts{}, false
}

func todoOf(name string, input json.RawMessage) (string, bool) {
	if name != "TodoWrite" {
		return "", false
	}
	return "[>] " + string(input) + "\n", true
}

var observer = Observer{
	Classify: classify,
	Harness:  func(s string) bool { return strings.HasPrefix(s, "Your response was cut off") },
	Todo:     todoOf,
}

func intp(n int) *int { return &n }

func TestFold(t *testing.T) {
	msgs := []llm.Message{
		user("Fix the parser. Do not change the public API."),
		assistant("", call("1", "Edit", `{"file_path":"a.go"}`), call("2", "Edit", `{"file_path":"b.go"}`), call("3", "Bash", `{"command":"go test ./..."}`)),
		results(result("1", "ok", false), result("2", "no match", true), result("3", "FAIL\nExit code: 1", true)),
		user("Your response was cut off at the output token limit."),
		assistant("", call("4", "Edit", `{"file_path":"a.go"}`), call("5", "Bash", `{"command":"go test ./..."}`), call("6", "TodoWrite", `"list"`), call("7", "Bash", `{"command":"go vet"}`)),
		results(result("4", "ok", false), result("5", "ok", false), result("6", "ok", false), result("7", "Exit code: 2\nWall time: 0.1 seconds\n", true)),
		user("also keep the tests fast"),
		// A result without its call (cannot happen in a valid
		// conversation) is ignored.
		results(result("99", "x", false)),
	}
	got := Ledger{}.Fold(msgs, observer)
	want := Ledger{
		Requests:    []string{"Fix the parser. Do not change the public API.", "also keep the tests fast"},
		Todo:        "[>] \"list\"\n",
		Files:       []string{"a.go"},
		Commands:    []Command{{Command: "go test ./...", Passed: true}, {Command: "go vet", Passed: false, ExitCode: intp(2)}},
		Constraints: []string{"Do not change the public API.", "also keep the tests fast"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Fold:\n got %+v\nwant %+v", got, want)
	}

	// Folding on continues from the ledger; the earlier one is unchanged.
	more := got.Fold([]llm.Message{user("next: the lexer"), assistant("", call("8", "Edit", `{"file_path":"c.go"}`)), results(result("8", "ok", false))}, observer)
	if len(got.Requests) != 2 || len(got.Files) != 1 {
		t.Errorf("Fold changed its receiver: %+v", got)
	}
	if wantReq := append(want.Requests, "next: the lexer"); !reflect.DeepEqual(more.Requests, wantReq) {
		t.Errorf("Requests = %q, want %q", more.Requests, wantReq)
	}
	if !reflect.DeepEqual(more.Files, []string{"a.go", "c.go"}) {
		t.Errorf("Files = %q", more.Files)
	}

	// Without a classifier or todo reader only the requests are kept.
	bare := Ledger{}.Fold(msgs, Observer{})
	if len(bare.Files) != 0 || len(bare.Commands) != 0 || bare.Todo != "" || len(bare.Requests) != 3 {
		t.Errorf("bare Fold = %+v", bare)
	}
}

func TestFoldCommandsCapped(t *testing.T) {
	var msgs []llm.Message
	for i := range maxCommands + 5 {
		id := fmt.Sprint(i)
		msgs = append(msgs, assistant("", call(id, "Bash", fmt.Sprintf(`{"command":"cmd %d"}`, i))), results(result(id, "", false)))
	}
	l := Ledger{}.Fold(msgs, observer)
	if len(l.Commands) != maxCommands || l.Commands[maxCommands-1].Command != fmt.Sprintf("cmd %d", maxCommands+4) {
		t.Errorf("Commands = %+v", l.Commands)
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		text string
		want *int
	}{
		{"FAIL\nExit code: 1", intp(1)},
		{"out\nExit code: 137 (killed)", intp(137)},
		{"Exit code: 2\nWall time: 0.1 seconds\noutput", intp(2)},
		{"all good", nil},
		// Output that merely mentions an exit code in its middle.
		{"a\nExit code: 3\nb", nil},
	} {
		got := exitCode(tc.text)
		if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
			t.Errorf("exitCode(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

func TestConstraints(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"Add a flag. Never touch vendor/! Use tabs", []string{"Never touch vendor/!"}},
		{"- don't run the slow tests\n- make it quick", []string{"don't run the slow tests"}},
		{"Refactor the cache", nil},
		{"Only edit files under pkg/; keep the API", []string{"Only edit files under pkg/;", "keep the API"}},
	} {
		if got := constraints(tc.text); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("constraints(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestFormat(t *testing.T) {
	l := Ledger{
		Requests:    []string{"first task", "second"},
		Todo:        "[x] one\n[ ] two\n",
		Files:       []string{"a.go"},
		Commands:    []Command{{Command: "make\ntest", Passed: false, ExitCode: intp(2)}, {Command: "ls", Passed: true}, {Command: "x", Passed: false}},
		Constraints: []string{"never push"},
	}
	got := l.Format()
	for _, want := range []string{
		"<request n=1>\nfirst task\n</request>", "<request n=2>\nsecond\n</request>",
		"- never push", "[x] one\n[ ] two\n", "- a.go", "- failed, exit 2: `make test`", "- passed: `ls`", "- failed: `x`",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Format lacks %q:\n%s", want, got)
		}
	}
	if (Ledger{}).Format() != "" {
		t.Errorf("empty ledger formats as %q", Ledger{}.Format())
	}
}

func TestFormatKeepsTheFirstRequest(t *testing.T) {
	first := "THE TASK " + strings.Repeat("x", 1000)
	l := Ledger{Requests: []string{first}}
	for range 100 {
		l.Requests = append(l.Requests, strings.Repeat("y", 3000))
	}
	l.Requests = append(l.Requests, "latest")
	got := l.Format()
	if !strings.Contains(got, first) {
		t.Errorf("the first request is not verbatim")
	}
	if !strings.Contains(got, "latest") || !strings.Contains(got, "earlier requests are left out") {
		t.Errorf("the latest request or the note is missing")
	}
	if len(got) > maxRequests+maxFirstRequest {
		t.Errorf("Format is %d bytes, over the caps", len(got))
	}

	huge := strings.Repeat("h", maxFirstRequest*2) + "END"
	got = Ledger{Requests: []string{"BEGIN" + huge}}.Format()
	if !strings.Contains(got, "BEGIN") || !strings.Contains(got, "END") || !strings.Contains(got, "bytes cut here") {
		t.Errorf("a huge first request lost its head or tail")
	}
}

func TestPrompt(t *testing.T) {
	l := Ledger{Requests: []string{"the original task"}}
	p := Prompt(l, "  the flaky test ", false)
	for _, s := range Sections {
		if !strings.Contains(p, "## "+s+"\n") {
			t.Errorf("prompt lacks section %q", s)
		}
	}
	for _, want := range []string{"Do not call any tool", "the original task", "keep in particular: the flaky test"} {
		if !strings.Contains(p, want) {
			t.Errorf("prompt lacks %q", want)
		}
	}
	if strings.Contains(p, "previous reply") {
		t.Errorf("first prompt is strict")
	}
	if !strings.Contains(Prompt(l, "", true), "previous reply was not a summary") {
		t.Errorf("strict prompt does not say so")
	}
}

func TestCheck(t *testing.T) {
	good := "## Goal\nfix it\n## Done\n- a\n## In progress\nb\n## Next action\nrun tests\n## Decisions and failed approaches\n## Open questions\n"
	for _, tc := range []struct {
		name, text string
		ok         bool
	}{
		{"complete", good, true},
		{"minimal", "# Goal:\nx\n### Next action\ny", true},
		{"empty", "  \n", false},
		{"prose", "I fixed the parser and will now run the tests.", false},
		{"no next action", "## Goal\nx\n## Done\ny", false},
	} {
		got, err := Check(tc.text)
		if tc.ok != (err == nil) {
			t.Errorf("%s: Check error %v, want ok %t", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrNoSummary) {
			t.Errorf("%s: error %v is not ErrNoSummary", tc.name, err)
		}
		if err == nil && got != strings.TrimSpace(tc.text) {
			t.Errorf("%s: Check changed a short summary: %q", tc.name, got)
		}
	}

	long := "## Goal\nx\n## Next action\n" + strings.Repeat("a line of the summary\n", 2000)
	got, err := Check(long)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) > maxSummaryBytes+100 || !strings.HasSuffix(got, "[summary cut at about 4000 tokens]") {
		t.Errorf("long summary: %d bytes, ends %q", len(got), got[len(got)-60:])
	}
	if !strings.Contains(got, "a line of the summary\n[summary cut") {
		t.Errorf("long summary not cut at a line")
	}
}

func TestSplit(t *testing.T) {
	msgs := []llm.Message{user("p"), assistant("", call("1", "Bash", `{}`)), results(result("1", "r", false)), user("steer")}
	old, recent := Split(msgs)
	if len(old) != 1 || len(recent) != 3 || recent[0].Role != llm.RoleAssistant {
		t.Errorf("Split = %d, %d", len(old), len(recent))
	}
	old, recent = Split([]llm.Message{user("only")})
	if len(old) != 0 || len(recent) != 1 {
		t.Errorf("Split of a prompt alone = %d, %d", len(old), len(recent))
	}
}

func TestRebuild(t *testing.T) {
	l := Ledger{Requests: []string{"the original task, verbatim"}}
	recent := []llm.Message{assistant("", call("1", "Bash", `{}`)), results(result("1", "r", false))}
	got := Rebuild(l, "## Goal\ng\n## Next action\nn", []string{"big.go"}, recent)
	if len(got) != 3 || got[0].Role != llm.RoleUser || !reflect.DeepEqual(got[1:], recent) {
		t.Fatalf("Rebuild = %+v", got)
	}
	text := got[0].Text()
	for _, want := range []string{Header, "## Summary of the work so far", "## Next action\nn", "the original task, verbatim", "- big.go", "Read again if needed"} {
		if !strings.Contains(text, want) {
			t.Errorf("rebuilt message lacks %q:\n%s", want, text)
		}
	}

	// The ledger alone, before a user message: one user message.
	got = Rebuild(l, "", nil, []llm.Message{user("go on")})
	if len(got) != 1 || len(got[0].Parts) != 2 || got[0].Parts[1].Text != "go on" {
		t.Fatalf("Rebuild before a user message = %+v", got)
	}
	if !strings.Contains(got[0].Text(), "No summary could be made") {
		t.Errorf("ledger-only rebuild does not say so")
	}
}

func TestLargeReads(t *testing.T) {
	big := strings.Repeat("x", largeRead)
	msgs := []llm.Message{
		assistant("", call("1", "Read", `{"file_path":"big.go"}`), call("2", "Read", `{"file_path":"small.go"}`), call("3", "Read", `{"file_path":"gone.go"}`)),
		results(result("1", big, false), result("2", "tiny", false), result("3", big, true)),
		assistant("", call("4", "Read", `{"file_path":"big.go"}`), call("5", "Bash", `{"command":"cat big.go"}`)),
		results(result("4", big, false), result("5", big, false)),
	}
	if got := LargeReads(msgs, classify); !reflect.DeepEqual(got, []string{"big.go"}) {
		t.Errorf("LargeReads = %q", got)
	}
}

func TestCapResults(t *testing.T) {
	msgs := []llm.Message{assistant("", call("1", "Bash", `{}`), call("2", "Bash", `{}`)), results(result("1", strings.Repeat("a", 50000), false), result("2", "short", false))}
	got := CapResults(msgs, 10000)
	if n := len(got[1].Parts[0].Text); n > 10200 {
		t.Errorf("capped output is %d bytes", n)
	}
	if got[1].Parts[1].Text != "short" || len(msgs[1].Parts[0].Text) != 50000 {
		t.Errorf("CapResults cut a short output or changed its input")
	}
	if !strings.Contains(got[1].Parts[0].Text, "cut at compaction") {
		t.Errorf("capped output has no note")
	}
}

func TestShrink(t *testing.T) {
	big := strings.Repeat("z", 10000)
	msgs := []llm.Message{user("task")}
	for i := range 8 {
		id := fmt.Sprint(i)
		msgs = append(msgs, assistant("", call(id, "Bash", `{}`)), results(result(id, big, false)))
	}
	// First the older outputs are cut, the last step's kept.
	s1, ok := Shrink(msgs)
	if !ok || len(s1) != len(msgs) {
		t.Fatalf("first Shrink: ok %t, %d messages", ok, len(s1))
	}
	if len(s1[2].Parts[0].Text) > 3000 || len(s1[len(s1)-1].Parts[0].Text) != len(big) || len(msgs[2].Parts[0].Text) != len(big) {
		t.Errorf("first Shrink cut the wrong outputs")
	}
	// Then the oldest steps are dropped, until only the first prompt and
	// the last step are left.
	prev := s1
	for range 10 {
		next, ok := Shrink(prev)
		if !ok {
			break
		}
		if len(next) >= len(prev) {
			t.Fatalf("Shrink did not shrink: %d → %d", len(prev), len(next))
		}
		checkValid(t, next)
		prev = next
	}
	if len(prev) != 3 || prev[0].Text() != "task" || prev[2].Parts[0].CallID != "7" {
		t.Errorf("fully shrunk = %+v", prev)
	}
}

// checkValid checks that every tool result follows its call's message
// and that roles alternate from a user message.
func checkValid(t *testing.T, msgs []llm.Message) {
	t.Helper()
	if msgs[0].Role != llm.RoleUser {
		t.Errorf("first message is %s", msgs[0].Role)
	}
	for i, m := range msgs {
		if i > 0 && m.Role == msgs[i-1].Role {
			t.Errorf("messages %d and %d are both %s", i-1, i, m.Role)
		}
		for _, p := range m.Parts {
			if p.Kind != llm.PartToolResult {
				continue
			}
			found := false
			for _, c := range msgs[i-1].ToolCalls() {
				found = found || c.CallID == p.CallID
			}
			if !found {
				t.Errorf("result %s in message %d follows no call", p.CallID, i)
			}
		}
	}
}
