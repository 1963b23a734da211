package sandbox_test

import (
	"os/exec"
	"testing"

	"github.com/lathe-dev/lathe/internal/sandbox"
)

// BenchmarkStart measures what confinement adds to starting a command
// and waiting for it: /bin/true on the host, then under each backend.
func BenchmarkStart(b *testing.B) {
	truePath, err := exec.LookPath("true")
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, ex sandbox.Executor, p sandbox.Profile) {
		ctx := sandbox.WithProfile(b.Context(), p)
		for b.Loop() {
			cmd := exec.Command(truePath)
			if err := ex.Start(ctx, cmd); err != nil {
				b.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("host", func(b *testing.B) { run(b, sandbox.NewHost(sandbox.Profile{}), sandbox.Profile{}) })
	for _, backend := range backends {
		b.Run(string(backend), func(b *testing.B) {
			ws := b.TempDir()
			s := sandbox.New(sandbox.Profile{}, sandbox.WithBackend(backend), sandbox.WithTempRoot(b.TempDir()))
			defer s.Close()
			if _, err := s.Backend(); err != nil {
				b.Skipf("%s: %v", backend, err)
			}
			run(b, s, sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: ws})
		})
	}
}
