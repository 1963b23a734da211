package checkpoint_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/lathe-dev/lathe/internal/checkpoint"
	"github.com/lathe-dev/lathe/internal/sandbox"
)

// BenchmarkSnapshot measures a snapshot of a committed 10,000-file
// repository (100 directories of 100 files) in which 3 files changed
// since the previous snapshot, and one is new. It reports the median,
// which a loaded machine disturbs less than the mean.
func BenchmarkSnapshot(b *testing.B) {
	for _, kind := range []string{"repository", "plain"} {
		// The repository is made once, not for each b.N the benchmark
		// is run with: making 10,000 files takes far longer than the
		// snapshots measured.
		dir := b.TempDir()
		// Files older than the index, as in a checkout made a while
		// ago: git re-reads a file as new as its index ("racily
		// clean") at every snapshot.
		old := time.Now().Add(-time.Hour)
		for d := range 100 {
			for f := range 100 {
				p := filepath.Join(dir, fmt.Sprintf("d%02d", d), fmt.Sprintf("f%02d.go", f))
				write(b, p, fmt.Sprintf("package d%02d // file %d\n", d, f), 0o644)
				must(b, os.Chtimes(p, old, old))
			}
		}
		if kind == "repository" {
			run(b, dir, "init", "-q")
			run(b, dir, "add", "-A")
			run(b, dir, "commit", "-q", "-m", "init")
		}
		ctx := context.Background()
		s, err := checkpoint.Open(ctx, dir, b.TempDir(), "bench", sandbox.NewHost(sandbox.Profile{}))
		must(b, err)
		b.Cleanup(func() { s.Close() })
		_, err = s.Snapshot(ctx, 0)
		must(b, err)
		step := 0
		b.Run(kind, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				b.StopTimer()
				step++
				for j := range 3 {
					write(b, filepath.Join(dir, fmt.Sprintf("d%02d", (step+j*37)%100), "f00.go"), fmt.Sprintf("package x // %d\n", step), 0o644)
				}
				write(b, filepath.Join(dir, "d00", fmt.Sprintf("new%d.go", step)), "package d00\n", 0o644)
				b.StartTimer()
				start := time.Now()
				_, err := s.Snapshot(ctx, step)
				times = append(times, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms-median")
		})
	}
}
