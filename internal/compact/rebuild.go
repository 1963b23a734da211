package compact

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lathe-dev/lathe/internal/llm"
)

// Header begins the first message of every compacted conversation.
const Header = "[This session was compacted: the earlier conversation was replaced by the summary and the ledger below.]"

// Split divides a conversation into what a compaction replaces and the
// most recent step, kept verbatim: the last assistant message and what
// followed it (its tool results, the user's words since).
func Split(msgs []llm.Message) (old, recent []llm.Message) {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == llm.RoleAssistant {
			return msgs[:i], msgs[i:]
		}
	}
	return nil, msgs
}

// largeRead is the size of a read's result above which the rebuilt
// conversation says the file was read: the model may want it again, and
// a small file it can tell from the summary.
const largeRead = 2 << 10

// LargeReads names the files the calls in msgs read with a large result,
// each once, in order: the rebuilt conversation notes them rather than
// keeping their content.
func LargeReads(msgs []llm.Message, classify Classifier) []string {
	if classify == nil {
		return nil
	}
	calls := map[string]llm.Part{}
	var out []string
	for _, m := range msgs {
		for _, p := range m.Parts {
			switch p.Kind {
			case llm.PartToolCall:
				calls[p.CallID] = p
			case llm.PartToolResult:
				call, ok := calls[p.CallID]
				if !ok || p.IsError || len(p.Text) < largeRead {
					continue
				}
				f, ok := classify(call)
				if !ok || len(f.Writes) > 0 || f.Command != "" {
					continue
				}
				for _, r := range f.Reads {
					if !slices.Contains(out, r) {
						out = append(out, r)
					}
				}
			}
		}
	}
	return out
}

// Rebuild returns the compacted conversation: one user message with the
// header, the summary (empty when there is none: the ledger alone), the
// ledger and the files read before, then recent verbatim. The system
// prompt and tools are not part of it: the request keeps sending them
// unchanged, so that their tier of the prompt cache stays warm, and the
// project's instructions with them.
func Rebuild(l Ledger, summary string, reads []string, recent []llm.Message) []llm.Message {
	var b strings.Builder
	b.WriteString(Header)
	b.WriteString("\n\n")
	if summary = strings.TrimSpace(summary); summary != "" {
		b.WriteString("## Summary of the work so far\n\n")
		b.WriteString(summary)
		b.WriteString("\n\n")
	} else {
		b.WriteString("No summary could be made; the ledger below is what the harness kept. Work out the state from the files and the last step.\n\n")
	}
	b.WriteString("## Ledger (kept by the harness; authoritative)\n\n")
	if ledger := l.Format(); ledger != "" {
		b.WriteString(ledger)
	} else {
		b.WriteString("(empty)\n")
	}
	if len(reads) > 0 {
		b.WriteString("\n### Files read before compaction (Read again if needed)\n")
		for _, r := range reads {
			fmt.Fprintf(&b, "- %s\n", r)
		}
	}
	b.WriteString("\nThe last step follows verbatim. Continue the task from the summary's next action; do not restart finished work.")
	first := llm.Part{Kind: llm.PartText, Text: b.String()}
	out := make([]llm.Message, 0, len(recent)+1)
	if len(recent) > 0 && recent[0].Role == llm.RoleUser {
		// Two user messages in a row would be one to most providers
		// anyway; make it so.
		m := recent[0]
		out = append(out, llm.Message{Role: llm.RoleUser, Parts: append([]llm.Part{first}, m.Parts...)})
		return append(out, recent[1:]...)
	}
	out = append(out, llm.Message{Role: llm.RoleUser, Parts: []llm.Part{first}})
	return append(out, recent...)
}

// cutNote replaces the middle of a tool output cut at compaction.
const cutNote = "[… %d bytes of this output were cut at compaction; run the command or Read the file again to see them …]"

// CapResults cuts the tool outputs in msgs, the largest first, to their
// head and tail, until the outputs total at most maxBytes or none is
// longer than a small floor. It returns new messages; msgs is unchanged.
func CapResults(msgs []llm.Message, maxBytes int) []llm.Message {
	const floor = 1 << 10
	out := cloneMessages(msgs)
	type ref struct{ m, p int }
	var refs []ref
	total := 0
	for i, m := range out {
		for j, p := range m.Parts {
			if p.Kind == llm.PartToolResult {
				refs = append(refs, ref{i, j})
				total += len(p.Text)
			}
		}
	}
	slices.SortStableFunc(refs, func(a, b ref) int {
		return len(out[b.m].Parts[b.p].Text) - len(out[a.m].Parts[a.p].Text)
	})
	for _, r := range refs {
		if total <= maxBytes {
			break
		}
		p := &out[r.m].Parts[r.p]
		keep := max(floor, len(p.Text)-(total-maxBytes))
		if keep >= len(p.Text) {
			continue
		}
		before := len(p.Text)
		p.Text = cutMiddle(p.Text, keep)
		total -= before - len(p.Text)
	}
	return out
}

// cutMiddle keeps about n bytes of s, its head and tail, with a note of
// the cut between them.
func cutMiddle(s string, n int) string {
	if len(s) <= n {
		return s
	}
	head := strings.TrimSuffix(clip(s, n/2), "…")
	tail := s[len(s)-n/2:]
	for len(tail) > 0 && !runeStart(tail[0]) {
		tail = tail[1:]
	}
	return head + "\n" + fmt.Sprintf(cutNote, len(s)-len(head)-len(tail)) + "\n" + tail
}

// shrinkResult is the size old tool outputs are cut to by Shrink's first
// step.
const shrinkResult = 2 << 10

// Shrink makes a conversation too large for its summary request smaller
// by one step, keeping it valid and its first message and last step
// intact: first it cuts every older tool output longer than a few
// kilobytes to its head and tail; then, called again, it drops the oldest
// half of the older steps (an assistant message and what followed it up
// to the next one). It reports false when nothing is left to shrink. The
// cached prefix is lost either way; it is the fallback for a summary
// request that would not fit.
func Shrink(msgs []llm.Message) ([]llm.Message, bool) {
	old, recent := Split(msgs)
	out := cloneMessages(old)
	cut := false
	for i := range out {
		for j := range out[i].Parts {
			p := &out[i].Parts[j]
			if p.Kind == llm.PartToolResult && len(p.Text) > shrinkResult+len(cutNote)+32 {
				p.Text = cutMiddle(p.Text, shrinkResult)
				cut = true
			}
		}
	}
	if cut {
		return append(out, recent...), true
	}
	// The steps of old: each begins at an assistant message. What comes
	// before the first (the first prompt) stays.
	var starts []int
	for i, m := range old {
		if m.Role == llm.RoleAssistant {
			starts = append(starts, i)
		}
	}
	if len(starts) == 0 {
		return msgs, false
	}
	drop := max(1, len(starts)/2)
	end := len(old)
	if drop < len(starts) {
		end = starts[drop]
	}
	kept := append(slices.Clone(old[:starts[0]]), old[end:]...)
	return append(kept, recent...), true
}

// cloneMessages copies msgs and their parts, so that a part's text can be
// changed without changing msgs.
func cloneMessages(msgs []llm.Message) []llm.Message {
	out := make([]llm.Message, len(msgs))
	for i, m := range msgs {
		out[i] = llm.Message{Role: m.Role, Parts: slices.Clone(m.Parts)}
	}
	return out
}

// Boundary is one compaction as the session log records it: from it on,
// the conversation is Messages and what follows, and Ledger covers
// Messages.
type Boundary struct {
	Messages []llm.Message `json:"messages"`
	Ledger   Ledger        `json:"ledger"`
	// Reason is what started the compaction: Auto, Reactive or Manual.
	Reason       string `json:"reason"`
	TokensBefore int    `json:"tokens_before"`
	TokensAfter  int    `json:"tokens_after"`
	// LedgerOnly says the model gave no usable summary.
	LedgerOnly bool `json:"ledger_only,omitempty"`
}

// What starts a compaction.
const (
	// Auto: the context reached the trigger at a step boundary.
	Auto = "auto"
	// Reactive: the provider answered that the request was too long.
	Reactive = "reactive"
	// Manual: the user asked (lathe compact).
	Manual = "manual"
	// Fork: no compaction, but a forked session's copy of its parent's
	// last boundary (session log records only).
	Fork = "fork"
)
