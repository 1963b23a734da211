package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lathe-dev/lathe/internal/event"
)

// collect returns a liveOutput that appends what it emits to *got.
func collect(got *[]string) *liveOutput {
	return &liveOutput{emit: func(s string) { *got = append(*got, s) }}
}

// checkChunks fails the test unless every chunk is non-empty valid UTF-8
// of at most maxOutputChunk bytes and the chunks spell want.
func checkChunks(t *testing.T, name string, chunks []string, want string) {
	t.Helper()
	for i, c := range chunks {
		if c == "" || !utf8.ValidString(c) || len(c) > maxOutputChunk {
			t.Errorf("%s: chunk %d of %d is %d bytes, valid UTF-8 %v: want 1 to %d valid bytes", name, i, len(chunks), len(c), utf8.ValidString(c), maxOutputChunk)
		}
	}
	if got := strings.Join(chunks, ""); got != want {
		t.Errorf("%s: chunks spell %q, want %q", name, got, want)
	}
}

// TestLiveOutputKeepsCharactersWhole splits output at every byte, so that
// each multibyte character is cut in every place it can be, and checks
// that no chunk holds part of one.
func TestLiveOutputKeepsCharactersWhole(t *testing.T) {
	const text = "aé€😀b\n"
	for cut := range len(text) + 1 {
		var got []string
		o := collect(&got)
		o.write([]byte(text[:cut]))
		o.write([]byte(text[cut:]))
		o.close()
		checkChunks(t, fmt.Sprintf("cut at %d", cut), got, text)
	}
	// Byte by byte: each character comes out whole once its last byte
	// arrives.
	var got []string
	o := collect(&got)
	for i := range len(text) {
		o.write([]byte{text[i]})
	}
	o.close()
	checkChunks(t, "byte by byte", got, text)
	if want := []string{"a", "é", "€", "😀", "b", "\n"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("byte by byte: chunks %q, want %q", got, want)
	}
}

func TestLiveOutputChunks(t *testing.T) {
	big := strings.Repeat("x", maxOutputChunk-1) + "€" + strings.Repeat("y", maxOutputChunk+5)
	for _, tc := range []struct {
		name   string
		writes []string
		want   string
	}{
		{"empty", []string{"", ""}, ""},
		{"plain", []string{"one\n", "two\n"}, "one\ntwo\n"},
		{"invalid bytes replaced", []string{"a\xffb", "\xc3(c"}, "a\uFFFDb\uFFFD(c"},
		{"a character that never ends", []string{"ok \xe2\x82"}, "ok \uFFFD"},
		{"a cut character followed by no continuation", []string{"\xe2", "\x82x"}, "\uFFFDx"},
		{"control sequences kept", []string{"\x1b[31mred\x1b[0m\r50%\r100%\n"}, "\x1b[31mred\x1b[0m\r50%\r100%\n"},
		{"bounded, cut between characters", []string{big}, big},
	} {
		var got []string
		o := collect(&got)
		for _, w := range tc.writes {
			o.write([]byte(w))
		}
		o.close()
		checkChunks(t, tc.name, got, tc.want)
	}
}

// TestLiveOutputEndsAtClose checks that what a background job writes after
// its call ended is not the call's: the call's tool.end has been emitted.
func TestLiveOutputEndsAtClose(t *testing.T) {
	var got []string
	o := collect(&got)
	o.write([]byte("while the call ran \xe2"))
	o.close()
	o.write([]byte("\x82\xac later"))
	o.close()
	checkChunks(t, "after close", got, "while the call ran \uFFFD")
}

// TestCommandOutputStreamsBetweenToolStartAndEnd runs a real command that
// writes a character in two pieces, the second only once the first
// command.output event has arrived, so that the two are read apart. The
// chunks come between the call's tool.start and tool.end, spell what the
// command wrote with the character whole, and the model is sent the same
// result as without them.
func TestCommandOutputStreamsBetweenToolStartAndEnd(t *testing.T) {
	h := newHarness(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "printf 'caf\\303'; while [ ! -e go ]; do sleep 0.01; done; printf '\\251 ok\\n'", "timeout": 60000}}]}},
	  {"expect": {"tool_results": [{"call": 0, "contains": ["café ok"], "is_error": false}]}, "reply": {"text": "done"}}]}`)
	var events []event.Event
	h.cfg.Sink = event.SinkFunc(func(e event.Event) {
		events = append(events, e)
		if e.Type == event.CommandOutput && e.Text == "caf" {
			// The command waits for this before it writes the rest.
			if err := os.WriteFile(filepath.Join(h.dir, "go"), nil, 0o644); err != nil {
				t.Error(err)
			}
		}
	})
	if o := h.run(context.Background(), "go"); o.Kind != event.Success {
		t.Fatalf("outcome = %v (%v)", o.Kind, o.Err)
	}
	h.check()
	start, end := -1, -1
	var chunks []string
	for i, e := range events {
		switch e.Type {
		case event.ToolStart:
			start = i
		case event.ToolEnd:
			end = i
			if e.Output != "café ok" {
				t.Errorf("tool.end output %q, want the model's result %q", e.Output, "café ok")
			}
		case event.CommandOutput:
			if start < 0 || end >= 0 || e.CallID != events[start].CallID || e.Turn != events[start].Turn {
				t.Errorf("event %d: command.output for call %s turn %d, not inside its call's tool.start and tool.end", i, e.CallID, e.Turn)
			}
			chunks = append(chunks, e.Text)
		}
	}
	if len(chunks) < 2 || chunks[0] != "caf" {
		t.Errorf("chunks %q, want \"caf\" first and the rest after it", chunks)
	}
	checkChunks(t, "command", chunks, "café ok\n")
}

// BenchmarkLiveOutputWrite measures what a chunk of command output costs
// on the reader goroutine before it is published: one string per chunk,
// and nothing per byte but the UTF-8 check and the copy.
func BenchmarkLiveOutputWrite(b *testing.B) {
	for _, size := range []int{64, 32 << 10} {
		chunk := []byte(strings.Repeat("ok  \tpager\t0.01s é\n", size/20+1)[:size])
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			o := &liveOutput{emit: func(string) {}}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				o.write(chunk)
			}
		})
	}
}
