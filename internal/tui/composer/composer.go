// Package composer is the interactive front end's input: a multi-line
// text area (bubbles' textarea) with the "/" command palette, chips for
// long pastes, per-project history with Up/Down and Ctrl+R search,
// Ctrl+G to edit in $EDITOR, and "@" completion of file paths.
//
// A finished input goes back to the core as a message: [Submitted] for a
// prompt, [palette.Chosen] for a slash command, [Shell] for a line that
// starts with "!". Keys the composer does
// not use (Tab with nothing to complete, Esc, Ctrl+C) are the core's: it
// asks [Model.Completing] before it takes Tab, Up, Down or Esc for
// itself.
//
// Newlines: Enter submits; Shift+Enter (where the terminal reports it,
// through the kitty keyboard protocol), Ctrl+J and a "\" before Enter
// insert one.
package composer

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/slash"
	"github.com/lathe-dev/lathe/internal/tui/palette"
)

// Submitted is the message of a prompt submitted with Enter: its whole
// text, pastes shown as chips included in full.
type Submitted struct {
	Text string
	// Images are the images whose chips the text holds.
	Images []llm.Part
}

// Shell is the message of a line submitted with a leading "!": a command
// for the core to run through the same policy and sandbox as the
// model's, its output added to the context.
type Shell struct {
	Command string
}

// PasteThreshold is the length, in characters, above which a bracketed
// paste is shown as a chip rather than inserted as text.
const PasteThreshold = 1000

// MaxRows bounds the rows the text area takes on screen; longer input
// scrolls within it.
const MaxRows = 10

// maxContentRows bounds the rows of text the text area holds: a paste
// longer than that is a chip.
const maxContentRows = 10000

// Options configure a composer.
type Options struct {
	// Commands are the slash commands; nil means only the built-ins.
	Commands *slash.Set
	// History is the workspace's input history; nil keeps none.
	History *History
	// Root is the workspace whose paths "@" completes: the composer
	// builds the index off the UI goroutine when a completion starts and
	// it has none or one older than 30 s, so that new files show up; ""
	// builds none. Files, if set, completes until then.
	Root  string
	Files *Index
	// Context bounds the composer's background work (building the
	// index); nil is context.Background.
	Context context.Context
	// Placeholder is shown in an empty composer.
	Placeholder string
	// Image reads the image file at a path as the user wrote it, for
	// a pasted path to become an image chip; nil attaches none.
	Image func(path string) (llm.Part, error)
}

// paste is a long paste, or an attached image, shown as its chip.
type paste struct {
	chip, text string
	image      *llm.Part
}

// Model is the composer's state.
type Model struct {
	ta      textarea.Model
	cmds    *slash.Set
	palette palette.Model
	width   int

	pastes []paste
	// pasteN numbers the chips; it is not reset with the text, so a
	// chip's number names one paste for the whole session.
	pasteN int

	history *History
	// hist is the history entry shown by Up/Down, counting back from 1
	// for the newest; 0 is the draft, kept in draft.
	hist  int
	draft string
	// search is Ctrl+R's reverse search, when active.
	search *search

	files *Index
	at    atState
	// root and ctx are Options'; building is set while an index is
	// built, builtAt is when the last one was; now is the clock.
	root     string
	ctx      context.Context
	building bool
	builtAt  time.Time
	now      func() time.Time

	readImage func(path string) (llm.Part, error)

	// problem is the last error to show under the input, cleared by the
	// next key.
	problem string
}

// New returns a focused, empty composer.
func New(opts Options) Model {
	ta := textarea.New()
	ta.Prompt = promptText
	ta.Placeholder = opts.Placeholder
	ta.ShowLineNumbers = false
	ta.CharLimit = 0
	ta.DynamicHeight = true
	ta.MinHeight = 1
	ta.MaxHeight = MaxRows
	ta.MaxContentHeight = maxContentRows
	ta.KeyMap.InsertNewline = key.NewBinding(key.WithKeys("shift+enter", "ctrl+j"))
	st := textarea.DefaultStyles(true)
	// Idle means idle: a blinking cursor is a timer.
	st.Cursor.Blink = false
	st.Focused.CursorLine = lipgloss.NewStyle()
	ta.SetStyles(st)
	ta.Focus()
	cmds := opts.Commands
	if cmds == nil {
		cmds = slash.NewSet(nil)
	}
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	m := Model{ta: ta, cmds: cmds, palette: palette.New(cmds), history: opts.History, files: opts.Files, root: opts.Root, ctx: ctx, now: time.Now, readImage: opts.Image}
	return m.SetWidth(80)
}

// SetWidth sets the width the composer renders at.
func (m Model) SetWidth(w int) Model {
	m.width = max(w, 4)
	m.ta.SetWidth(m.width)
	m.palette = m.palette.SetWidth(m.width)
	return m
}

// Value returns the text as it will be sent, chips expanded.
func (m Model) Value() string { return m.expand(m.ta.Value()) }

// SetValue replaces the text, the cursor at its end.
func (m Model) SetValue(s string) Model {
	m.ta.SetValue(s)
	m.ta.MoveToEnd()
	return m.sync()
}

// Reset empties the composer.
func (m Model) Reset() Model {
	m.ta.Reset()
	m.pastes, m.hist, m.draft, m.search, m.problem = nil, 0, "", nil, ""
	return m.sync()
}

// Focus and Blur say whether keys and pastes go to the composer; a
// blurred one ignores them.
func (m Model) Focus() Model { m.ta.Focus(); return m }
func (m Model) Blur() Model  { m.ta.Blur(); return m }

// Completing says whether the composer takes Tab, Up, Down, Enter and Esc
// for a list it shows (the palette, "@" completion, history search),
// rather than leaving Tab and Esc to the core.
func (m Model) Completing() bool {
	return m.palette.Open() || m.at.open() || m.search != nil
}

// Update handles a message.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	m, cmd := m.update(msg)
	if m.at.ask {
		m.at.ask = false
		if m.files != nil {
			cmd = tea.Batch(cmd, matchCmd(m.files, m.at.want))
		}
		var build tea.Cmd
		m, build = m.refreshIndex()
		cmd = tea.Batch(cmd, build)
	}
	return m, cmd
}

func (m Model) update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg.(type) {
	case tea.KeyPressMsg, tea.PasteMsg:
		if !m.ta.Focused() {
			return m, nil // keys are the core's while it shows a dialog
		}
	}
	switch msg := msg.(type) {
	case atMatches:
		m.at = m.at.arrived(msg)
		return m, nil
	case tea.WindowSizeMsg:
		return m.SetWidth(msg.Width), nil
	case tea.PasteMsg:
		m.problem = ""
		return m.paste(msg.Content), nil
	case editorDone:
		return m.editorDone(msg), nil
	case indexReady:
		return m.indexReady(msg)
	case tea.KeyPressMsg:
		m.problem = ""
		return m.key(msg)
	}
	var cmd tea.Cmd
	m.ta, cmd = m.ta.Update(msg)
	return m.sync(), cmd
}

func (m Model) key(k tea.KeyPressMsg) (Model, tea.Cmd) {
	if m.search != nil {
		return m.searchKey(k)
	}
	if m.palette.Open() {
		if k.String() == "tab" {
			line, _ := m.palette.Complete()
			return m.SetValue(line), nil
		}
		selected, _ := m.palette.Selected()
		var cmd tea.Cmd
		var handled bool
		if m.palette, cmd, handled = m.palette.Update(k); handled {
			if cmd != nil { // chosen: kept in the history by its name
				m = m.Reset().remember("/" + selected.Name)
			}
			return m, cmd
		}
	}
	if m.at.open() || m.at.want != "" {
		if mm, cmd, handled := m.atKey(k); handled {
			return mm, cmd
		}
	}
	switch k.String() {
	case "enter":
		if m.backslashBeforeCursor() {
			m.ta, _ = m.ta.Update(tea.KeyPressMsg{Code: tea.KeyBackspace})
			m.ta.InsertRune('\n')
			return m.sync(), nil
		}
		return m.submit()
	case "up":
		if m.ta.Line() == 0 && m.history != nil {
			return m.older(), nil
		}
	case "down":
		if m.ta.Line() == m.ta.LineCount()-1 && m.hist > 0 {
			return m.newer(), nil
		}
	case "ctrl+r":
		if m.history != nil {
			return m.startSearch(), nil
		}
	case "ctrl+g":
		return m, m.openEditor()
	case "backspace":
		if mm, ok := m.deleteChip(); ok {
			return mm, nil
		}
	}
	var cmd tea.Cmd
	m.ta, cmd = m.ta.Update(k)
	return m.sync(), cmd
}

// backslashBeforeCursor says whether the character before the cursor is
// a "\", which makes Enter a newline in any terminal.
func (m Model) backslashBeforeCursor() bool {
	lines := strings.Split(m.ta.Value(), "\n")
	row := m.ta.Line()
	if row >= len(lines) {
		return false
	}
	line := []rune(lines[row])
	col := m.ta.Column()
	return col > 0 && col <= len(line) && line[col-1] == '\\'
}

// submit sends the text: a slash command as [palette.Chosen], a prompt
// as [Submitted]. An unknown command stays in the composer, with the
// error under it, so that nothing typed is lost.
func (m Model) submit() (Model, tea.Cmd) {
	raw := m.ta.Value()
	text := m.expand(raw)
	if strings.TrimSpace(text) == "" {
		return m, nil
	}
	cmd, args, isCmd, err := m.cmds.Resolve(text)
	if err != nil {
		m.problem = err.Error()
		return m, nil
	}
	images := m.images(raw)
	m = m.Reset().remember(text)
	if isCmd {
		chosen := palette.Chosen{Command: cmd, Args: args}
		return m, func() tea.Msg { return chosen }
	}
	if c, ok := shellLine(text); ok {
		return m, func() tea.Msg { return Shell{Command: c} }
	}
	sub := Submitted{Text: text, Images: images}
	return m, func() tea.Msg { return sub }
}

// shellLine returns the command of a line that starts with "!".
func shellLine(text string) (string, bool) {
	c, ok := strings.CutPrefix(strings.TrimLeft(text, " \t"), "!")
	if !ok || strings.TrimSpace(c) == "" {
		return "", false
	}
	return strings.TrimSpace(c), true
}

// Prompts of the text area: the shell one while the line starts with
// "!". Both are two columns wide, so the text does not move.
const (
	promptText  = "› "
	promptShell = "! "
)

// paste inserts pasted text: as it is up to [PasteThreshold] characters,
// else as a chip "[Pasted text #N +L lines]" that stands for it. The
// terminal's "\r" line ends become "\n".
func (m Model) paste(s string) Model {
	if strings.ContainsRune(s, '\r') {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	}
	if len(s) <= PasteThreshold || utf8.RuneCountInString(s) <= PasteThreshold {
		var attached bool
		if m, attached = m.pasteImages(s); attached {
			return m
		}
		m.ta, _ = m.ta.Update(tea.PasteMsg{Content: s})
		return m.sync()
	}
	m.pasteN++
	lines := strings.Count(s, "\n")
	if !strings.HasSuffix(s, "\n") {
		lines++
	}
	chip := "[Pasted text #" + strconv.Itoa(m.pasteN) + " +" + strconv.Itoa(lines) + " lines]"
	m.pastes = append(m.pastes, paste{chip: chip, text: s})
	m.ta.InsertString(chip)
	return m.sync()
}

// deleteChip deletes the chip just before the cursor, whole: a chip
// stands for its paste, and half of one would stand for nothing.
func (m Model) deleteChip() (Model, bool) {
	lines := strings.Split(m.ta.Value(), "\n")
	row := m.ta.Line()
	if row >= len(lines) {
		return m, false
	}
	line := []rune(lines[row])
	before := string(line[:min(m.ta.Column(), len(line))])
	for i, p := range m.pastes {
		if strings.HasSuffix(before, p.chip) {
			for range utf8.RuneCountInString(p.chip) {
				m.ta, _ = m.ta.Update(tea.KeyPressMsg{Code: tea.KeyBackspace})
			}
			m.pastes = append(m.pastes[:i:i], m.pastes[i+1:]...)
			return m.sync(), true
		}
	}
	return m, false
}

// tooLong says whether text is better shown as a chip than put in the
// text area, which holds maxContentRows rows and re-wraps its lines on
// every key.
func tooLong(text string) bool {
	return len(text) > MaxEntry || strings.Count(text, "\n") >= maxContentRows/2
}

// expand replaces the chips in text by the pastes they stand for. A chip
// the user edited is no longer one, and stays as typed.
func (m Model) expand(text string) string {
	for _, p := range m.pastes {
		text = strings.Replace(text, p.chip, p.text, 1)
	}
	return text
}

// sync updates what follows the text: the palette and "@" completion.
func (m Model) sync() Model {
	v := m.ta.Value()
	if m.ta.LineCount() == 1 {
		m.palette = m.palette.SetQuery(v)
	} else {
		m.palette = m.palette.SetQuery("")
	}
	m.at = m.at.update(m.wordAtCursor())
	prompt := promptText
	if strings.HasPrefix(v, "!") {
		prompt = promptShell
	}
	if prompt != m.ta.Prompt {
		m.ta.Prompt = prompt
		m.ta.SetWidth(m.width)
	}
	return m
}

var (
	problemStyle  = lipgloss.NewStyle().Faint(true)
	selectedStyle = lipgloss.NewStyle().Reverse(true)
)

// View renders the palette or completion list, then the text, then a
// line of search or error, if any.
func (m Model) View() string {
	var parts []string
	if p := m.palette.View(); p != "" {
		parts = append(parts, p)
	} else if l := m.at.view(m.width); l != "" {
		parts = append(parts, l)
	}
	parts = append(parts, m.ta.View())
	switch {
	case m.search != nil:
		parts = append(parts, ansi.Truncate(m.search.view(), m.width, "…"))
	case m.problem != "":
		parts = append(parts, problemStyle.Render(ansi.Truncate(m.problem, m.width, "…")))
	}
	return strings.Join(parts, "\n")
}
