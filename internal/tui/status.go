package tui

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/termsafe"
)

// status is what the status line shows. It changes only on events and on
// the ends of runs, never on a timer.
type status struct {
	model, mode, branch string
	// used and window are the context's tokens; window 0 is unknown.
	used, window int
	usage        llm.Usage
	cost         float64
	running      bool
	// animated says the activity indicator moves: frame is its spinner's
	// and elapsed the run's time at the last frame.
	animated bool
	frame    int
	elapsed  time.Duration
}

// spinner are the activity indicator's frames.
var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// line renders the status line at width.
func (s status) line(width int) string {
	var parts []string
	// What runs comes first: a narrow terminal cuts the line's end.
	switch {
	case s.running && s.animated:
		parts = append(parts, fmt.Sprintf("%s working %s · Esc interrupts", spinner[s.frame%len(spinner)], s.elapsed.Truncate(time.Second)))
	case s.running:
		parts = append(parts, "working · Esc interrupts")
	}
	parts = append(parts, cmp.Or(s.model, "no model yet"))
	if s.mode != "" {
		parts = append(parts, s.mode)
	}
	if s.window > 0 {
		parts = append(parts, fmt.Sprintf("context %d%%", s.used*100/s.window))
	}
	parts = append(parts, fmt.Sprintf("in %s cached %s out %s",
		tokens(s.usage.Input+s.usage.CacheWrite), tokens(s.usage.CacheRead), tokens(s.usage.Output)))
	parts = append(parts, fmt.Sprintf("$%.4f", s.cost))
	if s.branch != "" {
		parts = append(parts, "⎇ "+s.branch)
	}
	return ansi.Truncate(termsafe.String(strings.Join(parts, " · ")), width, "…")
}

// tokens formats a token count the way people read it: 950, 12.3k, 1.2M.
func tokens(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprint(n)
	case n < 1_000_000:
		return fmt.Sprintf("%.1fk", float64(n)/1000)
	default:
		return fmt.Sprintf("%.1fM", float64(n)/1_000_000)
	}
}
