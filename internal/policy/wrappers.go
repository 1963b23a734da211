package policy

import (
	"path/filepath"
	"slices"
	"strings"
)

// unwrap sees through the programs that run the rest of their arguments
// as a command — env X=1, timeout, nice, nohup, command, builtin, exec,
// time, stdbuf, ionice, setsid — and returns that command. The runners
// that run a command no allow rule may vouch for (sudo, xargs, watch)
// give it as inner, with why; so does a wrapper not installed where
// programs are (./timeout is not timeout). Variables that env sets are
// judged as leading assignments are.
func unwrap(args []string, c *command) (rest, inner []string, why string) {
	for len(args) > 0 {
		prog := args[0]
		name := prog
		if strings.Contains(prog, "/") {
			name = filepath.Base(prog)
			if isWrapper(name) && !systemBin(filepath.Dir(prog)) && why == "" {
				why = "it runs " + prog + ", not an installed program"
			}
		}
		var next []string
		switch name {
		case "env":
			var ok bool
			next, ok = envArgs(args[1:], c)
			if !ok {
				if why == "" {
					why = "env runs its command in another way (-S, -C)"
				}
				c.unseen = true
			}
		case "timeout":
			next = skipOptions(args[1:], "sk", []string{"--signal", "--kill-after"})
			if len(next) > 0 {
				next = next[1:] // the duration
			}
		case "nice":
			next = skipOptions(args[1:], "n", []string{"--adjustment"})
		case "nohup", "builtin", "setsid":
			next = skipOptions(args[1:], "", nil)
		case "command":
			if len(args) > 1 && (args[1] == "-v" || args[1] == "-V") {
				return args, nil, why
			}
			next = skipOptions(args[1:], "", nil)
		case "exec":
			next = skipOptions(args[1:], "a", nil)
		case "time":
			next = args[1:]
			for len(next) > 0 && (next[0] == "-p" || next[0] == "--portability") {
				next = next[1:]
			}
			if len(next) > 0 && strings.HasPrefix(next[0], "-") {
				// time -o FILE writes: judged as the program it is.
				return args, nil, why
			}
		case "stdbuf":
			next = skipOptions(args[1:], "ioe", []string{"--input", "--output", "--error"})
		case "ionice":
			next = skipOptions(args[1:], "cnp", []string{"--class", "--classdata", "--pid"})
		case "sudo", "doas":
			next = skipOptions(args[1:], "ugCDhprtUTa", []string{"--user", "--group", "--chdir", "--host", "--prompt", "--role", "--type", "--other-user", "--command-timeout"})
			if why == "" {
				why = "it runs a command as another user"
			}
		case "xargs":
			cmd := skipOptions(args[1:], "aEeIiLlnPsd", []string{"--arg-file", "--eof", "--replace", "--max-lines", "--max-args", "--max-procs", "--max-chars", "--delimiter", "--process-slot-var"})
			if len(cmd) == 0 {
				cmd = []string{"echo"}
			}
			if why == "" {
				why = "xargs runs a command with arguments from its input"
			}
			return args[:len(args)-len(cmd)], cmd, why
		case "watch":
			next = skipOptions(args[1:], "nq", []string{"--interval", "--differences", "--chgexit", "--equexit"})
			if why == "" {
				why = "watch runs its arguments through a shell"
			}
		default:
			return args, nil, why
		}
		if len(next) == 0 {
			// A wrapper with nothing to run (env, nice) is itself.
			return args, nil, why
		}
		args = next
	}
	return args, nil, why
}

func isWrapper(name string) bool {
	switch name {
	case "env", "timeout", "nice", "nohup", "builtin", "setsid", "command", "exec", "time", "stdbuf", "ionice", "sudo", "doas", "xargs", "watch":
		return true
	}
	return false
}

// envArgs skips env's options and assignments, judging the variables it
// sets; ok is false when env runs its command otherwise than as given.
func envArgs(args []string, c *command) (rest []string, ok bool) {
	ok = true
	for i := 0; i < len(args); i++ {
		w := args[i]
		switch {
		case w == "--":
			return args[i+1:], ok
		case w == "-u" || w == "--unset":
			i++
		case strings.HasPrefix(w, "--unset=") || strings.HasPrefix(w, "-u"):
		case w == "-S" || w == "-C" || w == "--chdir" || w == "--split-string" ||
			strings.HasPrefix(w, "-S") || strings.HasPrefix(w, "-C") || strings.HasPrefix(w, "--chdir=") || strings.HasPrefix(w, "--split-string="):
			ok = false
			if w == "-S" || w == "-C" || w == "--chdir" || w == "--split-string" {
				i++
			}
		case strings.HasPrefix(w, "-"):
		case strings.Contains(w, "="):
			name, _, _ := strings.Cut(w, "=")
			if dangerousVar(name) && c.opaque == "" {
				c.opaque = "it sets " + name + " for the command"
			}
		default:
			return args[i:], ok
		}
	}
	return nil, ok
}

// skipOptions returns args after the leading options: those in short
// (one letter each) and long take a value, in the next word unless
// attached; "--" ends them.
func skipOptions(args []string, short string, long []string) []string {
	for i := 0; i < len(args); i++ {
		w := args[i]
		switch {
		case w == "--":
			return args[i+1:]
		case strings.HasPrefix(w, "--"):
			name, _, attached := strings.Cut(w, "=")
			for _, l := range long {
				if name == l && !attached {
					i++
				}
			}
		case strings.HasPrefix(w, "-") && len(w) > 1:
			if isDigits(w[1:]) {
				continue // nice -10
			}
			// The first letter that takes a value takes the rest of
			// the word, or the next word.
			for j := 1; j < len(w); j++ {
				if strings.IndexByte(short, w[j]) >= 0 {
					if j == len(w)-1 {
						i++
					}
					break
				}
			}
		default:
			return args[i:]
		}
	}
	return nil
}

// gitForms adds to c the form deny rules see of a git command without
// its global options: git -C . push is git push. Options that make git
// run other code or work on another repository (-c, -C, --git-dir,
// --work-tree, --exec-path, --config-env, -p, …) bar wildcard allow
// rules, so Bash(git:*) never covers git -c core.fsmonitor=… status;
// those that change only how it prints do not.
func gitForms(c *command) {
	args := c.args
	i := 1
	harmful := false
	for ; i < len(args); i++ {
		w := args[i]
		name, _, attached := strings.Cut(w, "=")
		switch name {
		case "--no-pager", "-P", "--no-replace-objects", "--literal-pathspecs", "--glob-pathspecs",
			"--noglob-pathspecs", "--icase-pathspecs", "--no-optional-locks", "--no-advice", "--no-lazy-fetch":
			continue
		case "-c", "-C":
			harmful = true
			i++
			continue
		case "--git-dir", "--work-tree", "--namespace", "--config-env", "--super-prefix", "--attr-source":
			harmful = true
			if !attached {
				i++
			}
			continue
		case "--exec-path", "-p", "--paginate", "--bare", "--list-cmds":
			harmful = true
			continue
		}
		if strings.HasPrefix(w, "-c") || strings.HasPrefix(w, "-C") {
			harmful = true
			continue
		}
		break
	}
	if i < len(args) && gitRunsCode(args[i:]) {
		// Bash(git:*) vouches for git, not for the commands a
		// subcommand runs (rebase -x, submodule foreach, --ext-diff).
		c.wild = false
	}
	if i == 1 {
		return
	}
	stripped := "git"
	if i < len(args) {
		stripped += " " + strings.Join(args[i:], " ")
	}
	c.forms = append(c.forms, stripped)
	if harmful {
		// -c alias.x=… can make any subcommand another one.
		c.wild, c.dynamic = false, true
	} else if args[0] == "git" || systemBin(filepath.Dir(args[0])) {
		c.allow = stripped
	}
}

// gitRunsCode reports whether a git subcommand, with its arguments,
// runs a command or program of the caller's choosing.
func gitRunsCode(sub []string) bool {
	switch sub[0] {
	case "difftool", "mergetool", "filter-branch", "filter-repo":
		return true
	case "submodule":
		return slices.Contains(sub, "foreach")
	case "bisect":
		return len(sub) > 1 && sub[1] == "run"
	}
	for _, w := range sub[1:] {
		name, _, _ := strings.Cut(w, "=")
		switch name {
		case "--ext-diff", "--upload-pack", "--receive-pack", "--exec", "--open-files-in-pager", "--textconv", "--config", "-c":
			return true
		case "-x", "-O":
			if sub[0] == "rebase" || sub[0] == "grep" || sub[0] == "cherry-pick" {
				return true
			}
		}
		if strings.HasPrefix(w, "-O") && sub[0] == "grep" {
			return true
		}
	}
	return false
}
