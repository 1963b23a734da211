package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// row prints one Markdown table row.
func row(cells ...string) { fmt.Println("| " + strings.Join(cells, " | ") + " |") }

func header(cells ...string) {
	row(cells...)
	seps := make([]string, len(cells))
	for i := range seps {
		seps[i] = "---"
	}
	row(seps...)
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3f s", d.Seconds()) }

func tokens(n int) string { return fmt.Sprintf("%d", n) }

// printShort prints the pager task's figures, one column per dialect.
func printShort(all [][]*metrics, runs int) {
	fmt.Printf("## Pager task (e2e task_*.txtar), %d runs per dialect, medians\n\n", runs)
	cols := []string{"metric", "target"}
	for _, d := range dialects {
		cols = append(cols, d.name)
	}
	header(cols...)
	line := func(name, target string, f func([]*metrics) string) {
		cells := []string{name, target}
		for _, ms := range all {
			cells = append(cells, f(ms))
		}
		row(cells...)
	}
	dur := func(f func(*metrics) time.Duration) func([]*metrics) string {
		return func(ms []*metrics) string { return secs(medianOf(ms, f)) }
	}
	kb := func(f func(*metrics) int64) func([]*metrics) string {
		return func(ms []*metrics) string { return mb(medianOf(ms, f)) }
	}
	num := func(f func(*metrics) int) func([]*metrics) string {
		return func(ms []*metrics) string { return tokens(medianOf(ms, f)) }
	}
	harness := func(k stepKind, part func(step) time.Duration) func([]*metrics) string {
		return func(ms []*metrics) string { return harnessOf(ms, k, part).String() }
	}
	line("start → first request", "≤ 0.020 s", dur(func(m *metrics) time.Duration { return m.startup }))
	line("start → session.start event", "", dur(func(m *metrics) time.Duration { return m.sessionStart }))
	line("peak RSS of lathe (VmHWM)", "≤ 30 MB", kb(func(m *metrics) int64 { return m.peakKB }))
	line("… RssAnon / RssFile at peak", "", func(ms []*metrics) string {
		return mb(medianOf(ms, func(m *metrics) int64 { return m.peak.anon })) + " / " + mb(medianOf(ms, func(m *metrics) int64 { return m.peak.file }))
	})
	line("system prompt, o200k", "", num(func(m *metrics) int { return m.first.system }))
	line("tool schemas, o200k", "", num(func(m *metrics) int { return m.first.tools }))
	line("system + tools", "≤ 3500", num(func(m *metrics) int { return m.first.system + m.first.tools }))
	line("first request body, o200k", "", num(func(m *metrics) int { return m.first.body }))
	line("input tokens, reported in result usage", "", func(ms []*metrics) string {
		return tokens(int(medianOf(ms, func(m *metrics) int64 { return m.inputUsage })))
	})
	line("input tokens, o200k of all bodies", "", num(func(m *metrics) int { return m.inputO200k }))
	line("… each body counted whole", "", num(func(m *metrics) int { return m.inputWhole }))
	line("harness after read step, median / max", "≤ 5 ms", harness(stepRead, step.harness))
	line("harness after edit step, median / max", "≤ 5 ms", harness(stepEdit, step.harness))
	line("harness after bash step, median / max", "", harness(stepBash, step.harness))
	// The whole gap of a command step, the command included, is where
	// the permission mode shows: the sandbox's start-up and the
	// checkpoint before the command are tool time, not harness time.
	line("whole gap of a bash step (command included)", "", harness(stepBash, func(s step) time.Duration { return s.gap }))
	line("… of which before tools (all steps)", "", func(ms []*metrics) string {
		return joinKinds(ms, func(s step) time.Duration { return s.pre })
	})
	line("… of which after tools (all steps)", "", func(ms []*metrics) string {
		return joinKinds(ms, func(s step) time.Duration { return s.post })
	})
	line("request i+1 extends request i", "yes, with cache markers", func(ms []*metrics) string { return extendsCell(ms) })
	line("cache markers (first; last request)", "", func(ms []*metrics) string { return strings.TrimSuffix(ms[0].markers, "; ") })
	line("outcome", "", func(ms []*metrics) string { return outcomes(ms) })
	fmt.Println()
	problems(all)
}

func joinKinds(ms []*metrics, part func(step) time.Duration) string {
	var ds []time.Duration
	for _, m := range ms {
		for _, s := range m.steps {
			if !s.compacted {
				ds = append(ds, part(s))
			}
		}
	}
	return summarize(ds).String()
}

func extendsCell(ms []*metrics) string {
	ext, pairs, rebased, marked := 0, 0, 0, true
	for _, m := range ms {
		ext += m.extends
		pairs += m.requests - 1 - m.rebased
		rebased += m.rebased
		marked = marked && m.allMarked
	}
	verdict := "yes"
	if ext != pairs {
		verdict = "NO"
	}
	s := fmt.Sprintf("%s (%d/%d)", verdict, ext, pairs)
	if rebased > 0 {
		s += fmt.Sprintf(" besides the %d first requests after a compaction", rebased)
	}
	if ms[0].markers != "" && strings.Contains(ms[0].markers, "msg") {
		if marked {
			s += ", prefix and last message marked on every request"
		} else {
			s += ", NOT every request marks prefix and last message"
		}
	}
	return s
}

func outcomes(ms []*metrics) string {
	seen := map[string]int{}
	var order []string
	for _, m := range ms {
		k := fmt.Sprintf("%s, %d turns, exit %d", m.outcome, m.turns, m.exitCode)
		if seen[k] == 0 {
			order = append(order, k)
		}
		seen[k]++
	}
	var parts []string
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, seen[k]))
	}
	return strings.Join(parts, "; ")
}

// problems lists what went wrong in any run: fake API expectation
// failures, requests that did not extend the last, errors.
func problems(all [][]*metrics) {
	var out []string
	for i, ms := range all {
		for r, m := range ms {
			for _, p := range append(m.problems, m.notExtending...) {
				out = append(out, fmt.Sprintf("- %s run %d: %s", dialects[i].name, r+1, p))
			}
		}
	}
	if len(out) == 0 {
		fmt.Println("No fake API expectation failed; every run did the task.")
	} else {
		fmt.Println("Problems:")
		fmt.Println(strings.Join(out, "\n"))
	}
	fmt.Println()
}

// printLong prints the long session's figures and its RSS over time.
func printLong(t *trace, m *metrics, c *counter) {
	var files []string
	for _, s := range longFileMiB {
		files = append(files, fmt.Sprint(s))
	}
	fmt.Printf("## Long session: %d turns over %s MiB files (anthropic, Claude dialect)\n\n", len(t.reqs), strings.Join(files, "+"))
	fmt.Println("Harness times leave out the steps after which the session compacted; see the compaction table.")
	fmt.Println()
	last, _ := parsePrompt(t.reqs[len(t.reqs)-1].API, t.reqs[len(t.reqs)-1].Body)
	header("metric", "target", "measured")
	series := rssSeries(t)
	row("peak RSS of lathe (VmHWM)", "≤ 60 MB and flat", fmt.Sprintf("%s; %s", mb(m.peakKB), series.verdict))
	row("… RssAnon / RssFile at peak", "", mb(m.peak.anon)+" / "+mb(m.peak.file))
	row("… max RssAnon while a tool ran", "", anonCell(m.anonDuring))
	row("start → first request", "≤ 0.020 s", secs(m.startup))
	row("harness after read step, median / max", "≤ 5 ms", harnessOf([]*metrics{m}, stepRead, step.harness).String())
	row("harness after edit step, median / max", "≤ 5 ms", harnessOf([]*metrics{m}, stepEdit, step.harness).String())
	row("harness after bash step, median / max", "", harnessOf([]*metrics{m}, stepBash, step.harness).String())
	row("… of which before tools (all steps)", "", joinKinds([]*metrics{m}, func(s step) time.Duration { return s.pre }))
	row("… of which after tools (all steps)", "", joinKinds([]*metrics{m}, func(s step) time.Duration { return s.post }))
	row("request i+1 extends request i", "yes, with cache markers", extendsCell([]*metrics{m}))
	row("last request body", "", fmt.Sprintf("%.0f KiB, %d o200k tokens", float64(len(t.reqs[len(t.reqs)-1].Body))/1024, c.body(last)))
	row("input tokens, reported in result usage", "", tokens(int(m.inputUsage)))
	row("input tokens, o200k of all bodies", "", tokens(m.inputO200k))
	row("wall time", "", secs(m.wall))
	row("outcome", "", outcomes([]*metrics{m}))
	fmt.Println()
	fmt.Println("RSS of lathe when request N arrived (VmRSS, of which RssAnon):")
	fmt.Println()
	fmt.Println(series.table)
	fmt.Println("Harness time of the steps in each stretch of 20 turns, median / max (all kinds):")
	fmt.Println()
	var cols, vals []string
	for from := 1; from < len(t.reqs); from += 20 {
		var ds []time.Duration
		for _, s := range m.steps {
			if s.turn >= from && s.turn < from+20 && !s.compacted {
				ds = append(ds, s.harness())
			}
		}
		sum := summarize(ds)
		cols = append(cols, fmt.Sprintf("%d–%d", from, min(from+19, len(t.reqs)-1)))
		vals = append(vals, fmt.Sprintf("%.1f / %.1f", float64(sum.median.Microseconds())/1000, float64(sum.max.Microseconds())/1000))
	}
	fmt.Printf("| turns | %s |\n|---|%s\n| ms | %s |\n\n", strings.Join(cols, " | "), strings.Repeat("---|", len(cols)), strings.Join(vals, " | "))
	if len(m.problems)+len(m.notExtending) > 0 {
		fmt.Println("Problems:")
		for _, p := range append(m.problems, m.notExtending...) {
			fmt.Println("- " + p)
		}
	}
}

func anonCell(during map[string]int64) string {
	names := slices.Sorted(maps.Keys(during))
	var parts []string
	for _, n := range names {
		label := n
		if n == "" {
			label = "no tool"
		}
		parts = append(parts, fmt.Sprintf("%s %s", label, mb(during[n])))
	}
	return strings.Join(parts, ", ")
}

type rss struct {
	table, verdict string
}

// rssSeries reads the RSS samples at requests 1, 20, 40, …, the last.
func rssSeries(t *trace) rss {
	var at []int
	for n := 20; n < len(t.reqs); n += 20 {
		at = append(at, n)
	}
	at = append([]int{1}, append(at, len(t.reqs))...)
	var cols, vals []string
	var first, last sample
	for _, n := range at {
		s, ok := sampleBefore(t.samples, t.reqs[n-1].Received)
		if !ok {
			continue
		}
		if n == at[1] {
			first = s
		}
		last = s
		cols = append(cols, fmt.Sprint(n))
		vals = append(vals, fmt.Sprintf("%.1f (%.1f)", float64(s.rss)/1024, float64(s.anon)/1024))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| request | %s |\n|---|%s\n| MiB | %s |\n", strings.Join(cols, " | "), strings.Repeat("---|", len(cols)), strings.Join(vals, " | "))
	verdict := fmt.Sprintf("RSS %+.1f MiB (anon %+.1f) from request %d to %d",
		float64(last.rss-first.rss)/1024, float64(last.anon-first.anon)/1024, at[1], at[len(at)-1])
	return rss{table: b.String(), verdict: verdict}
}

// sampleBefore is the last sample taken at or before t.
func sampleBefore(ss []sample, t time.Time) (sample, bool) {
	var s sample
	ok := false
	for _, x := range ss {
		if x.at.After(t) {
			break
		}
		s, ok = x, true
	}
	return s, ok
}
