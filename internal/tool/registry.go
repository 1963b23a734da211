package tool

import "fmt"

// Dialect names the tool surface a model family was trained on.
type Dialect string

const (
	// DialectClaude is Claude Code's tool set: Bash, Read, Write, Edit,
	// Glob, Grep, WebFetch, the background-command tools and TodoWrite.
	DialectClaude Dialect = "claude"
	// DialectCodex is Codex CLI's: shell, apply_patch, read_file,
	// list_dir, grep_files, update_plan, and Lathe's web_fetch.
	DialectCodex Dialect = "codex"
)

// ParseDialect checks a dialect name from configuration.
func ParseDialect(s string) (Dialect, error) {
	switch d := Dialect(s); d {
	case DialectClaude, DialectCodex:
		return d, nil
	}
	return "", fmt.Errorf("unknown tool dialect %q (want %q or %q)", s, DialectClaude, DialectCodex)
}

// Set returns the tools of dialect d in the order they are offered.
// freeform offers apply_patch as a freeform grammar tool, for models that
// support custom tools; otherwise it is a JSON function taking {"input"}.
func Set(d Dialect, freeform bool) []Tool {
	switch d {
	case DialectCodex:
		return []Tool{NewShell(), NewApplyPatch(freeform), NewReadFile(), NewListDir(), NewGrepFiles(), NewCodexWebFetch(), NewUpdatePlan()}
	default:
		return []Tool{NewBash(), NewBashOutput(), NewKillShell(), NewRead(), NewWrite(), NewEdit(), NewGlob(), NewGrep(), NewWebFetch(), NewTodoWrite()}
	}
}
