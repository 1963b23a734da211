package approve

import (
	"strings"
	"unicode/utf8"
)

// Notify is how the terminal is asked to tell the person that input is
// needed while they look elsewhere.
type Notify int

const (
	// NotifyNone sends nothing.
	NotifyNone Notify = iota
	// NotifyBell rings the bell (BEL), which every terminal and tmux
	// understand; most show it on an unfocused window or tab.
	NotifyBell
	// NotifyOSC9 is the desktop notification of iTerm2, kitty, WezTerm,
	// Ghostty and Windows Terminal: OSC 9 ; body ST.
	NotifyOSC9
	// NotifyOSC777 is that of rxvt-unicode, foot and VTE's terminals:
	// OSC 777 ; notify ; title ; body ST.
	NotifyOSC777
)

// DetectNotify chooses the notification the terminal described by
// getenv (os.Getenv) understands. Inside tmux or screen, which do not
// pass OSC notifications through unless told to, it rings the bell;
// with TERM=dumb, it sends nothing.
func DetectNotify(getenv func(string) string) Notify {
	term := getenv("TERM")
	switch {
	case term == "dumb":
		return NotifyNone
	case getenv("TMUX") != "" || strings.HasPrefix(term, "screen") || strings.HasPrefix(term, "tmux"):
		return NotifyBell
	}
	switch getenv("TERM_PROGRAM") {
	case "iTerm.app", "WezTerm", "ghostty":
		return NotifyOSC9
	}
	switch {
	case getenv("KITTY_WINDOW_ID") != "" || strings.Contains(term, "kitty"), getenv("WT_SESSION") != "":
		return NotifyOSC9
	case strings.HasPrefix(term, "foot"), strings.HasPrefix(term, "rxvt-unicode"), getenv("VTE_VERSION") != "":
		return NotifyOSC777
	}
	return NotifyBell
}

// maxNotification is how many characters of a notification's body are
// sent: a notification is a glance, and a call's arguments can be long.
const maxNotification = 120

// Sequence is the escape sequence that notifies with title and body, or
// "". What they say may come from the model, so every control character
// is dropped from them, and ';', which ends OSC 777's title, from the
// title.
func (n Notify) Sequence(title, body string) string {
	title, body = notifyText(title, true), notifyText(body, false)
	switch n {
	case NotifyBell:
		return "\a"
	case NotifyOSC9:
		if title != "" {
			body = title + ": " + body
		}
		return "\x1b]9;" + body + "\x1b\\"
	case NotifyOSC777:
		return "\x1b]777;notify;" + title + ";" + body + "\x1b\\"
	}
	return ""
}

func notifyText(s string, title bool) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		switch {
		case n >= maxNotification:
			b.WriteString("…")
			return b.String()
		case r == utf8.RuneError, r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
			r = ' '
		case title && r == ';':
			r = ','
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
