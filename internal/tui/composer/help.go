package composer

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// keyHelp is what the composer's keys do, for /help; docs/commands.md
// says the same at length.
var keyHelp = [][2]string{
	{"Enter", "send"},
	{"Shift+Enter, Ctrl+J, \\ Enter", "new line"},
	{"Up, Down", "earlier inputs of this workspace"},
	{"Ctrl+R", "search them"},
	{"Ctrl+G", "edit in $EDITOR"},
	{"@", "complete a path"},
	{"/", "commands"},
	{"!", "run a shell command"},
}

// Help renders the composer's keys for /help at width.
func Help(width int) string {
	keyW := 0
	for _, k := range keyHelp {
		keyW = max(keyW, len(k[0]))
	}
	lines := []string{"Keys"}
	for _, k := range keyHelp {
		lines = append(lines, ansi.Truncate("  "+k[0]+strings.Repeat(" ", keyW-len(k[0]))+"  "+k[1], max(width, 1), "…"))
	}
	return strings.Join(lines, "\n")
}
