package app

import (
	"fmt"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/event"
)

// Exit codes, documented in lathe --help and docs/events.md. A prompt's
// result event carries its code, so that every front end reports the
// same one; the command line also exits with it.
const (
	ExitOK          = 0
	ExitFailed      = 1
	ExitUsage       = 2 // a [UsageError]
	ExitProvider    = 3
	ExitLimit       = 4
	ExitDenied      = 5
	ExitInterrupted = 130
)

// UsageError is an error the user must fix in how Lathe was called or
// configured: a flag, a config file, a session to resume. Its message says
// how, and a front end shows it as it is; the command line exits
// [ExitUsage].
type UsageError struct{ Msg string }

func (e UsageError) Error() string { return e.Msg }

func usagef(format string, args ...any) error {
	return UsageError{fmt.Sprintf(format, args...)}
}

// exitCode maps how a run ended to the code its result reports.
func exitCode(o agent.Outcome) int {
	switch o.Kind {
	case event.Success:
		if len(o.Denied) > 0 {
			return ExitDenied
		}
		return ExitOK
	case event.ProviderError:
		return ExitProvider
	case event.MaxTurns, event.MaxBudget, event.MaxDuration, event.ContextWindow, event.OutputLimit:
		return ExitLimit
	case event.Interrupted:
		return ExitInterrupted
	}
	return ExitFailed
}
