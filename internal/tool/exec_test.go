package tool

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lathe-dev/lathe/internal/sandbox"
	"github.com/lathe-dev/lathe/internal/sandbox/sandboxtest"
	"github.com/lathe-dev/lathe/internal/shell"
)

// TestEveryProcessStartsThroughTheExecutor runs each tool that starts a
// process, as the registry builds it, over one recording executor, and
// fails if any process it starts bypasses the executor or loses the
// call's profile: Bash in the foreground and the background, Codex's
// shell, and Grep and grep_files on ripgrep.
func TestEveryProcessStartsThroughTheExecutor(t *testing.T) {
	if ripgrep() == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("rg is not installed; CI must test that ripgrep starts through the executor")
		}
		t.Skip("rg is not installed")
	}
	rec := sandboxtest.NewRecorder()
	r := shell.NewRunner(shell.WithExecutor(rec))
	t.Cleanup(func() { r.Close() })
	env := &Env{Dir: t.TempDir(), Reads: NewReadTracker(), Shell: r}
	put(t, filepath.Join(env.Dir, "a.txt"), "needle\n", 0o644)
	profile := sandbox.Profile{HideEnv: []string{"LATHE_TEST_CALL_KEY"}}
	ctx := sandbox.WithProfile(context.Background(), profile)

	calls := []struct {
		tool  Tool
		input string
		// want is an argument the started process must have.
		want string
	}{
		{NewBash(), `{"command": "echo foreground"}`, "echo foreground"},
		{NewBash(), `{"command": "echo background", "run_in_background": true}`, "echo background"},
		{NewShell(), `{"command": ["echo", "codex"]}`, "codex"},
		{NewGrep(), `{"pattern": "needle", "output_mode": "content"}`, "needle"},
		{NewGrepFiles(), `{"pattern": "needle"}`, "needle"},
	}
	for _, c := range calls {
		before := len(rec.Starts())
		res, err := c.tool.Run(ctx, env, []byte(c.input))
		if err != nil || res.IsError {
			t.Fatalf("%s(%s) = %+v, %v", c.tool.Def().Name, c.input, res, err)
		}
		starts := rec.Starts()[before:]
		if len(starts) != 1 {
			t.Errorf("%s(%s) started %d processes through the executor, want 1", c.tool.Def().Name, c.input, len(starts))
			continue
		}
		s := starts[0]
		if !slices.Contains(s.Args, c.want) {
			t.Errorf("%s(%s) started %q, want an argument %q", c.tool.Def().Name, c.input, s.Args, c.want)
		}
		if !s.HasProfile || !slices.Equal(s.Profile.HideEnv, profile.HideEnv) {
			t.Errorf("%s(%s) started under %+v (set: %v), want the call's %+v", c.tool.Def().Name, c.input, s.Profile, s.HasProfile, profile)
		}
		// Every process, a command's supervisor or ripgrep, dies with
		// Lathe.
		if !diesWithParent(s.SysProcAttr) {
			t.Errorf("%s(%s) started without a parent-death signal: %+v", c.tool.Def().Name, c.input, s.SysProcAttr)
		}
	}
}
