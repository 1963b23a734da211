package fakeapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func parse(t *testing.T, api API, body string) *conversation {
	t.Helper()
	c, err := parseRequest(api, []byte(body))
	if err != nil {
		t.Fatalf("parse %s: %v", body, err)
	}
	return c
}

// anthropicBody is a request whose system prompt and messages are marked
// for caching as the flags say. Long texts make the token counts clear.
func anthropicBody(system string, markSystem bool, messages []string, markLast bool) string {
	sys := fmt.Sprintf(`{"type":"text","text":%q}`, system)
	if markSystem {
		sys = fmt.Sprintf(`{"type":"text","text":%q,"cache_control":{"type":"ephemeral"}}`, system)
	}
	var msgs []string
	for i, m := range messages {
		role := []string{"user", "assistant"}[i%2]
		block := fmt.Sprintf(`{"type":"text","text":%q}`, m)
		if markLast && i == len(messages)-1 {
			block = fmt.Sprintf(`{"type":"text","text":%q,"cache_control":{"type":"ephemeral"}}`, m)
		}
		msgs = append(msgs, fmt.Sprintf(`{"role":%q,"content":[%s]}`, role, block))
	}
	return `{"model":"m","max_tokens":1,"system":[` + sys + `],"messages":[` + strings.Join(msgs, ",") + `]}`
}

func TestAnthropicCacheEmulation(t *testing.T) {
	system := strings.Repeat("You are Lathe. ", 100)
	turn1 := []string{strings.Repeat("fix the tests ", 100)}
	turn2 := append(turn1, strings.Repeat("done ", 100), strings.Repeat("thanks ", 100))

	pc := newPromptCache()
	use := func(body string) Usage {
		t.Helper()
		u := pc.usage(APIAnthropic, parse(t, APIAnthropic, body), len(body), (&Server{}).scale([]byte(body)))
		if total := int64(len(body) / bytesPerToken); u.totalInput() != total {
			t.Errorf("input %d + read %d + write %d != %d tokens", u.InputTokens, u.CacheReadInputTokens, u.CacheCreationInputTokens, total)
		}
		return u
	}

	unmarked := use(anthropicBody(system, false, turn1, false))
	if unmarked.CacheReadInputTokens != 0 || unmarked.CacheCreationInputTokens != 0 {
		t.Errorf("no markers, yet usage %+v", unmarked)
	}
	first := use(anthropicBody(system, true, turn1, true))
	if first.CacheReadInputTokens != 0 || first.CacheCreationInputTokens < int64(len(system)+len(turn1[0]))/bytesPerToken {
		t.Errorf("first marked request: %+v, want the system prompt and message written", first)
	}
	second := use(anthropicBody(system, true, turn2, true))
	if second.CacheReadInputTokens != first.CacheCreationInputTokens || second.CacheCreationInputTokens < int64(len(turn2[1])+len(turn2[2]))/bytesPerToken {
		t.Errorf("second request: %+v, want %d read and the new turn written", second, first.CacheCreationInputTokens)
	}
	retry := use(anthropicBody(system, true, turn2, true))
	if retry.CacheCreationInputTokens != 0 || retry.CacheReadInputTokens != second.CacheReadInputTokens+second.CacheCreationInputTokens {
		t.Errorf("identical retry: %+v, want everything read", retry)
	}
	// Editing the first message keeps only the system prompt's breakpoint.
	edited := use(anthropicBody(system, true, append([]string{"other"}, turn2[1:]...), true))
	if edited.CacheReadInputTokens <= 0 || edited.CacheReadInputTokens >= first.CacheCreationInputTokens {
		t.Errorf("edited history: %+v, want only the system prompt read", edited)
	}
}

func TestOpenAICacheEmulation(t *testing.T) {
	instructions := strings.Repeat("You are Lathe. ", 100)
	body := func(key string, items ...string) string {
		var input []string
		for _, it := range items {
			input = append(input, fmt.Sprintf(`{"role":"user","content":%q}`, it))
		}
		return fmt.Sprintf(`{"model":"m","instructions":%q,"prompt_cache_key":%q,"input":[%s]}`, instructions, key, strings.Join(input, ","))
	}
	long := strings.Repeat("fix the tests ", 100)
	pc := newPromptCache()
	use := func(api API, body string) Usage {
		t.Helper()
		return pc.usage(api, parse(t, api, body), len(body), (&Server{}).scale([]byte(body)))
	}
	if u := use(APIResponses, body("a", long)); u.CacheReadInputTokens != 0 {
		t.Errorf("first request read %d cached tokens", u.CacheReadInputTokens)
	}
	u := use(APIResponses, body("a", long, "more"))
	if u.CacheReadInputTokens < int64(len(instructions)+len(long))/bytesPerToken || u.CacheReadInputTokens >= u.totalInput() {
		t.Errorf("extending request: %+v, want the previous prompt cached", u)
	}
	if u := use(APIResponses, body("b", long, "more")); u.CacheReadInputTokens != 0 {
		t.Errorf("another prompt_cache_key read %d cached tokens", u.CacheReadInputTokens)
	}
	// Chat has no cache key: the previous Chat request is the prefix.
	chat := func(msgs ...string) string {
		var ms []string
		for _, m := range msgs {
			ms = append(ms, fmt.Sprintf(`{"role":"user","content":%q}`, m))
		}
		return `{"model":"m","messages":[` + strings.Join(ms, ",") + `]}`
	}
	use(APIChat, chat(long))
	if u := use(APIChat, chat(long, "more")); u.CacheReadInputTokens < int64(len(long))/bytesPerToken {
		t.Errorf("chat extension cached %d tokens", u.CacheReadInputTokens)
	}
	if u := use(APIChat, chat("different", long)); u.CacheReadInputTokens != 0 {
		t.Errorf("chat with a new prefix cached %d tokens", u.CacheReadInputTokens)
	}
}

func TestScriptUsageIsReportedAsGiven(t *testing.T) {
	given := &Usage{InputTokens: 100, CacheReadInputTokens: 1000, CacheCreationInputTokens: 10, OutputTokens: 42}
	srv := newTestServer(t, Step{Reply: &Reply{Text: "hi", Usage: given}}, Step{Reply: &Reply{Text: "hi", Usage: given}})
	_, body := post(t, srv, "/v1/messages", anthropicTurn(userFix))
	if !strings.Contains(body, `"usage":{"input_tokens":100,"cache_creation_input_tokens":10,"cache_read_input_tokens":1000,"output_tokens":42}`) {
		t.Errorf("Anthropic usage not as given:\n%s", body)
	}
	_, body = post(t, srv, "/v1/responses", `{"model":"m","stream":true,"input":"hi"}`)
	if !strings.Contains(body, `"usage":{"input_tokens":1110,"input_tokens_details":{"cached_tokens":1000},"output_tokens":42,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":1152}`) {
		t.Errorf("Responses usage not as given:\n%s", body)
	}
}

// TestTokenCounter checks that a server counting tokens its own way
// reports the whole body in those tokens, its cached share pro rata.
func TestTokenCounter(t *testing.T) {
	// Two bytes a token, where the default is four.
	count := func(body []byte) int { return len(body) / 2 }
	srv := NewServer(&Script{Steps: []Step{{Reply: &Reply{Text: "a"}}, {Reply: &Reply{Text: "b"}}}}, WithTokenCounter(count))
	t.Cleanup(srv.Close)
	system := strings.Repeat("You are Lathe. ", 100)
	turn1 := []string{strings.Repeat("fix the tests ", 100)}
	turn2 := append(turn1, "a", strings.Repeat("thanks ", 100))
	var got []Usage
	var sizes []int
	for _, body := range []string{anthropicBody(system, true, turn1, true), anthropicBody(system, true, turn2, true)} {
		body = strings.Replace(body, `"max_tokens":1,`, `"max_tokens":1,"stream":false,`, 1)
		sizes = append(sizes, count([]byte(body)))
		resp, data := post(t, srv, "/v1/messages", body)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, data)
		}
		var m struct{ Usage Usage }
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			t.Fatalf("response %s: %v", data, err)
		}
		got = append(got, m.Usage)
	}
	for i, u := range got {
		if u.totalInput() != int64(sizes[i]) {
			t.Errorf("request %d: input %+v totals %d, want the counter's %d", i+1, u, u.totalInput(), sizes[i])
		}
	}
	if w := got[0].CacheCreationInputTokens; w < int64(len(system)+len(turn1[0]))/2 {
		t.Errorf("first request wrote %d tokens to the cache, want its system prompt and message at two bytes a token", w)
	}
	if r, w := got[1].CacheReadInputTokens, got[0].CacheCreationInputTokens; r < w-1 || r > w {
		t.Errorf("second request read %d tokens from the cache, want the %d the first wrote", r, w)
	}
	wantNoFailures(t, srv)
}

// TestAnthropicAutomaticBreakpoint checks the top-level cache_control:
// it caches as a breakpoint on the last block does, with its lifetime,
// and counts towards the API's limit of four breakpoints, which a request
// over it is refused for.
func TestAnthropicAutomaticBreakpoint(t *testing.T) {
	system := strings.Repeat("You are Lathe. ", 100)
	turn1 := []string{strings.Repeat("fix the tests ", 100)}
	turn2 := append(turn1, strings.Repeat("done ", 100), strings.Repeat("thanks ", 100))
	auto := func(body, cc string) string {
		return strings.Replace(body, `"max_tokens":1,`, `"max_tokens":1,"cache_control":`+cc+`,`, 1)
	}
	pc := newPromptCache()
	use := func(body string) Usage {
		t.Helper()
		return pc.usage(APIAnthropic, parse(t, APIAnthropic, body), len(body), (&Server{}).scale([]byte(body)))
	}
	first := use(auto(anthropicBody(system, true, turn1, false), `{"type":"ephemeral","ttl":"1h"}`))
	if first.CacheCreationInputTokens < int64(len(system)+len(turn1[0]))/bytesPerToken || first.CacheCreation1hInputTokens != first.CacheCreationInputTokens {
		t.Errorf("first request: %+v, want the system prompt and message written for an hour", first)
	}
	second := use(auto(anthropicBody(system, true, turn2, false), `{"type":"ephemeral"}`))
	if second.CacheReadInputTokens != first.CacheCreationInputTokens || second.CacheCreation1hInputTokens != 0 {
		t.Errorf("second request: %+v, want %d read and the new turn written for 5 minutes", second, first.CacheCreationInputTokens)
	}

	// Three marked messages, the system prompt and the automatic one.
	marked := `{"role":"user","content":[{"type":"text","text":"a","cache_control":{"type":"ephemeral"}}]}`
	unmarked := `{"role":"user","content":[{"type":"text","text":"a"}]}`
	body := func(last string) string {
		return `{"model":"m","max_tokens":1,"cache_control":{"type":"ephemeral"},` +
			`"system":[{"type":"text","text":"s","cache_control":{"type":"ephemeral"}}],` +
			`"messages":[` + strings.Join([]string{marked, strings.Replace(marked, `"user"`, `"assistant"`, 1), last}, ",") + `]}`
	}
	// The automatic breakpoint on a block marked already is that one.
	parse(t, APIAnthropic, body(marked))
	parse(t, APIAnthropic, body(unmarked))
	// One more marked message is one too many.
	over := strings.Replace(body(unmarked), `"messages":[`, `"messages":[`+marked+`,`+strings.Replace(unmarked, `"user"`, `"assistant"`, 1)+`,`, 1)
	_, err := parseRequest(APIAnthropic, []byte(over))
	if err == nil || !strings.Contains(err.Error(), "A maximum of 4 blocks with cache_control may be provided. Found 5.") {
		t.Errorf("five breakpoints: error %v, want the API's refusal", err)
	}
}
