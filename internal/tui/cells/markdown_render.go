package cells

import (
	"strings"
	"sync"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// markdownParser parses CommonMark with GitHub's tables, strikethrough,
// task lists and bare links. It is built on first use, so that a run
// without the terminal UI pays nothing for it; goldmark's parser is safe
// for concurrent use.
var markdownParser = sync.OnceValue(func() parser.Parser {
	return goldmark.New(goldmark.WithExtensions(
		extension.Table, extension.Strikethrough, extension.TaskList, extension.Linkify,
	)).Parser()
})

// renderer renders Markdown into terminal lines at a width. It is a pure
// function of the text, the width and the styles: each top-level block
// is rendered on its own and blocks are joined by one blank line, so
// that the blocks of a text rendered one by one and joined by a blank
// line are the text rendered whole (which [Stream] relies on).
type renderer struct {
	width int
	st    Styles
}

func newRenderer(width int, st Styles) renderer {
	return renderer{width: max(width, 1), st: st}
}

// render renders Markdown text, already sanitised, into lines. Blank
// lines end the result only where a code block ends with them.
func (r renderer) render(src string) []string {
	source := []byte(src)
	doc := markdownParser().Parse(text.NewReader(source))
	return r.blocks(doc, source, r.width, true)
}

// blocks renders the block children of n at width, a blank line between
// two of them where loose says so.
func (r renderer) blocks(n ast.Node, src []byte, width int, loose bool) []string {
	var out []string
	first := true
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		lines := r.block(c, src, width)
		if lines == nil {
			continue
		}
		if !first && loose {
			out = append(out, "")
		}
		first = false
		out = append(out, lines...)
	}
	return out
}

// block renders one block node at width.
func (r renderer) block(n ast.Node, src []byte, width int) []string {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock:
		return r.wrap(r.inline(n, src, 0), width)
	case *ast.Heading:
		runs := append([]run{{text: strings.Repeat("#", n.Level) + " ", attr: attrHeading}}, r.inline(n, src, attrHeading)...)
		return r.wrap(runs, width)
	case *ast.ThematicBreak:
		return []string{r.st.paint(r.st.Dim, strings.Repeat("─", width))}
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		return r.code(n, src, width)
	case *ast.Blockquote:
		return r.indent(width, "│ ", "│ ", r.st.Dim, func(w int) []string { return r.blocks(n, src, w, true) })
	case *ast.List:
		return r.list(n, src, width)
	case *east.Table:
		return r.table(n, src, width)
	case *ast.LinkReferenceDefinition:
		return nil // what its links point to shows after them
	case *ast.HTMLBlock:
		var b strings.Builder
		lines := n.Lines()
		for i := range lines.Len() {
			seg := lines.At(i)
			b.Write(seg.Value(src))
		}
		if n.HasClosure() {
			b.Write(n.ClosureLine.Value(src))
		}
		return r.verbatim(strings.TrimRight(b.String(), "\n"), width, r.st.Dim)
	default:
		// A block of an extension not enabled here: its text, as is.
		var b strings.Builder
		lines := n.Lines()
		for i := range lines.Len() {
			seg := lines.At(i)
			b.Write(seg.Value(src))
		}
		if b.Len() == 0 {
			return nil
		}
		return r.verbatim(strings.TrimRight(b.String(), "\n"), width, lipgloss.Style{})
	}
}

// code renders a code block: its lines, indented by two columns, tabs
// expanded, long lines wrapped at width, in one style. There is no
// highlighting: it would cost more per streamed line than the rest of a
// message, and the terminal's own colours stay readable.
func (r renderer) code(n ast.Node, src []byte, width int) []string {
	var b strings.Builder
	lines := n.Lines()
	for i := range lines.Len() {
		seg := lines.At(i)
		b.Write(seg.Value(src))
	}
	body := strings.TrimSuffix(b.String(), "\n")
	if lines.Len() == 0 {
		return []string{""}
	}
	return r.indent(width, "  ", "  ", lipgloss.Style{}, func(w int) []string { return r.verbatim(body, w, r.st.Code) })
}

// verbatim renders text line by line as it is, tabs expanded and lines
// longer than width cut into rows, each row in style st.
func (r renderer) verbatim(text string, width int, st lipgloss.Style) []string {
	var out []string
	for l := range strings.SplitSeq(text, "\n") {
		l = strings.TrimRight(expandTabs(l), " ")
		for _, row := range strings.Split(ansi.Hardwrap(l, width, true), "\n") {
			out = append(out, r.st.paint(st, strings.TrimRight(row, " ")))
		}
	}
	return out
}

// list renders a list: each item's blocks after its marker, the
// following rows indented as far as the marker is wide.
func (r renderer) list(l *ast.List, src []byte, width int) []string {
	var out []string
	num := l.Start
	for item := l.FirstChild(); item != nil; item = item.NextSibling() {
		marker := "• "
		if l.IsOrdered() {
			marker = itoa(num) + string(l.Marker) + " "
			num++
		}
		if item != l.FirstChild() && !l.IsTight {
			out = append(out, "")
		}
		out = append(out, r.indent(width, marker, strings.Repeat(" ", ansi.StringWidth(marker)), r.st.Dim, func(w int) []string {
			if lines := r.blocks(item, src, w, !l.IsTight); len(lines) > 0 {
				return lines
			}
			return []string{""}
		})...)
	}
	return out
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// indent renders what body renders at the width left of width once
// first (on the first line) and rest (on the others) are put before
// it, painted in st. Where they would leave no column, the body takes
// the whole width without them.
func (r renderer) indent(width int, first, rest string, st lipgloss.Style, body func(width int) []string) []string {
	pw := ansi.StringWidth(first)
	if width <= pw {
		return body(width)
	}
	return r.prefix(body(width-pw), first, rest, st)
}

// prefix puts first before the first line and rest before the others,
// painted in st; a blank line keeps only the prefix's visible part.
func (r renderer) prefix(lines []string, first, rest string, st lipgloss.Style) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		p := rest
		if i == 0 {
			p = first
		}
		if l == "" {
			p = strings.TrimRight(p, " ")
		}
		out[i] = r.st.paint(st, p) + l
	}
	return out
}

// attr is a set of inline attributes.
type attr uint8

const (
	attrEmph attr = 1 << iota
	attrStrong
	attrStrike
	attrCode
	attrLink
	attrURL
	attrHeading
)

// run is inline text in one set of attributes; a run "\n" is a hard
// line break.
type run struct {
	text string
	attr attr
}

// style is the style of the attributes a.
func (r renderer) style(a attr) lipgloss.Style {
	st := lipgloss.NewStyle()
	switch {
	case a&attrURL != 0:
		st = r.st.Dim
	case a&attrCode != 0:
		st = r.st.Code
	case a&attrLink != 0:
		st = r.st.Link
	case a&attrHeading != 0:
		st = r.st.Heading
	}
	if a&attrEmph != 0 {
		st = st.Italic(true)
	}
	if a&attrStrong != 0 {
		st = st.Bold(true)
	}
	if a&attrStrike != 0 {
		st = st.Strikethrough(true)
	}
	return st
}

// inline collects the inline content of n as runs, in attributes a and
// those of the nodes around each piece. Without colour, the markers of
// code, emphasis and strikethrough stay, so that they still show.
func (r renderer) inline(n ast.Node, src []byte, a attr) []run {
	var out []run
	mark := func(m string, a attr, body []run) {
		if r.st.colour {
			out = append(out, body...)
			return
		}
		out = append(out, run{m, a})
		out = append(out, body...)
		out = append(out, run{m, a})
	}
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			v := c.Segment.Value(src)
			if !c.IsRaw() {
				v = unescape(v)
			}
			out = append(out, run{flat(string(v)), a})
			switch {
			case c.HardLineBreak():
				out = append(out, run{"\n", a})
			case c.SoftLineBreak():
				out = append(out, run{" ", a})
			}
		case *ast.String:
			out = append(out, run{flat(string(c.Value)), a})
		case *ast.CodeSpan:
			var b strings.Builder
			for t := c.FirstChild(); t != nil; t = t.NextSibling() {
				if t, ok := t.(*ast.Text); ok {
					b.WriteString(flat(string(t.Segment.Value(src))))
				}
			}
			mark("`", a|attrCode, []run{{b.String(), a | attrCode}})
		case *ast.Emphasis:
			if c.Level >= 2 {
				mark("**", a|attrStrong, r.inline(c, src, a|attrStrong))
			} else {
				mark("*", a|attrEmph, r.inline(c, src, a|attrEmph))
			}
		case *east.Strikethrough:
			mark("~~", a|attrStrike, r.inline(c, src, a|attrStrike))
		case *ast.Link:
			out = r.link(out, r.inline(c, src, a|attrLink), string(c.Destination), a)
		case *ast.Image:
			body := append([]run{{"image: ", a | attrLink}}, r.inline(c, src, a|attrLink)...)
			out = r.link(out, body, string(c.Destination), a)
		case *ast.AutoLink:
			out = append(out, run{string(c.URL(src)), a | attrLink})
		case *ast.RawHTML:
			for i := range c.Segments.Len() {
				seg := c.Segments.At(i)
				out = append(out, run{flat(string(seg.Value(src))), a})
			}
		case *east.TaskCheckBox:
			box := "[ ] "
			if c.IsChecked {
				box = "[x] "
			}
			out = append(out, run{box, a})
		default:
			out = append(out, r.inline(c, src, a)...)
		}
	}
	return out
}

// flatten makes tabs and newlines in inline text spaces, which wrapping
// breaks lines at.
var flatten = strings.NewReplacer("\t", " ", "\n", " ")

func flat(s string) string {
	if !strings.ContainsAny(s, "\t\n") {
		return s
	}
	return flatten.Replace(s)
}

// link adds a link's text and, unless the text is the URL, the URL in
// parentheses after it.
func (r renderer) link(out, body []run, url string, a attr) []run {
	out = append(out, body...)
	var label strings.Builder
	for _, b := range body {
		label.WriteString(b.text)
	}
	if url != "" && label.String() != url {
		out = append(out, run{" (" + url + ")", a | attrURL})
	}
	return out
}

// unescape resolves backslash escapes and character references, as an
// HTML renderer would.
func unescape(v []byte) []byte {
	if !strings.ContainsAny(string(v), `\&`) {
		return v
	}
	return util.ResolveEntityNames(util.ResolveNumericReferences(util.UnescapePunctuations(v)))
}

// word is a piece of text wrapping does not cut, unless it is wider than
// a line: the runs between two spaces.
type word struct {
	runs  []run
	width int
	space attr // the attributes of the space before it
}

// wrap fills lines of width columns with runs, breaking at spaces and,
// in a word wider than a line, between characters.
func (r renderer) wrap(runs []run, width int) []string {
	var out []string
	var line []run
	col := 0
	flush := func() {
		out = append(out, r.paintRuns(line))
		line, col = nil, 0
	}
	for _, para := range splitBreaks(runs) {
		for _, w := range words(para) {
			if col > 0 && col+1+w.width > width {
				flush()
			}
			if col > 0 {
				line = append(line, run{" ", w.space})
				col++
			} else if w.width == 0 {
				continue // a second space at a wrap
			}
			for _, p := range w.runs {
				for p.text != "" {
					pw := ansi.StringWidth(p.text)
					if col+pw <= width {
						line = append(line, p)
						col += pw
						break
					}
					head := ansi.Cut(p.text, 0, width-col)
					if head == "" && col == 0 {
						head = firstGrapheme(p.text) // wider than the line
					}
					if head != "" {
						line = append(line, run{head, p.attr})
					}
					flush()
					p.text = p.text[len(head):]
				}
			}
		}
		flush()
	}
	return out
}

// firstGrapheme is the first character of s with what combines with it.
func firstGrapheme(s string) string {
	g, _ := ansi.FirstGraphemeCluster(s, ansi.GraphemeWidth)
	return g
}

// splitBreaks cuts runs at hard line breaks.
func splitBreaks(runs []run) [][]run {
	var out [][]run
	start := 0
	for i, r := range runs {
		if r.text == "\n" {
			out = append(out, runs[start:i])
			start = i + 1
		}
	}
	return append(out, runs[start:])
}

// words cuts runs into words at spaces; two spaces in a row make an
// empty word between them, so that they survive where the line is not
// wrapped.
func words(runs []run) []word {
	var out []word
	cur := word{}
	for _, r := range runs {
		t := r.text
		for {
			i := strings.IndexByte(t, ' ')
			if i < 0 {
				break
			}
			if i > 0 {
				cur.runs = append(cur.runs, run{t[:i], r.attr})
				cur.width += ansi.StringWidth(t[:i])
			}
			out = append(out, cur)
			cur = word{space: r.attr}
			t = t[i+1:]
		}
		if t != "" {
			cur.runs = append(cur.runs, run{t, r.attr})
			cur.width += ansi.StringWidth(t)
		}
	}
	return append(out, cur)
}

// paintRuns renders a line's runs, each stretch of one set of
// attributes painted once, without trailing spaces.
func (r renderer) paintRuns(line []run) string {
	for len(line) > 0 && strings.TrimRight(line[len(line)-1].text, " ") == "" {
		line = line[:len(line)-1]
	}
	if n := len(line); n > 0 {
		line[n-1].text = strings.TrimRight(line[n-1].text, " ")
	}
	var b strings.Builder
	for i := 0; i < len(line); {
		j := i
		var t strings.Builder
		for ; j < len(line) && line[j].attr == line[i].attr; j++ {
			t.WriteString(line[j].text)
		}
		if line[i].attr == 0 {
			b.WriteString(t.String())
		} else {
			b.WriteString(r.st.paint(r.style(line[i].attr), t.String()))
		}
		i = j
	}
	return b.String()
}
