package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lathe-dev/lathe/internal/event"
)

// errMaxDuration is the cause of a run's context when its wall-clock
// limit ends it.
var errMaxDuration = errors.New("reached the run's wall-clock limit")

// withDuration bounds ctx by the run's wall-clock limit, if it has one.
// The limit ends the run as an interruption does, stopping the response
// streaming or the commands running, so the transcript is left as valid
// as after a Ctrl-C; [Agent.overtime] then says which limit it was.
func (a *Agent) withDuration(ctx context.Context) (context.Context, context.CancelFunc) {
	if a.cfg.MaxDuration <= 0 {
		return ctx, func() {}
	}
	return context.WithDeadlineCause(ctx, time.Now().Add(a.cfg.MaxDuration), errMaxDuration)
}

// overtime turns the interruption of a run whose wall-clock limit ended
// it into the limit's outcome. A user's interruption stays one.
func (a *Agent) overtime(ctx context.Context, out Outcome) Outcome {
	if out.Kind != event.Interrupted || !errors.Is(context.Cause(ctx), errMaxDuration) {
		return out
	}
	return a.fail(out, event.MaxDuration, fmt.Errorf("reached the limit of %s of wall-clock time", a.cfg.MaxDuration))
}

// interrupter names what interrupted a run whose ctx is done, for the
// results of the calls it stopped: the model is told the truth, so that
// a resumed session does not take a limit for the user's wish.
func interrupter(ctx context.Context) string {
	if errors.Is(context.Cause(ctx), errMaxDuration) {
		return "the run's wall-clock limit (max_duration)"
	}
	return "the user"
}
