package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestCompactionBudget(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       int
		auto       bool
		err        string
	}{
		{"default", "", DefaultCompactionBudget, true, ""},
		{"set", "[compaction]\nbudget = 50000\n", 50000, true, ""},
		{"no budget", "compaction.budget = 0\n", 0, true, ""},
		{"off", "[compaction]\nauto = false\n", DefaultCompactionBudget, false, ""},
		{"negative", "[compaction]\nbudget = -1\n", 0, true, "~/.config/lathe/config.toml:2:10: compaction.budget: must not be negative"},
		{"unknown key", "[compaction]\nbudgte = 1\n", 0, true, "compaction.budgte"},
		{"not a bool", "[compaction]\nauto = 1\n", 0, true, "compaction.auto"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := env(t)
			if tc.file != "" {
				write(t, filepath.Join(home, ".config", "lathe", "config.toml"), tc.file)
			}
			c, err := Load(home)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Load error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Compaction.Budget != tc.want || c.Compaction.Auto != tc.auto {
				t.Errorf("compaction = %+v, want budget %d, auto %t", c.Compaction, tc.want, tc.auto)
			}
		})
	}
}
