package fakeapi

import "slices"

// chatDialect speaks the OpenAI Chat Completions API.
type chatDialect struct{}

func (chatDialect) statusError(status int) apiError { return openAIStatusError(status) }
func (chatDialect) namedError(typ string) apiError  { return openAINamedError(typ) }
func (chatDialect) errorBody(e apiError, _ string) any {
	return openAIErrorBody(e)
}
func (chatDialect) requestID(n int) (string, string) { return openAIRequestID(APIChat, n) }

func (chatDialect) contextWindow() apiError {
	return apiError{
		status:  400,
		typ:     "invalid_request_error",
		param:   "messages",
		code:    "context_length_exceeded",
		message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 212345 tokens. Please reduce the length of the messages.",
	}
}

func (chatDialect) completionID(t *turn) string {
	return "chatcmpl-" + alnum(t.seed("chatcmpl", 0), 29)
}
func (chatDialect) fingerprint(t *turn) string { return "fp_" + hexID(t.seed("fp", 0), 10) }

func (chatDialect) callIDs(t *turn) []string {
	return t.callIDs(func(i int) string { return "call_" + alnum(t.seed("call", i), 24) })
}

func (d chatDialect) assistantKeys(t *turn) []string {
	return []string{assistantKey(d.callIDs(t), "", t.reply.Text, nil)}
}

func (chatDialect) finishReason(t *turn) string {
	switch {
	case t.reply.Stop == StopMaxTokens:
		return "length"
	case len(t.reply.ToolCalls) > 0:
		return "tool_calls"
	}
	return "stop"
}

func (chatDialect) usage(t *turn) obj {
	u := t.usage
	return obj{
		{"prompt_tokens", u.totalInput()},
		{"completion_tokens", u.OutputTokens},
		{"total_tokens", u.totalInput() + u.OutputTokens},
		{"prompt_tokens_details", obj{{"cached_tokens", u.CacheReadInputTokens}, {"audio_tokens", 0}}},
		{"completion_tokens_details", obj{
			{"reasoning_tokens", t.reasoning},
			{"audio_tokens", 0},
			{"accepted_prediction_tokens", 0},
			{"rejected_prediction_tokens", 0},
		}},
	}
}

func (d chatDialect) body(t *turn) any {
	var text any
	if t.reply.Text != "" {
		text = t.reply.Text
	}
	msg := obj{{"role", "assistant"}, {"content", text}, {"refusal", nil}, {"annotations", []any{}}}
	if len(t.reply.ToolCalls) > 0 {
		ids := d.callIDs(t)
		calls := make([]any, len(ids))
		for i, c := range t.reply.ToolCalls {
			calls[i] = obj{{"id", ids[i]}, {"type", "function"}, {"function", obj{{"name", c.Name}, {"arguments", c.wireArgs()}}}}
		}
		msg = append(msg, field{"tool_calls", calls})
	}
	return obj{
		{"id", d.completionID(t)},
		{"object", "chat.completion"},
		{"created", t.created},
		{"model", t.model},
		{"choices", []any{obj{{"index", 0}, {"message", msg}, {"logprobs", nil}, {"finish_reason", d.finishReason(t)}}}},
		{"usage", d.usage(t)},
		{"service_tier", "default"},
		{"system_fingerprint", d.fingerprint(t)},
	}
}

// chunk is a chat.completion.chunk. With include_usage every chunk carries
// "usage": null except the final usage chunk, as the API sends them.
func (d chatDialect) chunk(t *turn, choices []any, usage any) obj {
	c := obj{
		{"id", d.completionID(t)},
		{"object", "chat.completion.chunk"},
		{"created", t.created},
		{"model", t.model},
		{"service_tier", "default"},
		{"system_fingerprint", d.fingerprint(t)},
		{"choices", choices},
	}
	if t.conv.includeUsage {
		c = append(c, field{"usage", usage})
	}
	return c
}

func (d chatDialect) delta(t *turn, delta obj, finish any) obj {
	return d.chunk(t, []any{obj{{"index", 0}, {"delta", delta}, {"logprobs", nil}, {"finish_reason", finish}}}, nil)
}

func (d chatDialect) open(t *turn) *builder {
	b := newBuilder()
	b.add("", d.delta(t, obj{{"role", "assistant"}, {"content", ""}, {"refusal", nil}}, nil))
	b.markOpened()
	return b
}

func (d chatDialect) streamError(t *turn, e apiError) *stream {
	b := d.open(t)
	b.add("", openAIErrorBody(e))
	return &b.s
}

func (d chatDialect) stream(t *turn) *stream {
	b := d.open(t)
	// Chat has no reasoning in OpenAI's own API; OpenAI-compatible servers
	// (vLLM, DeepSeek, llama.cpp) stream it as reasoning_content.
	for _, p := range split(t.reply.Thinking, 3) {
		b.add("", d.delta(t, obj{{"reasoning_content", p}}, nil))
	}
	for _, p := range split(t.reply.Text, t.reply.textDeltas()) {
		b.add("", d.delta(t, obj{{"content", p}}, nil))
		b.markText()
	}
	ids := d.callIDs(t)
	for i, c := range t.reply.ToolCalls {
		call := obj{{"index", i}, {"id", ids[i]}, {"type", "function"}, {"function", obj{{"name", c.Name}, {"arguments", ""}}}}
		if ids[i] == "" {
			call = slices.Delete(call, 1, 2)
		}
		b.add("", d.delta(t, obj{{"tool_calls", []any{call}}}, nil))
		args := c.wireArgs()
		for _, p := range split(args, 3) {
			frag := obj{{"index", i}, {"function", obj{{"arguments", p}}}}
			b.add("", d.delta(t, obj{{"tool_calls", []any{frag}}}, nil))
			if len(p) < len(args) {
				b.markArgs()
			}
		}
	}
	b.add("", d.delta(t, obj{}, d.finishReason(t)))
	if t.conv.includeUsage {
		b.add("", d.chunk(t, []any{}, d.usage(t)))
	}
	b.s.events = append(b.s.events, event{data: []byte("[DONE]")})
	return &b.s
}
