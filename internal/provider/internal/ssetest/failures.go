package ssetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lathe-dev/lathe/internal/llm"
)

// Dial builds the provider under test against the server at url, with
// the given idle timeout.
type Dial func(t *testing.T, url string, idleTimeout time.Duration) llm.Provider

// StallTimeout is the idle timeout [Failures] dials a case that stalls
// with: short, so that a stalled stream fails quickly. Every other case
// dials with quietTimeout, so that a loaded machine, slow to serve the
// next event, never passes for a stall.
const (
	StallTimeout = 200 * time.Millisecond
	quietTimeout = time.Minute
)

// Failure is a reply that must fail a request, and the *llm.APIError it
// must fail with.
type Failure struct {
	Name          string
	Reply         Reply
	Status        int
	Retryable     bool
	RetryAfter    time.Duration
	ContextWindow bool
	// Msg is what the error must contain.
	Msg string
	// Partial says that the reply streams part of a response before it
	// fails, which the caller must have seen as deltas.
	Partial bool
}

// Incomplete is the Failure of a stream that ends, is cut or stalls after
// part of a response: a transport error, worth retrying.
func Incomplete(name string, reply Reply, msg string) Failure {
	return Failure{Name: name, Reply: reply, Retryable: true, Msg: msg, Partial: true}
}

// Failures streams req against each case's reply and checks that it
// fails as the case says, without a response: a response cut short must
// never pass for a whole one.
func Failures(t *testing.T, req *llm.Request, cases []Failure, dial Dial) {
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) {
			srv := NewServer(t, tt.Reply)
			var deltas []llm.Delta
			idle := quietTimeout
			if tt.Reply.StallAfter > 0 {
				idle = StallTimeout
			}
			resp, err := dial(t, srv.URL, idle).Stream(context.Background(), req, func(d llm.Delta) { deltas = append(deltas, d) })
			if resp != nil {
				t.Errorf("got a response from a failed stream: %+v", resp)
			}
			ae, ok := errors.AsType[*llm.APIError](err)
			if !ok {
				t.Fatalf("err = %T %v, want *llm.APIError", err, err)
			}
			if ae.Status != tt.Status || ae.Retryable != tt.Retryable || ae.RetryAfter != tt.RetryAfter {
				t.Errorf("err = %#v, want status %d, retryable %v, retry after %v", ae, tt.Status, tt.Retryable, tt.RetryAfter)
			}
			if errors.Is(err, llm.ErrContextWindow) != tt.ContextWindow {
				t.Errorf("context window = %v, want %v", !tt.ContextWindow, tt.ContextWindow)
			}
			if !strings.Contains(ae.Error(), tt.Msg) {
				t.Errorf("err = %q, want it to contain %q", ae, tt.Msg)
			}
			if tt.Partial && len(deltas) == 0 {
				t.Error("no deltas before the failure")
			}
		})
	}
}

// Cancel streams req against reply, which must stall after some deltas,
// cancels the stream at the first delta, and checks that it fails with a
// permanent error wrapping context.Canceled: the caller gave up, so
// retrying would be wrong.
func Cancel(t *testing.T, req *llm.Request, reply Reply, dial Dial) {
	srv := NewServer(t, reply)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := dial(t, srv.URL, 0).Stream(ctx, req, func(llm.Delta) { cancel() })
	ae, ok := errors.AsType[*llm.APIError](err)
	if !ok || ae.Retryable || !errors.Is(err, context.Canceled) {
		t.Errorf("err = %#v, want a permanent error wrapping context.Canceled", err)
	}
}
