package fakeapi

import "net/http"

// anthropicDialect speaks the Anthropic Messages API.
type anthropicDialect struct{}

// anthropicErrors are the API's documented error types by status.
var anthropicErrors = []apiError{
	{status: 400, typ: "invalid_request_error", message: "Invalid request"},
	{status: 401, typ: "authentication_error", message: "invalid x-api-key"},
	{status: 402, typ: "billing_error", message: "Your credit balance is too low to access the Anthropic API."},
	{status: 403, typ: "permission_error", message: "Your API key does not have permission to use the specified resource."},
	{status: 404, typ: "not_found_error", message: "Not found"},
	{status: 413, typ: "request_too_large", message: "Request exceeds the maximum allowed number of bytes."},
	{status: 429, typ: "rate_limit_error", message: "This request would exceed the rate limit for your organization. Please try again later."},
	{status: 500, typ: "api_error", message: "Internal server error"},
	{status: 504, typ: "timeout_error", message: "Request timed out"},
	{status: 529, typ: "overloaded_error", message: "Overloaded"},
}

func (anthropicDialect) statusError(status int) apiError {
	for _, e := range anthropicErrors {
		if e.status == status {
			return e
		}
	}
	if status < 500 {
		return apiError{status: status, typ: "invalid_request_error", message: http.StatusText(status)}
	}
	return apiError{status: status, typ: "api_error", message: http.StatusText(status)}
}

func (anthropicDialect) namedError(typ string) apiError {
	for _, e := range anthropicErrors {
		if e.typ == typ {
			return e
		}
	}
	return apiError{status: 500, typ: typ, message: typ}
}

func (anthropicDialect) contextWindow() apiError {
	return apiError{status: 400, typ: "invalid_request_error", message: "prompt is too long: 212345 tokens > 200000 maximum"}
}

func (anthropicDialect) errorBody(e apiError, requestID string) any {
	return obj{
		{"type", "error"},
		{"error", obj{{"type", e.typ}, {"message", e.message}}},
		{"request_id", requestID},
	}
}

func (anthropicDialect) requestID(n int) (string, string) {
	return "request-id", "req_011" + alnum(seedOf(APIAnthropic, n, "req"), 21)
}

func seedOf(api API, n int, kind string) string {
	return (&turn{api: api, n: n}).seed(kind, 0)
}

func (anthropicDialect) callIDs(t *turn) []string {
	return t.callIDs(func(i int) string { return "toolu_01" + alnum(t.seed("toolu", i), 22) })
}

func (d anthropicDialect) assistantKeys(t *turn) []string {
	return []string{assistantKey(d.callIDs(t), d.signature(t), t.reply.Text, nil)}
}

func (anthropicDialect) messageID(t *turn) string { return "msg_01" + alnum(t.seed("msg", 0), 22) }

// signature stands in for the signature of a thinking block.
func (anthropicDialect) signature(t *turn) string {
	if t.reply.Thinking == "" {
		return ""
	}
	return "Eq" + opaque(t.seed("sig", 0), 96)
}

func (anthropicDialect) stopReason(t *turn) string {
	switch {
	case t.reply.Stop == StopMaxTokens:
		return "max_tokens"
	case len(t.reply.ToolCalls) > 0:
		return "tool_use"
	}
	return "end_turn"
}

// usage is the usage object of message_start and of a whole message.
func (anthropicDialect) usage(t *turn, output int64) obj {
	u := t.usage
	return obj{
		{"input_tokens", u.InputTokens},
		{"cache_creation_input_tokens", u.CacheCreationInputTokens},
		{"cache_read_input_tokens", u.CacheReadInputTokens},
		{"cache_creation", obj{{"ephemeral_5m_input_tokens", u.CacheCreationInputTokens - u.CacheCreation1hInputTokens}, {"ephemeral_1h_input_tokens", u.CacheCreation1hInputTokens}}},
		{"output_tokens", output},
		{"service_tier", "standard"},
	}
}

// message is the Message object, with content filled in or left empty as
// message_start sends it.
func (d anthropicDialect) message(t *turn, content []any, stopReason any, output int64) obj {
	return obj{
		{"model", t.model},
		{"id", d.messageID(t)},
		{"type", "message"},
		{"role", "assistant"},
		{"content", content},
		{"stop_reason", stopReason},
		{"stop_sequence", nil},
		{"usage", d.usage(t, output)},
	}
}

func (d anthropicDialect) body(t *turn) any {
	var content []any
	if t.reply.Compaction != "" {
		content = append(content, anthropicCompactionBlock(t.reply.Compaction))
	}
	if t.reply.Thinking != "" {
		content = append(content, obj{{"type", "thinking"}, {"thinking", t.reply.Thinking}, {"signature", d.signature(t)}})
	}
	if t.reply.Text != "" {
		content = append(content, obj{{"type", "text"}, {"text", t.reply.Text}})
	}
	ids := d.callIDs(t)
	for i, c := range t.reply.ToolCalls {
		content = append(content, obj{{"type", "tool_use"}, {"id", ids[i]}, {"name", c.Name}, {"input", c.jsonInput()}})
	}
	if content == nil {
		content = []any{}
	}
	return d.message(t, content, d.stopReason(t), t.usage.OutputTokens)
}

func (d anthropicDialect) open(b *builder, t *turn) {
	b.add("message_start", obj{{"type", "message_start"}, {"message", d.message(t, []any{}, nil, 1)}})
	b.markOpened()
}

func (d anthropicDialect) streamError(t *turn, e apiError) *stream {
	b := newBuilder()
	d.open(b, t)
	b.add("ping", obj{{"type", "ping"}})
	_, id := d.requestID(t.n)
	b.add("error", d.errorBody(e, id))
	return &b.s
}

func (d anthropicDialect) stream(t *turn) *stream {
	b := newBuilder()
	d.open(b, t)
	index := 0
	startBlock := func(block obj) {
		b.add("content_block_start", obj{{"type", "content_block_start"}, {"index", index}, {"content_block", block}})
		if index == 0 {
			b.add("ping", obj{{"type", "ping"}})
		}
	}
	delta := func(d obj) {
		b.add("content_block_delta", obj{{"type", "content_block_delta"}, {"index", index}, {"delta", d}})
	}
	stopBlock := func() {
		b.add("content_block_stop", obj{{"type", "content_block_stop"}, {"index", index}})
		index++
	}

	if t.reply.Compaction != "" {
		whole := anthropicCompactionBlock(t.reply.Compaction)
		startBlock(obj{{"type", "compaction"}, {"content", ""}, {"encrypted_content", ""}, whole[3]})
		delta(obj{{"type", "compaction_delta"}, whole[1], whole[2]})
		stopBlock()
	}
	if t.reply.Thinking != "" {
		startBlock(obj{{"type", "thinking"}, {"thinking", ""}, {"signature", ""}})
		for _, p := range split(t.reply.Thinking, 3) {
			delta(obj{{"type", "thinking_delta"}, {"thinking", p}})
		}
		delta(obj{{"type", "signature_delta"}, {"signature", d.signature(t)}})
		stopBlock()
	}
	if t.reply.Text != "" {
		startBlock(obj{{"type", "text"}, {"text", ""}})
		for _, p := range split(t.reply.Text, t.reply.textDeltas()) {
			delta(obj{{"type", "text_delta"}, {"text", p}})
			b.markText()
		}
		stopBlock()
	}
	ids := d.callIDs(t)
	for i, c := range t.reply.ToolCalls {
		startBlock(obj{{"type", "tool_use"}, {"id", ids[i]}, {"name", c.Name}, {"input", obj{}}})
		// The API opens every tool input with an empty fragment.
		delta(obj{{"type", "input_json_delta"}, {"partial_json", ""}})
		args := c.wireArgs()
		for _, p := range split(args, 3) {
			delta(obj{{"type", "input_json_delta"}, {"partial_json", p}})
			if len(p) < len(args) {
				b.markArgs()
			}
		}
		stopBlock()
	}
	u := t.usage
	usage := obj{
		{"input_tokens", u.InputTokens},
		{"cache_creation_input_tokens", u.CacheCreationInputTokens},
		{"cache_read_input_tokens", u.CacheReadInputTokens},
		{"output_tokens", u.OutputTokens},
	}
	if its := compactionIterations(t); its != nil {
		usage = append(usage, field{"iterations", its})
	}
	b.add("message_delta", obj{
		{"type", "message_delta"},
		{"delta", obj{{"stop_reason", d.stopReason(t)}, {"stop_sequence", nil}}},
		{"usage", usage},
	})
	b.add("message_stop", obj{{"type", "message_stop"}})
	return &b.s
}
