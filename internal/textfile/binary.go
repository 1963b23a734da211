package textfile

import (
	"bytes"
	"net/http"
	"unicode/utf8"
)

// SampleSize is how much of a file Binary needs to judge it.
const SampleSize = 8 << 10

// Binary reports whether a file starting with sample is binary, the way
// text editors guess it: a NUL byte, or much that is not text. Bytes that
// are not UTF-8 may be legacy 8-bit text, such as Latin-1, which Decode
// reads byte for byte. kind names the content type for a message.
func Binary(sample []byte) (kind string, binary bool) {
	if len(sample) == 0 {
		return "", false
	}
	// Binary data is full of control bytes and of bytes that are not
	// UTF-8. Legacy 8-bit text has no controls, and its bytes that are not
	// UTF-8 are letters, a few in ten even in a short accented sample.
	controls, invalid := 0, 0
	if bytes.IndexByte(sample, 0) < 0 {
		for i := 0; i < len(sample); {
			r, n := utf8.DecodeRune(sample[i:])
			if r == utf8.RuneError && n <= 1 && len(sample)-i >= utf8.UTFMax {
				invalid++ // a truncated character at the very end is fine
			} else if r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' && r != '\v' && r != '\b' && r != 0x1b {
				controls++
			}
			i += n
		}
		if controls*10 <= len(sample) && invalid*10 <= len(sample)*3 {
			return "", false
		}
	}
	return http.DetectContentType(sample), true
}
