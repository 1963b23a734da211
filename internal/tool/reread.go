package tool

import (
	"context"
	"fmt"
)

type turnKey struct{}

// turn is where a call runs: in which conversation, at which turn.
type turn struct {
	conversation string
	n            int
}

// WithTurn returns a context whose calls run in turn n of conversation
// (such as a session id), which reads remember, so that a read of
// unchanged content can say when the model saw it. What one
// conversation was shown says nothing of another's, such as a
// subagent's sharing the Env.
func WithTurn(ctx context.Context, conversation string, n int) context.Context {
	return context.WithValue(ctx, turnKey{}, turn{conversation, n})
}

func turnFrom(ctx context.Context) turn {
	t, _ := ctx.Value(turnKey{}).(turn)
	return t
}

// reread answers a read of the window of key, which view v shows, when
// the last read of it showed the model exactly that, and the file's
// content is still what it was then: the result is a line saying so,
// instead of the same lines again, which would cost as many tokens as the
// first time. Otherwise it notes the read as shown, at the turn of ctx,
// and returns false.
func reread(ctx context.Context, env *Env, key, window string, v view) (Result, bool) {
	at := turnFrom(ctx)
	if turn, ok := env.Reads.ShownAt(at.conversation, key, window, v.hash); ok {
		first, last := v.shown()
		when := "your last read of it"
		if turn > 0 {
			when = fmt.Sprintf("your last read of it at turn %d", turn)
		}
		return Result{
			Content: fmt.Sprintf("File unchanged since %s: lines %d-%d as shown then are still current. Refer to that result instead of reading it again.", when, first, last),
			Capped:  true,
			Summary: "unchanged since last read",
		}, true
	}
	env.Reads.Show(at.conversation, key, window, v.hash, at.n)
	return Result{}, false
}
