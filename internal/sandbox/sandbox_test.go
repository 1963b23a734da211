package sandbox_test

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/sandbox"
)

// TestHostProfile checks that a Host gives a process its base profile
// when the context has none, and the context's narrowed by the base
// otherwise: a context can hide more, never less.
func TestHostProfile(t *testing.T) {
	t.Setenv("LATHE_TEST_BASE", "base")
	t.Setenv("LATHE_TEST_CALL", "call")
	t.Setenv("LATHE_TEST_OTHER", "other")
	h := sandbox.NewHost(sandbox.Profile{HideEnv: []string{"LATHE_TEST_BASE"}})
	tests := []struct {
		name string
		ctx  context.Context
		want []string
	}{
		{"no profile", context.Background(), []string{"LATHE_TEST_CALL=call", "LATHE_TEST_OTHER=other"}},
		{"empty profile", sandbox.WithProfile(context.Background(), sandbox.Profile{}), []string{"LATHE_TEST_CALL=call", "LATHE_TEST_OTHER=other"}},
		{"narrower", sandbox.WithProfile(context.Background(), sandbox.Profile{HideEnv: []string{"LATHE_TEST_CALL"}}), []string{"LATHE_TEST_OTHER=other"}},
		{"nested", sandbox.WithProfile(sandbox.WithProfile(context.Background(), sandbox.Profile{HideEnv: []string{"LATHE_TEST_CALL"}}), sandbox.Profile{}), []string{"LATHE_TEST_OTHER=other"}},
	}
	for _, tt := range tests {
		cmd := exec.Command("env")
		var out strings.Builder
		cmd.Stdout = &out
		if err := h.Start(tt.ctx, cmd); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var got []string
		for line := range strings.Lines(out.String()) {
			if strings.HasPrefix(line, "LATHE_TEST_") {
				got = append(got, strings.TrimSpace(line))
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: process saw %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestHostDoneContext checks that a done context starts nothing.
func TestHostDoneContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cmd := exec.Command("true")
	if err := sandbox.NewHost(sandbox.Profile{}).Start(ctx, cmd); !errors.Is(err, context.Canceled) {
		t.Errorf("Start = %v, want context.Canceled", err)
	}
	if cmd.Process != nil {
		t.Error("a process was started")
	}
}
