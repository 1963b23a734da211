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
		b.Run(kind, func(b *testing.B) {
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
			_, err = s.Snapshot(ctx, 0)
			must(b, err)
			var times []time.Duration
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				for j := range 3 {
					write(b, filepath.Join(dir, fmt.Sprintf("d%02d", (i+j*37)%100), "f00.go"), fmt.Sprintf("package x // %d\n", i), 0o644)
				}
				write(b, filepath.Join(dir, "d00", fmt.Sprintf("new%d.go", i)), "package d00\n", 0o644)
				b.StartTimer()
				start := time.Now()
				_, err := s.Snapshot(ctx, i+1)
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
