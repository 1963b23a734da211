package app

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/lathe-dev/lathe/internal/checkpoint"
	"github.com/lathe-dev/lathe/internal/config"
	"github.com/lathe-dev/lathe/internal/sandbox"
)

// checkpointDir is where checkpoints keep their private indexes, and the
// object stores of workspaces that are in no git repository.
func checkpointDir() string { return filepath.Join(config.StateDir(), "checkpoints") }

// checkpoints is the session's [agent.Checkpointer]. It opens the
// checkpoint store on the first snapshot, so that a session that changes
// nothing runs no git, and numbers the steps on from the last one the
// session took before (a resumed session, a rewind).
//
// Concurrency: its methods may be called from any goroutine; they run one
// at a time.
type checkpoints struct {
	dir, session string
	exec         sandbox.Executor
	// warn is told of the first failure only: the user learns that
	// rewinding is impaired once, and each failed step is in its
	// checkpoint event. It is also told, once, that the workspace cannot
	// be watched, which makes every snapshot a slower full one.
	warn func(error)

	mu      sync.Mutex
	store   *checkpoint.Store
	openErr error // why the store cannot be opened, once and for all
	next    int   // the next step's number, once the store is open
	warned  bool
}

// Checkpoint snapshots the workspace as the next step.
func (c *checkpoints) Checkpoint(ctx context.Context) (int, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.store == nil && c.openErr == nil {
		if err := c.open(ctx); err != nil {
			if ctx.Err() != nil {
				return 0, "", err
			}
			c.openErr = err
		}
	}
	if c.next == 0 {
		c.next = 1
	}
	step := c.next
	c.next++
	if c.openErr != nil {
		return step, "", c.fail(c.openErr)
	}
	id, err := c.store.Snapshot(ctx, step)
	if err != nil {
		if ctx.Err() != nil {
			return step, "", err
		}
		return step, "", c.fail(err)
	}
	return step, string(id), nil
}

// open opens the store and finds the step to go on from.
func (c *checkpoints) open(ctx context.Context) error {
	s, err := checkpoint.Open(ctx, c.dir, checkpointDir(), c.session, c.exec, checkpoint.WithWarn(c.warn))
	if err != nil {
		return err
	}
	snaps, err := s.List(ctx)
	if err != nil {
		s.Close()
		return err
	}
	c.store = s
	if len(snaps) > 0 {
		c.next = snaps[len(snaps)-1].Step + 1
	}
	return nil
}

// Close closes the store, if it was opened.
func (c *checkpoints) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.store == nil {
		return nil
	}
	return c.store.Close()
}

func (c *checkpoints) fail(err error) error {
	if !c.warned && c.warn != nil {
		c.warned = true
		c.warn(fmt.Errorf("cannot checkpoint the workspace, so lathe rewind cannot undo the calls that follow (they run anyway; the session log records each step that has no checkpoint): %w", err))
	}
	return err
}

// use calls fn with the store, opened if it was not, while no snapshot
// is taken.
func (c *checkpoints) use(ctx context.Context, fn func(*checkpoint.Store) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.store == nil && c.openErr == nil {
		if err := c.open(ctx); err != nil {
			return fmt.Errorf("open the checkpoints: %w", err)
		}
	}
	if c.openErr != nil {
		return fmt.Errorf("the checkpoints cannot be opened: %w", c.openErr)
	}
	return fn(c.store)
}
