package event_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/event/eventtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var clock = func() time.Time { return time.Date(2026, 12, 7, 3, 4, 5, 6789e5, time.FixedZone("CET", 3600)) }

func TestBusStampsSeqAndTimeInOrder(t *testing.T) {
	var hooked []event.Event
	b := event.NewBus(event.WithClock(clock), event.WithHook(event.SinkFunc(func(e event.Event) { hooked = append(hooked, e) })))
	var a, c eventtest.Collector
	b.Subscribe("a", a.Handle)
	b.Subscribe("c", c.Handle)
	var want []event.Type
	for i := range 50 {
		typ := []event.Type{event.TextDelta, event.Text, event.ToolStart, event.CommandOutput, event.ToolEnd}[i%5]
		want = append(want, typ)
		// Producers' own seq and time are overwritten.
		b.Emit(event.Event{Type: typ, Seq: 999, Time: "then"})
	}
	b.Close()
	for name, got := range map[string][]event.Event{"a": a.Events(), "c": c.Events(), "hook": hooked} {
		if len(got) != len(want) {
			t.Fatalf("%s got %d events, want %d", name, len(got), len(want))
		}
		for i, e := range got {
			if e.Seq != uint64(i+1) || e.Type != want[i] || e.Time != "2026-12-07T02:04:05.678Z" {
				t.Errorf("%s event %d: seq %d type %s time %q, want seq %d type %s time 2026-12-07T02:04:05.678Z", name, i, e.Seq, e.Type, e.Time, i+1, want[i])
			}
		}
	}
}

func TestBusConcurrentPublishersGetDistinctSeqs(t *testing.T) {
	b := event.NewBus()
	var c eventtest.Collector
	b.Subscribe("c", c.Handle, event.Buffer(1000))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				b.Publish(event.Event{Type: event.Text})
			}
		})
	}
	wg.Wait()
	b.Close()
	for i, e := range c.Events() {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d: subscribers must see seq order", i, e.Seq)
		}
	}
	if len(c.Events()) != 400 {
		t.Fatalf("got %d events, want 400", len(c.Events()))
	}
}

// A slow subscriber misses deltas, counted, but every other event, while a
// fast one misses nothing.
func TestBusSlowSubscriberLosesOnlyDeltas(t *testing.T) {
	// A bound no loaded machine reaches: the slow subscriber is slow,
	// not stuck.
	b := event.NewBus(event.WithBound(time.Hour))
	release, entered := make(chan struct{}), make(chan struct{}, 10)
	var slow, fast eventtest.Collector
	s := b.Subscribe("slow", func(e event.Event) {
		entered <- struct{}{}
		<-release
		slow.Handle(e)
	}, event.Buffer(2))
	b.Subscribe("fast", fast.Handle, event.Buffer(100))
	var want []event.Type
	// The slow handler holds the first event and its buffer takes two
	// more; the deltas after that find it full.
	for i, typ := range []event.Type{event.Text, event.Text, event.Text, event.TextDelta, event.ThinkingDelta, event.CommandOutput} {
		b.Publish(event.Event{Type: typ})
		want = append(want, typ)
		if i == 0 {
			<-entered
		}
	}
	// The buffer is full now: a non-delta is queued beyond it.
	b.Publish(event.Event{Type: event.ToolEnd})
	close(release)
	b.Close()
	if got := s.Dropped(); got != 3 {
		t.Errorf("slow dropped %d deltas, want 3", got)
	}
	if err := s.Err(); err != nil {
		t.Errorf("slow was dropped: %v", err)
	}
	if got, want := slow.Types(), []event.Type{event.Text, event.Text, event.Text, event.ToolEnd}; !slices.Equal(got, want) {
		t.Errorf("slow got %v, want %v", got, want)
	}
	if got, want := fast.Types(), append(want, event.ToolEnd); !slices.Equal(got, want) {
		t.Errorf("fast got %v, want %v", got, want)
	}
}

// A lossless subscriber (the headless output) gets every event, deltas
// included, however far behind its handler falls, and is never dropped,
// however long it takes nothing: the bound passes inside the fake clock.
func TestBusLosslessSubscriberMissesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var warned []error
		b := event.NewBus(event.WithWarn(func(err error) { warned = append(warned, err) }))
		release, entered := make(chan struct{}), make(chan struct{}, 1)
		var got eventtest.Collector
		s := b.Subscribe("output", func(e event.Event) {
			select {
			case entered <- struct{}{}:
				<-release
			default:
			}
			got.Handle(e)
		}, event.Buffer(2), event.Lossless())
		var want []event.Type
		for i := range 5000 {
			typ := []event.Type{event.TextDelta, event.Text, event.CommandOutput, event.ToolEnd}[i%4]
			b.Publish(event.Event{Type: typ})
			want = append(want, typ)
			if i == 0 {
				<-entered
				time.Sleep(time.Second) // far past the bound
			}
		}
		close(release)
		b.Close()
		if !slices.Equal(got.Types(), want) {
			t.Errorf("lossless subscriber got %d events, want all %d in order", len(got.Types()), len(want))
		}
		if s.Dropped() != 0 || s.Err() != nil || len(warned) != 0 {
			t.Errorf("lossless subscriber lost events: dropped %d, err %v, warnings %v", s.Dropped(), s.Err(), warned)
		}
	})
}

// A subscriber whose handler never returns is dropped with a warning once
// it falls twice its buffer behind, and the publisher goes on: Publish of many
// events returns, and the other subscriber gets them all.
func TestBusStuckSubscriberIsDropped(t *testing.T) {
	var warned []error
	b := event.NewBus(event.WithWarn(func(err error) { warned = append(warned, err) }))
	stuck := make(chan struct{})
	var told error
	s := b.Subscribe("tui", func(event.Event) { <-stuck }, event.Buffer(4), event.OnDrop(func(err error) { told = err }))
	var fast eventtest.Collector
	b.Subscribe("fast", fast.Handle, event.Buffer(1000))
	for range 500 {
		b.Publish(event.Event{Type: event.ToolStart})
	}
	if len(warned) != 1 || !errors.Is(warned[0], event.ErrDropped) {
		t.Fatalf("warnings %v, want one ErrDropped", warned)
	}
	if !errors.Is(s.Err(), event.ErrDropped) {
		t.Errorf("Err() = %v, want ErrDropped", s.Err())
	}
	close(stuck)
	b.Close()
	if !errors.Is(told, event.ErrDropped) {
		t.Errorf("OnDrop told %v, want ErrDropped", told)
	}
	if len(fast.Events()) != 500 {
		t.Errorf("the fast subscriber got %d events, want 500", len(fast.Events()))
	}
}

// A subscriber whose buffer is full and that has taken nothing for the
// bound is dropped at the next event, though it is not far behind. The
// bubble's clock passes the bound while the handler is stuck.
func TestBusStalledSubscriberIsDroppedAfterBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := event.NewBus(event.WithBound(time.Second))
		stuck, entered := make(chan struct{}), make(chan struct{})
		var got eventtest.Collector
		s := b.Subscribe("tui", func(e event.Event) {
			got.Handle(e)
			if e.Seq == 1 {
				close(entered)
				<-stuck
			}
		}, event.Buffer(2))
		b.Publish(event.Event{Type: event.Text})
		<-entered
		for range 3 {
			b.Publish(event.Event{Type: event.Text})
		}
		if s.Err() != nil {
			t.Fatalf("dropped before the bound: %v", s.Err())
		}
		time.Sleep(2 * time.Second)
		b.Publish(event.Event{Type: event.TextDelta})
		if s.Err() != nil {
			t.Fatalf("dropped for a delta: %v", s.Err())
		}
		b.Publish(event.Event{Type: event.ToolEnd})
		if !errors.Is(s.Err(), event.ErrDropped) {
			t.Fatalf("Err() = %v after the bound, want ErrDropped", s.Err())
		}
		close(stuck)
		b.Close()
		// The queued events of a dropped subscriber are discarded.
		if n := len(got.Events()); n != 1 {
			t.Errorf("the dropped subscriber got %d events, want 1", n)
		}
	})
}

// Close delivers everything published before it, then ends every
// subscriber; later events and subscribers get nothing.
func TestBusCloseDrains(t *testing.T) {
	b := event.NewBus()
	gate := make(chan struct{})
	var c eventtest.Collector
	s := b.Subscribe("c", func(e event.Event) {
		<-gate
		c.Handle(e)
	}, event.Buffer(100))
	for i := range 100 {
		b.Publish(event.Event{Type: event.Text, Text: fmt.Sprint(i)})
	}
	closed := make(chan struct{})
	go func() {
		b.Close()
		close(closed)
	}()
	close(gate)
	<-closed
	select {
	case <-s.Done():
	default:
		t.Fatal("Close returned before the subscriber was done")
	}
	if len(c.Events()) != 100 || c.Events()[99].Text != "99" {
		t.Fatalf("got %d events, want all 100", len(c.Events()))
	}
	b.Publish(event.Event{Type: event.Result})
	late := b.Subscribe("late", func(event.Event) { t.Error("a subscriber of a closed bus was called") })
	<-late.Done()
	b.Close()
	if len(c.Events()) != 100 {
		t.Errorf("an event published after Close was delivered")
	}
}
