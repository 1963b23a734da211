package palette

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/lathe-dev/lathe/internal/slash"
	"github.com/lathe-dev/lathe/internal/termsafe"
)

// Help renders the commands of set for /help at width: the built-in
// ones, then the custom ones with the file each comes from, one line a
// command, every line fitting the width.
func Help(set *slash.Set, width int) string {
	var builtin, custom []slash.Command
	nameW := 0
	for _, c := range set.Commands() {
		if c.Source == "" {
			builtin = append(builtin, c)
		} else {
			custom = append(custom, c)
		}
		nameW = max(nameW, ansi.StringWidth(helpName(c)))
	}
	var b strings.Builder
	section := func(title string, cmds []slash.Command) {
		if len(cmds) == 0 {
			return
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(matchStyle.Render(title))
		for _, c := range cmds {
			name := helpName(c)
			desc := oneLine(termsafe.String(c.Description))
			if c.Source != "" {
				desc += " (" + termsafe.Quote(c.Source) + ")"
			}
			line := "  " + name + strings.Repeat(" ", nameW-ansi.StringWidth(name)) + "  " + descStyle.Render(desc)
			b.WriteString("\n" + ansi.Truncate(line, max(width, 1), "…"))
		}
	}
	section("Commands", builtin)
	section("Custom commands", custom)
	return b.String()
}

// helpName is "/name hint", with the aliases: "/quit, /exit".
func helpName(c slash.Command) string {
	s := "/" + c.Name
	for _, a := range c.Aliases {
		s += ", /" + a
	}
	if c.ArgumentHint != "" {
		s += " " + termsafe.String(c.ArgumentHint)
	}
	return s
}
