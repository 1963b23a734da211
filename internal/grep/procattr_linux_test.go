package grep

import (
	"syscall"
	"testing"
)

// TestRGDiesWithLathe checks that ripgrep is started with a parent-death
// signal, so that it cannot outlive a Lathe killed mid-search.
func TestRGDiesWithLathe(t *testing.T) {
	if a := rgProcAttr(); a == nil || a.Pdeathsig != syscall.SIGKILL {
		t.Errorf("rgProcAttr() = %+v, want Pdeathsig SIGKILL", a)
	}
}
