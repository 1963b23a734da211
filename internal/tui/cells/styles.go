// Package cells renders the cells of the terminal UI's transcript: tool
// calls, diffs, Markdown streamed from the model, notices and compaction
// boundaries. Rendering is a pure function of a cell's data, the width and
// the [Styles]; the core (internal/tui) builds the data from events (see
// [NewToolCall]), caches what a cell renders by width and keeps it only
// while it is in view.
//
// Text that came from the model or a tool is never interpreted: it goes
// through internal/termsafe before it is measured, cut or styled, so the
// only escape sequences in a rendered cell are the styles' own.
package cells

import (
	"image/color"

	"charm.land/lipgloss/v2"
)

// Styles are the colours and attributes cells are painted with. The zero
// value paints nothing: plain text, as tests and `NO_COLOR` want.
type Styles struct {
	// colour is unset in the zero value, whose renderers then skip
	// lipgloss altogether rather than pay for a Render that adds nothing.
	colour bool

	Verb    lipgloss.Style // the tool's verb: "Edit", "Bash"
	Target  lipgloss.Style // what it acted on
	Dim     lipgloss.Style // summaries, markers, line numbers
	OK      lipgloss.Style // a success mark
	Fail    lipgloss.Style // a failure mark and its reason
	Added   lipgloss.Style // an added line of a diff, and +N in a diffstat
	Deleted lipgloss.Style // a deleted line, and −N
	Header  lipgloss.Style // a diff's file name and hunk headers
	Warning lipgloss.Style // a warning notice
	Heading lipgloss.Style // a Markdown heading
	Code    lipgloss.Style // Markdown code: spans and blocks
	Link    lipgloss.Style // a Markdown link's text
}

// DefaultStyles are the styles of a colour terminal, in the 16 ANSI
// colours so that the terminal's theme decides the shades. The renderer
// of the program (Bubble Tea) downsamples them for the terminal at hand.
func DefaultStyles() Styles {
	fg := func(c color.Color) lipgloss.Style { return lipgloss.NewStyle().Foreground(c) }
	return Styles{
		colour:  true,
		Verb:    lipgloss.NewStyle().Bold(true),
		Target:  lipgloss.NewStyle(),
		Dim:     lipgloss.NewStyle().Faint(true),
		OK:      fg(lipgloss.Green),
		Fail:    fg(lipgloss.Red),
		Added:   fg(lipgloss.Green),
		Deleted: fg(lipgloss.Red),
		Header:  fg(lipgloss.Cyan),
		Warning: fg(lipgloss.Yellow),
		Heading: fg(lipgloss.Cyan).Bold(true),
		Code:    fg(lipgloss.Magenta),
		Link:    fg(lipgloss.Blue).Underline(true),
	}
}

// paint renders s, a single line without tabs, in style st, or returns
// it as it is when the styles are plain.
func (s Styles) paint(st lipgloss.Style, text string) string {
	if !s.colour || text == "" {
		return text
	}
	return st.Render(text)
}
