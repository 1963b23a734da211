package grep

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"syscall"
	"testing"

	"github.com/lathe-dev/lathe/internal/sandbox"
	"github.com/lathe-dev/lathe/internal/sandbox/sandboxtest"
)

// TestRGStartsThroughExecutor checks that ripgrep is started by the
// search's executor, under the context's profile, still with its
// parent-death signal, and that an executor that refuses it leaves the
// search to the Go engine.
func TestRGStartsThroughExecutor(t *testing.T) {
	rg, err := exec.LookPath("rg")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("rg is not installed; CI must test the ripgrep engine")
		}
		t.Skip("rg is not installed")
	}
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "a.txt"), []byte("needle\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := sandboxtest.NewRecorder()
	ctx := sandbox.WithProfile(context.Background(), sandbox.Profile{HideEnv: []string{"K"}})
	files, err := Search(ctx, Options{Pattern: "needle", Path: root, RG: rg, Exec: rec})
	if err != nil || len(files) != 1 {
		t.Fatalf("Search = %v, %v; want a.txt", files, err)
	}
	starts := rec.Starts()
	if len(starts) != 1 || starts[0].Path != rg || !slices.Equal(starts[0].Profile.HideEnv, []string{"K"}) {
		t.Fatalf("starts = %+v, want ripgrep once under the context's profile", starts)
	}
	// TestRGDiesWithLathe checks what rgProcAttr holds.
	if a := starts[0].SysProcAttr; !reflect.DeepEqual(a, rgProcAttr()) {
		t.Errorf("ripgrep started with %+v, want %+v", a, rgProcAttr())
	}

	refuse := sandbox.ExecutorFunc(func(context.Context, *exec.Cmd) error { return syscall.EACCES })
	files, err = Search(ctx, Options{Pattern: "needle", Path: root, RG: rg, Exec: refuse})
	if err != nil || len(files) != 1 {
		t.Errorf("Search with ripgrep refused = %v, %v; want a.txt from the Go engine", files, err)
	}
}
