package session

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/compact"
	"github.com/lathe-dev/lathe/internal/llm"
)

// compacted writes a session with one compaction boundary and returns
// its log, closed, and the boundary.
func compacted(t *testing.T, store *Store) (*Log, compact.Boundary) {
	t.Helper()
	log, err := store.Create(Meta{Cwd: "/src/x"})
	must(t, err)
	asst := llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{call("c1", "Bash")}}
	must(t, log.AppendMessage(text(llm.RoleUser, "the original task")))
	must(t, log.AppendMessage(asst))
	must(t, log.AppendUsage(1, llm.Usage{Input: 100}, 0.01))
	must(t, log.AppendToolResult(result("c1", "Bash", "out")))
	b := compact.Boundary{
		Messages: []llm.Message{
			text(llm.RoleUser, compact.Header+" summary"),
			asst,
			{Role: llm.RoleUser, Parts: []llm.Part{result("c1", "Bash", "out")}},
		},
		Ledger: compact.Ledger{Requests: []string{"the original task"}},
		Reason: compact.Auto, TokensBefore: 9000, TokensAfter: 800,
	}
	must(t, log.AppendCompaction(b))
	must(t, log.AppendUsage(1, llm.Usage{Input: 50}, 0.005))
	must(t, log.AppendMessage(text(llm.RoleAssistant, "done")))
	must(t, log.AppendUsage(2, llm.Usage{Input: 10}, 0.001))
	must(t, log.Close())
	return log, b
}

// A resume after a compaction loads the compacted conversation and what
// followed, not the full log, with the boundary's ledger; usage still
// totals every response.
func TestResumeAfterCompaction(t *testing.T) {
	store := NewStore(filepath.Join(t.TempDir(), "sessions"))
	log, b := compacted(t, store)
	tr := reopen(t, store, log.ID())
	want := append(b.Messages, text(llm.RoleAssistant, "done"))
	if !reflect.DeepEqual(tr.Messages, want) {
		t.Errorf("messages = %+v\nwant %+v", tr.Messages, want)
	}
	if tr.Compactions != 1 || tr.Covered != 3 || !reflect.DeepEqual(tr.Ledger, b.Ledger) {
		t.Errorf("compactions %d, covered %d, ledger %+v", tr.Compactions, tr.Covered, tr.Ledger)
	}
	if tr.Usage.Input != 160 || tr.Turns != 3 {
		t.Errorf("usage %+v, turns %d", tr.Usage, tr.Turns)
	}
}

// A compaction record cut short by a crash leaves the conversation as it
// was before it: the full history, reported once.
func TestResumeCutMidCompaction(t *testing.T) {
	store := NewStore(filepath.Join(t.TempDir(), "sessions"))
	log, err := store.Create(Meta{Cwd: "/src/x"})
	must(t, err)
	must(t, log.AppendMessage(text(llm.RoleUser, "the original task")))
	must(t, log.AppendMessage(text(llm.RoleAssistant, "working")))
	must(t, log.AppendCompaction(compact.Boundary{Messages: []llm.Message{text(llm.RoleUser, "compacted")}}))
	must(t, log.Close())
	data, err := os.ReadFile(log.Path())
	must(t, err)
	must(t, os.WriteFile(log.Path(), data[:len(data)-20], 0o600))

	tr := reopen(t, store, log.ID())
	if len(tr.Messages) != 2 || tr.Messages[0].Text() != "the original task" || tr.Compactions != 0 {
		t.Errorf("messages = %+v, %d compactions", tr.Messages, tr.Compactions)
	}
	if len(tr.Dropped) != 1 || !tr.Dropped[0].Cut {
		t.Errorf("dropped = %+v", tr.Dropped)
	}
}

// A compaction record that holds no valid conversation stops the resume,
// naming its line, like any other unusable line.
func TestCompactionRecordInvalid(t *testing.T) {
	for name, rec := range map[string]string{
		"empty":        `{"type":"compaction","messages":[]}`,
		"assistant":    `{"type":"compaction","messages":[{"role":"assistant","parts":[{"kind":"text","text":"x"}]}]}`,
		"unknown part": `{"type":"compaction","messages":[{"role":"user","parts":[{"kind":"hologram"}]}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			store := NewStore(filepath.Join(t.TempDir(), "sessions"))
			log, err := store.Create(Meta{Cwd: "/src/x"})
			must(t, err)
			must(t, log.AppendMessage(text(llm.RoleUser, "task")))
			must(t, log.Close())
			f, err := os.OpenFile(log.Path(), os.O_APPEND|os.O_WRONLY, 0)
			must(t, err)
			_, err = f.WriteString(rec + "\n" + `{"type":"message","message":{"role":"assistant","parts":[{"kind":"text","text":"after"}]}}` + "\n")
			must(t, err)
			must(t, f.Close())
			_, _, err = store.Open(log.ID())
			if err == nil || !strings.Contains(err.Error(), ":3: compaction record") {
				t.Errorf("open: %v", err)
			}
		})
	}
}

// A fork of a compacted session starts from the same boundary, ledger
// included, so that a resume of the fork keeps the task.
func TestForkAfterCompaction(t *testing.T) {
	store := NewStore(filepath.Join(t.TempDir(), "sessions"))
	log, b := compacted(t, store)
	fork, tr, err := store.Fork(log.ID(), Meta{Cwd: "/src/x"}, false)
	must(t, err)
	if tr.Covered != 3 || !reflect.DeepEqual(tr.Ledger, b.Ledger) {
		t.Errorf("fork's transcript: covered %d, ledger %+v", tr.Covered, tr.Ledger)
	}
	must(t, fork.Close())
	got := reopen(t, store, fork.ID())
	if got.Compactions != 1 || got.Covered != 3 || !reflect.DeepEqual(got.Ledger, b.Ledger) || !reflect.DeepEqual(got.Messages, tr.Messages) {
		t.Errorf("fork reopened: %d compactions, covered %d, ledger %+v, %d messages", got.Compactions, got.Covered, got.Ledger, len(got.Messages))
	}
}

// A native compaction's boundary begins with the provider's compaction,
// in the response that carried it; a resume loads it from there, the
// opaque block as it was.
func TestResumeAfterNativeCompaction(t *testing.T) {
	store := NewStore(filepath.Join(t.TempDir(), "sessions"))
	log, err := store.Create(Meta{Cwd: "/src/x"})
	must(t, err)
	must(t, log.AppendMessage(text(llm.RoleUser, "the original task")))
	asst := llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
		{Kind: llm.PartCompaction, Text: "SUMMARY", Opaque: []byte(`{"content":"SUMMARY","encrypted_content":"Eq","signature":"c2ln","type":"compaction"}`), Origin: "anthropic"},
		call("c1", "Bash"),
	}}
	must(t, log.AppendMessage(asst))
	b := compact.Boundary{Messages: []llm.Message{asst}, Ledger: compact.Ledger{Requests: []string{"the original task"}}, Reason: compact.Native, TokensBefore: 150_000, TokensAfter: 900}
	must(t, log.AppendCompaction(b))
	must(t, log.AppendToolResult(result("c1", "Bash", "out")))
	must(t, log.Close())

	tr := reopen(t, store, log.ID())
	want := []llm.Message{asst, {Role: llm.RoleUser, Parts: []llm.Part{result("c1", "Bash", "out")}}}
	if !reflect.DeepEqual(tr.Messages, want) {
		t.Errorf("messages = %+v\nwant %+v", tr.Messages, want)
	}
	if tr.Compactions != 1 || tr.Covered != 1 || !reflect.DeepEqual(tr.Ledger, b.Ledger) {
		t.Errorf("compactions %d, covered %d, ledger %+v", tr.Compactions, tr.Covered, tr.Ledger)
	}
}

// A native compaction's response whose boundary record never made it to
// the log still ends the conversation before it on resume: the provider
// drops those messages whatever is sent.
func TestResumeNativeCompactionWithoutBoundary(t *testing.T) {
	store := NewStore(filepath.Join(t.TempDir(), "sessions"))
	log, err := store.Create(Meta{Cwd: "/src/x"})
	must(t, err)
	must(t, log.AppendMessage(text(llm.RoleUser, "the original task")))
	must(t, log.AppendMessage(text(llm.RoleAssistant, "working")))
	must(t, log.AppendMessage(text(llm.RoleUser, "go on")))
	must(t, log.AppendUsage(2, llm.Usage{Input: 900, Output: 10}, 0.01))
	asst := llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
		{Kind: llm.PartCompaction, Opaque: []byte(`{"encrypted_content":"gAAA","type":"compaction"}`), Origin: "openai"},
		text(llm.RoleAssistant, "done").Parts[0],
	}}
	must(t, log.AppendMessage(asst))
	must(t, log.Close())

	tr := reopen(t, store, log.ID())
	if !reflect.DeepEqual(tr.Messages, []llm.Message{asst}) {
		t.Errorf("messages = %+v", tr.Messages)
	}
	if tr.Covered != 0 || tr.Counted != 910 || tr.CountedMessages != 1 {
		t.Errorf("covered %d, counted %d of %d messages", tr.Covered, tr.Counted, tr.CountedMessages)
	}
}
