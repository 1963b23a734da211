package sandbox

import (
	"os"
	"testing"
)

// BenchmarkPlan measures the work each confined command does before its
// backend starts: the plan of what it sees.
func BenchmarkPlan(b *testing.B) {
	ws, tmp := b.TempDir(), b.TempDir()
	s := New(Profile{}, WithTempRoot(b.TempDir()))
	defer s.Close()
	p := Profile{Confine: WorkspaceWrite, Workspace: ws}
	env := os.Environ()
	for b.Loop() {
		if _, err := s.plan(p, tmp, env); err != nil {
			b.Fatal(err)
		}
	}
}
