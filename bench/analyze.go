package main

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// stepKind classifies a step by the tools its response called.
type stepKind string

const (
	stepRead stepKind = "read"
	stepEdit stepKind = "edit"
	stepBash stepKind = "bash"
)

var toolKinds = map[string]stepKind{
	"Read": stepRead, "Grep": stepRead, "Glob": stepRead,
	"read_file": stepRead, "list_dir": stepRead, "grep_files": stepRead,
	"Edit": stepEdit, "Write": stepEdit, "apply_patch": stepEdit,
}

// step is the time between one response and the next request.
type step struct {
	turn int
	kind stepKind
	// gap is from the response's end to the next request's arrival; tools
	// is from the first tool.start to the last tool.end event; pre and
	// post are the harness's time before and after the tools.
	gap, tools, pre, post time.Duration
	// compacted marks a step after which the agent compacted: post then
	// holds the summary requests, which take summaries of it at the
	// server.
	compacted bool
	summaries time.Duration
}

func (s step) harness() time.Duration { return s.pre + s.post }

// metrics are the figures of one run.
type metrics struct {
	startup      time.Duration // exec to request 1 arriving
	sessionStart time.Duration // exec to the session.start event
	wall         time.Duration
	peakKB       int64 // VmHWM, lathe alone
	peak         sample
	first        promptTokens
	inputUsage   int64 // the result's usage: input + cache reads + writes
	inputO200k   int   // o200k of every request body, summed over its parts
	inputWhole   int   // the same, each body counted whole (short runs only)
	steps        []step
	requests     int
	extends      int // requests that extend their predecessor
	rebased      int // requests after a compaction, which start anew
	notExtending []string
	markers      string // on the first and last request
	allMarked    bool   // every Anthropic request marks prefix and last message
	// anonDuring is the largest RssAnon sampled while each tool ran, and
	// under "" while none did.
	anonDuring map[string]int64
	outcome    string
	turns      int
	exitCode   int
	problems   []string
}

func analyze(t *trace, c *counter, whole bool) (*metrics, error) {
	evs, err := t.events()
	if err != nil {
		return nil, err
	}
	m := &metrics{wall: t.exited.Sub(t.start), exitCode: t.exitCode, requests: len(t.reqs), allMarked: true}
	m.problems = append(m.problems, t.failures...)
	if len(t.reqs) == 0 {
		return nil, fmt.Errorf("lathe sent no request (exit %d): %s", t.exitCode, t.stderr)
	}
	m.startup = t.reqs[0].Received.Sub(t.start)
	for _, s := range t.samples {
		m.peakKB = max(m.peakKB, s.hwm)
		if s.rss > m.peak.rss {
			m.peak = s
		}
	}

	var prev *prompt
	for i, r := range t.reqs {
		p, err := parsePrompt(r.API, r.Body)
		if err != nil {
			return nil, fmt.Errorf("request %d: %w", i+1, err)
		}
		if i == 0 {
			m.first = c.firstRequest(p, r.Body)
		}
		m.inputO200k += c.body(p)
		if whole {
			m.inputWhole += c.whole(r.Body)
		}
		if r.API == "anthropic" && !p.lastMarked() {
			m.allMarked = false
		}
		if prev != nil && t.rebased[i] {
			m.rebased++
		} else if prev != nil {
			if ok, why := p.extends(prev); ok {
				m.extends++
			} else {
				m.notExtending = append(m.notExtending, fmt.Sprintf("request %d: %s", i+1, why))
			}
		}
		if i == 0 || i == len(t.reqs)-1 {
			m.markers += fmt.Sprintf("req %d: %s; ", i+1, p.markers())
		}
		prev = p
	}

	for _, e := range evs {
		switch e.Type {
		case "session.start":
			m.sessionStart = e.at.Sub(t.start)
		case "result":
			m.outcome, m.turns = e.Outcome, e.Turns
			if e.Usage != nil {
				m.inputUsage = e.Usage.Input + e.Usage.CacheRead + e.Usage.CacheWrite
			}
			if e.Error != "" {
				m.problems = append(m.problems, "result: "+e.Error)
			}
		}
	}
	m.steps = steps(t, evs)
	m.anonDuring = anonDuring(t.samples, evs)
	return m, nil
}

// anonDuring attributes each memory sample to the tool running when it was
// taken, or to none, and keeps the largest RssAnon of each.
func anonDuring(samples []sample, evs []event) map[string]int64 {
	out := map[string]int64{}
	i := 0
	running := map[string]int{} // tool name → calls under way
	for _, s := range samples {
		for ; i < len(evs) && !evs[i].at.After(s.at); i++ {
			switch evs[i].Type {
			case "tool.start":
				running[evs[i].Name]++
			case "tool.end":
				running[evs[i].Name]--
			}
		}
		idle := true
		for name, n := range running {
			if n > 0 {
				out[name] = max(out[name], s.anon)
				idle = false
			}
		}
		if idle {
			out[""] = max(out[""], s.anon)
		}
	}
	return out
}

// steps pairs each response that called tools with the request after it.
func steps(t *trace, evs []event) []step {
	var out []step
	for n := 1; n < len(t.reqs); n++ {
		resp, next := t.reqs[n-1], t.reqs[n]
		var first, last time.Time
		kind := stepKind("")
		for _, e := range evs {
			if e.Turn != n {
				continue
			}
			switch e.Type {
			case "tool.start":
				if first.IsZero() {
					first = e.at
				}
				k, ok := toolKinds[e.Name]
				if !ok {
					k = stepBash
				}
				if kind == "" || k == stepEdit || (k == stepBash && kind == stepRead) {
					kind = k
				}
			case "tool.end":
				last = e.at
			}
		}
		if first.IsZero() || last.IsZero() {
			continue
		}
		s := step{
			turn: n, kind: kind,
			gap: next.Received.Sub(resp.Answered), tools: last.Sub(first),
			pre: first.Sub(resp.Answered), post: next.Received.Sub(last),
			compacted: t.rebased[n],
		}
		for _, r := range t.all {
			if r.Received.After(last) && r.Received.Before(next.Received) {
				s.summaries += r.Answered.Sub(r.Received)
			}
		}
		out = append(out, s)
	}
	return out
}

// summary is the median and maximum of some durations, and how many are
// over the harness budget.
type summary struct {
	n, over     int
	median, max time.Duration
}

// budget is the target for the harness's time per step.
const budget = 5 * time.Millisecond

func summarize(ds []time.Duration) summary {
	if len(ds) == 0 {
		return summary{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	over := len(s) - sort.Search(len(s), func(i int) bool { return s[i] > budget })
	return summary{n: len(s), over: over, median: s[len(s)/2], max: s[len(s)-1]}
}

func (s summary) String() string {
	if s.n == 0 {
		return "–"
	}
	return fmt.Sprintf("%s / %s (n=%d, %d over %s)", ms(s.median), ms(s.max), s.n, s.over, budget)
}

// harnessOf summarizes the harness time of the steps of a kind; part picks
// pre, post or their sum.
func harnessOf(ms []*metrics, kind stepKind, part func(step) time.Duration) summary {
	var ds []time.Duration
	for _, m := range ms {
		for _, s := range m.steps {
			if s.kind == kind && !s.compacted {
				ds = append(ds, part(s))
			}
		}
	}
	return summarize(ds)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func mb(kb int64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }

// medianOf is the median of f over the runs.
func medianOf[T int | int64 | time.Duration](ms []*metrics, f func(*metrics) T) T {
	v := make([]T, len(ms))
	for i, m := range ms {
		v[i] = f(m)
	}
	slices.Sort(v)
	return v[len(v)/2]
}
