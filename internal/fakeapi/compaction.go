package fakeapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Provider-native compaction, as the two APIs that have it speak it.
//
// Anthropic: a request asks with context_management {"edits":
// [{"type": "compact_20260112", "trigger": {"type": "input_tokens",
// "value": N}}]} and the beta header anthropic-beta: compact-2026-01-12;
// the reply opens with a content block {"type": "compaction", "content":
// SUMMARY, "encrypted_content": …, "signature": …}, streamed as a start
// with empty content, one compaction_delta with content and
// encrypted_content, and a stop; the streamed message_delta's usage lists
// the compaction's own tokens in iterations, apart from the top-level
// counts. Sent back, the block must be unchanged.
//
// Responses: a request asks with context_management [{"type":
// "compaction", "compact_threshold": N}]; the reply's output opens with
// an item {"type": "compaction", "id": "cmp_…", "encrypted_content": …},
// sent back as an input item.
//
// The fake's encrypted content is the summary in base64 behind a fixed
// prefix, so that a later request's compaction can be read back; its
// signature is derived from summary and content, so that a block changed
// on the way back is caught.

// encryptedPrefix begins the fake's encrypted compaction content.
const encryptedPrefix = "fakecmp_"

// Header and edit of Anthropic's compaction.
const (
	compactBeta = "compact-2026-01-12"
	compactEdit = "compact_20260112"
)

func compactionEncrypted(summary string) string {
	return encryptedPrefix + base64.RawURLEncoding.EncodeToString([]byte(summary))
}

// compactionSummary reads back the summary of encrypted content the fake
// wrote.
func compactionSummary(enc string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(enc, encryptedPrefix))
	if err != nil || !strings.HasPrefix(enc, encryptedPrefix) {
		return "", false
	}
	return string(b), true
}

func compactionSignature(summary, enc string) string {
	return "Cmp" + opaque("compaction/"+summary+"/"+enc, 64)
}

// anthropicCompactionBlock is the block of a reply's compaction as the
// whole message carries it.
func anthropicCompactionBlock(summary string) obj {
	enc := compactionEncrypted(summary)
	return obj{{"type", "compaction"}, {"content", summary}, {"encrypted_content", enc}, {"signature", compactionSignature(summary, enc)}}
}

// compactionIterations is the usage.iterations of an Anthropic reply
// that compacts, or nil: the compaction read the whole request and wrote
// the summary, apart from the top-level counts, which are the message's.
func compactionIterations(t *turn) []any {
	if t.reply.Compaction == "" {
		return nil
	}
	u := t.usage
	return []any{
		obj{{"type", "compaction"}, {"input_tokens", u.totalInput()}, {"cache_creation_input_tokens", 0}, {"cache_read_input_tokens", 0},
			{"output_tokens", max(1, len(t.reply.Compaction)/bytesPerToken)}},
		obj{{"type", "message"}, {"input_tokens", u.InputTokens}, {"cache_creation_input_tokens", u.CacheCreationInputTokens},
			{"cache_read_input_tokens", u.CacheReadInputTokens}, {"output_tokens", u.OutputTokens}},
	}
}

func (responsesDialect) compactionID(t *turn) string { return "cmp_" + hexID(t.seed("cmp", 0), 48) }

// compactionItem is a reply's compaction output item; as
// output_item.added announces it, it has no content yet.
func (d responsesDialect) compactionItem(t *turn, done bool) obj {
	enc := ""
	if done {
		enc = compactionEncrypted(t.reply.Compaction)
	}
	return obj{{"id", d.compactionID(t)}, {"type", "compaction"}, {"encrypted_content", enc}}
}

// nativeRequest is what a request says of native compaction.
type nativeRequest struct {
	// at is the trigger or threshold asked for, 0 when none is.
	at int
	// first is the summary of the compaction the conversation begins
	// with, "" when it begins with none.
	first string
	// problems are what the API would reject: a compaction sent back
	// changed, or one the fake never made.
	problems []string
}

// parseNative reads a request body's native compaction settings and the
// compactions it sends back.
func parseNative(api API, body []byte) nativeRequest {
	var nr nativeRequest
	// Most requests have nothing of it: spare them a second decoding.
	if !bytes.Contains(body, []byte("compact")) {
		return nr
	}
	switch api {
	case APIAnthropic:
		var req struct {
			ContextManagement struct {
				Edits []struct {
					Type    string `json:"type"`
					Trigger struct {
						Type  string `json:"type"`
						Value int    `json:"value"`
					} `json:"trigger"`
				} `json:"edits"`
			} `json:"context_management"`
			Messages []struct {
				Role    string          `json:"role"`
				Content json.RawMessage `json:"content"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			nr.problems = append(nr.problems, fmt.Sprintf("context_management: %v", err))
			return nr
		}
		for _, e := range req.ContextManagement.Edits {
			if e.Type == compactEdit {
				nr.at = max(e.Trigger.Value, 1)
			}
		}
		for i, m := range req.Messages {
			blocks, _, _ := content(m.Content)
			for j, b := range blocks {
				if str(b, "type") != "compaction" {
					continue
				}
				summary, enc := str(b, "content"), str(b, "encrypted_content")
				if got, ok := compactionSummary(enc); !ok || got != summary || str(b, "signature") != compactionSignature(summary, enc) {
					nr.problems = append(nr.problems, fmt.Sprintf("messages[%d].content[%d]: a compaction block that is not one the server sent, unchanged", i, j))
					continue
				}
				if i == 0 && j == 0 && m.Role == "assistant" {
					nr.first = summary
				}
			}
		}
	case APIResponses:
		var req struct {
			ContextManagement []struct {
				Type      string `json:"type"`
				Threshold int    `json:"compact_threshold"`
			} `json:"context_management"`
			Input json.RawMessage `json:"input"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			nr.problems = append(nr.problems, fmt.Sprintf("context_management: %v", err))
			return nr
		}
		for _, c := range req.ContextManagement {
			if c.Type == "compaction" {
				nr.at = max(c.Threshold, 1)
			}
		}
		var items []jsonObject
		if len(req.Input) > 0 && req.Input[0] == '[' {
			_ = json.Unmarshal(req.Input, &items) // parseResponses reports a bad input.
		}
		for i, it := range items {
			if str(it, "type") != "compaction" {
				continue
			}
			summary, ok := compactionSummary(str(it, "encrypted_content"))
			if !ok {
				nr.problems = append(nr.problems, fmt.Sprintf("input[%d]: a compaction item whose encrypted_content the server never sent", i))
				continue
			}
			if i == 0 {
				nr.first = summary
			}
		}
	}
	return nr
}

// checkNative checks a request's native compaction: a step whose reply
// compacts needs a request that asks for it (on Anthropic with the beta
// header too), compactions sent back must be unchanged, and the step's
// expectations.
func (s *Server) checkNative(n, step int, api API, h http.Header, c *conversation, st *Step) {
	failf := func(format string, args ...any) {
		s.failf("request %d (step %d): %s", n, step, fmt.Sprintf(format, args...))
	}
	for _, p := range c.native.problems {
		failf("%s", p)
	}
	if api == APIAnthropic && c.native.at > 0 && !strings.Contains(strings.Join(h.Values("anthropic-beta"), ","), compactBeta) {
		failf("context_management asks for %s without the beta header anthropic-beta: %s", compactEdit, compactBeta)
	}
	if st.Reply != nil && st.Reply.Compaction != "" && c.native.at == 0 {
		failf("the step's reply compacts, but the request asks for no native compaction")
	}
	e := st.Expect
	if e == nil {
		return
	}
	if e.NativeCompaction != nil && (c.native.at > 0) != *e.NativeCompaction {
		failf("native compaction asked for: %t, want %t", c.native.at > 0, *e.NativeCompaction)
	}
	if e.Compacted != "" && c.native.first != e.Compacted {
		failf("the conversation begins with the compaction %q, want %q", clip(c.native.first, 120), e.Compacted)
	}
}
