package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lathe-dev/lathe/internal/fakeapi"
)

// job is one lathe run to measure.
type job struct {
	bin    string
	dir    string // the task repository, lathe's working directory
	home   string
	args   []string
	env    []string // extra environment, e.g. for go test
	script *fakeapi.Script
	// summaries, if set, answers the compaction summary requests, which
	// then go to a server of their own (see [router]).
	summaries *fakeapi.Script
	// tokens, if set, is how the fake counts a request's input tokens.
	tokens func([]byte) int
}

// line is one stream-json event and when the bench read it.
type line struct {
	at   time.Time
	data []byte
}

// sample is one reading of /proc/PID/status, sizes in KiB.
type sample struct {
	at                   time.Time
	rss, hwm, anon, file int64
}

// trace is everything measured in one run.
type trace struct {
	start  time.Time // just before exec
	exited time.Time
	// reqs are the session's requests; all adds the summary requests,
	// in arrival order, isSummary marking them, and rebased marks the
	// session requests (by index in reqs) that follow a compaction.
	reqs      []fakeapi.Request
	all       []fakeapi.Request
	isSummary []bool
	rebased   map[int]bool
	failures  []string
	lines     []line
	samples   []sample
	exitCode  int
	stderr    string
}

// sampleEvery is how often /proc/PID/status is read.
const sampleEvery = 5 * time.Millisecond

func (j *job) run() (*trace, error) {
	var opts []fakeapi.Option
	if j.tokens != nil {
		opts = append(opts, fakeapi.WithTokenCounter(j.tokens))
	}
	srv := fakeapi.NewServer(j.script, opts...)
	defer srv.Close()
	url := srv.URL()
	var sums *fakeapi.Server
	var rt *router
	if j.summaries != nil {
		sums = fakeapi.NewServer(j.summaries, opts...)
		defer sums.Close()
		var err error
		if rt, err = newRouter(srv, sums); err != nil {
			return nil, err
		}
		defer rt.Close()
		url = rt.url
	}
	cmd := exec.Command(j.bin, j.args...)
	cmd.Dir = j.dir
	cmd.Env = append(latheEnv(j.home, url), j.env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	t := &trace{start: time.Now()}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := make(chan struct{})
	sampled := make(chan []sample)
	go func() { sampled <- poll(cmd.Process.Pid, stop) }()
	t.lines = readLines(stdout)
	err = cmd.Wait()
	t.exited = time.Now()
	close(stop)
	t.samples = <-sampled
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return nil, err
	}
	t.exitCode = cmd.ProcessState.ExitCode()
	t.stderr = stderr.String()
	t.reqs = srv.Requests()
	t.failures = srv.Failures()
	t.all, t.isSummary = t.reqs, make([]bool, len(t.reqs))
	if rt != nil {
		t.all, t.isSummary = rt.merge(t.reqs, sums.Requests())
		t.failures = append(t.failures, summaryFailures(sums.Failures())...)
		// The session's requests keep the router's stamps too.
		t.reqs = nil
		t.rebased = map[int]bool{}
		for i, r := range t.all {
			if t.isSummary[i] {
				continue
			}
			if i > 0 && t.isSummary[i-1] {
				t.rebased[len(t.reqs)] = true
			}
			t.reqs = append(t.reqs, r)
		}
	}
	return t, nil
}

// latheEnv is the environment lathe runs in: a home of its own, both
// APIs at the fake's url, and the Go runtime's knobs passed on.
func latheEnv(home, url string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_STATE_HOME=" + filepath.Join(home, "state"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
		"ANTHROPIC_BASE_URL=" + url,
		"ANTHROPIC_API_KEY=sk-ant-bench",
		"OPENAI_BASE_URL=" + url + "/v1",
		"OPENAI_API_KEY=sk-bench",
	}
	for _, k := range []string{"GODEBUG", "GOGC", "GOMEMLIMIT"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// save writes lathe's stdout and stderr to dir, for a closer look.
func (t *trace) save(dir string) {
	var out bytes.Buffer
	for _, l := range t.lines {
		out.Write(l.data)
	}
	// Best effort: the figures are already taken.
	_ = os.WriteFile(filepath.Join(dir, "lathe.jsonl"), out.Bytes(), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "lathe.stderr"), []byte(t.stderr), 0o644)
}

// readLines reads stdout to its end, stamping each line as it arrives. The
// lines are parsed later, so that reading keeps up with lathe.
func readLines(r io.Reader) []line {
	var out []line
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		b, err := br.ReadBytes('\n')
		if len(b) > 0 {
			out = append(out, line{at: time.Now(), data: b})
		}
		if err != nil {
			return out
		}
	}
}

// poll reads /proc/PID/status until stop is closed or the process is gone.
// VmHWM there is lathe's own peak RSS, and it never falls, so the last
// sample holds the peak up to sampleEvery before exit. wait4's ru_maxrss
// cannot stand in for it: it covers reaped children too, and a child that
// Go starts (vfork, then exec) inherits the parent's peak RSS at exec, so
// it would report at least the bench's own memory.
func poll(pid int, stop <-chan struct{}) []sample {
	path := fmt.Sprintf("/proc/%d/status", pid)
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	var out []sample
	for {
		if s, ok := readStatus(path); ok {
			out = append(out, s)
		}
		select {
		case <-stop:
			return out
		case <-tick.C:
		}
	}
}

// readStatus reads the memory lines of a status file; a zombie has none.
func readStatus(path string) (sample, bool) {
	data, err := os.ReadFile(path)
	s := sample{at: time.Now()}
	if err != nil {
		return s, false
	}
	fields := map[string]*int64{"VmRSS:": &s.rss, "VmHWM:": &s.hwm, "RssAnon:": &s.anon, "RssFile:": &s.file}
	for l := range strings.Lines(string(data)) {
		if f := strings.Fields(l); len(f) >= 2 && fields[f[0]] != nil {
			*fields[f[0]], _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	return s, s.hwm > 0
}

// event is the part of a stream-json event the bench reads.
type event struct {
	at         time.Time
	Type       string `json:"type"`
	Turn       int    `json:"turn"`
	Name       string `json:"name"`
	IsError    bool   `json:"is_error"`
	DurationMS int64  `json:"duration_ms"`
	Usage      *struct {
		Input      int64 `json:"input_tokens"`
		CacheRead  int64 `json:"cache_read_tokens"`
		CacheWrite int64 `json:"cache_write_tokens"`
		Output     int64 `json:"output_tokens"`
	} `json:"usage"`
	Outcome      string `json:"outcome"`
	TokensBefore int    `json:"tokens_before"`
	TokensAfter  int    `json:"tokens_after"`
	LedgerOnly   bool   `json:"ledger_only"`
	Turns        int    `json:"turns"`
	Error        string `json:"error"`
}

func (t *trace) events() ([]event, error) {
	out := make([]event, 0, len(t.lines))
	for _, l := range t.lines {
		e := event{at: l.at}
		if err := json.Unmarshal(l.data, &e); err != nil {
			return nil, fmt.Errorf("stream-json line %q: %w", clip(l.data, 80), err)
		}
		out = append(out, e)
	}
	return out, nil
}

func clip(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
