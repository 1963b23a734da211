package cli

import (
	"errors"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args []string
		err  string // "" for success
	}{
		{[]string{"-p", "x", "--permission-mode", "plan"}, ""},
		{[]string{"--permission-mode", "plan", "x", "--permission-mode", "plan"}, ""},
		{[]string{"-p", "--print", "x"}, ""},
		{[]string{"--max-turns", "5", "--max-turns", "05", "x"}, ""},
		{[]string{"--max-turns", "0", "--max-budget-usd", "0", "x"}, ""},
		{[]string{"--permission-mode", "plan", "x", "--permission-mode", "bypassPermissions"}, `--permission-mode given twice, as "plan" and as "bypassPermissions": give it once`},
		{[]string{"-m", "a", "--model", "b", "x"}, `--model given twice, as "a" and as "b"`},
		{[]string{"-C", "/a", "--cd", "/b", "x"}, `--cd given twice`},
		{[]string{"--output-format", "json", "--output-format", "text", "x"}, `--output-format given twice`},
		{[]string{"-p", "--print=false", "x"}, `--print given twice`},
		{[]string{"--max-turns", "-1", "x"}, "--max-turns -1: want 0 (no limit) or more"},
		{[]string{"--max-budget-usd", "NaN", "x"}, "--max-budget-usd NaN: want a finite number"},
		{[]string{"--max-budget-usd", "-Inf", "x"}, "--max-budget-usd -Inf: want a finite number"},
		{[]string{"--max-budget-usd", "-0.5", "x"}, "--max-budget-usd -0.5: want a finite number"},
		{[]string{"--max-duration", "90m", "--max-duration", "1h30m", "x"}, ""},
		{[]string{"--max-duration", "-1s", "x"}, "--max-duration -1s: want a duration such as 30m"},
		{[]string{"--max-duration", "30", "x"}, `invalid value "30" for flag -max-duration`},
		{[]string{"--frobnicate"}, "unknown flag -frobnicate"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			fs := newFlagSet("lathe")
			var f runFlags
			f.register(fs)
			_, err := f.parse(fs, tt.args)
			if tt.err == "" {
				if err != nil {
					t.Fatalf("parse: %v", err)
				}
				return
			}
			var ue usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parse = %v, want a usage error containing %q", err, tt.err)
			}
		})
	}
}

func TestPlainTerminal(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{"TERM": "xterm-256color"}, false},
		{map[string]string{"TERM": "xterm-256color", "NO_COLOR": "1"}, true},
		// no-color.org: any value but empty, not only a boolean.
		{map[string]string{"TERM": "xterm-256color", "NO_COLOR": "yes"}, true},
		{map[string]string{"TERM": "xterm-256color", "NO_COLOR": ""}, false},
		{map[string]string{"TERM": "dumb"}, true},
	} {
		if got := plainTerminal(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("plainTerminal(%v) = %t, want %t", tc.env, got, tc.want)
		}
	}
}
