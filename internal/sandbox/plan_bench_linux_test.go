package sandbox

import (
	"os"
	"testing"
)

// BenchmarkPlan measures the work each confined command does before its
// backend starts: the plan of what it sees.
func BenchmarkPlan(b *testing.B) {
	ws, tmp := b.TempDir(), b.TempDir()
	p := Profile{Confine: WorkspaceWrite, Workspace: ws}
	env := os.Environ()
	for b.Loop() {
		if _, err := makePlan(p, os.Getenv("HOME"), tmp, false, env); err != nil {
			b.Fatal(err)
		}
	}
}
