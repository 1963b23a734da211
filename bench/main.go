// Command bench measures lathe against the fake model API: time from exec
// to the first model request, peak memory, the size of the prompt, the
// harness's own time between a response and the next request, and whether
// each request extends the last byte for byte, as prompt caching needs.
//
// It builds lathe as users do, times search on Go's source tree (ripgrep
// alone against the Grep tool with ripgrep and with its Go engine, and
// Glob against `rg --files`), runs the e2e pager task (read the failing
// tests, edit, re-run) in each API dialect, and a long session of
// generated turns over a repository of large files, then prints the
// figures as Markdown tables beside their targets:
//
//	go run ./bench [-search-runs 9] [-tasks=false] [-runs 5] [-short=false] [-long=false] [-turns 160]
//	    [-window 200000] [-budget N] [-cachesim PATH|off] [-lathe BINARY] [-keep]
//	go run ./bench -tui [-tui-idle 30s] [-tui-lines 100000] [-tui-turns 160] [-tui-keys-only] [-tools DIR] [-lathe BINARY] [-keep]
//
// The long session declares a 200k window and compacts; its figures are
// set against issue 8's targets, the prefix-cache ones by cachesim.py.
//
// With -tui it measures only the interactive UI, issue 9's "Speed" table:
// lathe in tmux panes and on a raw pty against the fake API, with the
// scripts of ../shared/tools (idletree.py, keylat_tmux.py, keylat.py).
//
// GODEBUG, GOGC and GOMEMLIMIT are passed on to lathe, for experiments.
//
// See bench/RESULTS.md for a run and how to read each figure.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// options are the command line.
type options struct {
	searchRuns int  // 0 skips the search figures
	tasks      bool // the pager task and the long session
	runs       int
	long       bool
	turns      int
	lathe      string // a prebuilt binary to measure instead of building one
	keep       bool
	shortTask  bool
	mode       string // the short task's permission mode
	window     int    // the long session's declared context window
	budget     int    // its compaction.budget; 0 keeps Lathe's default
	cachesim   string // cachesim.py, for the ideal prefix cache's figures
	tui        bool   // measure the interactive UI only
	tuiOpts    tuiOptions
}

func main() {
	var o options
	flag.IntVar(&o.searchRuns, "search-runs", 9, "runs of each search command; medians are reported; 0 skips search")
	flag.BoolVar(&o.tasks, "tasks", true, "run the pager task and the long session")
	flag.IntVar(&o.runs, "runs", 5, "runs of the short task per dialect; medians are reported")
	flag.BoolVar(&o.long, "long", true, "also run the long session")
	flag.IntVar(&o.turns, "turns", 160, "model turns of the long session")
	flag.StringVar(&o.lathe, "lathe", "", "measure this lathe `binary` instead of building ./cmd/lathe")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory: repositories, sessions, each run's stdout and stderr")
	flag.StringVar(&o.mode, "mode", "bypassPermissions", "permission `mode` of the short task (auto runs its commands in the sandbox, with checkpoints)")
	flag.IntVar(&o.window, "window", 200_000, "context `tokens` declared for the long session's model")
	flag.IntVar(&o.budget, "budget", 0, "the long session's compaction.budget in `tokens`; 0 keeps Lathe's default")
	flag.StringVar(&o.cachesim, "cachesim", "", "`path` of cachesim.py (default ../shared/tools/cachesim.py from the module root, if there); \"off\" skips it")
	flag.BoolVar(&o.shortTask, "short", true, "run the pager task (with -tasks)")
	flag.BoolVar(&o.tui, "tui", false, "measure the interactive UI only (issue 9's Speed table; needs tmux and python3)")
	flag.StringVar(&o.tuiOpts.tools, "tools", "", "`directory` of idletree.py, keylat_tmux.py and keylat.py (default ../shared/tools from the module root, or ../../shared/tools)")
	flag.DurationVar(&o.tuiOpts.idle, "tui-idle", 30*time.Second, "how long the UI's idle CPU is measured")
	flag.IntVar(&o.tuiOpts.lines, "tui-lines", 100_000, "transcript `lines` loaded for the long figures")
	flag.IntVar(&o.tuiOpts.turns, "tui-turns", 160, "prompts of the UI's RSS session")
	flag.IntVar(&o.tuiOpts.keys, "tui-keys", 100, "keystrokes per tmux latency figure")
	flag.IntVar(&o.tuiOpts.streams, "tui-streams", 3, "streamed replies per CPU figure")
	flag.IntVar(&o.tuiOpts.resizes, "tui-resizes", 20, "random resizes while streaming")
	flag.BoolVar(&o.tuiOpts.keysOnly, "tui-keys-only", false, "with -tui, measure only keystroke latency (tmux and raw pty, with `cat` beside)")
	flag.Parse()
	if err := bench(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func bench(o options) error {
	if o.runs < 1 || o.turns < 2 {
		return fmt.Errorf("need -runs 1 or more and -turns 2 or more")
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "lathe-bench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(os.Stderr, "bench: keeping", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	bin := o.lathe
	if bin == "" {
		bin = filepath.Join(tmp, "lathe")
		build := exec.Command("go", "build", "-o", bin, "./cmd/lathe")
		build.Dir = root
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("build lathe: %v\n%s", err, out)
		}
	}
	goEnv, err := goEnviron()
	if err != nil {
		return err
	}
	c, err := newCounter()
	if err != nil {
		return err
	}
	fi, err := os.Stat(bin)
	if err != nil {
		return err
	}
	fmt.Printf("lathe binary: %.1f MiB; bench built with %s, %s/%s, GOMAXPROCS %d\n\n",
		float64(fi.Size())/(1<<20), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))

	if o.tui {
		if o.tuiOpts.tools == "" {
			// ../shared/tools from /work/main, ../../shared/tools from a worktree under /work/wt.
			o.tuiOpts.tools = filepath.Join(root, "..", "shared", "tools")
			if p := filepath.Join(root, "..", "..", "shared", "tools"); !fileExists(o.tuiOpts.tools) && fileExists(p) {
				o.tuiOpts.tools = p
			}
		}
		return benchTUI(bin, tmp, c, o.tuiOpts)
	}
	if o.searchRuns > 0 {
		if err := benchSearch(bin, tmp, o.searchRuns); err != nil {
			return fmt.Errorf("search: %w", err)
		}
	}
	if !o.tasks {
		return nil
	}

	short := make([][]*metrics, len(dialects))
	for i, d := range dialects {
		if !o.shortTask {
			break
		}
		for r := range o.runs {
			dir := filepath.Join(tmp, fmt.Sprintf("%s-%d", d.name, r+1))
			script, err := pagerTask(root, d, filepath.Join(dir, "repo"))
			if err != nil {
				return err
			}
			j := &job{
				bin: bin, dir: filepath.Join(dir, "repo"), home: filepath.Join(dir, "home"), script: script, env: goEnv,
				args: append([]string{"-p", "--permission-mode", o.mode, "--output-format", "stream-json"}, append(d.flags, pagerPrompt)...),
			}
			t, m, err := measure(j, c, true)
			if err != nil {
				return fmt.Errorf("%s run %d: %w", d.name, r+1, err)
			}
			if o.keep {
				t.save(dir)
			}
			short[i] = append(short[i], m)
		}
	}
	if o.shortTask {
		printShort(short, o.runs)
	}

	if !o.long {
		return nil
	}
	dir := filepath.Join(tmp, "long")
	script, err := longTask(filepath.Join(dir, "repo"), o.turns)
	if err != nil {
		return err
	}
	// The fake fails any request over 0.85 × the window, in o200k tokens.
	sums := summaryScript(o.turns/4 + 4)
	script.MaxInputTokens, sums.MaxInputTokens = o.window*85/100, o.window*85/100
	j := &job{
		bin: bin, dir: filepath.Join(dir, "repo"), home: filepath.Join(dir, "home"), script: script,
		summaries: sums, tokens: tokenCounter(c),
		args: []string{"-p", "--permission-mode", "bypassPermissions", "--output-format", "stream-json",
			"--max-turns", fmt.Sprint(o.turns + 1), longPrompt},
	}
	if err := longConfig(j.home, o.window, o.budget); err != nil {
		return err
	}
	t, m, err := measure(j, c, false)
	if err != nil {
		return fmt.Errorf("long run: %w", err)
	}
	if o.keep {
		t.save(dir)
	}
	sim := o.cachesim
	if sim == "" {
		if p := filepath.Join(root, "..", "shared", "tools", "cachesim.py"); fileExists(p) {
			sim = p
		}
	} else if sim == "off" {
		sim = ""
	}
	lm, err := analyzeLong(t, m, c, sim, filepath.Join(dir, "cachesim"))
	if err != nil {
		return fmt.Errorf("long run: %w", err)
	}
	budget := "Lathe's default"
	if o.budget > 0 {
		budget = fmt.Sprint(o.budget)
	}
	fmt.Printf("Long session: window %d, compaction.budget %s.\n\n", o.window, budget)
	printLongCompaction(t, m, lm, o.window)
	printLong(t, m, c)
	return nil
}

// measure runs a job and analyzes its trace; whole also counts each
// request body's tokens whole, as a check on the faster sum of its parts.
func measure(j *job, c *counter, whole bool) (*trace, *metrics, error) {
	t, err := j.run()
	if err != nil {
		return nil, nil, err
	}
	m, err := analyze(t, c, whole)
	return t, m, err
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" || strings.TrimSpace(string(out)) == os.DevNull {
		return "", fmt.Errorf("run bench inside the lathe module: go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

// goEnviron is what the pager task's `go test` needs with a fresh HOME,
// as in the e2e tests: the caches, and no network.
func goEnviron() ([]string, error) {
	out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOROOT").Output()
	if err != nil {
		return nil, fmt.Errorf("go env: %w", err)
	}
	v := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(v) != 3 {
		return nil, fmt.Errorf("go env printed %q", out)
	}
	return []string{"GOCACHE=" + v[0], "GOMODCACHE=" + v[1], "GOROOT=" + v[2], "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOPROXY=off"}, nil
}
