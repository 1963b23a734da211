package sandbox_test

import (
	"os/exec"
	"testing"

	"github.com/lathe-dev/lathe/internal/sandbox"
	"github.com/lathe-dev/lathe/internal/shell"
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

// BenchmarkRun measures a command as the shell tool runs it, under
// Lathe's supervisor, on the host and under each backend: the cost a
// session's command pays.
func BenchmarkRun(b *testing.B) {
	run := func(b *testing.B, ex sandbox.Executor, p sandbox.Profile, dir string) {
		r := shell.NewRunner(shell.WithExecutor(ex))
		defer r.Close()
		ctx := sandbox.WithProfile(b.Context(), p)
		for b.Loop() {
			res, err := r.Run(ctx, shell.Command{Args: []string{"true"}, Dir: dir})
			if err != nil || res.ExitCode != 0 {
				b.Fatal(res, err)
			}
		}
	}
	b.Run("host", func(b *testing.B) { run(b, sandbox.NewHost(sandbox.Profile{}), sandbox.Profile{}, b.TempDir()) })
	for _, backend := range backends {
		b.Run(string(backend), func(b *testing.B) {
			ws := b.TempDir()
			s := sandbox.New(sandbox.Profile{}, sandbox.WithBackend(backend), sandbox.WithTempRoot(b.TempDir()))
			defer s.Close()
			if _, err := s.Backend(); err != nil {
				b.Skipf("%s: %v", backend, err)
			}
			run(b, s, sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: ws}, ws)
		})
	}
}
