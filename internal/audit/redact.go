package audit

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/lathe-dev/lathe/internal/secret"
)

// RedactJSON returns the JSON text b with [secret.Redact] applied to each
// of its strings, and [secret.RedactValue] to each object member's value
// with the member's name (so that {"password": "…"} is redacted as
// password="…" is), and everything else byte for byte as it was, so that
// it stays valid JSON. It returns b itself when nothing in it is
// redacted. Text that is not JSON gets its quoted spans redacted as JSON
// strings where they are, and the rest left alone.
func RedactJSON(b []byte) []byte {
	var out []byte // nil until a string is redacted
	last := 0
	// key is the last string followed by a colon, and valueAt where the
	// string that is its value may start.
	key, valueAt := "", -1
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
			key, valueAt = "", -1
			continue
		}
		var r string
		if start == valueAt {
			r = secret.RedactValue(key, s)
		} else {
			r = secret.Redact(s)
		}
		key, valueAt = "", -1
		if k := skipSpace(b, j+1); k < len(b) && b[k] == ':' {
			key, valueAt = s, skipSpace(b, k+1)
		}
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

// skipSpace returns the index of the first byte of b from i on that is
// not JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// appendString appends s to b as a JSON string, <, > and & as they are.
func appendString(b []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}
