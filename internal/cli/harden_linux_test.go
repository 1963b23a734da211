package cli

import (
	"context"
	"io"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestMainHidesEnvironment checks that once lathe runs, a process of the
// same user, such as a command it started, cannot read its environment
// (and with it the provider keys) from /proc: lathe is not dumpable.
func TestMainHidesEnvironment(t *testing.T) {
	Main(context.Background(), []string{"--version"}, IO{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard})
	d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d != 0 {
		t.Errorf("dumpable = %d after Main, want 0", d)
	}
}
