package cells_test

import (
	"encoding/json"
	"fmt"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/tui/cells"
)

// A tool call's cell is made from its tool.start, fed its command.output
// while it runs, and completed by its tool.end.
func ExampleNewToolCall() {
	c := cells.NewToolCall(event.Event{Type: event.ToolStart, CallID: "toolu_1", Name: "Bash",
		Input: json.RawMessage(`{"command":"go test ./..."}`)}, "/work/repo")
	c.AppendOutput("--- FAIL: TestPage\n")
	fmt.Println(c.Render(60, false, cells.Styles{}))
	exit := 1
	c.End(event.Event{Type: event.ToolEnd, CallID: "toolu_1", Name: "Bash", IsError: true, ExitCode: &exit,
		Output: "--- FAIL: TestPage\nFAIL\nExit code: 1"})
	fmt.Println(c.Render(60, false, cells.Styles{}))
	// Output:
	// Bash go test ./... …
	//   --- FAIL: TestPage
	// Bash go test ./... ✗ exit 1
}

// A message's text deltas go into a Stream; the finished stream shows
// what Markdown does for the whole text.
func ExampleStream() {
	s := cells.NewStream(40, cells.Styles{})
	for _, delta := range []string{"The fix", ":\n\n- round", " up\n- guard size\n\nDo", "ne."} {
		s.Append(delta)
	}
	s.Finish()
	fmt.Println(s.String() == cells.Markdown(s.Text(), 40, cells.Styles{}))
	fmt.Println(s.String())
	// Output:
	// true
	// The fix:
	//
	// • round up
	// • guard size
	//
	// Done.
}
