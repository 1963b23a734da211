package slash

import (
	"strings"
)

// Expand returns the prompt a custom command stands for with args, the
// text typed after its name: "$ARGUMENTS" in the body becomes args as
// typed, and "$1" to "$9" its words (a word may be quoted with ' or ";
// a missing one is empty). When the body refers to none of them, args
// that are not empty follow the body on a line "ARGUMENTS: …", as Claude
// Code sends them, so that nothing typed is lost.
func (c Command) Expand(args string) string {
	var words []string
	used := false
	var b strings.Builder
	body := c.Body
	for {
		i := strings.IndexByte(body, '$')
		if i < 0 {
			b.WriteString(body)
			break
		}
		b.WriteString(body[:i])
		rest := body[i+1:]
		switch {
		case strings.HasPrefix(rest, "ARGUMENTS"):
			b.WriteString(args)
			body = rest[len("ARGUMENTS"):]
			used = true
		case rest != "" && rest[0] >= '1' && rest[0] <= '9' && (len(rest) == 1 || rest[1] < '0' || rest[1] > '9'):
			if words == nil {
				words = Words(args)
			}
			if n := int(rest[0] - '1'); n < len(words) {
				b.WriteString(words[n])
			}
			body = rest[1:]
			used = true
		default:
			b.WriteByte('$')
			body = rest
		}
	}
	out := b.String()
	if !used && strings.TrimSpace(args) != "" {
		if out != "" {
			out += "\n\n"
		}
		out += "ARGUMENTS: " + args
	}
	return out
}

// Words splits s at blanks into words, a word quoted with ' or " keeping
// its blanks (the quotes removed); an unclosed quote runs to the end.
func Words(s string) []string {
	var words []string
	var w strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				w.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		default:
			w.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, w.String())
	}
	return words
}
