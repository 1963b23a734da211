package spill

import (
	"strings"
	"testing"
)

// BenchmarkCap is the cost a result pays as it enters the history: a
// count of its characters when it fits, and a file write when it does not.
func BenchmarkCap(b *testing.B) {
	for _, bc := range []struct {
		name string
		size int
	}{{"fits-10kB", 10_000}, {"cut-1MB", 1 << 20}} {
		s := strings.Repeat("0123456789abcdef\n", bc.size/17)
		b.Run(bc.name, func(b *testing.B) {
			d := New(b.TempDir())
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				d.Cap(s)
			}
		})
	}
}
