package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/lathe-dev/lathe/internal/fakeapi"
)

// summaryMarker begins the user message with which internal/compact asks
// for a summary ([compact.Prompt]); the bench routes on it.
const summaryMarker = "The conversation is about to be compacted"

// router serves the long session from two fake servers: summary requests,
// which the agent sends whenever the context reaches the trigger, go to
// one whose every step is a summary; the rest go to the session's script,
// in order. A generated script cannot know at which turn a compaction
// comes, so it cannot hold the summaries among its steps. The router
// stamps each request when its headers arrive, as the fake does.
type router struct {
	loop, summary *fakeapi.Server
	srv           *http.Server
	url           string

	mu       sync.Mutex
	arrivals []arrival
}

// arrival is one request as the router saw it.
type arrival struct {
	at      time.Time
	summary bool
}

func newRouter(loop, summary *fakeapi.Server) (*router, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &router{loop: loop, summary: summary, url: "http://" + ln.Addr().String()}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }() // Serve returns only once Close is called.
	return r, nil
}

func (r *router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	summary := isSummaryRequest(body)
	r.mu.Lock()
	r.arrivals = append(r.arrivals, arrival{at: at, summary: summary})
	r.mu.Unlock()
	if summary {
		r.summary.ServeHTTP(w, req)
	} else {
		r.loop.ServeHTTP(w, req)
	}
}

func (r *router) Close() { _ = r.srv.Close() }

// isSummaryRequest says whether an Anthropic request's last message asks
// for the compaction summary.
func isSummaryRequest(body []byte) bool {
	p, err := parsePrompt(fakeapi.APIAnthropic, body)
	if err != nil || len(p.items) == 0 {
		return false
	}
	return bytes.Contains(p.items[len(p.items)-1], []byte(summaryMarker))
}

// merge returns every request in arrival order, each stamped with the
// router's arrival time, and marks the summary requests.
func (r *router) merge(loop, summary []fakeapi.Request) ([]fakeapi.Request, []bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var all []fakeapi.Request
	var kinds []bool
	for _, a := range r.arrivals {
		src := &loop
		if a.summary {
			src = &summary
		}
		if len(*src) == 0 {
			continue // a request the fake never recorded
		}
		req := (*src)[0]
		*src = (*src)[1:]
		req.Received = a.at
		all = append(all, req)
		kinds = append(kinds, a.summary)
	}
	return all, kinds
}

// summaryFailures drops what the summary server cannot know from its
// failures: the tool calls, which the session's server made, and the
// summaries left over.
func summaryFailures(fs []string) []string {
	var out []string
	for _, f := range fs {
		if strings.Contains(f, "which no completed reply made") || strings.Contains(f, "were not consumed") {
			continue
		}
		out = append(out, "summary server: "+f)
	}
	return out
}

// longConfig is the user config of the long session: the 200k window
// declared for the fake's model, and the compaction budget if one is
// given (0 keeps Lathe's default).
func longConfig(home string, window, budget int) error {
	cfg := fmt.Sprintf("[models.\"claude-sonnet-4-5\"]\ncontext_window = %d\n", window)
	if budget > 0 {
		cfg += fmt.Sprintf("\n[compaction]\nbudget = %d\n", budget)
	}
	return writeFile(filepath.Join(home, "config", "lathe", "config.toml"), []byte(cfg))
}

// tokenCounter counts a request body's o200k tokens for the fake, as the
// bench counts them, so that the usage Lathe sees and its compaction
// trigger are in the tokens the targets are in.
func tokenCounter(c *counter) func([]byte) int {
	var mu sync.Mutex
	return func(body []byte) int {
		mu.Lock()
		defer mu.Unlock()
		p, err := parsePrompt(fakeapi.APIAnthropic, body)
		if err != nil {
			return len(body) / 4
		}
		return c.body(p)
	}
}

// compaction is one compaction of the long session.
type compaction struct {
	turn          int // loop requests before it
	before, after int // Lathe's figures, from compaction.end
	// summaryTokens is the summary request's o200k; uncached is what of
	// it the request before did not send, -1 when it does not extend that
	// request. rebuilt is the o200k of the first request after it.
	summaryTokens, uncached, rebuilt int
	ledgerOnly                       bool
}

// longMetrics are the long session's figures beyond the short task's.
type longMetrics struct {
	compactions        []compaction
	largest, largestAt int // o200k of the largest request, its number in all requests
	summaryO200k       int // all summary requests
	// cachesim.py's line, cached share (percent) and cost-weighted input
	// at Anthropic prices (millions), on the bodies as sent and with
	// their cache_control members removed.
	cachesim, cachesimUnmarked         string
	cachedShare, cachedShareUnmarked   float64
	costWeighted, costWeightedUnmarked float64
	slope                              float64 // MiB of RSS per 100 turns, from request 20
	firstQ, lastQ                      summary
	compactionLocal                    summary // a compaction step's harness time without its summary request
}

// analyzeLong takes the long session's compactions, request sizes, an
// ideal prefix cache's figures and the trends from a trace.
func analyzeLong(t *trace, m *metrics, c *counter, cachesim, dir string) (*longMetrics, error) {
	lm := &longMetrics{}
	evs, err := t.events()
	if err != nil {
		return nil, err
	}
	var ends []event
	for _, e := range evs {
		if e.Type == "compaction.end" {
			ends = append(ends, e)
		}
	}
	sizes := make([]int, len(t.all))
	prompts := make([]*prompt, len(t.all))
	for i, r := range t.all {
		p, err := parsePrompt(r.API, r.Body)
		if err != nil {
			return nil, fmt.Errorf("request %d: %w", i+1, err)
		}
		prompts[i], sizes[i] = p, c.body(p)
		if sizes[i] > lm.largest {
			lm.largest, lm.largestAt = sizes[i], i+1
		}
	}
	loop := 0
	for i := range t.all {
		if !t.isSummary[i] {
			loop++
			continue
		}
		lm.summaryO200k += sizes[i]
		if i > 0 && t.isSummary[i-1] {
			continue // the second try of the same compaction
		}
		k := compaction{turn: loop, summaryTokens: sizes[i], uncached: -1}
		if i > 0 {
			if ok, _ := prompts[i].extends(prompts[i-1]); ok {
				k.uncached = sizes[i] - sizes[i-1]
			}
		}
		for j := i + 1; j < len(t.all); j++ {
			if !t.isSummary[j] {
				k.rebuilt = sizes[j]
				break
			}
		}
		if n := len(lm.compactions); n < len(ends) {
			k.before, k.after, k.ledgerOnly = ends[n].TokensBefore, ends[n].TokensAfter, ends[n].LedgerOnly
		}
		lm.compactions = append(lm.compactions, k)
	}

	if cachesim != "" {
		if lm.cachesim, lm.cachedShare, lm.costWeighted, err = runCachesim(cachesim, dir, t.all, sizes, false); err != nil {
			return nil, err
		}
		if lm.cachesimUnmarked, lm.cachedShareUnmarked, lm.costWeightedUnmarked, err = runCachesim(cachesim, dir+"-unmarked", t.all, sizes, true); err != nil {
			return nil, err
		}
	}

	lm.slope = rssSlope(t)
	var first, last, local []time.Duration
	n := len(t.reqs) - 1
	for _, s := range m.steps {
		switch {
		case s.compacted:
			local = append(local, s.harness()-s.summaries)
		case s.turn <= n/4:
			first = append(first, s.harness())
		case s.turn > n-n/4:
			last = append(last, s.harness())
		}
	}
	lm.firstQ, lm.lastQ, lm.compactionLocal = summarize(first), summarize(last), summarize(local)
	return lm, nil
}

var cachesimRE = regexp.MustCompile(`cached=([0-9.]+)% anthropic=([0-9.]+)M`)

// runCachesim runs cachesim.py over the requests and returns its line,
// the cached share (percent) and the cost-weighted input at Anthropic
// prices (millions). unmarked first removes every cache_control member:
// cachesim.py keeps them in the bytes it compares, so a marker that moves
// off a message ends the shared prefix there, although a provider's cache
// keys on the content alone.
func runCachesim(cachesim, dir string, reqs []fakeapi.Request, sizes []int, unmarked bool) (line string, cached, cost float64, err error) {
	if err := runDir(dir, reqs, sizes, unmarked); err != nil {
		return "", 0, 0, err
	}
	out, err := exec.Command("python3", cachesim, dir).CombinedOutput()
	if err != nil {
		return "", 0, 0, fmt.Errorf("%s: %v: %s", cachesim, err, out)
	}
	line = strings.TrimSpace(string(out))
	sm := cachesimRE.FindStringSubmatch(line)
	if sm == nil {
		return "", 0, 0, fmt.Errorf("%s printed %q", cachesim, line)
	}
	fmt.Sscan(sm[1], &cached)
	fmt.Sscan(sm[2], &cost)
	return line[strings.Index(line, "input="):], cached, cost, nil
}

// runDir writes the requests in the layout cachesim.py reads:
// requests.jsonl (seq, status, tok_total) and dump/<seq>_<api>.json.
func runDir(dir string, reqs []fakeapi.Request, sizes []int, unmarked bool) error {
	if err := os.MkdirAll(filepath.Join(dir, "dump"), 0o755); err != nil {
		return err
	}
	var meta bytes.Buffer
	enc := json.NewEncoder(&meta)
	for i, r := range reqs {
		if err := enc.Encode(map[string]any{"seq": i + 1, "status": 200, "tok_total": sizes[i]}); err != nil {
			return err
		}
		body := r.Body
		if unmarked {
			body = withoutKey(body, "cache_control")
		}
		// Zero-padded: cachesim.py takes the dumps in sorted name order.
		if err := os.WriteFile(filepath.Join(dir, "dump", fmt.Sprintf("%05d_%s.json", i+1, r.API)), body, 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "requests.jsonl"), meta.Bytes(), 0o644)
}

// rssSlope fits a line to lathe's RSS when each session request arrived,
// from request 20 on (the first edits set the GC's heap goal), and returns
// its slope in MiB per 100 requests.
func rssSlope(t *trace) float64 {
	var xs, ys []float64
	for n := 20; n <= len(t.reqs); n++ {
		if s, ok := sampleBefore(t.samples, t.reqs[n-1].Received); ok {
			xs, ys = append(xs, float64(n)), append(ys, float64(s.rss)/1024)
		}
	}
	if len(xs) < 2 {
		return math.NaN()
	}
	var mx, my float64
	for i := range xs {
		mx, my = mx+xs[i], my+ys[i]
	}
	mx, my = mx/float64(len(xs)), my/float64(len(ys))
	var num, den float64
	for i := range xs {
		num += (xs[i] - mx) * (ys[i] - my)
		den += (xs[i] - mx) * (xs[i] - mx)
	}
	return 100 * num / den
}

// printLongCompaction prints the long session's compaction figures against
// issue 8's targets.
func printLongCompaction(t *trace, m *metrics, lm *longMetrics, window int) {
	fmt.Printf("### Against issue 8's targets (window %d, o200k tokens)\n\n", window)
	header("metric", "target", "measured")
	finished := m.outcome == "success" && m.exitCode == 0 && len(m.problems) == 0
	row("finishes correctly across compaction", "yes", fmt.Sprintf("%s (%s, %d turns, exit %d, %d compactions, %d fake API problems)",
		yesNo(finished && len(lm.compactions) > 0), m.outcome, m.turns, m.exitCode, len(lm.compactions), len(m.problems)))
	row("largest request", fmt.Sprintf("≤ %d (0.85 × window)", window*85/100), fmt.Sprintf("%d (request %d of %d)", lm.largest, lm.largestAt, len(t.all)))
	total := m.inputO200k + lm.summaryO200k
	row("cumulative input tokens", "≤ 7.0M", fmt.Sprintf("%.2fM (%d: session %d + summaries %d)", float64(total)/1e6, total, m.inputO200k, lm.summaryO200k))
	if lm.cachesim != "" {
		row("cost-weighted input, Anthropic prices", "≤ 1.1M", fmt.Sprintf("%.2fM; ideal prefix cache serves %.1f%% (cachesim.py: %s)", lm.costWeighted, lm.cachedShare, lm.cachesim))
		row("… the same with cache_control removed", "", fmt.Sprintf("%.2fM; ideal prefix cache serves %.1f%% (cachesim.py: %s)", lm.costWeightedUnmarked, lm.cachedShareUnmarked, lm.cachesimUnmarked))
	} else {
		row("cost-weighted input, Anthropic prices", "≤ 1.1M", "not measured (no -cachesim)")
	}
	worst := -1
	for _, k := range lm.compactions {
		if k.uncached < 0 {
			worst = math.MaxInt
			break
		}
		worst = max(worst, k.uncached)
	}
	cell := "no compaction"
	switch {
	case worst == math.MaxInt:
		cell = "NOT a prefix hit: a summary request does not extend the request before it"
	case worst >= 0:
		cell = fmt.Sprintf("a fork of the request before: at most %d tokens uncached (%.1f%% of the window)", worst, 100*float64(worst)/float64(window))
	}
	row("summary request", fmt.Sprintf("a prefix cache hit, or ≤ %d uncached", window*15/100), cell)
	row("peak RSS / slope per 100 turns", "≤ 60 MB / ≤ 1 MB", fmt.Sprintf("%s / %+.2f MiB (least squares, requests 20…%d)", mb(m.peakKB), lm.slope, len(t.reqs)))
	row("harness gap, first vs last quarter", "flat, ≤ 5 ms", fmt.Sprintf("%s → %s", lm.firstQ, lm.lastQ))
	row("… compaction steps, without their summary request", "", lm.compactionLocal.String())
	fmt.Println()
	if len(lm.compactions) == 0 {
		return
	}
	fmt.Println("Compactions (Lathe's own count before → after; o200k of the summary request, what of it the request before had not sent, and the first request after):")
	fmt.Println()
	header("#", "after turn", "tokens before → after", "summary request", "… uncached", "rebuilt request", "ledger only")
	for i, k := range lm.compactions {
		unc := "does not extend"
		if k.uncached >= 0 {
			unc = fmt.Sprint(k.uncached)
		}
		row(fmt.Sprint(i+1), fmt.Sprint(k.turn), fmt.Sprintf("%d → %d", k.before, k.after), fmt.Sprint(k.summaryTokens), unc, fmt.Sprint(k.rebuilt), yesNo(k.ledgerOnly))
	}
	fmt.Println()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
