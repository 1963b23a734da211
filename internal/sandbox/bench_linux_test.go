package sandbox_test

import (
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/lathe-dev/lathe/internal/sandbox"
	"github.com/lathe-dev/lathe/internal/shell"
)

// reportQuantiles reports the 10th and 50th percentiles of the loop's
// iterations besides the mean: on a shared machine the mean follows the
// load, the low quantiles less so.
func reportQuantiles(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/10].Microseconds())/1000, "p10-ms")
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
}

// BenchmarkStart measures what confinement adds to starting a command
// and waiting for it through Executor.Start, which gives the caller an
// exec.Cmd child and so a sandbox of its own: /bin/true on the host,
// then under each backend. The shell tool's commands start through
// Spawn instead (BenchmarkSpawn, BenchmarkRun).
func BenchmarkStart(b *testing.B) {
	truePath, err := exec.LookPath("true")
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, ex sandbox.Executor, p sandbox.Profile) {
		ctx := sandbox.WithProfile(b.Context(), p)
		var ds []time.Duration
		for b.Loop() {
			t := time.Now()
			cmd := exec.Command(truePath)
			if err := ex.Start(ctx, cmd); err != nil {
				b.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(t))
		}
		reportQuantiles(b, ds)
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

// BenchmarkSpawn measures what confinement adds to starting a command
// through Spawn, in the sandbox server of its plan, and waiting for it:
// /bin/true on the host, then under each backend. The server is started
// before the loop, as a session's first command starts it.
func BenchmarkSpawn(b *testing.B) {
	truePath, err := exec.LookPath("true")
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, s *sandbox.Sandbox, p sandbox.Profile) {
		ctx := sandbox.WithProfile(b.Context(), p)
		spawn := func() {
			proc, err := s.Spawn(ctx, exec.Command(truePath))
			if err != nil {
				b.Fatal(err)
			}
			if ws, err := proc.Wait(); err != nil || ws.ExitStatus() != 0 {
				b.Fatal(ws, err)
			}
		}
		spawn()
		var ds []time.Duration
		for b.Loop() {
			t := time.Now()
			spawn()
			ds = append(ds, time.Since(t))
		}
		reportQuantiles(b, ds)
	}
	b.Run("host", func(b *testing.B) { run(b, sandbox.New(sandbox.Profile{}), sandbox.Profile{}) })
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
		var ds []time.Duration
		for b.Loop() {
			t := time.Now()
			res, err := r.Run(ctx, shell.Command{Args: []string{"true"}, Dir: dir})
			if err != nil || res.ExitCode != 0 {
				b.Fatal(res, err)
			}
			ds = append(ds, time.Since(t))
		}
		reportQuantiles(b, ds)
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
