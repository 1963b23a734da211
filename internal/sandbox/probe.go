package sandbox

import (
	"fmt"
	"io"
	"strings"
)

// Status is what confinement works on this machine, and what is missing
// for the rest.
type Status struct {
	// OS is the operating system, as runtime.GOOS names it.
	OS string `json:"os"`
	// Backend is the backend confined processes run under here, Bwrap
	// where it works, else Landlock; Auto (empty) when none works.
	Backend Backend `json:"backend"`
	// Bwrap is bubblewrap's path and version, empty when it is not
	// installed; BwrapErr says why it cannot confine, empty when it can.
	Bwrap    string `json:"bwrap,omitempty"`
	BwrapErr string `json:"bwrap_error,omitempty"`
	// LandlockABI is the kernel's Landlock ABI version, 0 for none;
	// LandlockErr says why Lathe's own backend cannot confine.
	LandlockABI int    `json:"landlock_abi"`
	LandlockErr string `json:"landlock_error,omitempty"`
	// UserNS and Seccomp say why user namespaces or seccomp filters are
	// unavailable, empty when they work.
	UserNS  string `json:"userns_error,omitempty"`
	Seccomp string `json:"seccomp_error,omitempty"`
	// Missing says, a sentence each, what is missing and how to fix it.
	Missing []string `json:"missing,omitempty"`
}

// OK reports whether processes can be confined here.
func (s Status) OK() bool { return s.Backend != Auto }

// Print writes s for a person, as lathe doctor shows it.
func (s Status) Print(w io.Writer) error {
	var b strings.Builder
	if s.OK() {
		fmt.Fprintf(&b, "sandbox: %s (%s)\n", s.Backend, s.OS)
	} else {
		fmt.Fprintf(&b, "sandbox: unavailable (%s): commands are asked, or refused headless, unless --permission-mode bypassPermissions\n", s.OS)
	}
	line := func(name, value, err string) {
		if err == "" {
			err = "works"
		}
		if value != "" {
			value += ": "
		}
		fmt.Fprintf(&b, "  %-16s %s%s\n", name+":", value, err)
	}
	bwrap := s.Bwrap
	if bwrap == "" && s.BwrapErr == "" {
		bwrap = "not installed"
	}
	line("bubblewrap", bwrap, s.BwrapErr)
	abi := "none"
	if s.LandlockABI > 0 {
		abi = fmt.Sprintf("ABI %d", s.LandlockABI)
	}
	line("landlock", abi, s.LandlockErr)
	line("user namespaces", "", s.UserNS)
	line("seccomp", "", s.Seccomp)
	for _, m := range s.Missing {
		fmt.Fprintf(&b, "missing: %s\n", m)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
