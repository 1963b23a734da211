package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/config"
	"github.com/lathe-dev/lathe/internal/session"
)

// Store returns the store of session logs under the state directory,
// telling warn (if not nil) of each log it has to skip.
func Store(warn func(error)) (*session.Store, error) {
	dir := config.StateDir()
	if dir == "" {
		return nil, usagef("cannot find a place for session logs: set HOME or XDG_STATE_HOME")
	}
	store := session.NewStore(filepath.Join(dir, "sessions"))
	store.Warn = warn
	return store, nil
}

// openSession creates the session log, or opens (with Repair, repairs)
// the one to resume and loads its conversation.
func (a *App) openSession(store *session.Store, opts *Options) error {
	id := opts.Resume
	if opts.Continue {
		if id != "" {
			return usagef("--continue and --resume cannot be used together")
		}
		latest, err := store.Latest(a.dir)
		if err != nil {
			return UsageError{fmt.Sprintf("nothing to continue: %v", err)}
		}
		id = latest
	}
	if id == "" {
		if opts.Repair {
			return usagef("--repair repairs a session to resume: use it with --resume ID or --continue")
		}
		if opts.Fork {
			return usagef("--fork-session forks a session: use it with --resume ID or --continue")
		}
		log, err := store.Create(session.Meta{Cwd: a.dir, Provider: a.prov.Name, Model: a.model, Version: a.version})
		if err != nil {
			return err
		}
		a.log = log
		return nil
	}
	open := store.Open
	if opts.Repair {
		open = store.Repair
	}
	switch {
	case opts.ForkAt != nil && !opts.Fork:
		return usagef("a fork's cut goes with a fork: set Fork with ForkAt")
	case opts.Fork:
		keep := -1
		if opts.ForkAt != nil {
			keep = *opts.ForkAt
		}
		open = func(id string) (*session.Log, *session.Transcript, error) {
			return store.ForkAt(id, session.Meta{Cwd: a.dir, Provider: a.prov.Name, Model: a.model, Version: a.version}, opts.Repair, keep)
		}
	}
	log, tr, err := open(id)
	var corrupt *session.CorruptError
	switch {
	case errors.Is(err, session.ErrNotFound):
		return usagef("no session %s (see lathe sessions)", id)
	case errors.As(err, &corrupt) && corrupt.Newer():
		return usagef("cannot resume session %s: %v\nUpgrade lathe to resume it, or pass --resume %s --repair to drop what this version cannot read.", id, err, id)
	case errors.As(err, &corrupt):
		return usagef("cannot resume session %s: %v\nPass --resume %s --repair to keep every record that is valid and drop the rest.", id, err, id)
	case err != nil:
		return err
	}
	if err := checkPlace(id, tr.Meta, a.dir, opts); err != nil {
		log.Close()
		if opts.Fork {
			// The fork was made for this run alone.
			os.Remove(log.Path())
		}
		return err
	}
	a.log, a.history, a.dropped = log, tr.Messages, tr.Dropped
	a.compaction = agent.CompactionConfig{Ledger: tr.Ledger, Covered: tr.Covered}
	// The provider's count is of its own tokens: worth building on only
	// for the model that made it.
	if tr.Provider == a.prov.Name && tr.Model == a.model {
		a.counted, a.countedMessages = tr.Counted, tr.CountedMessages
	}
	if opts.Fork {
		a.forkedFrom = id
	} else {
		a.resumed = true
	}
	return nil
}

// checkPlace refuses to resume a session in a directory dir other than
// its own, where its conversation's paths and commands would mean
// something else, unless the user chose dir on purpose. A directory
// deleted and made again under the same name is another directory too;
// only a session named by its id resumes there, and only in a directory
// chosen on purpose.
func checkPlace(id string, meta session.Meta, dir string, opts *Options) error {
	switch {
	case opts.DirGiven && opts.Resume != "":
		return nil
	case meta.Cwd != "" && filepath.Clean(meta.Cwd) != dir && !opts.DirGiven:
		return usagef("session %s belongs to %s, not %s: pass --cd %s to resume it there, or --cd %s to resume it here anyway",
			id, meta.Cwd, dir, shellQuote(meta.Cwd), shellQuote(dir))
	case meta.CwdID != "" && !session.SameDir(meta.CwdID, dir):
		return usagef("session %s was started in %s, but that directory has been deleted and made again since: pass --resume %s --cd %s to continue it here anyway",
			id, meta.Cwd, id, shellQuote(dir))
	}
	return nil
}

// shellQuote quotes s for a command line when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(c rune) bool { return !strings.ContainsRune(shellSafe, c) }) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

const shellSafe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%_-+=:,./"
