package app

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogUnwritable fills the disk of the session log in the middle of a
// session (a small tmpfs, which needs root): the run ends failed, saying
// which log, what errno and what to do; once there is room again the next
// prompt works, its request carrying the conversation the log holds, and
// the log loads with every record once.
func TestLogUnwritable(t *testing.T) {
	dir := isolate(t)
	state := os.Getenv("XDG_STATE_HOME")
	if err := os.MkdirAll(state, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", state).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", state).Run() })
	srv := fake(t, `{"steps": [
	  {"reply": {"text": "First."}},
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "head -c 100000 /dev/zero | tr '\\0' a"}}]}},
	  {"expect": {"user_contains": ["third"], "new_conversation": true}, "reply": {"text": "Third."}}]}`)
	a, err := Open(Options{Dir: dir, PermissionMode: "bypassPermissions"})
	if err != nil {
		t.Fatal(err)
	}
	a.Start()
	if res := a.Prompt(t.Context(), "first"); res.ExitCode != ExitOK {
		t.Fatalf("first prompt = %+v", res)
	}
	// Fill the disk but for a little.
	filler := filepath.Join(state, "filler")
	if out, err := exec.Command("sh", "-c", "dd if=/dev/zero of="+filler+" bs=1k 2>/dev/null; truncate -s -8k "+filler).CombinedOutput(); err != nil {
		t.Fatalf("fill the disk: %v: %s", err, out)
	}
	res := a.Prompt(t.Context(), "second")
	msg := res.Err.Error()
	if res.ExitCode != ExitFailed || !strings.Contains(msg, a.LogPath()) || !strings.Contains(msg, "no space left on device") {
		t.Fatalf("second prompt = %+v, want it failed naming the log and the errno", res)
	}
	t.Logf("the failed run says: %s", msg)
	if !strings.Contains(msg, "free some space on its disk") {
		t.Errorf("the error %q does not say what to do", msg)
	}
	if !a.Incomplete() {
		t.Error("Incomplete is false after a failed write")
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	res = a.Prompt(t.Context(), "third")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != ExitOK || res.Answer != "Third." {
		t.Fatalf("third prompt = %+v, want it done once there is room", res)
	}
	for _, f := range srv.Failures() {
		t.Error("fakeapi: " + f)
	}
	store, err := Store(nil)
	if err != nil {
		t.Fatal(err)
	}
	log, tr, err := store.Open(a.SessionID())
	if err != nil {
		t.Fatalf("the log does not load: %v", err)
	}
	defer log.Close()
	var users []string
	for _, m := range tr.Messages {
		if t := m.Text(); t != "" {
			users = append(users, t)
		}
	}
	if got := strings.Join(users, "|"); strings.Count(got, "first") != 1 || strings.Count(got, "third") != 1 || !strings.HasSuffix(got, "Third.") {
		t.Errorf("the log's conversation %q, want first and third once each, ending with the answer", got)
	}
}
