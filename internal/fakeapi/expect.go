package fakeapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// checkHistory runs the checks every request gets: tool results answer
// calls that completed replies made, each call of the last reply is answered
// exactly once, and no assistant message appears more often than the server
// produced it. These catch a retry that ran a tool twice, a duplicated or
// dropped message, and a partial tool call executed after a cut stream.
func (s *Server) checkHistory(n int, c *conversation, th *thread) {
	s.bindLoose(n, c, th)
	count := map[string]int{}
	for _, r := range c.results {
		count[r.callID]++
	}
	reported := map[string]bool{}
	for _, r := range c.results {
		if reported[r.callID] {
			continue
		}
		reported[r.callID] = true
		if !s.known[r.callID] {
			s.failf("request %d: tool result for call id %q, which no completed reply made", n, r.callID)
		}
		if k := count[r.callID]; k > 1 {
			s.failf("request %d: %d tool results for call id %q", n, k, r.callID)
		}
	}
	for i, call := range th.lastCalls {
		if count[call.id] == 0 {
			s.failf("request %d: no tool result for call %d (%s, id %s) of the previous reply", n, i, call.name, call.id)
		}
	}

	seen := map[string]int{}
	for _, k := range c.assistant {
		seen[k]++
	}
	reported = map[string]bool{}
	for _, k := range c.assistant {
		if reported[k] {
			continue
		}
		reported[k] = true
		if seen[k] > max(1, s.produced[k]) {
			s.failf("request %d: assistant message appears %d times: %s", n, seen[k], clip(k, 120))
		}
	}
}

// bindLoose learns the ids that the client gave the calls of the last
// reply that came with an empty or a repeated id. Its copy of that reply,
// the last assistant message it sends, must hold every call in order,
// each with an id of its own.
func (s *Server) bindLoose(n int, c *conversation, th *thread) {
	if !slices.ContainsFunc(th.lastCalls, func(m madeCall) bool { return m.loose }) {
		return
	}
	if len(c.lastCallIDs) != len(th.lastCalls) {
		s.failf("request %d: the previous reply made %d tool calls; the last assistant message sent back has %d", n, len(th.lastCalls), len(c.lastCallIDs))
		return
	}
	seen := map[string]bool{}
	for i, id := range c.lastCallIDs {
		if id == "" || seen[id] {
			s.failf("request %d: call %d (%s) of the previous reply was sent back with id %q, which is empty or another call's", n, i, th.lastCalls[i].name, id)
		}
		seen[id] = true
		if m := &th.lastCalls[i]; m.loose {
			m.id, m.loose = id, false
			s.known[id] = true
		}
	}
}

// checkExpect checks a step's expectations against the request consuming
// it, the step being 1-based.
func (s *Server) checkExpect(n, step int, api API, c *conversation, e *Expect, th *thread) {
	if e == nil {
		return
	}
	failf := func(format string, args ...any) {
		s.failf("request %d (step %d): %s", n, step, fmt.Sprintf(format, args...))
	}
	for i, want := range e.ToolResults {
		if want.Call >= len(th.lastCalls) {
			failf("expect.tool_results[%d]: call %d, but the previous reply made %d tool calls", i, want.Call, len(th.lastCalls))
			continue
		}
		call := th.lastCalls[want.Call]
		j := slices.IndexFunc(c.results, func(r toolResult) bool { return r.callID == call.id })
		if j < 0 {
			continue // checkHistory reports the missing result.
		}
		got := c.results[j]
		for _, sub := range want.Contains {
			if !strings.Contains(got.content, sub) {
				failf("result of call %d (%s) lacks %q; it reads %q", want.Call, call.name, sub, clip(got.content, 300))
			}
		}
		for _, sub := range want.NotContains {
			if strings.Contains(got.content, sub) {
				failf("result of call %d (%s) contains %q; it reads %q", want.Call, call.name, sub, clip(got.content, 300))
			}
		}
		if want.IsError != nil && got.hasFlag && got.isError != *want.IsError {
			failf("result of call %d (%s) has is_error %t, want %t", want.Call, call.name, got.isError, *want.IsError)
		}
	}
	for _, sub := range e.UserContains {
		if !strings.Contains(c.lastUser, sub) {
			failf("latest user message lacks %q; it reads %q", sub, clip(c.lastUser, 300))
		}
	}
	for _, sub := range e.SystemContains {
		if !strings.Contains(c.system, sub) {
			failf("system prompt lacks %q; it begins %q", sub, clip(c.system, 300))
		}
	}
	for _, name := range e.Tools {
		if !slices.Contains(c.tools, name) {
			failf("tool %q is not offered (offered: %s)", name, strings.Join(c.tools, ", "))
		}
	}
	if e.CacheMarkers {
		for _, msg := range s.cacheMarkerProblems(api, c) {
			failf("%s", msg)
		}
	}
	if e.ExtendsPrevious {
		if prev := th.prev[api]; prev != nil {
			if msg := extension(prev, c); msg != "" {
				failf("conversation does not extend the previous request's: %s", msg)
			}
		}
	}
}

// cacheMarkerProblems reports missing prompt-cache hints.
func (s *Server) cacheMarkerProblems(api API, c *conversation) []string {
	var out []string
	switch api {
	case APIAnthropic:
		if !c.prefixMarked {
			out = append(out, "no cache_control on the tools or system prompt")
		}
		if !c.lastMarked {
			out = append(out, "no cache_control on the last message")
		}
	case APIResponses:
		switch {
		case c.cacheKey == "":
			out = append(out, "no prompt_cache_key")
		case s.firstKey != nil && *s.firstKey != c.cacheKey:
			out = append(out, fmt.Sprintf("prompt_cache_key %q differs from the first request's %q", c.cacheKey, *s.firstKey))
		}
	}
	return out
}

// extension explains how cur fails to extend prev append-only, or returns
// "" if it does.
func extension(prev, cur *conversation) string {
	if !bytes.Equal(prev.head, cur.head) {
		return "system prompt or tools changed " + difference(prev.head, cur.head)
	}
	if len(cur.items) < len(prev.items) {
		return fmt.Sprintf("it has %d messages, the previous request had %d", len(cur.items), len(prev.items))
	}
	for i, p := range prev.items {
		// Content appended to the last message (Anthropic merges a user
		// text into the tool results before it) keeps the prefix too.
		if !bytes.Equal(p, cur.items[i]) && (i < len(prev.items)-1 || !blocksExtend(p, cur.items[i])) {
			return fmt.Sprintf("message %d changed %s", i, difference(p, cur.items[i]))
		}
	}
	return ""
}

// blocksExtend reports whether message cur is message prev, of the same
// role, with content blocks appended.
func blocksExtend(prev, cur []byte) bool {
	type message struct {
		Role    string            `json:"role"`
		Content []json.RawMessage `json:"content"`
	}
	var p, c message
	if json.Unmarshal(prev, &p) != nil || json.Unmarshal(cur, &c) != nil || p.Role != c.Role || len(c.Content) <= len(p.Content) {
		return false
	}
	for i := range p.Content {
		if !bytes.Equal(p.Content[i], c.Content[i]) {
			return false
		}
	}
	return true
}

// difference shows where two canonical JSON texts first differ.
func difference(was, now []byte) string {
	i := 0
	for i < len(was) && i < len(now) && was[i] == now[i] {
		i++
	}
	start := max(0, i-40)
	for start > 0 && !isRuneStart(was[start]) {
		start--
	}
	return fmt.Sprintf("at byte %d: was …%s, now …%s", i, clip(string(was[start:]), 120), clip(string(now[start:]), 120))
}
