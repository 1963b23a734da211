package cli

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/session"
)

// TestDirSessions checks what /resume lists: the directory's sessions,
// newest first, not another directory's nor a subagent's, the one a run
// holds in use, and a key in a prompt redacted.
func TestDirSessions(t *testing.T) {
	store := session.NewStore(t.TempDir())
	dir := t.TempDir()
	mk := func(meta session.Meta, prompt string) *session.Log {
		t.Helper()
		l, err := store.Create(meta)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.AppendMessage(llm.Message{Role: llm.RoleUser, Parts: []llm.Part{{Kind: llm.PartText, Text: prompt}}}); err != nil {
			t.Fatal(err)
		}
		return l
	}
	closed := mk(session.Meta{Cwd: dir}, "use key AKIAIOSFODNN7EXAMPLE")
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	for _, l := range []*session.Log{mk(session.Meta{Cwd: t.TempDir()}, "elsewhere"), mk(session.Meta{Cwd: dir, Parent: closed.ID()}, "a subagent")} {
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	open := mk(session.Meta{Cwd: filepath.Join(dir, ".")}, "still running")
	defer open.Close()
	// File times are coarse: two logs written in a row may have the same.
	hourAgo := time.Now().Add(-time.Hour)
	if err := os.Chtimes(closed.Path(), hourAgo, hourAgo); err != nil {
		t.Fatal(err)
	}

	got, err := dirSessions{dir: dir, store: store}.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != open.ID() || !got[0].InUse || got[1].ID != closed.ID() || got[1].InUse {
		t.Fatalf("List = %+v, want the running session (in use), then the closed one", got)
	}
	if got[1].Title != "use key [REDACTED:aws-access-key]" {
		t.Errorf("title %q: the key is not redacted", got[1].Title)
	}
}
