package sandbox_test

import (
	"os"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/sandbox"
)

// TestStatusPrint pins what lathe doctor shows: the backend, each part,
// and what is missing with its fix.
func TestStatusPrint(t *testing.T) {
	tests := []struct {
		st   sandbox.Status
		want []string
	}{
		{sandbox.Status{OS: "linux", Backend: sandbox.Bwrap, Bwrap: "/usr/bin/bwrap 0.8.0", LandlockABI: 7},
			[]string{"sandbox: bwrap (linux)\n", "  bubblewrap:      /usr/bin/bwrap 0.8.0: works\n", "  landlock:        ABI 7: works\n", "  user namespaces: works\n", "  seccomp:         works\n"}},
		{sandbox.Status{OS: "linux", BwrapErr: "not installed", LandlockErr: "the kernel has no Landlock", UserNS: "disabled", Missing: []string{"bubblewrap: install it"}},
			[]string{"sandbox: unavailable (linux)", "  bubblewrap:      not installed\n", "  landlock:        none: the kernel has no Landlock\n", "  user namespaces: disabled\n", "missing: bubblewrap: install it\n"}},
	}
	for _, tt := range tests {
		var b strings.Builder
		if err := tt.st.Print(&b); err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("Print(%+v) lacks %q:\n%s", tt.st, w, b.String())
			}
		}
		if tt.st.OK() != (tt.st.Backend != sandbox.Auto) {
			t.Errorf("OK() = %v for backend %q", tt.st.OK(), tt.st.Backend)
		}
	}
}

// TestProbe checks that Probe finds a backend where one works, and under
// CI, where both must, that both do.
func TestProbe(t *testing.T) {
	st := sandbox.Probe(t.Context())
	ci := os.Getenv("CI") == "true"
	if !st.OK() && !ci {
		t.Skipf("no sandbox here: %+v", st)
	}
	if !st.OK() || st.Seccomp != "" || st.UserNS != "" {
		t.Errorf("Probe = %+v, want a working sandbox", st)
	}
	if ci && (st.Backend != sandbox.Bwrap || st.BwrapErr != "" || st.LandlockErr != "" || st.LandlockABI < 1) {
		t.Errorf("Probe under CI = %+v, want both backends working", st)
	}
}
