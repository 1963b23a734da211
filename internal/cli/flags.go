package cli

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/lathe-dev/lathe/internal/app"
)

// runFlags are the flags of a headless run.
type runFlags struct {
	print          bool
	outputFormat   string
	provider       string
	model          string
	permissionMode string
	then           string
	maxTurns       int
	maxBudgetUSD   float64
	maxDuration    time.Duration
	continueLast   bool
	resume         string
	repair         bool
	fork           bool
	verbose        bool
	partial        bool
	dir            string
	version        bool
	help           bool
	noAltScreen    bool
	// The permission flags; see permissionFlags.
	perm permissionFlags
	// images are the files --image attaches to the prompt.
	images listFlag

	// given records the flags on the command line, by their long name,
	// and conflict the first one given twice with two values.
	given    map[string]bool
	conflict error
}

// register defines the flags on fs. Every flag takes one value: given
// twice with different values, under either of its names, it is a usage
// error rather than the last one silently winning.
func (f *runFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.print, "p", false, "")
	fs.BoolVar(&f.print, "print", false, "")
	fs.StringVar(&f.outputFormat, "output-format", "text", "")
	fs.StringVar(&f.provider, "provider", "", "")
	fs.StringVar(&f.model, "model", "", "")
	fs.StringVar(&f.model, "m", "", "")
	fs.StringVar(&f.permissionMode, "permission-mode", "", "")
	fs.StringVar(&f.then, "then", "", "")
	fs.IntVar(&f.maxTurns, "max-turns", 0, "")
	fs.Float64Var(&f.maxBudgetUSD, "max-budget-usd", 0, "")
	fs.DurationVar(&f.maxDuration, "max-duration", 0, "")
	fs.BoolVar(&f.continueLast, "c", false, "")
	fs.BoolVar(&f.continueLast, "continue", false, "")
	fs.StringVar(&f.resume, "r", "", "")
	fs.StringVar(&f.resume, "resume", "", "")
	fs.BoolVar(&f.repair, "repair", false, "")
	fs.BoolVar(&f.fork, "fork-session", false, "")
	fs.BoolVar(&f.verbose, "verbose", false, "")
	fs.BoolVar(&f.partial, "include-partial-messages", false, "")
	fs.StringVar(&f.dir, "C", "", "")
	fs.StringVar(&f.dir, "cd", "", "")
	fs.BoolVar(&f.version, "version", false, "")
	fs.BoolVar(&f.version, "v", false, "")
	fs.BoolVar(&f.help, "help", false, "")
	fs.BoolVar(&f.help, "h", false, "")
	fs.BoolVar(&f.noAltScreen, "no-alt-screen", false, "")
	f.single(fs, [][2]string{
		{"p", "print"}, {"m", "model"}, {"c", "continue"}, {"r", "resume"},
		{"C", "cd"}, {"v", "version"}, {"h", "help"},
	})
	f.perm.register(fs)
	fs.Var(&f.images, "image", "")
	fs.Var(&f.images, "i", "")
}

// single wraps every flag of fs in a singleValue, sharing one between a
// flag's short and long names.
func (f *runFlags) single(fs *flag.FlagSet, aliases [][2]string) {
	f.given = map[string]bool{}
	long := map[string]string{}
	for _, a := range aliases {
		long[a[0]] = a[1]
	}
	byName := map[string]*singleValue{}
	fs.VisitAll(func(fl *flag.Flag) {
		name := cmp.Or(long[fl.Name], fl.Name)
		if byName[name] == nil {
			byName[name] = &singleValue{Value: fl.Value, name: name, f: f}
		}
		fl.Value = byName[name]
	})
}

// singleValue is a flag that may be given once, or again with the same
// value.
type singleValue struct {
	flag.Value
	name  string // the long name, for messages
	f     *runFlags
	first string // the value first given, as given
}

func (v *singleValue) Set(s string) error {
	if !v.f.given[v.name] {
		v.f.given[v.name] = true
		v.first = s
		return v.Value.Set(s)
	}
	was := v.Value.String()
	if err := v.Value.Set(s); err != nil {
		return err
	}
	if v.Value.String() != was {
		v.f.conflict = usagef("--%s given twice, as %q and as %q: give it once", v.name, v.first, s)
		return v.f.conflict
	}
	return nil
}

func (v *singleValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// check rejects values no run can have.
func (f *runFlags) check() error {
	switch {
	case f.given["max-turns"] && f.maxTurns < 0:
		return usagef("--max-turns %d: want 0 (no limit) or more", f.maxTurns)
	case f.given["max-budget-usd"] && (math.IsNaN(f.maxBudgetUSD) || math.IsInf(f.maxBudgetUSD, 0) || f.maxBudgetUSD < 0):
		return usagef("--max-budget-usd %v: want a finite number of dollars, 0 (no limit) or more", f.maxBudgetUSD)
	case f.given["max-duration"] && f.maxDuration < 0:
		return usagef("--max-duration %v: want a duration such as 30m, 0 (no limit) or more", f.maxDuration)
	}
	return nil
}

// parse parses args into f, and returns the positional arguments.
func (f *runFlags) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	pos, err := parseInterleaved(fs, args)
	switch {
	case f.conflict != nil:
		// The flag package flattens the error into its own message.
		return nil, f.conflict
	case err != nil:
		return nil, flagError(err)
	}
	return pos, f.check()
}

// parseInterleaved parses flags that may come before or after positional
// arguments, as users of Claude Code expect (`lathe "fix it" -p`). The
// standard flag package stops at the first positional argument, so parsing
// resumes after each one. Everything after "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var tail []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, tail = args[:i], args[i+1:]
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return append(pos, tail...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// usageError is an error in how lathe was called or configured, whether
// the flags or the session they ask for: exit code 2.
type usageError = app.UsageError

func usagef(format string, args ...any) error {
	return usageError{Msg: fmt.Sprintf(format, args...)}
}

func flagError(err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "flag provided but not defined: ")
	if msg != err.Error() {
		return usagef("unknown flag %s (see lathe --help)", msg)
	}
	return usagef("%v (see lathe --help)", err)
}
