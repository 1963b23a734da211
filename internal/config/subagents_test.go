package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSubagents checks the [subagents] limits: unset keys stay zero (the
// subagent package's defaults), the project's file overrides the user's
// key by key, and a bad value is an error naming the file and key.
func TestSubagents(t *testing.T) {
	for _, tc := range []struct {
		name, user, project string
		want                Subagents
		err                 string
	}{
		{"default", "", "", Subagents{}, ""},
		{"set", "[subagents]\nconcurrent = 2\ntotal = 5\ntimeout = \"90s\"\nmax_turns = 10\nmax_tokens = 300000\n", "",
			Subagents{Concurrent: 2, Total: 5, Timeout: 90 * time.Second, MaxTurns: 10, MaxTokens: 300_000}, ""},
		{"project over user", "[subagents]\nconcurrent = 2\ntotal = 5\n", "[subagents]\ntotal = 1\n",
			Subagents{Concurrent: 2, Total: 1}, ""},
		{"negative", "[subagents]\ntotal = -1\n", "", Subagents{}, "~/.config/lathe/config.toml:2:9: subagents.total: must not be negative"},
		{"bad duration", "[subagents]\ntimeout = \"soon\"\n", "", Subagents{}, `subagents.timeout: invalid duration "soon"`},
		{"unknown key", "[subagents]\nparallel = 3\n", "", Subagents{}, "subagents.parallel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := env(t)
			if tc.user != "" {
				write(t, filepath.Join(home, ".config", "lathe", "config.toml"), tc.user)
			}
			dir := home
			if tc.project != "" {
				dir = filepath.Join(home, "proj")
				write(t, filepath.Join(dir, ".lathe", "config.toml"), tc.project)
			}
			c, err := Load(dir)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Load error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Subagents != tc.want {
				t.Errorf("subagents = %+v, want %+v", c.Subagents, tc.want)
			}
		})
	}
}
