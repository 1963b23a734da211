package app

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/session"
)

// TestLoggedInputDigestMatchesMessage checks that the digest and size
// that stand in for a large tool.start input in the session log are
// those of the input as the call's message records it, even when the
// model wrote it with spaces, as Anthropic's streamed input is.
func TestLoggedInputDigestMatchesMessage(t *testing.T) {
	log, err := session.NewStore(t.TempDir()).Create(session.Meta{Cwd: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	input := json.RawMessage(`{"file_path": "big.txt", "content": "` + strings.Repeat("x", 5000) + `"}`)
	call := llm.Part{Kind: llm.PartToolCall, CallID: "c1", Name: "Write", Input: input}
	if err := log.AppendMessage(llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{call}}); err != nil {
		t.Fatal(err)
	}
	a := &App{log: log}
	a.recordEvent(event.Event{Type: event.ToolStart, CallID: "c1", Name: "Write", Input: input})
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}

	f, err := os.Open(log.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recorded json.RawMessage
	var start event.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct {
			Type    string
			Message struct {
				Parts []struct{ Input json.RawMessage }
			}
			Event event.Event
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		switch rec.Type {
		case "message":
			recorded = rec.Message.Parts[0].Input
		case "event":
			start = rec.Event
		}
	}
	sum := sha256.Sum256(recorded)
	if start.InputSHA256 != hex.EncodeToString(sum[:]) || start.InputBytes != len(recorded) || start.Input != nil {
		t.Errorf("tool.start in the log has input_sha256 %s, input_bytes %d; the message records %d bytes with digest %x",
			start.InputSHA256, start.InputBytes, len(recorded), sum)
	}
}
