package shell

import (
	"fmt"
	"unicode/utf8"
)

// outputLimit is how many characters of output the model sees, as in
// Claude Code and crush; longer output keeps its head and tail.
const outputLimit = 30_000

// clip joins head and tail, the output on either side of gap characters
// that are no longer held, and cuts the middle out of the result so that it
// is at most limit characters plus a marker saying how many were cut. It
// returns the text and the number of characters cut, gap included.
func clip(head, tail string, gap int64, limit int) (string, int64) {
	if gap == 0 {
		s := head + tail
		n := utf8.RuneCountInString(s)
		if n <= limit {
			return s, 0
		}
		return elide(s, limit/2, s, limit-limit/2, int64(n-limit))
	}
	hn, tn := utf8.RuneCountInString(head), utf8.RuneCountInString(tail)
	hk := min(hn, limit/2)
	tk := min(tn, limit-hk)
	hk = min(hn, limit-tk)
	return elide(head, hk, tail, tk, gap+int64(hn-hk)+int64(tn-tk))
}

// elide returns the first hk characters of head and the last tk of tail
// around a marker saying that cut characters were left out.
func elide(head string, hk int, tail string, tk int, cut int64) (string, int64) {
	return fmt.Sprintf("%s\n\n... [%d characters truncated] ...\n\n%s", prefix(head, hk), cut, suffix(tail, tk)), cut
}

// prefix returns the first n characters of s.
func prefix(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// suffix returns the last n characters of s.
func suffix(s string, n int) string {
	i := len(s)
	for ; n > 0 && i > 0; n-- {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return s[i:]
}
