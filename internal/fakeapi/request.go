package fakeapi

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// API names the wire protocol of a request.
type API string

const (
	APIAnthropic API = "anthropic" // POST /v1/messages
	APIResponses API = "responses" // POST /v1/responses
	APIChat      API = "chat"      // POST /v1/chat/completions
)

// conversation is what the checks and the usage emulation need to know about
// a request, whatever its API.
type conversation struct {
	model  string
	stream bool
	// includeUsage is Chat's stream_options.include_usage.
	includeUsage bool
	// top holds the request's top-level fields, for echoing in replies.
	top map[string]json.RawMessage

	system   string
	tools    []string
	lastUser string
	// firstUser is the first user message's text: the prompt that
	// started the conversation.
	firstUser string

	// cacheKey is the Responses prompt_cache_key.
	cacheKey string
	// prefixMarked and lastMarked say whether an Anthropic request has a
	// cache_control on its tools/system prefix and on its last message.
	prefixMarked, lastMarked bool

	results []toolResult
	// lastCallIDs are the ids of the tool calls in the last assistant
	// message (on Responses: the call items since the last user message).
	lastCallIDs []string
	// assistant holds a key per assistant message (per assistant item on
	// Responses), in order; see [assistantKey].
	assistant []string

	// head and items are the canonical conversation: system and tools, and
	// the messages or input items, cache_control removed.
	head  []byte
	items [][]byte
	// blocks are the cacheable units in prompt order.
	blocks []block
	// native is what the request says of native compaction.
	native nativeRequest
}

// threadKey names the conversation a request continues: its system
// prompt and the prompt that started it.
func (c *conversation) threadKey() string { return c.system + "\x00" + c.firstUser }

// toolResult is one tool result in a request.
type toolResult struct {
	callID  string
	content string
	// isError is the Anthropic is_error flag; hasFlag is false on the APIs
	// without one.
	isError, hasFlag bool
}

// block is one cacheable unit of a prompt: a tool definition, a system
// block, a content block or an input item.
type block struct {
	canon  []byte
	marked bool
	// long marks a breakpoint whose cache entry lives an hour.
	long bool
}

// Keys of assistant messages. A message with tool calls is identified by
// their ids, which are unique; one without by its reasoning or its text.
func callsKey(ids []string) string  { return "calls:" + strings.Join(ids, ",") }
func reasoningKey(id string) string { return "reasoning:" + id }
func textKey(text string) string    { return "text:" + text }
func canonKey(canon []byte) string  { return "message:" + string(canon) }

// parseRequest reads a request body of the given API.
func parseRequest(api API, body []byte) (*conversation, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, fmt.Errorf("body is not a JSON object: %w", err)
	}
	if top == nil {
		return nil, errors.New("body is null")
	}
	c := &conversation{top: top}
	if err := decodeField(top, "model", &c.model); err != nil {
		return nil, err
	}
	if err := decodeField(top, "stream", &c.stream); err != nil {
		return nil, err
	}
	var err error
	switch api {
	case APIAnthropic:
		err = c.parseAnthropic(body)
	case APIResponses:
		err = c.parseResponses(body)
	case APIChat:
		err = c.parseChat(body)
	default:
		err = fmt.Errorf("unknown API %q", api)
	}
	if err != nil {
		return nil, err
	}
	c.native = parseNative(api, body)
	return c, nil
}

// decodeField decodes top[name] into v when present and not null.
func decodeField(top map[string]json.RawMessage, name string, v any) error {
	raw, ok := top[name]
	if !ok || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("field %s: %w", name, err)
	}
	return nil
}

type jsonObject = map[string]json.RawMessage

// str returns the string field name of o, or "" when absent or not a string.
func str(o jsonObject, name string) string {
	var s string
	if raw, ok := o[name]; ok {
		_ = json.Unmarshal(raw, &s) // A non-string reads as absent.
	}
	return s
}

// content reads message content that is either a string or an array of
// blocks, returning the blocks (a string becomes nil blocks) and the text of
// the string or of the blocks' text fields.
func content(raw json.RawMessage) (blocks []jsonObject, text string, err error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, "", nil
	}
	if raw[0] == '"' {
		err = json.Unmarshal(raw, &text)
		return nil, text, err
	}
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return nil, "", fmt.Errorf("content is neither a string nor an array of blocks: %w", err)
	}
	var texts []string
	for _, b := range blocks {
		if t := str(b, "text"); t != "" && isTextBlock(str(b, "type")) {
			texts = append(texts, t)
		}
	}
	return blocks, strings.Join(texts, "\n"), nil
}

func isTextBlock(typ string) bool {
	switch typ {
	case "text", "input_text", "output_text":
		return true
	}
	return false
}

// canonical re-encodes JSON with sorted keys and every cache_control key
// removed, so that conversations compare byte for byte whatever the
// client's key order and moving cache markers.
func canonical(raw json.RawMessage) []byte {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		// Only ever called on parts of a body that decoded already.
		return raw
	}
	return mustMarshal(stripCacheControl(v))
}

func stripCacheControl(v any) any {
	switch v := v.(type) {
	case map[string]any:
		delete(v, "cache_control")
		for k, e := range v {
			v[k] = stripCacheControl(e)
		}
	case []any:
		for i, e := range v {
			v[i] = stripCacheControl(e)
		}
	}
	return v
}

func hasCacheControl(o jsonObject) bool {
	raw, ok := o["cache_control"]
	return ok && string(raw) != "null"
}

// hourLong reports whether o's breakpoint asks for an hour-long cache
// entry.
func hourLong(o jsonObject) bool {
	var cc struct {
		TTL string `json:"ttl"`
	}
	return json.Unmarshal(o["cache_control"], &cc) == nil && cc.TTL == "1h"
}

func (c *conversation) parseAnthropic(body []byte) error {
	var req struct {
		System       json.RawMessage   `json:"system"`
		Tools        []json.RawMessage `json:"tools"`
		Messages     []json.RawMessage `json:"messages"`
		CacheControl json.RawMessage   `json:"cache_control"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return fmt.Errorf("decode request: %w", err)
	}
	for i, raw := range req.Tools {
		var t jsonObject
		if err := json.Unmarshal(raw, &t); err != nil {
			return fmt.Errorf("tools[%d]: %w", i, err)
		}
		c.tools = append(c.tools, str(t, "name"))
		c.prefixMarked = c.prefixMarked || hasCacheControl(t)
		c.blocks = append(c.blocks, block{canon: canonical(raw), marked: hasCacheControl(t), long: hourLong(t)})
	}
	sys, sysText, err := content(req.System)
	if err != nil {
		return fmt.Errorf("system: %w", err)
	}
	c.system = sysText
	if sys == nil && sysText != "" {
		c.blocks = append(c.blocks, block{canon: canonical(req.System)})
	}
	for _, b := range sys {
		c.prefixMarked = c.prefixMarked || hasCacheControl(b)
		c.blocks = append(c.blocks, block{canon: canonical(mustMarshal(b)), marked: hasCacheControl(b), long: hourLong(b)})
	}
	c.head = mustMarshal([]json.RawMessage{canonical(orNull(req.System)), canonical(mustMarshal(orEmpty(req.Tools)))})

	for i, raw := range req.Messages {
		var m struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("messages[%d]: %w", i, err)
		}
		blocks, text, err := content(m.Content)
		if err != nil {
			return fmt.Errorf("messages[%d]: %w", i, err)
		}
		c.items = append(c.items, canonical(raw))
		last := i == len(req.Messages)-1
		if blocks == nil {
			c.blocks = append(c.blocks, block{canon: roleCanon(m.Role, m.Content)})
		}
		var ids []string
		var signature string
		for _, b := range blocks {
			marked := hasCacheControl(b)
			c.lastMarked = c.lastMarked || (last && marked)
			c.blocks = append(c.blocks, block{canon: roleCanon(m.Role, mustMarshal(b)), marked: marked, long: hourLong(b)})
			switch str(b, "type") {
			case "tool_use":
				ids = append(ids, str(b, "id"))
			case "thinking":
				signature = str(b, "signature")
			case "tool_result":
				r, err := anthropicResult(b)
				if err != nil {
					return fmt.Errorf("messages[%d]: %w", i, err)
				}
				c.results = append(c.results, r)
			}
		}
		switch m.Role {
		case "user":
			if text != "" {
				c.lastUser = text
				c.firstUser = cmp.Or(c.firstUser, text)
			}
		case "assistant":
			c.assistant = append(c.assistant, assistantKey(ids, signature, text, c.items[i]))
			c.lastCallIDs = ids
		}
	}
	auto := jsonObject{"cache_control": req.CacheControl}
	if len(req.CacheControl) > 0 && hasCacheControl(auto) && len(c.blocks) > 0 {
		// Automatic caching puts the breakpoint on the last block, with
		// its lifetime.
		last := &c.blocks[len(c.blocks)-1]
		last.marked, last.long = true, last.long || hourLong(auto)
		c.lastMarked = true
	}
	if n := countMarked(c.blocks); n > maxBreakpoints {
		return fmt.Errorf("cache breakpoints: %s", tooManyBreakpoints(n))
	}
	return nil
}

// maxBreakpoints is how many prompt-cache breakpoints an Anthropic request
// may have, the automatic one included.
const maxBreakpoints = 4

// tooManyBreakpoints is the API's refusal of n breakpoints.
func tooManyBreakpoints(n int) string {
	return fmt.Sprintf("A maximum of %d blocks with cache_control may be provided. Found %d.", maxBreakpoints, n)
}

func countMarked(blocks []block) int {
	n := 0
	for _, b := range blocks {
		if b.marked {
			n++
		}
	}
	return n
}

// assistantKey identifies an assistant message: by its tool call ids, its
// reasoning, its text, or failing all of those its canonical form.
func assistantKey(callIDs []string, reasoning, text string, canon []byte) string {
	switch {
	case len(callIDs) > 0:
		return callsKey(callIDs)
	case text != "":
		return textKey(text)
	case reasoning != "":
		return reasoningKey(reasoning)
	}
	return canonKey(canon)
}

func anthropicResult(b jsonObject) (toolResult, error) {
	r := toolResult{callID: str(b, "tool_use_id"), hasFlag: true}
	if raw, ok := b["is_error"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &r.isError); err != nil {
			return r, fmt.Errorf("tool_result is_error: %w", err)
		}
	}
	_, text, err := content(b["content"])
	if err != nil {
		return r, fmt.Errorf("tool_result %s: %w", r.callID, err)
	}
	r.content = text
	return r, nil
}

func roleCanon(role string, raw json.RawMessage) []byte {
	return append([]byte(role+":"), canonical(raw)...)
}

func orNull(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage("null")
	}
	return raw
}

func orEmpty(raws []json.RawMessage) []json.RawMessage {
	if raws == nil {
		return []json.RawMessage{}
	}
	return raws
}

func (c *conversation) parseResponses(body []byte) error {
	var req struct {
		Instructions   *string           `json:"instructions"`
		Input          json.RawMessage   `json:"input"`
		Tools          []json.RawMessage `json:"tools"`
		PromptCacheKey string            `json:"prompt_cache_key"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return fmt.Errorf("decode request: %w", err)
	}
	c.cacheKey = req.PromptCacheKey
	for i, raw := range req.Tools {
		var t jsonObject
		if err := json.Unmarshal(raw, &t); err != nil {
			return fmt.Errorf("tools[%d]: %w", i, err)
		}
		name := str(t, "name")
		if name == "" {
			name = str(t, "type") // Built-in tools such as web_search.
		}
		c.tools = append(c.tools, name)
		c.blocks = append(c.blocks, block{canon: canonical(raw)})
	}
	var system []string
	if req.Instructions != nil {
		system = append(system, *req.Instructions)
		c.blocks = append(c.blocks, block{canon: mustMarshal(*req.Instructions)})
	}
	c.head = mustMarshal([]any{req.Instructions, canonical(mustMarshal(orEmpty(req.Tools)))})

	var items []json.RawMessage
	if len(req.Input) > 0 && req.Input[0] == '"' {
		var text string
		if err := json.Unmarshal(req.Input, &text); err != nil {
			return fmt.Errorf("input: %w", err)
		}
		items = []json.RawMessage{mustMarshal(obj{{"role", "user"}, {"content", text}})}
	} else if len(req.Input) > 0 && string(req.Input) != "null" {
		if err := json.Unmarshal(req.Input, &items); err != nil {
			return fmt.Errorf("input: %w", err)
		}
	}
	// callTypes pairs each call with its output's type: the API refuses a
	// function_call_output for a custom_tool_call and the reverse.
	callTypes := map[string]string{}
	for i, raw := range items {
		var it jsonObject
		if err := json.Unmarshal(raw, &it); err != nil {
			return fmt.Errorf("input[%d]: %w", i, err)
		}
		canon := canonical(raw)
		c.items = append(c.items, canon)
		c.blocks = append(c.blocks, block{canon: canon})
		typ := str(it, "type")
		if typ == "" && str(it, "role") != "" {
			typ = "message"
		}
		switch typ {
		case "message":
			_, text, err := content(it["content"])
			if err != nil {
				return fmt.Errorf("input[%d]: %w", i, err)
			}
			switch str(it, "role") {
			case "user":
				if text != "" {
					c.lastUser = text
					c.firstUser = cmp.Or(c.firstUser, text)
				}
				c.lastCallIDs = nil
			case "system", "developer":
				system = append(system, text)
			case "assistant":
				c.assistant = append(c.assistant, assistantKey(nil, "", text, canon))
			}
		case "function_call", "custom_tool_call":
			callTypes[str(it, "call_id")] = typ
			c.assistant = append(c.assistant, callsKey([]string{str(it, "call_id")}))
			c.lastCallIDs = append(c.lastCallIDs, str(it, "call_id"))
		case "reasoning":
			id := str(it, "id")
			if id == "" {
				id = str(it, "encrypted_content")
			}
			c.assistant = append(c.assistant, reasoningKey(id))
		case "function_call_output", "custom_tool_call_output":
			if call, ok := callTypes[str(it, "call_id")]; ok && call+"_output" != typ {
				return fmt.Errorf("input[%d]: a %s answers %s %s, which needs a %s_output", i, typ, call, str(it, "call_id"), call)
			}
			_, text, err := content(it["output"])
			if err != nil {
				return fmt.Errorf("input[%d] output: %w", i, err)
			}
			c.results = append(c.results, toolResult{callID: str(it, "call_id"), content: text})
		}
	}
	c.system = strings.Join(system, "\n")
	return nil
}

func (c *conversation) parseChat(body []byte) error {
	var req struct {
		Messages      []json.RawMessage `json:"messages"`
		Tools         []json.RawMessage `json:"tools"`
		StreamOptions struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return fmt.Errorf("decode request: %w", err)
	}
	c.includeUsage = req.StreamOptions.IncludeUsage
	for i, raw := range req.Tools {
		var t struct {
			Name     string `json:"name"`
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		if err := json.Unmarshal(raw, &t); err != nil {
			return fmt.Errorf("tools[%d]: %w", i, err)
		}
		name := t.Function.Name
		if name == "" {
			name = t.Name
		}
		c.tools = append(c.tools, name)
		c.blocks = append(c.blocks, block{canon: canonical(raw)})
	}
	c.head = canonical(mustMarshal(orEmpty(req.Tools)))

	var system []string
	for i, raw := range req.Messages {
		var m struct {
			Role       string          `json:"role"`
			Content    json.RawMessage `json:"content"`
			ToolCallID string          `json:"tool_call_id"`
			ToolCalls  []struct {
				ID string `json:"id"`
			} `json:"tool_calls"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("messages[%d]: %w", i, err)
		}
		_, text, err := content(m.Content)
		if err != nil {
			return fmt.Errorf("messages[%d]: %w", i, err)
		}
		canon := canonical(raw)
		c.items = append(c.items, canon)
		c.blocks = append(c.blocks, block{canon: canon})
		switch m.Role {
		case "system", "developer":
			system = append(system, text)
		case "user":
			if text != "" {
				c.lastUser = text
				c.firstUser = cmp.Or(c.firstUser, text)
			}
		case "assistant":
			var ids []string
			for _, tc := range m.ToolCalls {
				ids = append(ids, tc.ID)
			}
			c.assistant = append(c.assistant, assistantKey(ids, "", text, canon))
			c.lastCallIDs = ids
		case "tool":
			c.results = append(c.results, toolResult{callID: m.ToolCallID, content: text})
		}
	}
	c.system = strings.Join(system, "\n")
	return nil
}

// clip shortens s for a failure message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
