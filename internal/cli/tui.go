package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/x/term"

	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/config"
	"github.com/lathe-dev/lathe/internal/regfile"
	"github.com/lathe-dev/lathe/internal/secret"
	"github.com/lathe-dev/lathe/internal/session"
	"github.com/lathe-dev/lathe/internal/termsafe"
	"github.com/lathe-dev/lathe/internal/tui"
	"github.com/lathe-dev/lathe/internal/tui/approve"
	"github.com/lathe-dev/lathe/internal/tui/cells"
	"github.com/lathe-dev/lathe/internal/tui/composer"
)

// interactive reports whether a run with flags f starts the terminal UI:
// stdin and stdout are terminals and nothing asked for headless output.
func interactive(f *runFlags, stdio IO, execCmd bool) bool {
	if execCmd || f.print || f.given["output-format"] || f.given["include-partial-messages"] || f.given["verbose"] {
		return false
	}
	in, ok1 := stdio.Stdin.(*os.File)
	out, ok2 := stdio.Stdout.(*os.File)
	return ok1 && ok2 && term.IsTerminal(in.Fd()) && term.IsTerminal(out.Fd())
}

// runTUI runs the interactive UI, with the positional arguments, if any,
// as its first prompt. What the person asks for that needs the session
// closed (another session, a new one, a rewind) is done between two runs
// of the UI in the same terminal: the session is closed, the next one
// opened, and the UI starts again on it.
func runTUI(ctx context.Context, f *runFlags, pos []string, stdio IO) error {
	opts := f.options(stdio.Stderr)
	dir, err := filepath.Abs(cmp.Or(opts.Dir, "."))
	if err != nil {
		return err
	}
	ui := tuiRun{f: f, stdio: stdio, dir: dir, prompt: strings.Join(pos, " ")}
	var prev string // the session the last UI ran
	for {
		link := tui.NewLink()
		opts.Approver, opts.Warn = link, link.Warn
		a, err := app.Open(opts)
		if err != nil && prev != "" {
			// The session asked for cannot be opened (another process
			// took it meanwhile, say): go on with the one the person left.
			ui.notices = append(ui.notices, fmt.Sprintf("Could not open that session: %v", err))
			ui.announce, ui.draft = nil, ""
			opts = reopen(opts, prev)
			a, err = app.Open(opts)
		}
		if err != nil {
			return err
		}
		next, err := ui.run(ctx, a, link, opts)
		if a.Incomplete() {
			fmt.Fprintf(stdio.Stderr, "lathe: session %s may be incomplete: writing its log %s failed during the session; lathe --resume %s continues from what it holds\n", a.SessionID(), a.LogPath(), a.SessionID())
		} else {
			fmt.Fprintf(stdio.Stderr, "lathe: session %s saved; lathe --resume %s continues it\n", a.SessionID(), a.SessionID())
		}
		if errors.Is(err, tui.ErrInterrupted) {
			return exitError{app.ExitInterrupted}
		}
		if err != nil || next.Kind == tui.Quit {
			return err
		}
		prev = a.SessionID()
		ui.prompt, ui.draft, ui.notices = "", "", nil
		opts = ui.switchTo(ctx, opts, next)
	}
}

// tuiRun is what the runs of the UI share.
type tuiRun struct {
	f      *runFlags
	stdio  IO
	dir    string
	prompt string
	// notices and draft are for the next run: what the last one asked
	// for, done.
	notices []string
	draft   string
	// announce says what the next session is, once it is open.
	announce func(id string) string
}

// run runs the UI once on a.
func (u *tuiRun) run(ctx context.Context, a *app.App, link *tui.Link, opts app.Options) (tui.Next, error) {
	if u.announce != nil {
		u.notices = append(u.notices, u.announce(a.SessionID()))
		u.announce = nil
	}
	for _, n := range a.Permissions().Notices() {
		link.Warn(errors.New(n))
	}
	for _, p := range a.Dropped() {
		link.Warn(droppedLine(a, p))
	}
	input, problems := composer.Load(u.dir)
	input.Image = a.ReadImage
	for _, p := range problems {
		link.Warn(p)
	}
	store, err := app.Store(link.Warn)
	if err != nil {
		return tui.Next{}, err
	}
	home, _ := os.UserHomeDir()
	cellStyles, approveStyles := cells.DefaultStyles(), approve.DefaultStyles()
	if plainTerminal(os.Getenv) {
		cellStyles, approveStyles = cells.Styles{}, approve.PlainStyles()
	}
	return tui.Run(ctx, a, tui.Options{
		Input:         u.stdio.Stdin.(*os.File),
		Output:        u.stdio.Stdout.(*os.File),
		Inline:        u.f.noAltScreen,
		Prompt:        u.prompt,
		Link:          link,
		Branch:        func() string { return gitBranch(u.dir) },
		Composer:      input,
		Dir:           u.dir,
		Animations:    a.UI().Animations,
		CellStyles:    cellStyles,
		ApproveStyles: approveStyles,
		Notify:        approve.DetectNotify(os.Getenv),
		Home:          home,
		Sessions:      dirSessions{dir: u.dir, store: store},
		Notices:       u.notices,
		Draft:         u.draft,
	})
}

// reopen is opts for going on with session id as it is.
func reopen(opts app.Options, id string) app.Options {
	opts.Resume, opts.Continue, opts.Fork, opts.ForkAt, opts.Repair = id, false, false, nil, false
	return opts
}

// switchTo does what next asks for, the session closed, and returns the
// options that open the session to go on with.
func (u *tuiRun) switchTo(ctx context.Context, opts app.Options, next tui.Next) app.Options {
	old := next.Session
	switch next.Kind {
	case tui.Clear:
		opts = reopen(opts, "")
		u.notices = append(u.notices, fmt.Sprintf("Cleared the conversation. Session %s is saved: /resume, or lathe --resume %s, brings it back.", old, old))
		return opts
	case tui.Resume:
		u.announce = func(string) string { return "Resumed session " + old + "." }
		return reopen(opts, old)
	case tui.Fork:
		opts = reopen(opts, old)
		opts.Fork = true
		u.announce = func(id string) string {
			return fmt.Sprintf("Forked session %s as %s: the conversation goes on here, and %s stays as it was.", old, id, old)
		}
		return opts
	}
	// A rewind: the code first, so that a failure leaves the
	// conversation where it was too.
	opts = reopen(opts, old)
	if next.Code {
		report, err := rewindCode(ctx, old, next.Point, u.stdio.Stderr)
		if err != nil {
			u.notices = append(u.notices, report+fmt.Sprintf("The rewind failed: %v. The conversation was left as it was.", err))
			return opts
		}
		u.notices = append(u.notices, report)
	}
	if next.Conversation {
		opts.Fork, opts.ForkAt = true, &next.Point.Messages
		u.announce = func(id string) string {
			return fmt.Sprintf("The conversation goes on from before that prompt, in session %s; session %s keeps what followed.", id, old)
		}
	}
	u.draft = next.Point.Prompt
	return opts
}

// rewindCode restores session id's workspace as prompt p found it and
// says what it changed, as lathe rewind does.
func rewindCode(ctx context.Context, id string, p app.RewindPoint, stderr io.Writer) (string, error) {
	r, err := app.OpenRewind(ctx, id, warner(stderr))
	if err != nil {
		return "", err
	}
	defer r.Close()
	undo, changes, err := r.Rewind(ctx, p.Step)
	var b strings.Builder
	if undo.Step != 0 {
		fmt.Fprintf(&b, "Rewound %s to how it was before that prompt, changing %s:\n", termsafe.Quote(r.Dir()), files(len(changes)))
		printChanges(&b, changes)
		fmt.Fprintf(&b, "To undo the file changes, run: lathe rewind %s --to %d\n", termsafe.Quote(id), undo.Step)
	} else if err == nil {
		fmt.Fprintf(&b, "%s is already as that prompt found it: no file changed.", termsafe.Quote(r.Dir()))
	}
	return strings.TrimRight(b.String(), "\n"), err
}

// dirSessions are the sessions of one directory, for /resume.
type dirSessions struct {
	dir   string
	store *session.Store
}

// List returns the sessions started in the directory (not subagents'),
// most recently written first.
func (d dirSessions) List() ([]tui.SessionInfo, error) {
	all, err := d.store.List()
	if err != nil {
		return nil, err
	}
	var out []tui.SessionInfo
	for _, s := range all {
		if s.Parent != "" || filepath.Clean(s.Cwd) != d.dir || (s.CwdID != "" && !session.SameDir(s.CwdID, d.dir)) {
			continue
		}
		inUse, err := d.store.InUse(s.SessionID)
		if err != nil {
			return nil, err
		}
		out = append(out, tui.SessionInfo{
			ID: s.SessionID, Title: secret.Redact(s.Prompt), Updated: s.Updated,
			Tokens: s.Usage.TotalInput() + s.Usage.Output, Cost: s.Cost, InUse: inUse,
		})
	}
	return out, nil
}

// plainTerminal reports whether the UI must not paint colours: NO_COLOR
// set to anything but empty (https://no-color.org), or TERM=dumb. The
// renderer downsamples what it draws on its own, but not the transcript
// printed to the scrollback at exit, and it reads NO_COLOR as a boolean,
// so that NO_COLOR=yes would still paint.
func plainTerminal(getenv func(string) string) bool {
	return getenv("NO_COLOR") != "" || getenv("TERM") == "dumb"
}

// droppedLine says what Open left out of a resumed session's log.
func droppedLine(a *app.App, p session.Problem) error {
	if p.Cut {
		return fmt.Errorf("session %s: line %d of %s was cut short, as a crash leaves it; dropped it", a.SessionID(), p.Line, a.LogPath())
	}
	return fmt.Errorf("session %s: dropped line %d of %s: %s", a.SessionID(), p.Line, a.LogPath(), p.Msg)
}

// gitBranch is the branch checked out in dir, or "" outside a repository
// or on a detached head. It reads HEAD rather than run git, which a
// repository's configuration could make run commands of its choosing.
func gitBranch(dir string) string {
	root, ok := config.RepoRoot(dir)
	if !ok {
		return ""
	}
	gitDir := filepath.Join(root, ".git")
	// A worktree's or submodule's .git is a file naming its git dir.
	if b, err := regfile.ReadFile(gitDir, 4096); err == nil {
		rest, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir: ")
		if !ok {
			return ""
		}
		if !filepath.IsAbs(rest) {
			rest = filepath.Join(root, rest)
		}
		gitDir = rest
	}
	head, err := regfile.ReadFile(filepath.Join(gitDir, "HEAD"), 4096)
	if err != nil {
		return ""
	}
	branch, _ := strings.CutPrefix(strings.TrimSpace(string(head)), "ref: refs/heads/")
	if branch == strings.TrimSpace(string(head)) {
		return "" // detached
	}
	return branch
}
