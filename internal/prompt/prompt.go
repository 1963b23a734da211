// Package prompt renders the system prompt. It is kept short and byte-stable
// for a session, because it heads every request: every token costs on every
// turn, and any change breaks the provider's prompt cache.
package prompt

import (
	_ "embed"
	"strconv"
	"strings"
)

// The prompt is filled with strings.Replacer rather than text/template:
// a template's reflective method calls make the linker keep every exported
// method of every type in the binary, which nearly doubled its size and
// resident memory.
var (
	//go:embed system.md
	systemText string
	//go:embed instructions.md
	instructionsHeader string
	//go:embed memory.md
	memoryHeader string
)

// dialectRule tells the model which tools edit files, in each dialect.
var dialectRule = map[string]string{
	"claude": "- Edit files with Edit (or Write for new files), not with shell commands such as sed or echo.",
	"codex":  `- Edit files with apply_patch. Use shell for commands; pass ["bash", "-lc", "<script>"] and set workdir rather than cd.`,
}

// Params fill in the system prompt.
type Params struct {
	// Dialect is the tool dialect: "claude" or "codex".
	Dialect string
	Cwd     string
	Git     bool
	// Platform is a short description such as "linux/amd64".
	Platform string
	// Date is today's date, YYYY-MM-DD.
	Date string
	// Instructions is the combined AGENTS.md text, if any.
	Instructions string
	// Memory is the text of the memory files, if any, and MemoryFile
	// the project's, where the model is told to write what it should
	// remember; without a MemoryFile there is no memory section.
	Memory     string
	MemoryFile string
	// MemoryKiB is the size at which memory is cut, for the model to
	// know.
	MemoryKiB int
}

// System renders the system prompt.
func System(p Params) string {
	rule, ok := dialectRule[p.Dialect]
	if !ok {
		rule = dialectRule["claude"]
	}
	git := "no"
	if p.Git {
		git = "yes"
	}
	instructions := ""
	if p.Instructions != "" {
		instructions = "\n" + instructionsHeader + "\n" + p.Instructions
	}
	memory := ""
	if p.MemoryFile != "" {
		memory = "\n" + strings.NewReplacer("{{memory_file}}", p.MemoryFile, "{{memory_kib}}", strconv.Itoa(p.MemoryKiB)).Replace(memoryHeader)
		if p.Memory != "" {
			memory += "\n" + p.Memory
		}
	}
	// One pass over the template: a value is never scanned for
	// placeholders, so a path or an AGENTS.md containing "{{cwd}}" is
	// left alone.
	r := strings.NewReplacer(
		"{{dialect}}", rule,
		"{{cwd}}", p.Cwd,
		"{{git}}", git,
		"{{platform}}", p.Platform,
		"{{date}}", p.Date,
		"{{instructions}}", instructions,
		"{{memory}}", memory,
	)
	return strings.TrimSpace(r.Replace(systemText)) + "\n"
}
