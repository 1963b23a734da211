package composer

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lathe-dev/lathe/internal/llm"
)

// A pasted path to an image file (what dropping a file on a terminal
// pastes: absolute, ~/ or relative, often quoted or with its spaces
// escaped) becomes a chip "[Image #N name.png]" that stands for the
// image, like the chip of a long paste; the chip stays in the text, so
// the model can tell which image the prompt means, and the image goes
// with the prompt ([Submitted.Images]). A path that is not an image by
// its content is pasted as text; one the provider would refuse (too
// large) is too, with the reason under the input.

// pasteImages attaches the images s names, when s is nothing but paths
// to image files; ok is false when it is not, and s is text.
func (m Model) pasteImages(s string) (_ Model, ok bool) {
	if m.readImage == nil {
		return m, false
	}
	paths := pastedPaths(s)
	if len(paths) == 0 {
		return m, false
	}
	parts := make([]llm.Part, len(paths))
	for i, p := range paths {
		part, err := m.readImage(p)
		switch {
		case errors.Is(err, llm.ErrNotImage), errors.Is(err, fs.ErrNotExist):
			return m, false
		case err != nil:
			m.problem = err.Error()
			return m, false
		}
		parts[i] = part
	}
	chips := make([]string, len(parts))
	for i, part := range parts {
		m.pasteN++
		chip := "[Image #" + strconv.Itoa(m.pasteN) + " " + filepath.Base(part.Text) + "]"
		m.pastes = append(m.pastes, paste{chip: chip, text: chip, image: &parts[i]})
		chips[i] = chip
	}
	m.ta.InsertString(strings.Join(chips, " ") + " ")
	return m.sync(), true
}

// images returns the images whose chips are still in text, in the order
// they were attached.
func (m Model) images(text string) []llm.Part {
	var out []llm.Part
	for _, p := range m.pastes {
		if p.image != nil && strings.Contains(text, p.chip) {
			out = append(out, *p.image)
		}
	}
	return out
}

// pastedPaths splits s into the paths it holds, as a shell would read
// them: words split at unquoted blanks, '…' and "…" quoting, "\"
// escaping the next character. It returns nil for a string that is not
// one line of words, or has an unclosed quote.
func pastedPaths(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, "\n\r") {
		return nil
	}
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case quote != 0:
			if r == quote {
				quote = 0
			} else if r == '\\' && quote == '"' {
				escaped = true
			} else {
				cur.WriteRune(r)
			}
		case r == '\\':
			escaped, inWord = true, true
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 || escaped {
		return nil
	}
	if inWord {
		words = append(words, cur.String())
	}
	for i, w := range words {
		// A dropped file may come as a file:// URL.
		if rest, ok := strings.CutPrefix(w, "file://"); ok {
			words[i] = rest
		}
	}
	return words
}
