//go:build linux && !amd64 && !arm64

package helper

// No filter is written for this architecture, so the landlock backend
// refuses to start, and bwrap gets no filter either: both fail closed.
const (
	auditArch = 0
	x32Bit    = 0
)

var archDenied []uintptr
