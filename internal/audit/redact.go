package audit

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/lathe-dev/lathe/internal/secret"
)

// RedactJSON returns the JSON text b with [secret.Redact] applied to each
// of its strings and everything else byte for byte as it was, so that it
// stays valid JSON. It returns b itself when nothing in it is redacted.
// Text that is not JSON gets its quoted spans redacted as JSON strings
// where they are, and the rest left alone.
func RedactJSON(b []byte) []byte {
	var out []byte // nil until a string is redacted
	last := 0
	for i := 0; i < len(b); i++ {
		if b[i] != '"' {
			continue
		}
		j, escaped := i+1, false
		for j < len(b) && b[j] != '"' {
			if b[j] == '\\' {
				escaped = true
				j++
			}
			j++
		}
		if j >= len(b) {
			break
		}
		start, lit := i, b[i:j+1]
		i = j
		var s string
		if !escaped && utf8.Valid(lit) {
			s = string(lit[1 : len(lit)-1])
		} else if json.Unmarshal(lit, &s) != nil {
			continue
		}
		r := secret.Redact(s)
		if r == s {
			continue
		}
		out = append(out, b[last:start]...)
		out = appendString(out, r)
		last = i + 1
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// appendString appends s to b as a JSON string, <, > and & as they are.
func appendString(b []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}
