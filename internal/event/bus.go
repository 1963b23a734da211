package event

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// ErrDropped is the error a subscriber is dropped with: it fell too far
// behind, or took no event for longer than the bus's bound while its buffer
// was full.
var ErrDropped = errors.New("subscriber too slow")

// Bus stamps each published event with its sequence number and time, hands
// it to the bus's hooks, and fans it out to subscribers, each with its own
// buffer and its own goroutine, so that a slow subscriber (a terminal
// frame, a pipe) does not stall the agent that publishes.
//
// Concurrency: Publish (and Emit), Subscribe and Close may be called from
// any goroutine. Publishes are serialized: seq order is the order every
// hook and every subscriber sees. Publish never waits for a subscriber: it
// only queues, holding each subscriber's lock for an append. A subscriber
// with a full buffer (Buffer) misses streaming deltas (Type.Streaming),
// counted in Subscription.Dropped; every other event is queued beyond the
// buffer, up to twice its size, unless the subscriber has taken no event
// for the bus's bound (WithBound), in which case, or past that size, it is
// dropped: it gets no more events, and both it (OnDrop, Err) and the bus's
// owner (WithWarn) are told.
//
// A Bus is used once: Close ends it, and events published after Close are
// discarded.
type Bus struct {
	bound time.Duration
	now   func() time.Time
	hooks []Sink
	warn  func(error)

	mu  sync.Mutex // serializes Publish, Subscribe and Close
	seq uint64
	// ms and stamped are the last time stamped, in Unix milliseconds and
	// formatted: events come in bursts within a millisecond.
	ms      int64
	stamped string
	subs    []*Subscription
	closed  bool
	wg      sync.WaitGroup // subscriber goroutines
}

// BusOption configures a Bus.
type BusOption func(*Bus)

// WithBound sets how long a subscriber whose buffer is full may take no
// event before it is dropped. The default is 100 ms.
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
	name   string
	handle func(Event)
	onDrop func(error)
	limit  int
	// lossless subscribers queue without limit (Lossless).
	lossless bool

	mu     sync.Mutex
	queue  []Event // waiting for the handler
	closed bool    // nothing more will be queued
	wake   chan struct{}

	// took is when the handler last took an event (or the subscription
	// began), in time.Now's clock as UnixNano.
	took    atomic.Int64
	dropped atomic.Uint64
	err     atomic.Pointer[error]
	done    chan struct{}
}

// SubscribeOption configures a Subscription.
type SubscribeOption func(*Subscription)

// Buffer sets how many events may wait for the handler before deltas are
// dropped; the default is 256. The buffer grows as it fills.
func Buffer(n int) SubscribeOption { return func(s *Subscription) { s.limit = max(n, 1) } }

// Lossless makes the subscriber miss nothing and never be dropped: its
// queue grows without limit, so the publisher still never waits. It is for
// an output whose every event is the product, as a headless run's
// stream-json is to the script reading it: a CI job that reads slowly
// must still get its result. Memory then grows with how far the handler
// falls behind, at most the run's events.
func Lossless() SubscribeOption { return func(s *Subscription) { s.lossless = true } }

// OnDrop sets what the subscriber is told when the bus drops it: called
// once, on the subscriber's goroutine, after its handler has returned for
// the last event it gets.
func OnDrop(f func(error)) SubscribeOption { return func(s *Subscription) { s.onDrop = f } }

// Subscribe calls handle with every event published from now on, in seq
// order, one at a time, on a goroutine the bus owns, until the bus is
// closed or drops the subscriber. name says who it is in warnings.
// Subscribing to a closed bus returns a subscription that is already done.
func (b *Bus) Subscribe(name string, handle func(Event), opts ...SubscribeOption) *Subscription {
	s := &Subscription{name: name, handle: handle, limit: 256, wake: make(chan struct{}, 1), done: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	s.took.Store(time.Now().UnixNano())
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
	for {
		s.mu.Lock()
		for len(s.queue) == 0 && !s.closed {
			s.mu.Unlock()
			<-s.wake
			s.mu.Lock()
		}
		if len(s.queue) == 0 {
			s.mu.Unlock()
			break
		}
		e := s.queue[0]
		s.queue[0] = Event{}
		s.queue = s.queue[1:]
		s.mu.Unlock()
		s.took.Store(time.Now().UnixNano())
		s.handle(e)
	}
	if err := s.Err(); err != nil && s.onDrop != nil {
		s.onDrop(err)
	}
}

// offer queues e, and reports false if s is to be dropped instead.
func (s *Subscription) offer(e Event, bound time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.queue); n >= s.limit && !s.lossless {
		if e.Type.Streaming() {
			s.dropped.Add(1)
			return true
		}
		if n >= 2*s.limit || time.Since(time.Unix(0, s.took.Load())) > bound {
			return false
		}
	}
	s.queue = append(s.queue, e)
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return true
}

// end stops deliveries after the event being handled: with drop, the
// queued events are discarded too.
func (s *Subscription) end(drop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if drop {
		clear(s.queue)
		s.queue = nil
	}
	select {
	case s.wake <- struct{}{}:
	default:
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
// hooks, and queues e for every subscriber. It does not wait for them.
func (b *Bus) Publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.seq++
	e.Seq = b.seq
	e.Time = b.stamp()
	for _, h := range b.hooks {
		h.Emit(e)
	}
	live := b.subs[:0]
	for _, s := range b.subs {
		if s.offer(e, b.bound) {
			live = append(live, s)
			continue
		}
		err := fmt.Errorf("event bus: dropped subscriber %s at seq %d: %w", s.name, e.Seq, ErrDropped)
		s.err.Store(&err)
		s.end(true)
		if b.warn != nil {
			b.warn(err)
		}
	}
	clear(b.subs[len(live):])
	b.subs = live
}

func (b *Bus) stamp() string {
	t := b.now().UTC()
	if ms := t.UnixMilli(); ms != b.ms || b.stamped == "" {
		b.ms, b.stamped = ms, t.Format(timeFormat)
	}
	return b.stamped
}

// timeFormat is RFC 3339 with milliseconds, always three digits.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// Close ends the bus: every subscriber gets every event published before
// Close, then its handler is not called again. Close waits for every
// subscriber's handler to return for its last event, so a handler that
// never returns makes Close wait forever, as the owner of that handler
// must prevent (a dropped subscriber's current handler call is waited for
// too). Close is idempotent.
func (b *Bus) Close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		for _, s := range b.subs {
			s.end(false)
		}
		b.subs = nil
	}
	b.mu.Unlock()
	b.wg.Wait()
}
