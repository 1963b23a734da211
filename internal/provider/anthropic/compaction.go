package anthropic

import (
	"encoding/json"
	"fmt"
	"strconv"

	sdk "github.com/anthropics/anthropic-sdk-go"

	"github.com/lathe-dev/lathe/internal/llm"
)

// Provider-native compaction: a request with [llm.Request.CompactAt]
// carries the compact_20260112 context edit (beta compact-2026-01-12),
// with which the API, once the input reaches the trigger, summarises the
// conversation itself and opens its response with a compaction block.
// The block comes back as an [llm.PartCompaction] holding it verbatim;
// sent back first, it stands for every message before it, which the API
// drops.

// compactBeta is the beta header value the compaction edit needs.
const compactBeta = string(sdk.AnthropicBetaCompact2026_01_12)

// MinCompactTrigger is the smallest trigger the API takes, in input
// tokens: a smaller CompactAt is raised to it.
const MinCompactTrigger = 50000

// appendContextManagement appends the context_management member asking
// for compaction at input tokens, after a comma, or nothing when at is 0.
func appendContextManagement(b []byte, at int) []byte {
	if at <= 0 {
		return b
	}
	b = append(b, `,"context_management":{"edits":[{"trigger":{"type":"input_tokens","value":`...)
	b = strconv.AppendInt(b, int64(max(at, MinCompactTrigger)), 10)
	return append(b, `},"type":"compact_20260112"}]}`...)
}

// compactionBlock returns the block that sends a compaction part back:
// the block as the API sent it, which can carry a breakpoint after its
// opening brace. Another provider's compaction can only be sent as its
// readable summary, if it has one.
func compactionBlock(part llm.Part) (sentBlock, bool, error) {
	if part.Origin != Kind || len(part.Opaque) == 0 {
		if part.Text == "" {
			return sentBlock{}, false, nil
		}
		return textBlock(part.Text), true, nil
	}
	var probe struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(part.Opaque, &probe); err != nil || probe.Type != "compaction" {
		return sentBlock{}, false, fmt.Errorf("compaction part does not hold a compaction block: %.80s", part.Opaque)
	}
	return sentBlock{data: part.Opaque, at: 1}, true, nil
}

// compactionDelta applies the compaction_delta of event raw (a
// content_block_delta) to b: the summary and the opaque state arrive
// whole, in one delta.
func (b *block) compactionDelta(raw string) error {
	var ev struct {
		Delta map[string]json.RawMessage `json:"delta"`
	}
	if err := json.Unmarshal([]byte(raw), &ev); err != nil {
		return fmt.Errorf("compaction delta: %w", err)
	}
	if b.fields == nil {
		b.fields = map[string]json.RawMessage{}
	}
	for _, k := range []string{"content", "encrypted_content"} {
		if v, ok := ev.Delta[k]; ok {
			b.fields[k] = v
		}
	}
	return nil
}

// compactionPart returns the part of a compaction block: the block as it
// started, with what its deltas set. A block without a summary is a
// failed compaction, which the API treats as none: it has no part, and
// the conversation goes on as it was.
func (b *block) compactionPart() (llm.Part, bool) {
	fields := map[string]json.RawMessage{}
	if err := json.Unmarshal([]byte(b.raw), &fields); err != nil {
		return llm.Part{}, false
	}
	for k, v := range b.fields {
		fields[k] = v
	}
	var summary string
	if err := json.Unmarshal(fields["content"], &summary); err != nil || summary == "" {
		return llm.Part{}, false
	}
	opaque, err := json.Marshal(fields)
	if err != nil {
		return llm.Part{}, false
	}
	return llm.Part{Kind: llm.PartCompaction, Text: summary, Opaque: opaque, Origin: Kind}, true
}

// compactionUsage sums the compaction iterations of a usage object raw:
// the API counts what a compaction cost there, apart from the top-level
// fields. ok is false when raw lists no iterations.
func compactionUsage(raw string) (u llm.Usage, ok bool) {
	var usage struct {
		Iterations []struct {
			Type                     string `json:"type"`
			InputTokens              int64  `json:"input_tokens"`
			CacheReadInputTokens     int64  `json:"cache_read_input_tokens"`
			CacheCreationInputTokens int64  `json:"cache_creation_input_tokens"`
			OutputTokens             int64  `json:"output_tokens"`
			CacheCreation            struct {
				Ephemeral1h int64 `json:"ephemeral_1h_input_tokens"`
			} `json:"cache_creation"`
		} `json:"iterations"`
	}
	if json.Unmarshal([]byte(raw), &usage) != nil || usage.Iterations == nil {
		return llm.Usage{}, false
	}
	for _, it := range usage.Iterations {
		if it.Type == "compaction" {
			u = u.Add(llm.Usage{Input: it.InputTokens, CacheRead: it.CacheReadInputTokens, CacheWrite: it.CacheCreationInputTokens,
				Output: it.OutputTokens, CacheWriteLong: it.CacheCreation.Ephemeral1h})
		}
	}
	return u, true
}
