package prompt

import (
	"strings"
	"testing"
)

func TestSystem(t *testing.T) {
	base := Params{Cwd: "/src/app", Git: true, Platform: "linux/amd64", Date: "2026-11-21"}
	tests := []struct {
		name    string
		p       func(Params) Params
		want    []string
		wantNot []string
	}{
		{"claude dialect", func(p Params) Params { p.Dialect = "claude"; return p },
			[]string{"Working directory: /src/app", "Git repository: yes", "Edit files with Edit"},
			[]string{"apply_patch", "Project instructions"}},
		{"codex dialect", func(p Params) Params { p.Dialect = "codex"; return p },
			[]string{"Edit files with apply_patch"}, []string{"Edit files with Edit"}},
		{"instructions", func(p Params) Params { p.Instructions = "# AGENTS.md\nUse tabs."; return p },
			[]string{"# Project instructions", "precedence over their parents.\n\n# AGENTS.md\nUse tabs.\n"}, nil},
		{"values are not expanded", func(p Params) Params { p.Cwd = "/src/{{date}}"; p.Instructions = "say {{cwd}}"; return p },
			[]string{"Working directory: /src/{{date}}\n", "say {{cwd}}"}, nil},
		{"no placeholder left", func(p Params) Params { return p }, nil, []string{"{{", "# Memory"}},
		{"memory after the instructions", func(p Params) Params {
			p.Instructions = "# AGENTS.md\nUse tabs.\n"
			p.Memory, p.MemoryFile, p.MemoryKiB = "# .lathe/memory.md (project memory)\n\nTests need -race.\n", "/src/app/.lathe/memory.md", 8
			return p
		}, []string{"Use tabs.\n\n# Memory\nNotes kept across sessions.", "add a short line to /src/app/.lathe/memory.md with the file tools", "first 8 KiB are loaded.\n\n# .lathe/memory.md (project memory)\n\nTests need -race.\n"}, nil},
		{"memory section without memory", func(p Params) Params { p.MemoryFile, p.MemoryKiB = "/src/app/.lathe/memory.md", 8; return p },
			[]string{"Today's date: 2026-11-21\n\n# Memory\n", "first 8 KiB are loaded.\n"}, []string{"{{"}},
		{"memory is not expanded", func(p Params) Params {
			p.Memory, p.MemoryFile = "say {{cwd}} {{memory_file}}", "/m/{{memory_kib}}"
			return p
		},
			[]string{"say {{cwd}} {{memory_file}}", "line to /m/{{memory_kib}} with"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := System(tt.p(base))
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in:\n%s", w, got)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(got, w) {
					t.Errorf("unexpected %q in:\n%s", w, got)
				}
			}
			if got != System(tt.p(base)) {
				t.Error("System is not deterministic")
			}
		})
	}
}
