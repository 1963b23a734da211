package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/lathe-dev/lathe/internal/checkpoint"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/sandbox"
	"github.com/lathe-dev/lathe/internal/session"
)

// Step is one checkpoint of a session: the workspace as it was before a
// call (Tool, Target) ran, or before a rewind.
type Step struct {
	Step int
	// Time is when the snapshot was taken; zero when the session log
	// does not say.
	Time time.Time
	// Tool is the tool the model called, or RewindTool; Target what the
	// call wrote or ran, shortened (the checkpoint event's).
	Tool, Target string
	// ID is the snapshot; empty when the snapshot failed, which Err
	// explains.
	ID  checkpoint.ID
	Err string
	// line is the step's line in the session log; 0 for a snapshot the
	// log does not record.
	line int
}

// RewindTool is the Tool of the step a rewind takes before it restores,
// so that the rewind itself can be undone.
const RewindTool = "rewind"

// Rewinder restores a session's workspace to its checkpoints: the engine
// of `lathe rewind`. It holds the session's log, so the session cannot run
// meanwhile.
//
// Concurrency: one goroutine uses a Rewinder, then closes it.
type Rewinder struct {
	id    string
	dir   string
	log   *session.Log
	store *checkpoint.Store
	steps []Step
}

// OpenRewind opens session id's checkpoints. It fails with a
// [UsageError] for a session that does not exist, is running, or whose
// workspace is gone or is another directory now.
func OpenRewind(ctx context.Context, id string, warn func(error)) (*Rewinder, error) {
	store, err := Store(warn)
	if err != nil {
		return nil, err
	}
	log, tr, err := store.Open(id)
	switch {
	case errors.Is(err, session.ErrNotFound):
		return nil, usagef("no session %s (see lathe sessions)", id)
	case errors.Is(err, session.ErrInUse):
		return nil, usagef("session %s is running in another lathe process: rewind it once that ends", id)
	case err != nil:
		return nil, err
	}
	r := &Rewinder{id: id, dir: tr.Cwd, log: log}
	if err := r.open(ctx, tr.Meta); err != nil {
		log.Close()
		return nil, err
	}
	return r, nil
}

func (r *Rewinder) open(ctx context.Context, meta session.Meta) error {
	fi, err := os.Stat(meta.Cwd)
	switch {
	case meta.Cwd == "":
		return usagef("session %s does not say which directory it worked in, so it has nothing to rewind", r.id)
	case errors.Is(err, fs.ErrNotExist):
		return usagef("session %s worked in %s, which no longer exists: the workspace was moved or deleted, and its checkpoints can only be restored where it was", r.id, meta.Cwd)
	case err != nil:
		return fmt.Errorf("session %s: workspace: %w", r.id, err)
	case !fi.IsDir():
		return usagef("session %s worked in %s, which is no longer a directory", r.id, meta.Cwd)
	case meta.CwdID != "" && !session.SameDir(meta.CwdID, meta.Cwd):
		return usagef("session %s worked in %s, but that directory has been deleted and made again (or replaced by a move) since: its checkpoints are not of this one", r.id, meta.Cwd)
	}
	// Git's own process, as for the session's snapshots: only the
	// built-in providers' keys are known without the workspace's config,
	// which a rewind does not need to read.
	r.store, err = checkpoint.Open(ctx, meta.Cwd, checkpointDir(), r.id, sandbox.NewHost(sandbox.Profile{HideEnv: credentialEnv(nil)}))
	if err != nil {
		return fmt.Errorf("session %s: %w", r.id, err)
	}
	if r.steps, err = readSteps(ctx, r.log, r.store); err != nil {
		r.store.Close()
		return fmt.Errorf("session %s: %w", r.id, err)
	}
	return nil
}

// readSteps lists the checkpoints of the session whose log is log, in
// step order: the log says what each step was, the store's refs which
// snapshots exist (a step whose snapshot failed has none).
func readSteps(ctx context.Context, log *session.Log, store *checkpoint.Store) ([]Step, error) {
	byStep := map[int]Step{}
	err := log.EventLines(func(line int, raw json.RawMessage) {
		var e event.Event
		if json.Unmarshal(raw, &e) != nil || e.Type != event.Checkpoint || e.Step <= 0 {
			return
		}
		t, _ := time.Parse(time.RFC3339Nano, e.Time)
		byStep[e.Step] = Step{Step: e.Step, Time: t, Tool: e.Name, Target: e.Target, ID: checkpoint.ID(e.CheckpointID), Err: e.Error, line: line}
	})
	if err != nil {
		return nil, err
	}
	snaps, err := store.List(ctx)
	if err != nil {
		return nil, err
	}
	refs := map[int]checkpoint.ID{}
	for _, s := range snaps {
		refs[s.Step] = s.ID
		if _, ok := byStep[s.Step]; !ok {
			byStep[s.Step] = Step{Step: s.Step}
		}
	}
	var steps []Step
	for n, st := range byStep {
		st.ID = refs[n]
		if st.ID == "" && st.Err == "" {
			st.Err = "its snapshot is gone"
		} else if st.ID != "" {
			st.Err = ""
		}
		steps = append(steps, st)
	}
	slices.SortFunc(steps, func(a, b Step) int { return a.Step - b.Step })
	return steps, nil
}

// Dir is the session's workspace, which a rewind restores.
func (r *Rewinder) Dir() string { return r.dir }

// Steps lists the session's checkpoints, in step order.
func (r *Rewinder) Steps() []Step { return r.steps }

// find returns step n, or a usage error naming the steps there are.
func (r *Rewinder) find(n int) (Step, error) {
	i := slices.IndexFunc(r.steps, func(s Step) bool { return s.Step == n })
	switch {
	case len(r.steps) == 0:
		return Step{}, usagef("session %s has no checkpoints: it changed nothing, or ran before Lathe took them", r.id)
	case i < 0:
		return Step{}, usagef("session %s has no step %d: its steps are %d to %d (lathe rewind %s lists them)", r.id, n, r.steps[0].Step, r.steps[len(r.steps)-1].Step, r.id)
	case r.steps[i].ID == "":
		return Step{}, usagef("step %d of session %s has no checkpoint to restore: %s", n, r.id, r.steps[i].Err)
	}
	return r.steps[i], nil
}

// Preview returns step n and what rewinding to it would change, changing
// nothing.
func (r *Rewinder) Preview(ctx context.Context, n int) (Step, []checkpoint.Change, error) {
	st, err := r.find(n)
	if err != nil {
		return Step{}, nil, err
	}
	changes, err := r.store.Restore(ctx, st.ID, true)
	return st, changes, err
}

// Rewind restores the workspace to how it was before step n and returns
// what it changed. First it snapshots the workspace as it is, as a new
// step that it returns (undo; its Step is 0 when there was nothing to
// change), so that `--to undo.Step` takes the rewind back. On an error
// the changes are those made before it.
func (r *Rewinder) Rewind(ctx context.Context, n int) (undo Step, changes []checkpoint.Change, err error) {
	st, changes, err := r.Preview(ctx, n)
	if err != nil || len(changes) == 0 {
		return Step{}, nil, err
	}
	undo = Step{Step: r.steps[len(r.steps)-1].Step + 1, Time: time.Now(), Tool: RewindTool, Target: fmt.Sprintf("--to %d", st.Step)}
	if undo.ID, err = r.store.Snapshot(ctx, undo.Step); err != nil {
		return Step{}, nil, fmt.Errorf("snapshot the workspace before rewinding, to be able to undo it: %w", err)
	}
	// Recorded like the session's own checkpoints, so that the list of
	// steps shows the rewind and the next run numbers on after it.
	rec, err := json.Marshal(event.Event{
		Type: event.Checkpoint, SessionID: r.id, Time: undo.Time.UTC().Format("2006-01-02T15:04:05.000Z"),
		Name: undo.Tool, Target: undo.Target, Step: undo.Step, CheckpointID: string(undo.ID),
	})
	if err == nil {
		err = r.log.AppendEvent(rec)
	}
	if err != nil {
		return Step{}, nil, fmt.Errorf("record the rewind in the session log: %w", err)
	}
	r.steps = append(r.steps, undo)
	changes, err = r.store.Restore(ctx, st.ID, false)
	return undo, changes, err
}

// Close releases the session.
func (r *Rewinder) Close() error {
	r.store.Close()
	return r.log.Close()
}

// RewindPoint is a prompt of the session, which a rewind goes back to:
// the conversation as it was before the prompt, the workspace as the
// prompt found it, or both.
type RewindPoint struct {
	Prompt string
	// Messages is how many messages of the conversation came before the
	// prompt, which a fork keeps (Options.ForkAt); -1 when a compaction
	// has folded the prompt into its summary.
	Messages int
	// Step is the first checkpoint the session took after the prompt:
	// rewinding to it restores the workspace as the prompt found it. 0
	// when the session recorded none since the prompt.
	Step int
	// Changes is what restoring Step would change now; Err says why Step
	// cannot be restored.
	Changes []checkpoint.Change
	Err     string
}

// RewindPoints lists the session's prompts, newest first, with what
// rewinding to each would change, changing nothing. It reads the log and
// the checkpoints while no prompt runs.
func (a *App) RewindPoints(ctx context.Context) ([]RewindPoint, error) {
	prompts, err := a.log.Prompts()
	if err != nil {
		return nil, err
	}
	var points []RewindPoint
	err = a.snapshots.use(ctx, func(store *checkpoint.Store) error {
		steps, err := readSteps(ctx, a.log, store)
		if err != nil {
			return err
		}
		for _, p := range slices.Backward(prompts) {
			pt := RewindPoint{Prompt: p.Text, Messages: p.Messages}
			i := slices.IndexFunc(steps, func(s Step) bool { return s.line > p.Line })
			if p.From != "" {
				// The steps after a copied prompt are of this session's
				// own runs, later: the prompt's are in the origin's log.
				pt.Err = fmt.Sprintf("it ran in session %s, whose checkpoints lathe rewind %s restores", p.From, p.From)
				i = -1
			}
			if i >= 0 {
				// Steps are numbered in the order they were taken, which
				// is the log's: the first after the prompt is its own.
				st := steps[i]
				pt.Step = st.Step
				if st.ID == "" {
					pt.Err = st.Err
				} else if pt.Changes, err = store.Restore(ctx, st.ID, true); err != nil {
					return fmt.Errorf("preview the rewind to step %d: %w", st.Step, err)
				}
			}
			points = append(points, pt)
		}
		return nil
	})
	return points, err
}
