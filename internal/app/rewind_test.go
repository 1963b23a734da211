package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRewindPoints checks that each prompt is offered with the first
// checkpoint after it and what restoring it would change, newest first;
// that a fork cut at a point sends the conversation before that prompt
// and nothing of what followed; and that the origin's log is unchanged.
func TestRewindPoints(t *testing.T) {
	dir := isolate(t)
	writeFile(t, filepath.Join(dir, "a.txt"), "old\n")
	srv := fake(t, `{"steps": [
	  {"expect": {"user_contains": ["first"]},
	   "reply": {"tool_calls": [{"name": "Write", "input": {"file_path": "a.txt", "content": "new\n"}}]}},
	  {"expect": {"tool_results": [{"call": 0, "is_error": false}]}, "reply": {"text": "Changed a."}},
	  {"expect": {"user_contains": ["second"], "extends_previous": true},
	   "reply": {"tool_calls": [{"name": "Write", "input": {"file_path": "b.txt", "content": "b\n"}}]}},
	  {"expect": {"tool_results": [{"call": 0, "is_error": false}]}, "reply": {"text": "Made b."}},
	  {"expect": {"user_contains": ["second, again"]}, "reply": {"text": "Again."}}]}`)
	a, err := Open(Options{Dir: dir, PermissionMode: "bypassPermissions"})
	if err != nil {
		t.Fatal(err)
	}
	a.Start()
	ctx := context.Background()
	for _, p := range []string{"the first", "the second"} {
		if res := a.Prompt(ctx, p); res.ExitCode != ExitOK {
			t.Fatalf("prompt %q: %+v", p, res)
		}
	}
	points, err := a.RewindPoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(points) != 2 || points[0].Prompt != "the second" || points[1].Prompt != "the first" {
		t.Fatalf("points = %+v, want the two prompts, newest first", points)
	}
	second, first := points[0], points[1]
	if first.Messages != 0 || first.Step != 1 || len(first.Changes) != 2 || first.Err != "" {
		t.Errorf("first prompt's point = %+v, want step 1 changing a.txt and b.txt", first)
	}
	if second.Messages != 4 || second.Step != 2 || len(second.Changes) != 1 || second.Changes[0].Path != "b.txt" {
		t.Errorf("second prompt's point = %+v, want 4 messages before it and step 2 changing b.txt", second)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.txt")); string(b) != "new\n" {
		t.Errorf("listing the points changed a.txt: %q", b)
	}
	id, logPath := a.SessionID(), a.LogPath()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}

	f, err := Open(Options{Dir: dir, Resume: id, Fork: true, ForkAt: &second.Messages})
	if err != nil {
		t.Fatal(err)
	}
	f.Start()
	res := f.Prompt(ctx, "the second, again")
	// In the fork, the copied prompt's checkpoints are the origin's: its
	// code is not restored from the fork's own, later steps.
	fp, err := f.RewindPoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(fp) != 2 || fp[0].Prompt != "the second, again" || fp[0].Step != 0 || fp[0].Err != "" ||
		fp[1].Prompt != "the first" || fp[1].Step != 0 || !strings.Contains(fp[1].Err, id) || fp[1].Messages != 0 {
		t.Errorf("the fork's points = %+v", fp)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != ExitOK || f.SessionID() == id {
		t.Errorf("the fork's prompt = %+v in session %s", res, f.SessionID())
	}
	for _, msg := range srv.Failures() {
		t.Error("fakeapi: " + msg)
	}
	reqs := srv.Requests()
	last := reqs[len(reqs)-1].Body
	if !bytes.Contains(last, []byte("the first")) || !bytes.Contains(last, []byte("Changed a.")) || bytes.Contains(last, []byte("Made b.")) || bytes.Contains(last, []byte(`"the second"`)) {
		t.Errorf("the fork's request does not hold exactly the conversation before the second prompt:\n%s", last)
	}
	if after, err := os.ReadFile(logPath); err != nil || !bytes.Equal(after, before) {
		t.Errorf("the fork changed the origin's log (%v)", err)
	}

	if _, err := Open(Options{Dir: dir, Resume: id, ForkAt: &second.Messages}); err == nil {
		t.Error("ForkAt without Fork opened a session")
	}
}
