package tui

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/slash"
	"github.com/lathe-dev/lathe/internal/tui/palette"
)

// command runs a slash command the person chose. A custom command is the
// prompt its file expands to; the built-ins the core does not do yet say
// so rather than doing nothing.
func (m *model) command(c palette.Chosen) tea.Cmd {
	if !c.Command.Builtin {
		text := c.Command.Expand(c.Args)
		if m.running() {
			return m.submit(text, nil)
		}
		return m.send(text)
	}
	switch c.Command.Name {
	case slash.Quit:
		return m.quit()
	case slash.Help:
		m.notice(helpText(m.opts.Composer.Commands))
		return nil
	case slash.Clear:
		return m.clear()
	case slash.Resume:
		return m.resume(strings.TrimSpace(c.Args))
	case slash.Rewind:
		return m.rewind()
	case slash.Cost, slash.Status:
		m.notice(m.status.line(1 << 20))
		return nil
	case slash.Compact, slash.Recap:
		if m.running() {
			m.errorf("/%s waits for the running prompt: try again once it ends", c.Command.Name)
			return nil
		}
		sess, focus := m.sess, c.Args
		m.add(&cell{kind: userCell, text: "/" + c.Command.Name + strings.TrimRight(" "+focus, " "), done: true})
		if c.Command.Name == slash.Recap {
			return m.run(true, func(ctx context.Context) app.Result { return sess.Recap(ctx) })
		}
		return m.run(true, func(ctx context.Context) app.Result { return sess.Compact(ctx, focus) })
	}
	m.errorf("/%s is not available in the interactive UI yet", c.Command.Name)
	return nil
}

// helpText lists the keys and the commands.
func helpText(set *slash.Set) string {
	var b strings.Builder
	b.WriteString("Enter sends · while Lathe works, Enter steers, Tab queues, Esc interrupts · Esc Esc rewinds to an earlier prompt · Ctrl+J new line · PgUp/PgDn, Home/End scroll · click a call or Alt+O (the last one) expands it · Ctrl+O transcript mode: / search, n/N, w write to scrollback, v $EDITOR, q back · Ctrl+C twice quits")
	if set == nil {
		set = slash.NewSet(nil)
	}
	for _, c := range set.Commands() {
		fmt.Fprintf(&b, "\n/%s %s  %s", c.Name, c.ArgumentHint, c.Description)
	}
	return b.String()
}
