package composer

import (
	"os"

	"github.com/lathe-dev/lathe/internal/config"
	"github.com/lathe-dev/lathe/internal/slash"
)

// Load gathers the options of a composer for the workspace at dir
// (absolute): the slash commands, built-in and from the command files
// of [slash.Dirs] (the user's, the repository root's, the workspace's),
// and the workspace's history under Lathe's state directory. The options
// are usable whatever problems says: each is a command file left out or
// a history that could not be read, for the front end to show once.
// Root is dir, so that "@" completes its paths.
func Load(dir string) (Options, []error) {
	root, _ := config.RepoRoot(dir)
	cmds, problems := slash.Load(slash.Dirs(os.Getenv("HOME"), config.UserDir(), root, dir)...)
	opts := Options{Commands: slash.NewSet(cmds), Root: dir}
	var path string
	if state := config.StateDir(); state != "" {
		var err error
		if path, err = HistoryPath(state, dir); err != nil {
			problems = append(problems, err)
		}
	}
	h, err := OpenHistory(path)
	if err != nil {
		problems = append(problems, err)
	}
	opts.History = h
	return opts, problems
}
