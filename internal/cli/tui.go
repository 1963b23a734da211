package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/x/term"

	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/config"
	"github.com/lathe-dev/lathe/internal/regfile"
	"github.com/lathe-dev/lathe/internal/session"
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
// as its first prompt.
func runTUI(ctx context.Context, f *runFlags, pos []string, stdio IO) error {
	link := tui.NewLink()
	opts := f.options(stdio.Stderr)
	opts.Approver, opts.Warn = link, link.Warn
	a, err := app.Open(opts)
	if err != nil {
		return err
	}
	for _, n := range a.Permissions().Notices() {
		link.Warn(errors.New(n))
	}
	for _, p := range a.Dropped() {
		link.Warn(droppedLine(a, p))
	}
	dir, err := filepath.Abs(cmp.Or(opts.Dir, "."))
	if err != nil {
		return err
	}
	input, problems := composer.Load(dir)
	for _, p := range problems {
		link.Warn(p)
	}
	home, _ := os.UserHomeDir()
	err = tui.Run(ctx, a, tui.Options{
		Input:         stdio.Stdin.(*os.File),
		Output:        stdio.Stdout.(*os.File),
		Inline:        f.noAltScreen,
		Prompt:        strings.Join(pos, " "),
		Link:          link,
		Branch:        func() string { return gitBranch(dir) },
		Composer:      input,
		Dir:           dir,
		CellStyles:    cells.DefaultStyles(),
		ApproveStyles: approve.DefaultStyles(),
		Notify:        approve.DetectNotify(os.Getenv),
		Home:          home,
	})
	fmt.Fprintf(stdio.Stderr, "lathe: session %s saved; lathe --resume %s continues it\n", a.SessionID(), a.SessionID())
	if errors.Is(err, tui.ErrInterrupted) {
		return exitError{app.ExitInterrupted}
	}
	return err
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
