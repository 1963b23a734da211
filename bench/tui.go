package main

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lathe-dev/lathe/internal/fakeapi"
)

// tuiOptions are the knobs of the interactive UI's figures (issue 9,
// "Speed"), measured through tmux and on a raw pty against the fake API.
type tuiOptions struct {
	tools   string        // the directory of idletree.py, keylat_tmux.py, keylat.py
	idle    time.Duration // how long idle CPU and wakeups are measured
	lines   int           // transcript lines loaded for the "long" figures
	turns   int           // prompts of the RSS session
	keys    int           // keystrokes per tmux latency figure
	streams int           // streamed replies per CPU figure
	resizes int
	// keysOnly measures only the keystroke rows (and `cat`'s beside
	// them), for iterating on input latency in a minute or two.
	keysOnly bool
}

// Pane sizes: issue 9's peers were measured in a 120×40 tmux pane.
const paneW, paneH = 120, 40

// tuiRun is one lathe UI in a tmux server of its own, against a fake API
// of its own.
type tuiRun struct {
	srv  *fakeapi.Server
	sock string // tmux -L name, as keylat_tmux.py takes it
	pid  int    // lathe's, the pane's process
	dir  string
}

var tuiRuns int

// tuiHome makes lathe's repository and home. Unless compact, its config
// never compacts: the 100k-line transcript is a million tokens of
// context, which no compaction could bring under the default budget, and
// those figures are the UI's, not compaction's.
func tuiHome(dir string, compact bool) (repo, home string, err error) {
	repo, home = filepath.Join(dir, "repo"), filepath.Join(dir, "home")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(filepath.Join(repo, "notes.txt"), []byte(strings.Repeat("a note to read\n", 200)), 0o644); err != nil {
		return "", "", err
	}
	if compact {
		return repo, home, os.MkdirAll(home, 0o755)
	}
	cfg := "[models.\"claude-sonnet-4-5\"]\ncontext_window = 10000000\n\n[compaction]\nauto = false\n"
	return repo, home, writeFile(filepath.Join(home, "config", "lathe", "config.toml"), []byte(cfg))
}

// startTUI starts lathe (with args) in a w×h tmux pane in dir, its
// repository dir/repo and home dir/home, against a fake serving script.
func startTUI(bin, dir string, script *fakeapi.Script, w, h int, args ...string) (*tuiRun, error) {
	// Only a script that answers compaction's summary request compacts.
	repo, home, err := tuiHome(dir, len(script.Standing) > 0)
	if err != nil {
		return nil, err
	}
	// remain-on-exit keeps the pane, and its scrollback, after lathe exits.
	conf := filepath.Join(dir, "tmux.conf")
	if err := os.WriteFile(conf, []byte("set -g remain-on-exit on\nset -g history-limit 200000\n"), 0o644); err != nil {
		return nil, err
	}
	tuiRuns++
	r := &tuiRun{srv: fakeapi.NewServer(script), sock: fmt.Sprintf("lathe-bench-%d-%d", os.Getpid(), tuiRuns), dir: dir}
	a := []string{"-f", conf, "new-session", "-d", "-s", "b", "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), "-c", repo, "-e", "TERM=xterm-256color"}
	for _, kv := range latheEnv(home, r.srv.URL()) {
		a = append(a, "-e", kv)
	}
	a = append(a, append([]string{bin, "--permission-mode", "bypassPermissions"}, args...)...)
	if _, err := r.tmux(a...); err != nil {
		r.close()
		return nil, err
	}
	out, err := r.tmux("display-message", "-p", "-t", "b", "#{pane_pid}")
	if err == nil {
		r.pid, err = strconv.Atoi(strings.TrimSpace(out))
	}
	if err != nil {
		r.close()
		return nil, fmt.Errorf("pane pid: %v", err)
	}
	// The status line is up; it starts with the model.
	if _, err := r.waitScreen(30*time.Second, func(s string) bool { return strings.Contains(s, "claude") }); err != nil {
		r.close()
		return nil, fmt.Errorf("start: %w", err)
	}
	return r, nil
}

func (r *tuiRun) tmux(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-L", r.sock}, args...)...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func (r *tuiRun) close() {
	_, _ = r.tmux("kill-server")
	r.srv.Close()
}

func (r *tuiRun) screen() (string, error) { return r.tmux("capture-pane", "-p", "-t", "b") }

// waitScreen polls the pane until done accepts it.
func (r *tuiRun) waitScreen(limit time.Duration, done func(string) bool) (string, error) {
	end := time.Now().Add(limit)
	for {
		s, err := r.screen()
		if err != nil {
			return "", err
		}
		if done(s) {
			return s, nil
		}
		if time.Now().After(end) {
			return s, fmt.Errorf("screen not as expected after %v:\n%s", limit, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// prompt types text, sends it and waits until the turn has ended: mark is
// on screen and the status line no longer says "working".
func (r *tuiRun) prompt(text, mark string, limit time.Duration) error {
	if _, err := r.tmux("send-keys", "-t", "b", "-l", text); err != nil {
		return err
	}
	if _, err := r.tmux("send-keys", "-t", "b", "Enter"); err != nil {
		return err
	}
	_, err := r.waitScreen(limit, func(s string) bool { return strings.Contains(s, mark) && !strings.Contains(s, "working") })
	return err
}

// quit presses Ctrl+C twice and waits for lathe to exit.
func (r *tuiRun) quit() error {
	for range 2 {
		if _, err := r.tmux("send-keys", "-t", "b", "C-c"); err != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond) // two presses, not one chord
	}
	end := time.Now().Add(30 * time.Second)
	for time.Now().Before(end) {
		out, err := r.tmux("display-message", "-p", "-t", "b", "#{pane_dead}")
		if err != nil {
			return err
		}
		if strings.TrimSpace(out) == "1" {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("lathe did not exit after Ctrl+C twice")
}

// Script pieces. Words avoid the letters keylat types (QXZJKVWY), so that
// a redraw of the transcript never passes for a keystroke's echo.
var fillWords = strings.Fields("alpha beta gamma delta epsilon theta iota lambda mu nu omicron pi rho sigma tau upsilon phi chi psi omega")

// paragraphs is n lines of Markdown text, in paragraphs of ten lines, the
// i-th line numbered so that a line shown twice can be told.
func paragraphs(tag string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s line %06d %s %s %s %s\n", tag, i, fillWords[i%len(fillWords)], fillWords[(i*7)%len(fillWords)], fillWords[(i*3)%len(fillWords)], fillWords[(i*11)%len(fillWords)])
		if i%10 == 9 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// taskSteps is a small task: a Read, then an answer ending with mark.
func taskSteps(mark string) []fakeapi.Step {
	return []fakeapi.Step{
		{Reply: &fakeapi.Reply{Text: "Reading the notes.", ToolCalls: []fakeapi.ToolCall{{Name: "Read", Input: []byte(`{"file_path": "notes.txt"}`)}}}},
		{Reply: &fakeapi.Reply{Text: paragraphs("note", 20) + mark}},
	}
}

// streamReply streams lines of text in deltas of about two lines, one
// every deltaMS: a model's pace.
func streamReply(tag string, lines, deltaMS int) *fakeapi.Reply {
	return &fakeapi.Reply{Text: paragraphs(tag, lines) + "end of " + tag, TextDeltas: lines / 2, DeltaMS: deltaMS}
}

// idleFigures is what idletree.py and the pane's output say of a run
// left alone.
type idleFigures struct {
	line      string // idletree.py's own
	cpuMS     float64
	wakeups   float64
	bytes10s  int64
	rssMB     float64
	haveBytes bool
}

var idleRE = regexp.MustCompile(`cpu=(\d+)ms .* wakeups=(\d+)/s tree_rss=(\d+)MB`)

// idle measures the pane's process tree for o.idle with idletree.py, and
// the bytes written to the pane during its first 10 s (tmux pipe-pane).
func (r *tuiRun) idle(o tuiOptions) (idleFigures, error) {
	var f idleFigures
	py := exec.Command("python3", filepath.Join(o.tools, "idletree.py"), strconv.Itoa(r.pid), fmt.Sprint(o.idle.Seconds()))
	var out bytes.Buffer
	py.Stdout, py.Stderr = &out, &out
	if err := py.Start(); err != nil {
		return f, err
	}
	pipe := filepath.Join(r.dir, "idle-output")
	if _, err := r.tmux("pipe-pane", "-t", "b", "cat > "+pipe); err != nil {
		return f, err
	}
	time.Sleep(10 * time.Second)
	if _, err := r.tmux("pipe-pane", "-t", "b"); err != nil {
		return f, err
	}
	if err := py.Wait(); err != nil {
		return f, fmt.Errorf("idletree.py: %v: %s", err, out.Bytes())
	}
	f.line = strings.TrimSpace(out.String())
	m := idleRE.FindStringSubmatch(f.line)
	if m == nil {
		return f, fmt.Errorf("idletree.py printed %q", f.line)
	}
	f.cpuMS, _ = strconv.ParseFloat(m[1], 64)
	f.wakeups, _ = strconv.ParseFloat(m[2], 64)
	f.rssMB, _ = strconv.ParseFloat(m[3], 64)
	if fi, err := os.Stat(pipe); err == nil {
		f.bytes10s, f.haveBytes = fi.Size(), true
	}
	return f, nil
}

// keylatTmux runs keylat_tmux.py on the pane: its p50, p90 and max.
func (r *tuiRun) keylatTmux(o tuiOptions) (line string, err error) {
	out, err := exec.Command("python3", filepath.Join(o.tools, "keylat_tmux.py"), "-L", r.sock, "b", strconv.Itoa(o.keys)).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("keylat_tmux.py: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// catBaseline is keylat_tmux.py on `cat` in a pane like lathe's, and
// keylat.py on `cat`: what the machine's load and tmux cost before lathe
// does anything.
func catBaseline(dir string, o tuiOptions) (tmuxLine, rawLine string, err error) {
	tuiRuns++
	r := &tuiRun{srv: fakeapi.NewServer(&fakeapi.Script{}), sock: fmt.Sprintf("lathe-bench-%d-%d", os.Getpid(), tuiRuns), dir: dir}
	defer r.close()
	if _, err := r.tmux("-f", "/dev/null", "new-session", "-d", "-s", "b", "-x", strconv.Itoa(paneW), "-y", strconv.Itoa(paneH), "cat"); err != nil {
		return "", "", err
	}
	if tmuxLine, err = r.keylatTmux(o); err != nil {
		return "", "", err
	}
	out, err := exec.Command("python3", filepath.Join(o.tools, "keylat.py"), "--", "cat").CombinedOutput()
	if err != nil {
		return "", "", fmt.Errorf("keylat.py cat: %v: %s", err, out)
	}
	return tmuxLine, strings.TrimSpace(string(out)), nil
}

// cpuTicks is the process's user and system time, its reaped children's
// included, in clock ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	var sum int64
	for _, k := range []int{11, 12, 13, 14} {
		v, err := strconv.ParseInt(f[k], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %v", pid, err)
		}
		sum += v
	}
	return sum, nil
}

// ticksMS is the length of a clock tick: USER_HZ is 100 on Linux.
const ticksMS = 10

// streamCPU prompts for a streamed reply and returns lathe's CPU time in
// ms for it, from Enter to the end of the turn.
func (r *tuiRun) streamCPU(text, mark string) (float64, error) {
	t0, err := cpuTicks(r.pid)
	if err != nil {
		return 0, err
	}
	if err := r.prompt(text, mark, 5*time.Minute); err != nil {
		return 0, err
	}
	t1, err := cpuTicks(r.pid)
	return float64(t1-t0) * ticksMS, err
}

// rssKB reads VmRSS of pid.
func rssKB(pid int) (int64, error) {
	s, ok := readStatus(fmt.Sprintf("/proc/%d/status", pid))
	if !ok {
		return 0, fmt.Errorf("no /proc/%d/status", pid)
	}
	return s.rss, nil
}

// tuiFigures are the results, for the report.
type tuiFigures struct {
	idle0, idleLong        idleFigures
	fillTime               time.Duration
	keylat0, keylatLong    string
	raw0, rawLong          rawFigures
	rawPy0                 string
	catTmux, catRaw        string    // the same measures of `cat`
	stream0, streamLong    []float64 // CPU ms per 1k tokens
	streamTokens           int
	rss                    []int64 // KiB after each prompt
	rssSlope               float64
	summaries              int // compactions in the RSS session
	resizeSame             bool
	resizeDiff             string
	resizeW, resizeH       int
	twiceAfter, twiceFresh int
	scrollLines            int
	loadBefore, loadAfter  string
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// benchTUI measures issue 9's Speed table and prints it.
func benchTUI(bin, tmp string, c *counter, o tuiOptions) error {
	var fig tuiFigures
	fig.loadBefore = loadavg()
	var err error
	if fig.catTmux, fig.catRaw, err = catBaseline(tmp, o); err != nil {
		return fmt.Errorf("cat: %w", err)
	}
	fmt.Fprintln(os.Stderr, "bench: tui: idle, latency and streaming at 0 lines")
	streams := func(tag string) []fakeapi.Step {
		var s []fakeapi.Step
		for i := range o.streams {
			s = append(s, fakeapi.Step{Reply: streamReply(fmt.Sprintf("%s%d", tag, i), 400, 5)})
		}
		return s
	}
	fig.streamTokens = c.count(streamReply("stream0", 400, 5).Text)
	// The same UI at 0 lines and with o.lines loaded.
	for _, long := range []bool{false, true} {
		steps := taskSteps("notes read")
		if long {
			steps = append(steps, fakeapi.Step{Reply: &fakeapi.Reply{Text: paragraphs("fill", o.lines) + "fill finished", TextDeltas: 100}})
		}
		if !o.keysOnly {
			steps = append(steps, streams("stream")...)
		}
		name := map[bool]string{false: "tui-0", true: "tui-long"}[long]
		r, err := startTUI(bin, filepath.Join(tmp, name), &fakeapi.Script{Steps: steps}, paneW, paneH)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		err = fig.measureUI(r, o, long, c)
		r.close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	fmt.Fprintln(os.Stderr, "bench: tui: raw pty")
	if fig.raw0, fig.rawPy0, err = rawRun(bin, filepath.Join(tmp, "raw-0"), o, 0); err != nil {
		return fmt.Errorf("raw pty: %w", err)
	}
	if fig.rawLong, _, err = rawRun(bin, filepath.Join(tmp, "raw-long"), o, o.lines); err != nil {
		return fmt.Errorf("raw pty, %d lines: %w", o.lines, err)
	}
	if o.keysOnly {
		fig.loadAfter = loadavg()
		fig.printHeader(o)
		fig.printKeys(o)
		return nil
	}
	fmt.Fprintln(os.Stderr, "bench: tui: RSS over", o.turns, "prompts")
	if err := fig.rssRun(bin, filepath.Join(tmp, "rss"), o); err != nil {
		return fmt.Errorf("rss: %w", err)
	}
	fmt.Fprintln(os.Stderr, "bench: tui: resizes while streaming")
	if err := fig.resizeRun(bin, filepath.Join(tmp, "resize"), o); err != nil {
		return fmt.Errorf("resize: %w", err)
	}
	fig.loadAfter = loadavg()
	fig.print(o)
	return nil
}

func (fig *tuiFigures) measureUI(r *tuiRun, o tuiOptions, long bool, c *counter) error {
	if err := r.prompt("read the notes", "notes read", 2*time.Minute); err != nil {
		return err
	}
	if long {
		start := time.Now()
		if err := r.prompt("fill", "fill finished", 10*time.Minute); err != nil {
			return err
		}
		fig.fillTime = time.Since(start)
	}
	time.Sleep(time.Second) // the last frame is out
	var idle idleFigures
	if !o.keysOnly {
		var err error
		if idle, err = r.idle(o); err != nil {
			return err
		}
	}
	lat, err := r.keylatTmux(o)
	if err != nil {
		return err
	}
	var per []float64
	for i := range o.streams {
		if o.keysOnly {
			break
		}
		tag := fmt.Sprintf("stream%d", i)
		ms, err := r.streamCPU("go on", "end of "+tag)
		if err != nil {
			return err
		}
		per = append(per, ms*1000/float64(fig.streamTokens))
	}
	if long {
		fig.idleLong, fig.keylatLong, fig.streamLong = idle, lat, per
	} else {
		fig.idle0, fig.keylat0, fig.stream0 = idle, lat, per
	}
	return nil
}

// rssRun sends o.turns prompts, each a small task, and reads lathe's RSS
// after each.
func (fig *tuiFigures) rssRun(bin, dir string, o tuiOptions) error {
	var steps []fakeapi.Step
	for i := range o.turns {
		steps = append(steps, taskSteps(fmt.Sprintf("turn %d finished", i))...)
	}
	// This session compacts as Lathe does by default, so that what grows
	// is the UI's and not the conversation's.
	summary := fakeapi.StandingStep{Match: summaryMarker, Step: fakeapi.Step{Reply: &fakeapi.Reply{Text: summaryText}}}
	r, err := startTUI(bin, dir, &fakeapi.Script{Steps: steps, Standing: []fakeapi.StandingStep{summary}}, paneW, paneH)
	if err != nil {
		return err
	}
	defer r.close()
	for i := range o.turns {
		if err := r.prompt(fmt.Sprintf("task %d", i), fmt.Sprintf("turn %d finished", i), 2*time.Minute); err != nil {
			return fmt.Errorf("prompt %d: %w", i, err)
		}
		kb, err := rssKB(r.pid)
		if err != nil {
			return err
		}
		fig.rss = append(fig.rss, kb)
	}
	fig.rssSlope = slopePer100(fig.rss, 20)
	fig.summaries = len(r.srv.Requests()) - 2*o.turns
	return nil
}

// slopePer100 fits a line to the samples from index from on and returns
// its slope in MiB per 100 samples.
func slopePer100(kb []int64, from int) float64 {
	if len(kb)-from < 2 {
		return math.NaN()
	}
	var mx, my float64
	n := float64(len(kb) - from)
	for i := from; i < len(kb); i++ {
		mx, my = mx+float64(i), my+float64(kb[i])/1024
	}
	mx, my = mx/n, my/n
	var num, den float64
	for i := from; i < len(kb); i++ {
		num += (float64(i) - mx) * (float64(kb[i])/1024 - my)
		den += (float64(i) - mx) * (float64(i) - mx)
	}
	return 100 * num / den
}

// resizeRun streams a reply while resizing the pane at random 20 times,
// then compares the screen with a fresh lathe's at the final size after
// the same conversation, and after both exit counts the reply's lines
// printed to the scrollback more than once.
func (fig *tuiFigures) resizeRun(bin, dir string, o tuiOptions) error {
	script := func() *fakeapi.Script {
		return &fakeapi.Script{Steps: append(taskSteps("notes read"), fakeapi.Step{Reply: streamReply("resize", 300, 10)})}
	}
	rng := rand.New(rand.NewPCG(9, 9))
	w, h := 0, 0
	var screens [2]string
	var twice [2]int
	for k, fresh := range []bool{false, true} {
		pw, ph := paneW, paneH
		if fresh {
			pw, ph = w, h
		}
		r, err := startTUI(bin, filepath.Join(dir, map[bool]string{false: "resized", true: "fresh"}[fresh]), script(), pw, ph)
		if err != nil {
			return err
		}
		err = func() error {
			if err := r.prompt("read the notes", "notes read", 2*time.Minute); err != nil {
				return err
			}
			if _, err := r.tmux("send-keys", "-t", "b", "-l", "stream it"); err != nil {
				return err
			}
			if _, err := r.tmux("send-keys", "-t", "b", "Enter"); err != nil {
				return err
			}
			if !fresh {
				if _, err := r.waitScreen(time.Minute, func(s string) bool { return strings.Contains(s, "resize line 0000") }); err != nil {
					return err
				}
				for range o.resizes {
					w, h = 40+rng.IntN(140), 12+rng.IntN(40)
					if _, err := r.tmux("resize-window", "-t", "b", "-x", strconv.Itoa(w), "-y", strconv.Itoa(h)); err != nil {
						return err
					}
					time.Sleep(time.Duration(20+rng.IntN(80)) * time.Millisecond)
				}
			}
			s, err := r.waitScreen(5*time.Minute, func(s string) bool { return strings.Contains(s, "end of resize") && !strings.Contains(s, "working") })
			if err != nil {
				return err
			}
			screens[k] = s
			if err := r.quit(); err != nil {
				return err
			}
			all, err := r.tmux("capture-pane", "-p", "-t", "b", "-S", "-", "-E", "-")
			if err != nil {
				return err
			}
			_ = os.WriteFile(filepath.Join(r.dir, "scrollback.txt"), []byte(all), 0o644)
			seen := map[string]int{}
			for l := range strings.Lines(all) {
				if strings.Contains(l, "resize line ") || strings.Contains(l, "note line ") {
					seen[strings.TrimSpace(l)]++
				}
			}
			for _, n := range seen {
				if n > 1 {
					twice[k]++
				}
			}
			if !fresh {
				fig.scrollLines = len(seen)
			}
			return nil
		}()
		r.close()
		if err != nil {
			return err
		}
	}
	fig.resizeW, fig.resizeH = w, h
	fig.twiceAfter, fig.twiceFresh = twice[0], twice[1]
	fig.resizeSame = screens[0] == screens[1]
	if !fig.resizeSame {
		a, b := strings.Split(screens[0], "\n"), strings.Split(screens[1], "\n")
		n := 0
		for i := range max(len(a), len(b)) {
			if i >= len(a) || i >= len(b) || a[i] != b[i] {
				n++
			}
		}
		fig.resizeDiff = fmt.Sprintf("%d of %d rows differ", n, max(len(a), len(b)))
		_ = os.WriteFile(filepath.Join(dir, "screen-resized.txt"), []byte(screens[0]), 0o644)
		_ = os.WriteFile(filepath.Join(dir, "screen-fresh.txt"), []byte(screens[1]), 0o644)
	}
	return nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func floats(v []float64, format string) string {
	var s []string
	for _, x := range v {
		s = append(s, fmt.Sprintf(format, x))
	}
	return strings.Join(s, ", ")
}

func (fig *tuiFigures) printHeader(o tuiOptions) {
	fmt.Printf("### Interactive UI (issue 9, \"Speed\"): %d×%d tmux pane, fake API in-process\n\n", paneW, paneH)
	fmt.Printf("Load average %s before, %s after. Long transcript: %d lines of Markdown paragraphs (loaded in %.1f s).\n\n",
		fig.loadBefore, fig.loadAfter, o.lines, fig.fillTime.Seconds())
	header("metric", "target", "0 lines", fmt.Sprintf("%d lines", o.lines))
}

// printKeys prints the keystroke rows of the table, and `cat`'s.
func (fig *tuiFigures) printKeys(o tuiOptions) {
	row(fmt.Sprintf("keystroke → screen through tmux (keylat_tmux.py, %d keys)", o.keys), "p50 ≤ 6.5 ms, p99 ≤ 16 ms", fig.keylat0, fig.keylatLong)
	row("keystroke → first byte, raw pty (80 keys)", "p50 ≤ 2 ms", fig.raw0.String(), fig.rawLong.String())
	row("the same with keylat.py (no transcript loaded)", "", fig.rawPy0, "")
	row("`cat` in the same tmux; `cat` on a raw pty (keylat.py)", "", fig.catTmux, fig.catRaw)
}

func (fig *tuiFigures) print(o tuiOptions) {
	fig.printHeader(o)
	idle := func(f idleFigures) string {
		return fmt.Sprintf("%.0f ms CPU in %.0f s (%.2f %%), %.0f wakeups/s, tree RSS %.0f MB", f.cpuMS, o.idle.Seconds(), f.cpuMS/(o.idle.Seconds()*10), f.wakeups, f.rssMB)
	}
	row("CPU at idle after a finished turn (idletree.py)", "≤ 10 ms in 30 s, ≤ 1 wakeup/s", idle(fig.idle0), idle(fig.idleLong))
	b := func(f idleFigures) string {
		if !f.haveBytes {
			return "not measured"
		}
		return fmt.Sprintf("%d B", f.bytes10s)
	}
	row("bytes to the pane over 10 s idle (tmux pipe-pane)", "0", b(fig.idle0), b(fig.idleLong))
	row("bytes to a raw pty over 10 s idle", "0", fmt.Sprintf("%d B", fig.raw0.idleBytes), fmt.Sprintf("%d B", fig.rawLong.idleBytes))
	fig.printKeys(o)
	row(fmt.Sprintf("CPU per 1k streamed tokens (%d tokens in %d paced deltas; runs)", fig.streamTokens, 200),
		"long ≤ 1.2× 0 lines", floats(fig.stream0, "%.0f ms"), fmt.Sprintf("%s (median %.2f× that at 0 lines)", floats(fig.streamLong, "%.0f ms"), median(fig.streamLong)/median(fig.stream0)))
	fmt.Println()
	last := float64(fig.rss[len(fig.rss)-1]) / 1024
	fmt.Printf("RSS after each of %d prompts (a Read and a 20-line answer each): after 1: %.1f MiB; after 20: %.1f MiB; after %d: %.1f MiB (target ≤ 60 MB); slope from prompt 20 (least squares): %+.2f MiB per 100 (target ≤ 1 MB); %d compactions.\n\n",
		len(fig.rss), float64(fig.rss[0])/1024, float64(fig.rss[min(19, len(fig.rss)-1)])/1024, len(fig.rss), last, fig.rssSlope, fig.summaries)
	same := "equal"
	if !fig.resizeSame {
		same = "NOT equal: " + fig.resizeDiff
	}
	fmt.Printf("%d random resizes while streaming, final size %d×%d: the screen at the end is %s to a fresh lathe's at that size after the same conversation; after exit, %d of %d distinct transcript lines are in the scrollback more than once (fresh run: %d).\n\n",
		o.resizes, fig.resizeW, fig.resizeH, same, fig.twiceAfter, fig.scrollLines, fig.twiceFresh)
}
