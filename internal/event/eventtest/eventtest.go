// Package eventtest helps tests look at the events a run publishes.
package eventtest

import (
	"slices"
	"sync"

	"github.com/lathe-dev/lathe/internal/event"
)

// Collector keeps the events it is handed. Its methods may be called
// concurrently: a bus hands events over on its own goroutines.
type Collector struct {
	mu  sync.Mutex
	evs []event.Event
}

// Handle keeps e; it is a subscriber handler or a Sink's Emit.
func (c *Collector) Handle(e event.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evs = append(c.evs, e)
}

// Events returns a copy of the events kept so far, in the order handed.
func (c *Collector) Events() []event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.evs)
}

// Types returns the types of the events kept so far, in order.
func (c *Collector) Types() []event.Type {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := make([]event.Type, len(c.evs))
	for i, e := range c.evs {
		ts[i] = e.Type
	}
	return ts
}
