package shell

import "context"

// OutputFunc receives a command's output as it is read: stdout and stderr
// merged in arrival order, raw (neither sanitised nor truncated), in
// chunks of any size. It is called from one goroutine per command, chunk
// after chunk in order, and for a foreground command never after Run
// returns. It must not keep chunk, which is reused, and must return
// quickly: until it does, the command's output is not read.
type OutputFunc func(chunk []byte)

type outputKey struct{}

// WithOutput returns a context whose commands send their output to f as
// well, for a front end that shows it live.
func WithOutput(ctx context.Context, f OutputFunc) context.Context {
	return context.WithValue(ctx, outputKey{}, f)
}

func outputFrom(ctx context.Context) OutputFunc {
	f, _ := ctx.Value(outputKey{}).(OutputFunc)
	return f
}
