// Package approve is the terminal UI's approval dialog: it shows a call
// the policy sends to a person — the command with the parts that need
// approval marked, or the files with their diff — and takes the answer:
// yes once, yes for this session, always in this project, always for
// me, or no with a message for the agent. Each "always" shows the exact
// rules it keeps and the file it writes them to, editable before they
// are saved; a rule that does not parse is shown as an error and never
// sent. When the terminal is unfocused, the dialog asks it to notify.
//
// The dialog is a sub-model of the UI core. The core's approver, on the
// agent's goroutine, works out the diff ([Changes], which reads files);
// on the UI goroutine the core makes the dialog with [New], sets its size
// and focus, runs Init, Update and View, and hands the [Answered] it
// returns to the approver waiting for it. The core forwards tea.FocusMsg
// and tea.BlurMsg (the view's ReportFocus), so that the dialog notifies
// only while the terminal is unfocused. The approval the app passes on
// carries what "always" would keep and how each part was judged
// (agent.Approval.Keep and Parts).
package approve

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/tui/cells"
)

// Answered is the person's answer to the approval of call CallID. For
// Always, Answer carries the rules to keep, as the person saw or edited
// them, each of which parses, and their scope.
type Answered struct {
	CallID string
	Answer agent.Answer
}

// Options set up a dialog.
type Options struct {
	// Width and Height are the terminal's; a WindowSizeMsg changes them.
	Width, Height int
	// Changes are what an edit call does to its files ([Changes]).
	Changes []Change
	// Styles are how it is drawn; the zero Styles draw plain text.
	Styles Styles
	// Unfocused says the terminal does not have focus as the dialog
	// opens (tea.BlurMsg came last), so Init notifies.
	Unfocused bool
	// Notify is the notification the terminal understands
	// ([DetectNotify]).
	Notify Notify
	// Home is the user's home directory, for showing paths as ~/...
	Home string
}

// Styles are the dialog's styles.
type Styles struct {
	Title, Reason, Marked, Caret, Choice, Selected, Disabled, Rule, Hint, Error,
	Path lipgloss.Style
	// Diff paints the diff, as the transcript's diffs are.
	Diff cells.Styles
}

// DefaultStyles are the styles of a colour terminal.
func DefaultStyles() Styles {
	s := lipgloss.NewStyle
	return Styles{
		Title:    s().Bold(true),
		Reason:   s().Faint(true),
		Marked:   s().Foreground(lipgloss.Color("9")).Bold(true).Underline(true),
		Caret:    s().Foreground(lipgloss.Color("9")),
		Selected: s().Bold(true).Foreground(lipgloss.Color("12")),
		Disabled: s().Faint(true),
		Rule:     s().Foreground(lipgloss.Color("11")),
		Hint:     s().Faint(true),
		Error:    s().Foreground(lipgloss.Color("9")),
		Path:     s().Bold(true),
		Diff:     cells.DefaultStyles(),
	}
}

// PlainStyles are the styles of a terminal without colour (NO_COLOR,
// TERM=dumb): what needs approval stays bold and underlined, the
// selected answer bold, so that neither depends on a colour.
func PlainStyles() Styles {
	s := lipgloss.NewStyle
	return Styles{
		Title:  s().Bold(true),
		Marked: s().Bold(true).Underline(true),
		// The selection is also marked by the caret.
		Selected: s().Bold(true),
		Path:     s().Bold(true),
	}
}

// stage is what the dialog is waiting for.
type stage int

const (
	choosing stage = iota
	editingRules
	tellingWhy
	answered
)

// choice is one answer the dialog offers.
type choice struct {
	key, label string
	grant      agent.Grant
	scope      agent.Scope
}

var choices = []choice{
	{"y", "Yes, once", agent.Once, agent.ProjectScope},
	{"s", "Yes, for this session", agent.Session, agent.ProjectScope},
	{"p", "Always, in this project", agent.Always, agent.ProjectScope},
	{"u", "Always, for me (every project)", agent.Always, agent.UserScope},
	{"n", "No, and tell the agent why", agent.No, agent.ProjectScope},
}

// Model is the dialog for one approval.
type Model struct {
	req   *agent.Approval
	opts  Options
	stage stage
	// selected is the index of the highlighted choice.
	selected int
	// rules edit the rules of the chosen "always", focused the one
	// with the cursor; why is the message of a "no".
	rules   []textinput.Model
	focused int
	why     textinput.Model
	err     string
	// split shows the diff side by side; scroll is its first line
	// shown.
	split  bool
	scroll int
	// cache is shared by the copies of the model, all of which live on
	// the UI goroutine.
	cache *diffCache
	// notified is whether the person was notified of this dialog.
	notified bool
}

// New returns the dialog for req, which it does not modify.
func New(req *agent.Approval, opts Options) Model {
	// Init notifies of a dialog opened unfocused.
	m := Model{req: req, opts: opts, split: opts.Width >= cells.SplitWidth, notified: opts.Unfocused, cache: new(diffCache)}
	m.why = newInput("")
	m.why.Placeholder = "why not, or what to do instead (optional)"
	return m
}

func newInput(value string) textinput.Model {
	in := textinput.New()
	in.Prompt = ""
	// Plain text and a cursor that does not blink: the UI runs no
	// timer while it waits.
	in.SetStyles(textinput.Styles{})
	in.SetValue(value)
	return in
}

// CallID is the id of the call the dialog is about.
func (m Model) CallID() string { return m.req.CallID }

// SetWidth sets the width of the terminal.
func (m *Model) SetWidth(width int) { m.SetSize(width, m.opts.Height) }

// SetSize sets the size of the terminal, as a tea.WindowSizeMsg does.
func (m *Model) SetSize(width, height int) {
	*m, _ = m.Update(tea.WindowSizeMsg{Width: width, Height: height})
}

// SetFocused says whether the terminal has focus as the dialog is shown,
// before Init, which notifies when it has not.
func (m *Model) SetFocused(focused bool) {
	m.opts.Unfocused, m.notified = !focused, !focused
}

// Init notifies the person if the terminal was unfocused as the dialog
// opened.
func (m Model) Init() tea.Cmd {
	if !m.opts.Unfocused {
		return nil
	}
	return m.notification()
}

// notify notifies the person once, when the terminal loses focus while
// the dialog waits.
func (m *Model) notify() tea.Cmd {
	if m.notified || m.stage == answered {
		return nil
	}
	m.notified = true
	return m.notification()
}

func (m Model) notification() tea.Cmd {
	seq := m.opts.Notify.Sequence("Lathe", m.title()+" — approval needed")
	if seq == "" {
		return nil
	}
	return tea.Raw(seq)
}

// Update handles keys, focus and size.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		if m.opts.Width < cells.SplitWidth != (msg.Width < cells.SplitWidth) {
			m.split = msg.Width >= cells.SplitWidth
		}
		m.opts.Width, m.opts.Height = msg.Width, msg.Height
		return m, nil
	case tea.BlurMsg:
		return m, m.notify()
	case tea.KeyPressMsg:
		switch m.stage {
		case choosing:
			return m.choose(msg)
		case editingRules:
			return m.editRules(msg)
		case tellingWhy:
			return m.tellWhy(msg)
		}
		return m, nil
	case tea.PasteMsg:
		var cmd tea.Cmd
		switch m.stage {
		case editingRules:
			m.rules[m.focused], cmd = m.rules[m.focused].Update(msg)
		case tellingWhy:
			m.why, cmd = m.why.Update(msg)
		}
		return m, cmd
	}
	return m, nil
}

func (m Model) choose(k tea.KeyPressMsg) (Model, tea.Cmd) {
	switch key := k.String(); key {
	case "up", "k", "shift+tab":
		m.selected = (m.selected + len(choices) - 1) % len(choices)
	case "down", "j", "tab":
		m.selected = (m.selected + 1) % len(choices)
	case "enter":
		return m.pick(m.selected)
	case "esc":
		return m.answer(agent.Answer{Grant: agent.No})
	case "v":
		m.split = !m.split
	case "pgdown", "space":
		budget, _ := m.layout(m.width())
		m.scroll = min(m.scroll+budget, max(0, m.diffTotal()-budget))
	case "pgup":
		budget, _ := m.layout(m.width())
		m.scroll = max(0, m.scroll-budget)
	default:
		for i, c := range choices {
			if key == c.key || key == fmt.Sprint(i+1) {
				m.selected = i
				return m.pick(i)
			}
		}
	}
	return m, nil
}

// pick acts on choice i.
func (m Model) pick(i int) (Model, tea.Cmd) {
	c := choices[i]
	switch c.grant {
	case agent.Always:
		if why := m.cannotKeep(c.scope); why != "" {
			m.err = why
			return m, nil
		}
		m.err = ""
		m.stage, m.focused, m.rules = editingRules, 0, nil
		for _, r := range m.req.Keep.Rules {
			m.rules = append(m.rules, newInput(r))
		}
		return m, m.rules[0].Focus()
	case agent.No:
		m.stage = tellingWhy
		return m, m.why.Focus()
	}
	return m.answer(agent.Answer{Grant: c.grant})
}

// cannotKeep says why an "always" of scope cannot keep a rule, or is "".
func (m Model) cannotKeep(scope agent.Scope) string {
	k := m.req.Keep
	switch {
	case k == nil:
		return "this session cannot keep rules: answer for this session instead"
	case len(k.Rules) == 0 && k.Reason != "":
		return k.Reason + "; answer for this session instead"
	case len(k.Rules) == 0:
		return "no rule can allow this call: answer for this session instead"
	case k.Files[scope] == "":
		return "there is no file to keep the rule in (no home directory)"
	}
	return ""
}

func (m Model) editRules(k tea.KeyPressMsg) (Model, tea.Cmd) {
	switch k.String() {
	case "esc":
		m.stage, m.err = choosing, ""
		return m, nil
	case "tab", "down":
		return m.focusRule(m.focused + 1)
	case "shift+tab", "up":
		return m.focusRule(m.focused - 1)
	case "enter":
		rules := make([]string, len(m.rules))
		for i, in := range m.rules {
			rules[i] = strings.TrimSpace(in.Value())
			if _, err := policy.ParseRule(rules[i]); err != nil {
				m.err = err.Error()
				return m.focusRule(i)
			}
		}
		if check := m.req.Keep.Check; check != nil {
			if err := check(rules); err != nil {
				m.err = err.Error()
				return m, nil
			}
		}
		return m.answer(agent.Answer{Grant: agent.Always, Rules: rules, Scope: choices[m.selected].scope})
	}
	var cmd tea.Cmd
	m.rules[m.focused], cmd = m.rules[m.focused].Update(k)
	return m, cmd
}

func (m Model) focusRule(i int) (Model, tea.Cmd) {
	i = (i + len(m.rules)) % len(m.rules)
	m.rules[m.focused].Blur()
	m.focused = i
	return m, m.rules[i].Focus()
}

func (m Model) tellWhy(k tea.KeyPressMsg) (Model, tea.Cmd) {
	switch k.String() {
	case "esc":
		m.why.Blur()
		m.stage = choosing
		return m, nil
	case "enter":
		return m.answer(agent.Answer{Grant: agent.No, Message: strings.TrimSpace(m.why.Value())})
	}
	var cmd tea.Cmd
	m.why, cmd = m.why.Update(k)
	return m, cmd
}

func (m Model) answer(a agent.Answer) (Model, tea.Cmd) {
	m.stage = answered
	msg := Answered{CallID: m.req.CallID, Answer: a}
	return m, func() tea.Msg { return msg }
}

// Done reports whether the person has answered.
func (m Model) Done() bool { return m.stage == answered }

// title says what the call wants to do.
func (m Model) title() string {
	name := safeLine(m.req.Name)
	c := m.req.Call
	if c == nil {
		return name + " needs approval"
	}
	switch c.Kind {
	case policy.Exec:
		return name + " wants to run a command"
	case policy.Edit:
		if len(c.Writes) == 1 {
			return name + " wants to change a file"
		}
		return fmt.Sprintf("%s wants to change %d files", name, len(c.Writes))
	case policy.Fetch:
		return name + " wants to fetch from the network"
	}
	return name + " wants to read files"
}

// View draws the dialog, at most the terminal's width wide and, where it
// can be, its height high: a long diff shows a screenful at a time, and
// the rules of an "always" not highlighted shrink to a count.
func (m Model) View() string {
	w := m.width()
	if w < 24 {
		return cut("terminal too small to approve", w)
	}
	if m.stage == answered {
		return ""
	}
	budget, compact := m.layout(w)
	return strings.Join(m.lines(w, budget, compact), "\n")
}

func (m Model) width() int {
	if m.opts.Width <= 0 {
		return 80
	}
	return m.opts.Width
}

// layout is how many lines of diff fit on the screen with the rest of
// the dialog, and whether the rest must be compact to leave room.
func (m Model) layout(w int) (budget int, compact bool) {
	if m.opts.Height <= 0 {
		return defaultDiffLines, false
	}
	fixed := len(m.lines(w, 0, false))
	if fixed+minDiffLines > m.opts.Height {
		compact = true
		fixed = len(m.lines(w, 0, true))
	}
	return max(minDiffLines, m.opts.Height-fixed), compact
}

// lines are the dialog's lines with budget lines of diff.
func (m Model) lines(w, budget int, compact bool) []string {
	st := m.opts.Styles
	var out []string
	out = append(out, st.Title.Render(cut(m.title(), w)))
	out = append(out, m.body(w-2, budget)...)
	out = append(out, "")
	for i, c := range choices {
		out = append(out, m.choiceLines(i, c, w, compact)...)
	}
	out = append(out, "")
	if m.err != "" {
		for _, l := range wrapWords(safeLine(m.err), w-4) {
			out = append(out, "  "+st.Error.Render(l))
		}
	}
	return append(out, st.Hint.Render(cut(m.hint(budget), w)))
}

func (m Model) hint(budget int) string {
	switch m.stage {
	case editingRules:
		if len(m.rules) > 1 {
			return "enter save · tab next rule · esc back"
		}
		return "enter save · esc back"
	case tellingWhy:
		return "enter send · esc back"
	}
	h := "↑↓ choose · enter confirm · y s p u n · esc no"
	if m.hasDiff() {
		h += " · v split/unified"
		if m.diffTotal() > budget {
			h += " · pgup/pgdn scroll"
		}
	}
	return h
}

// choiceLines draws choice i: the rules of an "always" and the file
// they go into are shown under it, and edited there once chosen.
func (m Model) choiceLines(i int, c choice, w int, compact bool) []string {
	st := m.opts.Styles
	marker := "  "
	style := st.Choice
	if i == m.selected {
		marker, style = "› ", st.Selected
	}
	disabled := c.grant == agent.Always && m.cannotKeep(c.scope) != ""
	if disabled {
		style = st.Disabled
	}
	label := fmt.Sprintf("%s%d. %s", marker, i+1, c.label)
	out := []string{style.Render(cut(label, w-4)) + st.Hint.Render(" ["+c.key+"]")}
	const indent = "       "
	switch {
	case c.grant == agent.Always && !disabled:
		file := "in " + safeLine(m.displayPath(m.req.Keep.Files[c.scope]))
		rules := m.req.Keep.Rules
		if m.stage == editingRules && i == m.selected {
			out = append(out, st.Hint.Render(cut(indent+"allow (edit, then enter to save "+file+"):", w)))
			for j := range rules {
				in := m.rules[j]
				in.SetWidth(max(8, w-len(indent)-4))
				out = append(out, indent+"  "+in.View())
			}
			break
		}
		if compact && len(rules) > 1 && i != m.selected {
			out = append(out, st.Hint.Render(cut(fmt.Sprintf("%sallow %d rules (highlight to see them) %s", indent, len(rules), file), w)))
			break
		}
		if one := "allow " + safeLine(rules[0]) + " " + file; len(rules) == 1 && len(indent)+ansi.StringWidth(one) <= w {
			out = append(out, indent+st.Hint.Render("allow ")+st.Rule.Render(safeLine(rules[0]))+st.Hint.Render(" "+file))
			break
		}
		// The exact rules and file: wrapped, never cut.
		out = append(out, st.Hint.Render(indent+"allow"))
		for _, r := range rules {
			for _, l := range wrapHard(safeLine(r), w-len(indent)-2) {
				out = append(out, indent+"  "+st.Rule.Render(l))
			}
		}
		for _, l := range wrapHard(file, w-len(indent)) {
			out = append(out, indent+st.Hint.Render(l))
		}
	case disabled && (c.scope == agent.ProjectScope || m.cannotKeep(agent.ProjectScope) == ""):
		for _, l := range wrapWords(safeLine(m.cannotKeep(c.scope)), w-len(indent)) {
			out = append(out, st.Disabled.Render(indent+l))
		}
	case c.grant == agent.No && m.stage == tellingWhy:
		in := m.why
		in.SetWidth(max(8, w-len(indent)-1))
		out = append(out, indent+in.View())
	}
	return out
}

// body shows what the call does: the command with its marked parts and
// why they need approval, the files with their diffs, or the URLs.
func (m Model) body(w, budget int) []string {
	st := m.opts.Styles
	var out []string
	c := m.req.Call
	if c != nil && c.Kind == policy.Exec && c.Command != "" {
		out = append(out, m.commandLines(c.Command, w)...)
	}
	if c != nil && c.Kind == policy.Edit {
		out = append(out, m.diffLines(w, budget)...)
	}
	if c != nil && c.Kind == policy.Fetch {
		for _, u := range c.URLs {
			out = append(out, "  "+st.Path.Render(cut(safeLine(u), w)))
		}
	}
	reasons := m.reasons()
	for _, r := range reasons {
		for j, l := range wrapWords(safeLine(r), w-2) {
			lead := "  • "
			if j > 0 || len(reasons) == 1 {
				lead = "    "
			}
			if len(reasons) == 1 && j == 0 {
				lead = "  "
			}
			out = append(out, st.Reason.Render(lead+l))
		}
	}
	return out
}

// reasons are why the call needs approval: each part's that is not
// allowed, or the decision's.
func (m Model) reasons() []string {
	var out []string
	for _, p := range m.req.Parts {
		if p.Decision.Verdict != policy.Allow && p.Decision.Reason != "" && !slices.Contains(out, p.Decision.Reason) {
			out = append(out, p.Decision.Reason)
		}
	}
	if len(out) == 0 && m.req.Decision.Reason != "" {
		out = append(out, m.req.Decision.Reason)
	}
	return out
}

// commandLines draws a command line w columns wide, the parts of it that
// need approval marked, with carets under them so that the marks show
// without colour too. A line that no part marks, though it needs
// approval, is marked whole.
func (m Model) commandLines(cmd string, w int) []string {
	st := m.opts.Styles
	marked := make([]bool, len(cmd))
	any := false
	for _, p := range m.req.Parts {
		if p.Decision.Verdict == policy.Allow || p.End <= p.Start || p.End > len(cmd) {
			continue
		}
		for i := p.Start; i < p.End; i++ {
			marked[i] = true
		}
		any = true
	}
	if !any {
		for i := range marked {
			marked[i] = true
		}
	}
	const first, rest = "  $ ", "    "
	width := max(8, w+2-len(first))
	var out []string
	for _, line := range glyphLines(cmd) {
		// Each line in rows of at most width columns; an empty line is
		// one empty row.
		for {
			n, cols := 0, 0
			for n < len(line) && cols+line[n].width <= width {
				cols += line[n].width
				n++
			}
			if n == 0 && len(line) > 0 {
				n = 1 // a glyph wider than the row
			}
			var text, carets strings.Builder
			hasMark := false
			for _, g := range line[:n] {
				if marked[g.from] {
					hasMark = true
					text.WriteString(st.Marked.Render(g.text))
					carets.WriteString(strings.Repeat("^", g.width))
				} else {
					text.WriteString(g.text)
					carets.WriteString(strings.Repeat(" ", g.width))
				}
			}
			lead := rest
			if len(out) == 0 {
				lead = first
			}
			out = append(out, lead+text.String())
			if hasMark {
				out = append(out, rest+st.Caret.Render(strings.TrimRight(carets.String(), " ")))
			}
			line = line[n:]
			if len(line) == 0 {
				break
			}
		}
	}
	return out
}
