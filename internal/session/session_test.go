package session

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lathe-dev/lathe/internal/compact"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/regfile"
)

func text(role llm.Role, s string) llm.Message {
	return llm.Message{Role: role, Parts: []llm.Part{{Kind: llm.PartText, Text: s}}}
}

func call(id, name string) llm.Part {
	return llm.Part{Kind: llm.PartToolCall, CallID: id, Name: name, Input: json.RawMessage(`{"cmd":"ls"}`)}
}

func result(id, name, out string) llm.Part {
	return llm.Part{Kind: llm.PartToolResult, CallID: id, Name: name, Text: out}
}

func interrupted(id, name string) llm.Part {
	return llm.Part{Kind: llm.PartToolResult, CallID: id, Name: name, Text: InterruptedResult, IsError: true}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// reopen opens session id and returns its transcript, closing the log.
func reopen(t *testing.T, s *Store, id string) *Transcript {
	t.Helper()
	log, tr, err := s.Open(id)
	must(t, err)
	must(t, log.Close())
	return tr
}

// lines returns the lines of the file at path.
func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	return strings.SplitAfter(string(b), "\n")
}

func TestRoundTrip(t *testing.T) {
	store := NewStore(filepath.Join(t.TempDir(), "sessions"))
	meta := Meta{Time: time.Date(2026, 11, 21, 15, 14, 0, 0, time.UTC), Cwd: "/src/x", Provider: "anthropic", Model: "claude-sonnet-4-5", Version: "v0.1.0"}
	log, err := store.Create(meta)
	must(t, err)
	if !strings.HasPrefix(log.ID(), "20261121T151400-") || len(log.ID()) != len("20261121T151400-ab12cd") {
		t.Errorf("ID %q is not <time>-<random>", log.ID())
	}

	assistant := llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
		{Kind: llm.PartThinking, Text: "hmm", Signature: "sig"},
		{Kind: llm.PartText, Text: "Looking <here> & there."},
		call("c1", "Bash"), call("c2", "Read"),
	}}
	u1 := llm.Usage{Input: 10, CacheRead: 100, CacheWrite: 5, Output: 20}
	u2 := llm.Usage{Input: 1, CacheRead: 150, Output: 7}
	must(t, log.AppendMessage(text(llm.RoleUser, "list the files")))
	must(t, log.AppendMessage(assistant))
	must(t, log.AppendUsage(1, u1, 0.01))
	// Results are recorded as tools finish, not in call order.
	must(t, log.AppendToolResult(result("c2", "Read", "package main")))
	must(t, log.AppendEvent(json.RawMessage(`{"type":"tool.end","call_id":"c2"}`)))
	must(t, log.AppendToolResult(result("c1", "Bash", "a.go\nb.go")))
	must(t, log.AppendMessage(text(llm.RoleAssistant, "Two files.")))
	must(t, log.AppendUsage(2, u2, 0.02))
	must(t, log.AppendResult(Result{Status: "success", Turns: 2, CostUSD: 0.03, Usage: u1.Add(u2)}))
	must(t, log.Sync())
	must(t, log.Close())
	if err := log.AppendMessage(text(llm.RoleUser, "late")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("append after Close: %v, want os.ErrClosed", err)
	}

	got := lines(t, log.Path())
	wantTypes := []string{"meta", "message", "message", "usage", "tool_result", "event", "tool_result", "message", "usage", "result"}
	if len(got) != len(wantTypes)+1 || got[len(got)-1] != "" {
		t.Fatalf("log has %d lines, want %d newline-terminated records:\n%s", len(got), len(wantTypes), strings.Join(got, ""))
	}
	for i, line := range got[:len(wantTypes)] {
		var rec struct{ Type string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Type != wantTypes[i] {
			t.Errorf("line %d = %s: want a %s record", i+1, line, wantTypes[i])
		}
	}
	if !strings.Contains(got[2], "Looking <here> & there.") {
		t.Errorf("HTML characters escaped in %s", got[2])
	}

	tr := reopen(t, store, log.ID())
	meta.SessionID = log.ID()
	want := &Transcript{
		Meta: meta,
		Messages: []llm.Message{
			text(llm.RoleUser, "list the files"),
			assistant,
			{Role: llm.RoleUser, Parts: []llm.Part{result("c1", "Bash", "a.go\nb.go"), result("c2", "Read", "package main")}},
			text(llm.RoleAssistant, "Two files."),
		},
		Usage:   u1.Add(u2),
		Cost:    0.03,
		Turns:   2,
		Prompts: []Prompt{{Text: "list the files", Messages: 0, Line: 2}},
	}
	if !reflect.DeepEqual(tr, want) {
		t.Errorf("transcript:\n%+v\nwant\n%+v", tr, want)
	}
}

func TestFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "sessions")
	log, err := NewStore(dir).Create(Meta{})
	must(t, err)
	defer log.Close()
	for path, want := range map[string]os.FileMode{dir: 0o700, log.Path(): 0o600} {
		fi, err := os.Stat(path)
		must(t, err)
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s has mode %o, want %o", path, got, want)
		}
	}
}

func TestCreateGivenID(t *testing.T) {
	store := NewStore(t.TempDir())
	log, err := store.Create(Meta{SessionID: "my-session"})
	must(t, err)
	log.Close()
	if log.ID() != "my-session" {
		t.Errorf("ID = %q", log.ID())
	}
	if _, err := store.Create(Meta{SessionID: "my-session"}); !errors.Is(err, os.ErrExist) {
		t.Errorf("second Create with the same ID: %v, want os.ErrExist", err)
	}
	for _, id := range []string{"../escape", "a/b", ".hidden"} {
		if _, err := store.Create(Meta{SessionID: id}); err == nil {
			t.Errorf("Create accepted ID %q", id)
		}
		if _, _, err := store.Open(id); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Open(%q) = %v, want an invalid-ID error", id, err)
		}
	}
	if _, _, err := store.Open("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open of a missing session: %v, want ErrNotFound", err)
	}
}

// TestCutLastLine simulates a crash mid-write: the last line is a prefix
// of a record, cut inside the JSON or inside a UTF-8 character. Loading
// ignores it, and the next append starts on a line of its own.
func TestCutLastLine(t *testing.T) {
	full, err := json.Marshal(messageRecord{Type: typeMessage, Message: text(llm.RoleUser, "naïve café ☕ request")})
	must(t, err)
	cuts := map[string]int{
		"mid JSON":   bytes.Index(full, []byte(`"parts"`)) + 3,
		"mid UTF-8":  bytes.Index(full, []byte("☕")) + 1,
		"mid escape": bytes.Index(full, []byte(`"role"`)) + 1,
		"last brace": len(full) - 1,
	}
	for name, n := range cuts {
		t.Run(name, func(t *testing.T) {
			store := NewStore(t.TempDir())
			log, err := store.Create(Meta{Cwd: "/w"})
			must(t, err)
			must(t, log.AppendMessage(text(llm.RoleUser, "first")))
			must(t, log.AppendMessage(text(llm.RoleAssistant, "answer")))
			must(t, log.Close())
			appendRaw(t, log.Path(), full[:n])

			log2, tr, err := store.Open(log.ID())
			must(t, err)
			wantMsgs := []llm.Message{text(llm.RoleUser, "first"), text(llm.RoleAssistant, "answer")}
			if !reflect.DeepEqual(tr.Messages, wantMsgs) || len(tr.Dropped) != 1 || tr.Dropped[0].Line != 4 || !tr.Dropped[0].Cut {
				t.Fatalf("messages %+v, dropped %+v; want %+v, line 4 cut", tr.Messages, tr.Dropped, wantMsgs)
			}
			must(t, log2.AppendMessage(text(llm.RoleUser, "resumed")))
			must(t, log2.AppendMessage(text(llm.RoleAssistant, "again")))
			must(t, log2.Close())

			got := lines(t, log.Path())
			if want := string(full[:n]) + "\n"; got[3] != want {
				t.Errorf("the fragment was not ended by a newline: line 4 = %q", got[3])
			}
			if !strings.HasPrefix(got[4], `{"type":"repair"`) {
				t.Errorf("line 5 = %q, want the repair record dropping line 4", got[4])
			}
			// Reported once: the next load knows the line was dropped.
			tr = reopen(t, store, log.ID())
			wantMsgs = append(wantMsgs, text(llm.RoleUser, "resumed"), text(llm.RoleAssistant, "again"))
			if !reflect.DeepEqual(tr.Messages, wantMsgs) || len(tr.Dropped) != 0 {
				t.Errorf("after resuming: messages %+v, dropped %+v; want %+v, none", tr.Messages, tr.Dropped, wantMsgs)
			}
		})
	}
}

// TestCompleteLineWithoutNewline covers a crash between the last byte of a
// record and its newline: the record counts, and the next starts afresh.
func TestCompleteLineWithoutNewline(t *testing.T) {
	store := NewStore(t.TempDir())
	log, err := store.Create(Meta{})
	must(t, err)
	must(t, log.Close())
	full, err := json.Marshal(messageRecord{Type: typeMessage, Message: text(llm.RoleUser, "hi")})
	must(t, err)
	appendRaw(t, log.Path(), full)

	log2, tr, err := store.Open(log.ID())
	must(t, err)
	if len(tr.Messages) != 1 || len(tr.Dropped) != 0 {
		t.Fatalf("messages %+v, dropped %+v", tr.Messages, tr.Dropped)
	}
	must(t, log2.AppendMessage(text(llm.RoleAssistant, "hello")))
	must(t, log2.Close())
	tr = reopen(t, store, log.ID())
	if len(tr.Messages) != 2 || len(tr.Dropped) != 0 {
		t.Errorf("after resuming: messages %+v, dropped %+v", tr.Messages, tr.Dropped)
	}
}

func appendRaw(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	_, err = f.Write(b)
	must(t, err)
	must(t, f.Close())
}

func TestRepairToolResults(t *testing.T) {
	threeCalls := llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
		{Kind: llm.PartText, Text: "running"}, call("a", "Bash"), call("b", "Read"), call("c", "Grep"),
	}}
	tests := []struct {
		name    string
		records func(l *Log) error
		want    []llm.Message
	}{{
		name: "killed while tools ran",
		records: func(l *Log) error {
			return errors.Join(
				l.AppendMessage(text(llm.RoleUser, "go")),
				l.AppendMessage(threeCalls),
				l.AppendToolResult(result("b", "Read", "B")),
			)
		},
		want: []llm.Message{
			text(llm.RoleUser, "go"), threeCalls,
			{Role: llm.RoleUser, Parts: []llm.Part{interrupted("a", "Bash"), result("b", "Read", "B"), interrupted("c", "Grep")}},
		},
	}, {
		name: "no results, then resumed with a new prompt",
		records: func(l *Log) error {
			return errors.Join(
				l.AppendMessage(threeCalls),
				l.AppendMessage(text(llm.RoleUser, "continue")),
			)
		},
		want: []llm.Message{
			threeCalls,
			{Role: llm.RoleUser, Parts: []llm.Part{interrupted("a", "Bash"), interrupted("b", "Read"), interrupted("c", "Grep")}},
			text(llm.RoleUser, "continue"),
		},
	}, {
		name: "stray and duplicate results dropped",
		records: func(l *Log) error {
			return errors.Join(
				l.AppendToolResult(result("x", "Bash", "before any call")),
				l.AppendMessage(text(llm.RoleUser, "go")),
				l.AppendMessage(threeCalls),
				l.AppendToolResult(result("c", "Grep", "C")),
				l.AppendToolResult(result("zzz", "Bash", "no such call")),
				l.AppendToolResult(result("a", "Bash", "A")),
				l.AppendToolResult(result("a", "Bash", "A again")),
				l.AppendToolResult(result("b", "Read", "B")),
				l.AppendMessage(text(llm.RoleAssistant, "done")),
				l.AppendToolResult(result("b", "Read", "after the answer")),
			)
		},
		want: []llm.Message{
			text(llm.RoleUser, "go"), threeCalls,
			{Role: llm.RoleUser, Parts: []llm.Part{result("a", "Bash", "A"), result("b", "Read", "B"), result("c", "Grep", "C")}},
			text(llm.RoleAssistant, "done"),
		},
	}, {
		name: "assistant follows assistant",
		records: func(l *Log) error {
			return errors.Join(
				l.AppendMessage(threeCalls),
				l.AppendToolResult(result("a", "Bash", "A")),
				l.AppendMessage(text(llm.RoleAssistant, "again")),
			)
		},
		want: []llm.Message{
			threeCalls,
			{Role: llm.RoleUser, Parts: []llm.Part{result("a", "Bash", "A"), interrupted("b", "Read"), interrupted("c", "Grep")}},
			text(llm.RoleAssistant, "again"),
		},
	}, {
		name: "a freeform call's result stays freeform",
		records: func(l *Log) error {
			return l.AppendMessage(llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Kind: llm.PartToolCall, CallID: "p", Name: "apply_patch", Input: json.RawMessage(`"*** Begin Patch"`), Freeform: true},
			}})
		},
		want: []llm.Message{
			{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Kind: llm.PartToolCall, CallID: "p", Name: "apply_patch", Input: json.RawMessage(`"*** Begin Patch"`), Freeform: true},
			}},
			{Role: llm.RoleUser, Parts: []llm.Part{
				{Kind: llm.PartToolResult, CallID: "p", Name: "apply_patch", Text: InterruptedResult, IsError: true, Freeform: true},
			}},
		},
	}, {
		name: "results inside a user message",
		records: func(l *Log) error {
			return errors.Join(
				l.AppendMessage(threeCalls),
				l.AppendMessage(llm.Message{Role: llm.RoleUser, Parts: []llm.Part{
					result("c", "Grep", "C"), result("a", "Bash", "A"), {Kind: llm.PartText, Text: "and note this"},
				}}),
			)
		},
		want: []llm.Message{
			threeCalls,
			{Role: llm.RoleUser, Parts: []llm.Part{result("a", "Bash", "A"), interrupted("b", "Read"), result("c", "Grep", "C")}},
			text(llm.RoleUser, "and note this"),
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := NewStore(t.TempDir())
			log, err := store.Create(Meta{})
			must(t, err)
			must(t, tt.records(log))
			must(t, log.Close())
			tr := reopen(t, store, log.ID())
			if !reflect.DeepEqual(tr.Messages, tt.want) {
				t.Errorf("messages:\n%+v\nwant\n%+v", tr.Messages, tt.want)
			}
		})
	}
}

func TestAppendToolResultRejectsOtherParts(t *testing.T) {
	log, err := NewStore(t.TempDir()).Create(Meta{})
	must(t, err)
	defer log.Close()
	if err := log.AppendToolResult(call("a", "Bash")); err == nil {
		t.Error("AppendToolResult accepted a tool call")
	}
	if err := log.AppendEvent(json.RawMessage(`{"oops"`)); err == nil {
		t.Error("AppendEvent accepted invalid JSON")
	}
	// Neither failure is an I/O error: the log still works.
	must(t, log.AppendMessage(text(llm.RoleUser, "fine")))
}

func TestOpenNotALog(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "junk.jsonl"), []byte(`{"type":"message"`), 0o600))
	if _, _, err := NewStore(dir).Open("junk"); err == nil || !strings.Contains(err.Error(), "no meta record") {
		t.Errorf("Open of a log without meta: %v", err)
	}
}

// setModified sets the modification time of session id's log.
func setModified(t *testing.T, s *Store, id string, m time.Time) {
	t.Helper()
	must(t, os.Chtimes(s.path(id), m, m))
}

func TestLatest(t *testing.T) {
	store := NewStore(t.TempDir())
	if _, err := store.Latest("/a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Latest in an empty store: %v, want ErrNotFound", err)
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := map[string]string{}
	for i, s := range []struct{ name, cwd string }{{"old-a", "/a"}, {"b", "/b"}, {"new-a", "/a/"}} {
		log, err := store.Create(Meta{SessionID: s.name, Cwd: s.cwd})
		must(t, err)
		must(t, log.Close())
		setModified(t, store, s.name, base.Add(time.Duration(i)*time.Hour))
		ids[s.name] = log.ID()
	}
	// A log whose creation was cut short has no cwd to match.
	must(t, os.WriteFile(filepath.Join(store.dir, "broken.jsonl"), []byte(`{"type":"me`), 0o600))
	setModified(t, store, "broken", base.Add(10*time.Hour))

	if id, err := store.Latest("/a"); err != nil || id != "new-a" {
		t.Errorf("Latest(/a) = %q, %v; want new-a", id, err)
	}
	// Writing to a session makes it the latest.
	setModified(t, store, "old-a", base.Add(5*time.Hour))
	if id, err := store.Latest("/a"); err != nil || id != "old-a" {
		t.Errorf("Latest(/a) after resuming old-a = %q, %v", id, err)
	}
	if id, err := store.Latest("/b"); err != nil || id != "b" {
		t.Errorf("Latest(/b) = %q, %v", id, err)
	}
	if _, err := store.Latest("/c"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "/c") {
		t.Errorf("Latest(/c) = %v, want ErrNotFound naming /c", err)
	}
	// A subagent's session, though written last, is not the one to
	// continue: its parent is.
	child, err := store.Create(Meta{SessionID: "child", Cwd: "/b", Parent: "b", AgentType: "explore"})
	must(t, err)
	must(t, child.Close())
	setModified(t, store, "child", base.Add(20*time.Hour))
	if id, err := store.Latest("/b"); err != nil || id != "b" {
		t.Errorf("Latest(/b) with a subagent's session written since = %q, %v; want b", id, err)
	}
}

func TestList(t *testing.T) {
	store := NewStore(t.TempDir())
	if sums, err := store.List(); err != nil || len(sums) != 0 {
		t.Errorf("List of a store never written = %v, %v", sums, err)
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	long := strings.Repeat("word ", 30)

	one, err := store.Create(Meta{SessionID: "one", Time: base, Cwd: "/p", Model: "m1"})
	must(t, err)
	must(t, one.AppendMessage(text(llm.RoleUser, "  fix\nthe   bug  ")))
	must(t, one.AppendMessage(text(llm.RoleAssistant, "ok")))
	must(t, one.AppendUsage(1, llm.Usage{Input: 5, Output: 6}, 0.5))
	must(t, one.AppendMessage(text(llm.RoleUser, "second prompt")))
	must(t, one.AppendUsage(1, llm.Usage{Input: 1, CacheRead: 2}, 0.25))
	must(t, one.Close())
	setModified(t, store, "one", base.Add(time.Hour))

	two, err := store.Create(Meta{SessionID: "two", Time: base.Add(time.Minute), Cwd: "/q", Model: "m2"})
	must(t, err)
	must(t, two.AppendMessage(text(llm.RoleUser, long)))
	must(t, two.Close())
	setModified(t, store, "two", base.Add(2*time.Hour))

	must(t, os.WriteFile(filepath.Join(store.dir, "notes.txt"), []byte("not a log"), 0o600))
	must(t, os.WriteFile(filepath.Join(store.dir, "empty.jsonl"), nil, 0o600))

	sums, err := store.List()
	must(t, err)
	want := []Summary{{
		Meta:    Meta{SessionID: "two", Time: base.Add(time.Minute), Cwd: "/q", Model: "m2"},
		Updated: base.Add(2 * time.Hour),
		Prompt:  strings.TrimSpace(long[:79]) + "…",
	}, {
		Meta:    Meta{SessionID: "one", Time: base, Cwd: "/p", Model: "m1"},
		Updated: base.Add(time.Hour),
		Turns:   2,
		Prompt:  "fix the bug",
		Usage:   llm.Usage{Input: 6, CacheRead: 2, Output: 6},
		Cost:    0.75,
	}}
	for i := range sums {
		sums[i].Time = sums[i].Time.UTC()
		sums[i].Updated = sums[i].Updated.UTC()
	}
	if !reflect.DeepEqual(sums, want) {
		t.Errorf("List =\n%+v\nwant\n%+v", sums, want)
	}
}

// TestConcurrentAppends checks that records appended from several
// goroutines at once each land whole on their own line. The records are
// large enough to need several pages, where a torn write would show.
func TestConcurrentAppends(t *testing.T) {
	store := NewStore(t.TempDir())
	log, err := store.Create(Meta{})
	must(t, err)
	const writers, each = 8, 40
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				body := strings.Repeat(fmt.Sprintf("%d.%d ", w, i), 1000+w*500)
				if err := log.AppendMessage(text(llm.RoleUser, body)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	must(t, log.Close())

	f, err := os.Open(log.Path())
	must(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		var rec record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %d is not a record: %v", n, err)
		}
		if rec.Type == typeMessage {
			fields := strings.Fields(rec.Message.Text())
			for _, f := range fields {
				if f != fields[0] {
					t.Fatalf("line %d mixes records: %q and %q", n, fields[0], f)
				}
			}
		}
	}
	must(t, sc.Err())
	if n != 1+writers*each {
		t.Errorf("%d lines, want %d", n, 1+writers*each)
	}
}

// TestAppendErrorIsSticky writes to /dev/full, where every write fails
// with ENOSPC.
func TestAppendErrorIsSticky(t *testing.T) {
	f, err := os.OpenFile("/dev/full", os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	log := &Log{id: "x", path: "/dev/full", f: f}
	defer log.Close()
	for range 2 {
		err := log.AppendMessage(text(llm.RoleUser, "hi"))
		if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "/dev/full") {
			t.Errorf("append = %v, want ENOSPC naming the file", err)
		}
	}
}

// TestDiskFull fills a small tmpfs: appends fail with an error naming the
// log, and every record appended before the disk filled is loaded back.
func TestDiskFull(t *testing.T) {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	store := NewStore(mnt)
	log, err := store.Create(Meta{Cwd: "/w"})
	must(t, err)
	written := 0
	var appendErr error
	for i := range 1000 {
		appendErr = log.AppendMessage(text(llm.RoleUser, fmt.Sprintf("%d %s", i, strings.Repeat("x", 3000))))
		if appendErr != nil {
			break
		}
		written++
	}
	if !errors.Is(appendErr, syscall.ENOSPC) || !strings.Contains(appendErr.Error(), log.Path()) {
		t.Fatalf("append on a full disk = %v, want ENOSPC naming %s", appendErr, log.Path())
	}
	if written == 0 {
		t.Fatal("nothing fitted on the disk")
	}
	if err := log.AppendMessage(text(llm.RoleUser, "tiny")); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("append after the failure = %v, want the same error", err)
	}
	log.Close()

	tr := reopen(t, store, log.ID())
	// The part of the record that fitted was cut off again.
	if len(tr.Dropped) != 0 {
		t.Errorf("dropped %+v: the failed append left part of a record", tr.Dropped)
	}
	if got := lines(t, log.Path()); got[len(got)-1] != "" {
		t.Errorf("the log ends in %.40q..., not a whole line", got[len(got)-1])
	}
	if len(tr.Messages) != written {
		t.Errorf("loaded %d messages, want the %d written before the disk filled", len(tr.Messages), written)
	}
	for i, m := range tr.Messages {
		if !strings.HasPrefix(m.Text(), fmt.Sprintf("%d x", i)) {
			t.Errorf("message %d = %.20q...", i, m.Text())
		}
	}
}

// TestSurvivesKill runs a child process that appends records as fast as it
// can and reports each append once it returns, kills it with SIGKILL, and
// checks that every record reported is in the log and that the log loads.
func TestSurvivesKill(t *testing.T) {
	if dir := os.Getenv("LATHE_SESSION_KILL_CHILD"); dir != "" {
		appendUntilKilled(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSurvivesKill$")
	cmd.Env = append(os.Environ(), "LATHE_SESSION_KILL_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	killed := false
	t.Cleanup(func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})

	sc := bufio.NewScanner(out)
	var id string
	acked := -1
	for sc.Scan() {
		if id == "" {
			id = sc.Text()
			continue
		}
		if _, err := fmt.Sscan(sc.Text(), &acked); err != nil {
			t.Fatalf("child said %q", sc.Text())
		}
		if acked == 200 {
			break
		}
	}
	must(t, cmd.Process.Kill())
	cmd.Wait()
	killed = true
	if acked != 200 {
		t.Fatalf("child stopped after %d appends: %v", acked, sc.Err())
	}

	tr := reopen(t, NewStore(dir), id)
	if len(tr.Messages) <= acked {
		t.Fatalf("log holds %d messages, want more than the %d acknowledged", len(tr.Messages), acked)
	}
	for i, m := range tr.Messages {
		if !strings.HasPrefix(m.Text(), fmt.Sprintf("%d ", i)) {
			t.Fatalf("message %d = %.20q...", i, m.Text())
		}
	}
}

func appendUntilKilled(dir string) {
	log, err := NewStore(dir).Create(Meta{})
	if err != nil {
		panic(err)
	}
	fmt.Println(log.ID())
	for i := range 20000 {
		if err := log.AppendMessage(text(llm.RoleUser, fmt.Sprintf("%d %s", i, strings.Repeat("y", 1000)))); err != nil {
			panic(err)
		}
		fmt.Println(i)
	}
}

func TestOpenRefusesASessionInUse(t *testing.T) {
	store := NewStore(t.TempDir())
	l, err := store.Create(Meta{Cwd: "/w"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.Open(l.ID()); !errors.Is(err, ErrInUse) {
		t.Fatalf("Open of a session being written: err = %v, want ErrInUse", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2, _, err := store.Open(l.ID())
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	if _, _, err := store.Open(l.ID()); !errors.Is(err, ErrInUse) {
		t.Fatalf("second Open: err = %v, want ErrInUse", err)
	}
	l2.Close()
}

// TestCorruptLines checks that a line in the middle of a log that cannot
// be used stops Open with the file and line, that Repair drops it and
// says so, and that a repaired log then opens cleanly.
func TestCorruptLines(t *testing.T) {
	tests := []struct {
		name, line, msg string
		newer           bool
	}{
		{"not JSON", `{"type":"message","message":{"role":"user"`, "not a valid record", false},
		{"no type", `{"message":{}}`, "record without a type", false},
		{"unknown type", `{"type":"checkpoint","data":1}`, `unknown record type "checkpoint": written by a newer version of Lathe?`, true},
		{"unknown part", `{"type":"message","message":{"role":"user","parts":[{"kind":"audio"}]}}`, `message part of unknown kind "audio"`, true},
		{"unknown role", `{"type":"message","message":{"role":"system","parts":[]}}`, `message of unknown role "system"`, true},
		{"empty message", `{"type":"message"}`, "message record without a message", false},
		{"bad tool result", `{"type":"tool_result","part":{"kind":"text"}}`, "tool_result record without a tool result part", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := NewStore(t.TempDir())
			log, err := store.Create(Meta{Cwd: "/w"})
			must(t, err)
			must(t, log.AppendMessage(text(llm.RoleUser, "first")))
			must(t, log.Close())
			answer, err := json.Marshal(messageRecord{Type: typeMessage, Message: text(llm.RoleAssistant, "answer")})
			must(t, err)
			appendRaw(t, log.Path(), []byte(tt.line+"\n"+string(answer)+"\n"))

			_, _, err = store.Open(log.ID())
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("Open = %v, want a CorruptError", err)
			}
			if want := log.Path() + ":3: " + tt.msg; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q, want it to start with %q", err, want)
			}
			if ce.Newer() != tt.newer {
				t.Errorf("Newer() = %v, want %v", ce.Newer(), tt.newer)
			}

			log2, tr, err := store.Repair(log.ID())
			must(t, err)
			// The repair is recorded with the run's first record.
			must(t, log2.AppendMessage(text(llm.RoleUser, "next")))
			must(t, log2.Close())
			want := []llm.Message{text(llm.RoleUser, "first"), text(llm.RoleAssistant, "answer")}
			if !reflect.DeepEqual(tr.Messages, want) || len(tr.Dropped) != 1 || tr.Dropped[0].Line != 3 || tr.Dropped[0].Cut {
				t.Errorf("repaired: messages %+v, dropped %+v; want %+v and line 3", tr.Messages, tr.Dropped, want)
			}
			tr = reopen(t, store, log.ID())
			want = append(want, text(llm.RoleUser, "next"))
			if !reflect.DeepEqual(tr.Messages, want) || len(tr.Dropped) != 0 {
				t.Errorf("after repair: messages %+v, dropped %+v", tr.Messages, tr.Dropped)
			}
		})
	}
}

// TestOpenNotRegular checks that a FIFO in the store neither hangs Open nor
// breaks List and Latest, which skip it with a warning.
func TestOpenNotRegular(t *testing.T) {
	store := NewStore(t.TempDir())
	var warnings []error
	store.Warn = func(err error) { warnings = append(warnings, err) }
	log, err := store.Create(Meta{SessionID: "good", Cwd: "/w"})
	must(t, err)
	must(t, log.Close())
	if err := syscall.Mkfifo(store.path("pipe"), 0o600); err != nil {
		t.Skip(err)
	}
	if _, _, err := store.Open("pipe"); !regfile.IsNotRegular(err) {
		t.Errorf("Open of a FIFO = %v, want a not-regular-file error", err)
	}
	sums, err := store.List()
	must(t, err)
	if len(sums) != 1 || sums[0].SessionID != "good" || len(warnings) != 1 || !strings.Contains(warnings[0].Error(), "pipe.jsonl") {
		t.Errorf("List = %+v, warnings %v; want the good session and a warning naming pipe.jsonl", sums, warnings)
	}
	// The FIFO is newer, so Latest meets it first.
	if id, err := store.Latest("/w"); err != nil || id != "good" {
		t.Errorf("Latest = %q, %v; want good", id, err)
	}
}

// TestRepairRecordedWithFirstAppend checks that a run that appends nothing
// leaves the log as it was, so the cut line is reported again next time.
func TestRepairRecordedWithFirstAppend(t *testing.T) {
	store := NewStore(t.TempDir())
	log, err := store.Create(Meta{})
	must(t, err)
	must(t, log.Close())
	appendRaw(t, log.Path(), []byte(`{"type":"mess`))
	for range 2 {
		log2, tr, err := store.Open(log.ID())
		must(t, err)
		must(t, log2.Close())
		if len(tr.Dropped) != 1 || !tr.Dropped[0].Cut {
			t.Errorf("dropped %+v, want the cut line 2", tr.Dropped)
		}
	}
}

// TestCutLineOfUnknownType checks that a last line without its newline
// that parses is judged as a record, not passed off as cut by a crash.
func TestCutLineOfUnknownType(t *testing.T) {
	store := NewStore(t.TempDir())
	log, err := store.Create(Meta{})
	must(t, err)
	must(t, log.Close())
	appendRaw(t, log.Path(), []byte(`{"type":"checkpoint"}`))
	var ce *CorruptError
	if _, _, err := store.Open(log.ID()); !errors.As(err, &ce) || !ce.Newer() {
		t.Errorf("Open = %v, want a CorruptError for a newer record type", err)
	}
}

// Events reads back the event records of a log, those of a resumed log's
// earlier runs too, and nothing else.
func TestEvents(t *testing.T) {
	s := NewStore(t.TempDir())
	l, err := s.Create(Meta{Cwd: "/w"})
	must(t, err)
	must(t, l.AppendEvent(json.RawMessage(`{"type":"checkpoint","step":1}`)))
	must(t, l.AppendMessage(text(llm.RoleUser, "hi")))
	must(t, l.Close())
	l, _, err = s.Open(l.ID())
	must(t, err)
	defer l.Close()
	must(t, l.AppendResult(Result{Status: "success"}))
	must(t, l.AppendEvent(json.RawMessage(`{"type":"tool.start"}`)))
	var got []string
	must(t, l.Events(func(ev json.RawMessage) { got = append(got, string(ev)) }))
	if want := []string{`{"type":"checkpoint","step":1}`, `{"type":"tool.start"}`}; !reflect.DeepEqual(got, want) {
		t.Errorf("Events = %q, want %q", got, want)
	}
}

// TestFork checks that a fork begins with its origin's conversation,
// resumes on its own, and leaves the origin as it was, even while the
// origin is open in another run; and that a corrupt origin is refused
// unless repair is asked for.
func TestFork(t *testing.T) {
	store := NewStore(filepath.Join(t.TempDir(), "sessions"))
	origin, err := store.Create(Meta{Cwd: "/src/x", Provider: "anthropic", Model: "m"})
	must(t, err)
	conv := []llm.Message{
		text(llm.RoleUser, "list the files"),
		{Role: llm.RoleAssistant, Parts: []llm.Part{{Kind: llm.PartThinking, Text: "hmm", Signature: "sig"}, call("c1", "Bash"), call("c2", "Read")}},
		{Role: llm.RoleUser, Parts: []llm.Part{result("c1", "Bash", "a.go"), result("c2", "Read", "package main")}},
		text(llm.RoleAssistant, "Two files."),
		text(llm.RoleUser, "and now?"),
	}
	for _, m := range conv {
		if toolResults(m) {
			for _, p := range m.Parts {
				must(t, origin.AppendToolResult(p))
			}
			continue
		}
		must(t, origin.AppendMessage(m))
	}
	must(t, origin.AppendUsage(1, llm.Usage{Input: 10, Output: 5}, 0.01))
	must(t, origin.Sync())
	before, err := os.ReadFile(origin.Path())
	must(t, err)

	// The origin is still open (locked) by its own run: forking only reads it.
	fork, tr, err := store.Fork(origin.ID(), Meta{Cwd: "/src/x", Provider: "anthropic", Model: "m2"}, false)
	must(t, err)
	if fork.ID() == origin.ID() || tr.ForkedFrom != origin.ID() {
		t.Errorf("fork %s of %s: transcript says forked from %q", fork.ID(), origin.ID(), tr.ForkedFrom)
	}
	if !reflect.DeepEqual(tr.Messages, conv) {
		t.Errorf("fork's transcript:\n%+v\nwant\n%+v", tr.Messages, conv)
	}
	must(t, fork.AppendMessage(text(llm.RoleAssistant, "In the fork.")))
	must(t, fork.Close())
	must(t, origin.Close())
	if after, err := os.ReadFile(origin.Path()); err != nil || !bytes.Equal(after, before) {
		t.Errorf("forking changed the origin's log (err %v)", err)
	}

	got := reopen(t, store, fork.ID())
	if got.ForkedFrom != origin.ID() || got.Model != "m2" {
		t.Errorf("fork's meta: %+v", got.Meta)
	}
	if want := append(slices.Clone(conv), text(llm.RoleAssistant, "In the fork.")); !reflect.DeepEqual(got.Messages, want) {
		t.Errorf("resumed fork:\n%+v\nwant\n%+v", got.Messages, want)
	}
	if got.Turns != 0 || got.Cost != 0 {
		t.Errorf("the fork has the origin's totals: %d turns, $%v", got.Turns, got.Cost)
	}
	if orig := reopen(t, store, origin.ID()); !reflect.DeepEqual(orig.Messages, conv) {
		t.Errorf("origin after the fork:\n%+v", orig.Messages)
	}

	// A line in the middle that cannot be used: refused, or left out with repair.
	appendRaw(t, origin.Path(), []byte("{not json\n"))
	after, err := json.Marshal(messageRecord{Type: typeMessage, Message: text(llm.RoleAssistant, "after")})
	must(t, err)
	appendRaw(t, origin.Path(), append(after, '\n'))
	var corrupt *CorruptError
	if _, _, err := store.Fork(origin.ID(), Meta{}, false); !errors.As(err, &corrupt) {
		t.Errorf("fork of a corrupt log: %v, want a CorruptError", err)
	}
	repaired, tr, err := store.Fork(origin.ID(), Meta{}, true)
	must(t, err)
	must(t, repaired.Close())
	if len(tr.Dropped) != 1 || !reflect.DeepEqual(tr.Messages, append(slices.Clone(conv), text(llm.RoleAssistant, "after"))) {
		t.Errorf("repaired fork: dropped %v, messages %+v", tr.Dropped, tr.Messages)
	}
	if _, _, err := store.Fork("20990101T000000-000000", Meta{}, false); !errors.Is(err, ErrNotFound) {
		t.Errorf("fork of no session: %v, want ErrNotFound", err)
	}
}

// TestCounted checks that a transcript carries the provider's count of
// the conversation after its last response, which a resume builds on:
// the usage recorded just before that response, and nothing for a usage
// record no conversation message followed (a recap's).
func TestCounted(t *testing.T) {
	store := NewStore(filepath.Join(t.TempDir(), "sessions"))
	log, err := store.Create(Meta{Cwd: "/src/x"})
	must(t, err)
	must(t, log.AppendMessage(text(llm.RoleUser, "list the files")))
	must(t, log.AppendUsage(1, llm.Usage{Input: 10, CacheRead: 100, CacheWrite: 5, Output: 20}, 0))
	must(t, log.AppendMessage(llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{call("c1", "Bash")}}))
	must(t, log.AppendToolResult(result("c1", "Bash", "a.go")))
	must(t, log.AppendUsage(2, llm.Usage{Input: 1, CacheRead: 150, Output: 7}, 0))
	must(t, log.AppendMessage(text(llm.RoleAssistant, "One file.")))
	must(t, log.Close())
	tr := reopen(t, store, log.ID())
	if tr.Counted != 158 || tr.CountedMessages != 4 {
		t.Errorf("counted %d tokens of %d messages, want 158 of 4", tr.Counted, tr.CountedMessages)
	}

	// A recap's usage, then the next prompt: the count stays the response's.
	log, _, err = store.Open(log.ID())
	must(t, err)
	must(t, log.AppendUsage(3, llm.Usage{Input: 5, CacheRead: 200, Output: 50}, 0))
	must(t, log.AppendMessage(text(llm.RoleUser, "and now?")))
	must(t, log.Close())
	if tr := reopen(t, store, log.ID()); tr.Counted != 158 || tr.CountedMessages != 4 {
		t.Errorf("after a recap's usage: counted %d tokens of %d messages, want 158 of 4", tr.Counted, tr.CountedMessages)
	}
}

// TestPrompts checks that the prompts are the user messages that begin
// runs, each with the messages before it, not a steer inside a run, and
// that a compaction folds those before it.
func TestPrompts(t *testing.T) {
	store := NewStore(t.TempDir())
	l, err := store.Create(Meta{Cwd: "/w"})
	must(t, err)
	must(t, l.AppendMessage(text(llm.RoleUser, "first")))
	must(t, l.AppendMessage(llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{call("c1", "Bash")}}))
	must(t, l.AppendToolResult(result("c1", "Bash", "ok")))
	must(t, l.AppendMessage(text(llm.RoleUser, "a steer")))
	must(t, l.AppendMessage(text(llm.RoleAssistant, "done")))
	must(t, l.AppendResult(Result{Status: "success"}))
	must(t, l.AppendEvent(json.RawMessage(`{"type":"checkpoint","step":1}`)))
	must(t, l.AppendMessage(text(llm.RoleUser, "second")))
	must(t, l.AppendResult(Result{Status: "interrupted"}))
	must(t, l.AppendMessage(text(llm.RoleUser, "third")))
	got, err := l.Prompts()
	must(t, err)
	want := []Prompt{{Text: "first", Messages: 0, Line: 2}, {Text: "second", Messages: 5, Line: 9}, {Text: "third", Messages: 6, Line: 11}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Prompts = %+v, want %+v", got, want)
	}
	var evLines []int
	must(t, l.EventLines(func(n int, _ json.RawMessage) { evLines = append(evLines, n) }))
	if !reflect.DeepEqual(evLines, []int{8}) {
		t.Errorf("EventLines: lines %v, want [8]", evLines)
	}
	must(t, l.AppendResult(Result{Status: "success"}))
	must(t, l.Close())

	l, tr, err := store.Open(l.ID())
	must(t, err)
	if !reflect.DeepEqual(tr.Prompts, want) {
		t.Errorf("Open's prompts = %+v, want %+v", tr.Prompts, want)
	}
	must(t, l.AppendCompaction(compact.Boundary{Messages: []llm.Message{text(llm.RoleUser, "summary")}}))
	must(t, l.AppendMessage(text(llm.RoleUser, "fourth")))
	got, err = l.Prompts()
	must(t, err)
	if len(got) != 4 || got[0].Messages != -1 || got[2].Messages != -1 || got[3] != (Prompt{Text: "fourth", Messages: 1, Line: 14}) {
		t.Errorf("after a compaction, Prompts = %+v", got)
	}
	must(t, l.Close())
}

// TestForkAt checks that a fork cut before a prompt holds exactly the
// messages before it, resumes so, and leaves the origin byte for byte.
func TestForkAt(t *testing.T) {
	store := NewStore(t.TempDir())
	origin, err := store.Create(Meta{Cwd: "/w"})
	must(t, err)
	conv := []llm.Message{
		text(llm.RoleUser, "edit a.go"),
		{Role: llm.RoleAssistant, Parts: []llm.Part{call("c1", "Edit")}},
		{Role: llm.RoleUser, Parts: []llm.Part{result("c1", "Edit", "edited")}},
		text(llm.RoleAssistant, "Edited."),
	}
	for _, m := range conv {
		if toolResults(m) {
			must(t, origin.AppendToolResult(m.Parts[0]))
			continue
		}
		must(t, origin.AppendMessage(m))
	}
	must(t, origin.AppendUsage(1, llm.Usage{Input: 10, Output: 5}, 0.01))
	must(t, origin.AppendResult(Result{Status: "success"}))
	must(t, origin.AppendMessage(text(llm.RoleUser, "now break it")))
	must(t, origin.AppendMessage(text(llm.RoleAssistant, "Broken.")))
	must(t, origin.AppendResult(Result{Status: "success"}))
	must(t, origin.Close())
	before, err := os.ReadFile(origin.Path())
	must(t, err)

	prompts := reopen(t, store, origin.ID()).Prompts
	if len(prompts) != 2 || prompts[1].Messages != 4 {
		t.Fatalf("prompts %+v", prompts)
	}
	fork, tr, err := store.ForkAt(origin.ID(), Meta{Cwd: "/w"}, false, prompts[1].Messages)
	must(t, err)
	must(t, fork.Close())
	if !reflect.DeepEqual(tr.Messages, conv) || len(tr.Prompts) != 1 {
		t.Errorf("fork's transcript: %+v, prompts %+v", tr.Messages, tr.Prompts)
	}
	if got := reopen(t, store, fork.ID()); !reflect.DeepEqual(got.Messages, conv) || got.ForkedFrom != origin.ID() {
		t.Errorf("resumed fork: %+v (forked from %q), want %+v", got.Messages, got.ForkedFrom, conv)
	}
	if after, err := os.ReadFile(origin.Path()); err != nil || !bytes.Equal(after, before) {
		t.Errorf("the cut fork changed the origin's log (err %v)", err)
	}
	// A whole fork's prompts are those of the copy, from the origin,
	// then its own.
	whole, _, err := store.Fork(origin.ID(), Meta{Cwd: "/w"}, false)
	must(t, err)
	must(t, whole.AppendEvent(json.RawMessage(`{"type":"session.start"}`)))
	must(t, whole.AppendMessage(text(llm.RoleUser, "in the fork")))
	got, err := whole.Prompts()
	must(t, err)
	must(t, whole.Close())
	if len(got) != 3 || got[0].From != origin.ID() || got[1].From != origin.ID() || got[1].Messages != 4 || got[2].From != "" || got[2].Messages != 6 {
		t.Errorf("a fork's prompts = %+v, want the origin's two, copied, then its own", got)
	}
	empty, tr, err := store.ForkAt(origin.ID(), Meta{Cwd: "/w"}, false, 0)
	must(t, err)
	must(t, empty.Close())
	if len(tr.Messages) != 0 || len(reopen(t, store, empty.ID()).Messages) != 0 {
		t.Errorf("a fork before the first prompt has messages: %+v", tr.Messages)
	}
	if _, _, err := store.ForkAt(origin.ID(), Meta{Cwd: "/w"}, false, 7); err == nil {
		t.Error("a fork keeping more messages than there are was made")
	}
}

// TestInUse checks that InUse tells a log a run holds from one it does not.
func TestInUse(t *testing.T) {
	store := NewStore(t.TempDir())
	l, err := store.Create(Meta{Cwd: "/w"})
	must(t, err)
	if busy, err := store.InUse(l.ID()); err != nil || !busy {
		t.Errorf("InUse of an open log = %v, %v; want true", busy, err)
	}
	must(t, l.Close())
	if busy, err := store.InUse(l.ID()); err != nil || busy {
		t.Errorf("InUse of a closed log = %v, %v; want false", busy, err)
	}
	// Looking leaves the log free to open.
	l, _, err = store.Open(l.ID())
	must(t, err)
	must(t, l.Close())
	if _, err := store.InUse("20990101T000000-000000"); !errors.Is(err, ErrNotFound) {
		t.Errorf("InUse of no session: %v, want ErrNotFound", err)
	}
}
