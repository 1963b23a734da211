package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/lathe-dev/lathe/internal/grep"
	"github.com/lathe-dev/lathe/internal/tool"
)

// The search figures: on Go's own source tree, ripgrep alone against the
// Grep tool counting matches per file with ripgrep and with its Go engine,
// and Glob against `rg --files` with the same filter. Each tool is run as
// a process, `lathe tool NAME ARGS`, so its figures include lathe's start;
// the Grep and Glob tools are also timed inside the bench's process, as a
// session runs it.

// searchPatterns are regexes whose matches are counted per file: one led
// by a literal, one with a literal inside, and a case-insensitive one.
var searchPatterns = []string{
	`func \(\w+ \*?\w+\) \w+\(ctx`,
	`\b[A-Z]\w*Error\(`,
	`(?i)deadline`,
}

// rgSearchFlags are the flags the Grep tool passes to ripgrep to count
// (see internal/grep/rg.go), but for how names are printed.
var rgSearchFlags = []string{
	"--count", "--no-config", "--no-mmap", "--hidden", "--no-ignore-global",
	"--no-messages", "--encoding", "none", "--glob", "!.git",
}

// rgTool is rgSearchFlags exactly as the tool runs ripgrep.
func rgTool() []string {
	return append(slices.Clone(rgSearchFlags), "--null", "--with-filename")
}

func rgFiles() []string {
	return []string{"--files", "--no-config", "--hidden", "--no-ignore-global", "--glob", "!.git", "--glob", globRG}
}

// globPattern is Glob's pattern and globRG the same filter for ripgrep.
const (
	globPattern = "**/*.go"
	globRG      = "*.go"
)

// timing is one run of a command: wall time, and the CPU time of it and
// its children, which a busy machine disturbs less.
type timing struct{ wall, cpu time.Duration }

// searchCase is a command to time, and what it printed; or a function,
// run in the bench's own process.
type searchCase struct {
	name string
	cmd  func() *exec.Cmd
	fn   func() error
	runs []timing
	out  []byte
}

func (c *searchCase) run() error {
	if c.fn != nil {
		return c.runFunc()
	}
	cmd := c.cmd()
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		return fmt.Errorf("%s: %v: %s", c.name, err, stderr.Bytes())
	}
	c.runs = append(c.runs, timing{wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()})
	c.out = out.Bytes()
	return nil
}

// runFunc times c.fn, with the CPU time of this process and of the
// children it waited for, such as ripgrep.
func (c *searchCase) runFunc() error {
	before := cpuTime()
	start := time.Now()
	if err := c.fn(); err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	c.runs = append(c.runs, timing{wall: time.Since(start), cpu: cpuTime() - before})
	return nil
}

func cpuTime() time.Duration {
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if err := syscall.Getrusage(who, &ru); err == nil {
			total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	return total
}

// inProcess runs the Grep tool's search as a session runs it, inside
// lathe's process, so without the start of a process for each call.
func inProcess(root, pattern, rg string) func() error {
	return func() error {
		_, err := grep.Search(context.Background(), grep.Options{Pattern: pattern, Path: root, RG: rg})
		return err
	}
}

// globInProcess runs the Glob tool as a session does, in its process.
func globInProcess(root, args string) func() error {
	glob := tool.NewGlob()
	return func() error {
		res, err := glob.Run(context.Background(), &tool.Env{Dir: root}, json.RawMessage(args))
		if err == nil && res.IsError {
			err = errors.New(res.Content)
		}
		return err
	}
}

func (c *searchCase) median() timing {
	return timing{
		wall: medianDur(c.runs, func(t timing) time.Duration { return t.wall }),
		cpu:  medianDur(c.runs, func(t timing) time.Duration { return t.cpu }),
	}
}

func medianDur(ts []timing, f func(timing) time.Duration) time.Duration {
	ds := make([]time.Duration, len(ts))
	for i, t := range ts {
		ds[i] = f(t)
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// benchSearch times the cases on GOROOT/src, runs times each, interleaved
// so that a change in the machine's load hits every case alike.
func benchSearch(bin, tmp string, runs int) error {
	rg, err := exec.LookPath("rg")
	if err != nil {
		return fmt.Errorf("the search bench needs ripgrep on PATH: %w", err)
	}
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return fmt.Errorf("go env GOROOT: %w", err)
	}
	root := filepath.Join(strings.TrimSpace(string(out)), "src")
	// A PATH without rg makes the Grep tool use its Go engine.
	noRG := filepath.Join(tmp, "no-rg")
	if err := os.MkdirAll(noRG, 0o755); err != nil {
		return err
	}
	tool := func(path, name, args string) func() *exec.Cmd {
		return func() *exec.Cmd {
			cmd := exec.Command(bin, "tool", name, args)
			cmd.Dir = root
			cmd.Env = []string{"PATH=" + path, "HOME=" + tmp, "XDG_CONFIG_HOME=" + filepath.Join(tmp, "config"), "XDG_STATE_HOME=" + filepath.Join(tmp, "state")}
			return cmd
		}
	}
	rgCmd := func(args ...string) func() *exec.Cmd {
		return func() *exec.Cmd {
			cmd := exec.Command(rg, args...)
			cmd.Dir = root
			return cmd
		}
	}
	files, dirs := countTree(root)
	fmt.Printf("## Search: %s (%d files, %d directories), %d runs each, medians\n\n", root, files, dirs, runs)

	type group struct {
		title   string
		cases   []*searchCase
		targets []string // for cases[1:], against cases[0]
	}
	var groups []group
	for _, p := range searchPatterns {
		args := fmt.Sprintf(`{"pattern":%q,"output_mode":"count","head_limit":0}`, p)
		groups = append(groups, group{
			title: fmt.Sprintf("Grep count `%s`", p),
			cases: []*searchCase{
				{name: "rg alone", cmd: rgCmd(append(slices.Clone(rgSearchFlags), "--regexp", p, ".")...)},
				{name: "… with --null, as the tool runs it", cmd: rgCmd(append(rgTool(), "--regexp", p, "--", root)...)},
				{name: "Grep tool, rg", cmd: tool(os.Getenv("PATH"), "Grep", args)},
				{name: "Grep tool, Go engine", cmd: tool(noRG, "Grep", args)},
				{name: "its search in a session's process, rg", fn: inProcess(root, p, rg)},
				{name: "its search in a session's process, Go engine", fn: inProcess(root, p, "")},
			},
			targets: []string{"", "≤ 1.1×", "≤ 2×", "≤ 1.1×", "≤ 2×"},
		})
	}
	groups = append(groups, group{
		title: fmt.Sprintf("Glob `%s`", globPattern),
		cases: []*searchCase{
			{name: "rg --files", cmd: rgCmd(rgFiles()...)},
			{name: "… --sortr modified, Glob's order", cmd: rgCmd(append(rgFiles(), "--sortr", "modified")...)},
			{name: "Glob tool", cmd: tool(noRG, "Glob", fmt.Sprintf(`{"pattern":%q}`, globPattern))},
			{name: "its search in a session's process", fn: globInProcess(root, fmt.Sprintf(`{"pattern":%q}`, globPattern))},
		},
		targets: []string{"", "≤ 1×", "≤ 1×"},
	})

	var all []*searchCase
	for _, g := range groups {
		all = append(all, g.cases...)
	}
	// One run of each first, not counted, to fill the page cache.
	for _, c := range all {
		if err := c.run(); err != nil {
			return err
		}
		c.runs = nil
	}
	for range runs {
		for _, c := range all {
			if err := c.run(); err != nil {
				return err
			}
		}
	}

	header("search", "case", "wall", "CPU (user+sys)", "wall ratio", "CPU ratio", "target")
	for _, g := range groups {
		base := g.cases[0].median()
		for i, c := range g.cases {
			m := c.median()
			ratioW, ratioC, target := "", "", ""
			if i > 0 {
				ratioW = fmt.Sprintf("%.2f×", m.wall.Seconds()/base.wall.Seconds())
				ratioC = fmt.Sprintf("%.2f×", m.cpu.Seconds()/base.cpu.Seconds())
				target = g.targets[i-1]
			}
			title := ""
			if i == 0 {
				title = g.title
			}
			row(title, c.name, secs(m.wall), secs(m.cpu), ratioW, ratioC, target)
		}
	}
	fmt.Println()
	for _, g := range groups[:len(searchPatterns)] {
		if !bytes.Equal(g.cases[2].out, g.cases[3].out) {
			fmt.Printf("**The engines disagree** on %s: see -keep.\n", g.title)
			_ = os.WriteFile(filepath.Join(tmp, "grep-rg.txt"), g.cases[2].out, 0o644)
			_ = os.WriteFile(filepath.Join(tmp, "grep-go.txt"), g.cases[3].out, 0o644)
		}
	}
	fmt.Printf("Both engines printed the same for every pattern unless said above; the last lines of the Go engine's: %q.\n\n",
		lastLine(groups[0].cases[3].out))
	return nil
}

func lastLine(b []byte) string {
	b = bytes.TrimSpace(b)
	return string(b[bytes.LastIndexByte(b, '\n')+1:])
}

// countTree counts the regular files and directories under root.
func countTree(root string) (files, dirs int) {
	_ = filepath.WalkDir(root, func(_ string, d os.DirEntry, err error) error {
		switch {
		case err != nil:
		case d.IsDir():
			dirs++
		case d.Type().IsRegular():
			files++
		}
		return nil
	})
	return files, dirs
}
