package sandbox_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/sandbox/helper"
)

// TestHelperRunsEarly checks that the sandbox helper runs before the
// heavy packages of the binary are initialised (this test binary links
// net/http and Lathe's own packages, as Lathe does): each command under
// the landlock backend starts one.
func TestHelperRunsEarly(t *testing.T) {
	cmd := exec.Command(os.Args[0], helper.Arg, "not a spec")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("helper with a bad spec: %v, want exit 2\n%s", err, out)
	}
	if !strings.Contains(string(out), "the sandbox helper is started by lathe itself") {
		t.Errorf("the helper did not answer:\n%s", out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		pkg, ok := strings.CutPrefix(line, "init ")
		pkg, _, _ = strings.Cut(pkg, " ")
		if ok && (pkg == "net/http" || strings.HasPrefix(pkg, "github.com/lathe-dev/lathe/")) {
			t.Errorf("%s was initialised before the helper ran", pkg)
		}
	}
}
