package event

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// ErrDropped is the error a subscriber is dropped with: its buffer stayed
// full for longer than the bus's bound.
var ErrDropped = errors.New("subscriber too slow: buffer full")

// Bus stamps each published event with its sequence number and time, hands
// it to the bus's hooks, and fans it out to subscribers, each with its own
// bounded buffer and its own goroutine, so that a slow subscriber (a
// terminal frame, a pipe) does not stall the agent that publishes.
//
// Concurrency: Publish (and Emit), Subscribe and Close may be called from
// any goroutine. Publishes are serialized: seq order is the order every
// hook and every subscriber sees. Publish does not wait for a subscriber's
// handler; it waits at most the bus's bound (WithBound, in total per
// Publish) for room in the buffers of subscribers that are full, and then
// drops those subscribers. Streaming deltas (Type.Streaming) never wait: a
// full buffer drops the delta and counts it (Subscription.Dropped).
//
// A Bus is used once: Close ends it, and events published after Close are
// discarded.
type Bus struct {
	bound time.Duration
	now   func() time.Time
	hooks []Sink
	warn  func(error)

	mu     sync.Mutex // serializes Publish, Subscribe and Close
	seq    uint64
	subs   []*Subscription
	closed bool
	wg     sync.WaitGroup // subscriber goroutines
}

// BusOption configures a Bus.
type BusOption func(*Bus)

// WithBound sets how long one Publish waits, in total, for subscribers
// whose buffers are full before it drops them. The default is 100 ms.
func WithBound(d time.Duration) BusOption { return func(b *Bus) { b.bound = d } }

// WithClock sets the clock that stamps events (tests).
func WithClock(now func() time.Time) BusOption { return func(b *Bus) { b.now = now } }

// WithHook adds a synchronous hook: it sees every event, stamped, before
// any subscriber does, on the publishing goroutine, under the bus's lock,
// so it is lossless and in order. It must not call the bus. A slow hook
// slows the publisher; it is meant for the session log.
func WithHook(h Sink) BusOption { return func(b *Bus) { b.hooks = append(b.hooks, h) } }

// WithWarn sets what is told when a subscriber is dropped, with the
// subscriber's name; it is called on the publishing goroutine.
func WithWarn(warn func(error)) BusOption { return func(b *Bus) { b.warn = warn } }

// NewBus returns a running Bus.
func NewBus(opts ...BusOption) *Bus {
	b := &Bus{bound: 100 * time.Millisecond, now: time.Now}
	for _, o := range opts {
		o(b)
	}
	return b
}

// Subscription is one subscriber of a Bus. Its methods may be called from
// any goroutine, the handler's included.
type Subscription struct {
	name    string
	handle  func(Event)
	onDrop  func(error)
	ch      chan Event
	dropped atomic.Uint64
	err     atomic.Pointer[error]
	done    chan struct{}
}

// SubscribeOption configures a Subscription.
type SubscribeOption func(*Subscription)

// Buffer sets how many events may wait for the handler; the default is
// 256. The buffer is allocated whole up front.
func Buffer(n int) SubscribeOption {
	return func(s *Subscription) { s.ch = make(chan Event, max(n, 1)) }
}

// OnDrop sets what the subscriber is told when the bus drops it: called
// once, on the subscriber's goroutine, after its handler has returned for
// the last event it gets.
func OnDrop(f func(error)) SubscribeOption { return func(s *Subscription) { s.onDrop = f } }

// Subscribe calls handle with every event published from now on, in seq
// order, one at a time, on a goroutine the bus owns, until the bus is
// closed or drops the subscriber. name says who it is in warnings.
// Subscribing to a closed bus returns a subscription that is already done.
func (b *Bus) Subscribe(name string, handle func(Event), opts ...SubscribeOption) *Subscription {
	s := &Subscription{name: name, handle: handle, done: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	if s.ch == nil {
		s.ch = make(chan Event, 256)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(s.done)
		return s
	}
	b.subs = append(b.subs, s)
	b.wg.Add(1)
	go s.deliver(&b.wg)
	return s
}

func (s *Subscription) deliver(wg *sync.WaitGroup) {
	defer wg.Done()
	defer close(s.done)
	for e := range s.ch {
		s.handle(e)
	}
	if err := s.Err(); err != nil && s.onDrop != nil {
		s.onDrop(err)
	}
}

// Dropped is how many streaming deltas this subscriber missed because its
// buffer was full.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Err is nil unless the bus dropped the subscriber (ErrDropped, wrapped).
func (s *Subscription) Err() error {
	if p := s.err.Load(); p != nil {
		return *p
	}
	return nil
}

// Done is closed when the subscriber's handler has returned for its last
// event.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Emit publishes e, so that a Bus is a Sink.
func (b *Bus) Emit(e Event) { b.Publish(e) }

// Publish stamps e with the next sequence number and the time, calls the
// hooks, and queues e for every subscriber. See Bus for how long it may
// wait.
func (b *Bus) Publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.seq++
	e.Seq = b.seq
	e.Time = b.now().UTC().Format(timeFormat)
	for _, h := range b.hooks {
		h.Emit(e)
	}
	var w wait
	defer w.stop()
	live := b.subs[:0]
	for _, s := range b.subs {
		if b.send(s, e, &w) {
			live = append(live, s)
			continue
		}
		close(s.ch)
	}
	clear(b.subs[len(live):])
	b.subs = live
}

// timeFormat is RFC 3339 with milliseconds, always three digits.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// wait is one Publish's deadline for full buffers, started by the first
// subscriber that needs it.
type wait struct {
	timer  *time.Timer
	passed bool
}

func (w *wait) stop() {
	if w.timer != nil {
		w.timer.Stop()
	}
}

// send queues e for s, and reports false if s is to be dropped.
func (b *Bus) send(s *Subscription, e Event, w *wait) bool {
	select {
	case s.ch <- e:
		return true
	default:
	}
	if e.Type.Streaming() {
		s.dropped.Add(1)
		return true
	}
	if !w.passed {
		if w.timer == nil {
			w.timer = time.NewTimer(b.bound)
		}
		select {
		case s.ch <- e:
			return true
		case <-w.timer.C:
			w.passed = true
		}
	}
	err := fmt.Errorf("event bus: dropped subscriber %s at seq %d: %w", s.name, e.Seq, ErrDropped)
	s.err.Store(&err)
	if b.warn != nil {
		b.warn(err)
	}
	return false
}

// Close ends the bus: every subscriber gets every event published before
// Close, then its handler is not called again. Close waits for every
// subscriber's handler to return for its last event, so a handler that
// never returns makes Close wait forever, as the owner of that handler
// must prevent (a stuck subscriber is dropped, but its current handler
// call is still waited for). Close is idempotent.
func (b *Bus) Close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		for _, s := range b.subs {
			close(s.ch)
		}
		b.subs = nil
	}
	b.mu.Unlock()
	b.wg.Wait()
}
