package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/checkpoint"
	"github.com/lathe-dev/lathe/internal/sandbox"
)

// A resumed session numbers its steps on from the last checkpoint it
// took.
func TestCheckpointsNumberOn(t *testing.T) {
	dir := isolate(t)
	ctx := context.Background()
	writeFile(t, filepath.Join(dir, "a.txt"), "one\n")
	host := sandbox.NewHost(sandbox.Profile{})
	c := &checkpoints{dir: dir, session: "s1", exec: host}
	for i, want := range []int{1, 2} {
		step, id, err := c.Checkpoint(ctx)
		if err != nil || step != want || id == "" {
			t.Fatalf("checkpoint %d = %d, %q, %v; want step %d", i, step, id, err, want)
		}
		writeFile(t, filepath.Join(dir, "a.txt"), "two\n")
	}
	resumed := &checkpoints{dir: dir, session: "s1", exec: host}
	if step, _, err := resumed.Checkpoint(ctx); err != nil || step != 3 {
		t.Errorf("a resumed session's first step = %d, %v; want 3", step, err)
	}
}

// Snapshots that fail are numbered and reported with their error; the
// user is warned once.
func TestCheckpointsWarnOnce(t *testing.T) {
	dir := isolate(t)
	t.Setenv("PATH", t.TempDir()) // no git
	var warnings []error
	c := &checkpoints{dir: dir, session: "s1", exec: sandbox.NewHost(sandbox.Profile{}), warn: func(err error) { warnings = append(warnings, err) }}
	for want := 1; want <= 3; want++ {
		step, id, err := c.Checkpoint(context.Background())
		if !errors.Is(err, checkpoint.ErrNoGit) || step != want || id != "" {
			t.Errorf("Checkpoint = %d, %q, %v; want step %d and ErrNoGit", step, id, err, want)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0].Error(), "lathe rewind cannot undo") {
		t.Errorf("warnings = %v, want one", warnings)
	}
	if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
		t.Error("a .git appeared")
	}
}
