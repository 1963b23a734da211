package fakeapi

import (
	"net/http"
)

// responsesDialect speaks the OpenAI Responses API.
type responsesDialect struct{}

// openAIErrors are the errors both OpenAI APIs send, by status.
var openAIErrors = []apiError{
	{status: 400, typ: "invalid_request_error", message: "Invalid request."},
	{status: 401, typ: "invalid_request_error", code: "invalid_api_key", message: "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys."},
	{status: 403, typ: "invalid_request_error", code: "unsupported_country_region_territory", message: "Country, region, or territory not supported"},
	{status: 404, typ: "invalid_request_error", code: "model_not_found", message: "The model does not exist or you do not have access to it."},
	{status: 429, typ: "tokens", code: "rate_limit_exceeded", message: "Rate limit reached for requests. Please try again in 1s. Visit https://platform.openai.com/account/rate-limits to learn more."},
	{status: 500, typ: "server_error", message: "The server had an error while processing your request. Sorry about that!"},
	{status: 503, typ: "server_error", message: "The engine is currently overloaded, please try again later."},
}

func openAIStatusError(status int) apiError {
	for _, e := range openAIErrors {
		if e.status == status {
			return e
		}
	}
	if status < 500 {
		return apiError{status: status, typ: "invalid_request_error", message: http.StatusText(status)}
	}
	return apiError{status: status, typ: "server_error", message: http.StatusText(status)}
}

// openAINamedError maps an error type from a script, which may be named the
// Anthropic way, to the OpenAI error that means the same.
func openAINamedError(typ string) apiError {
	switch typ {
	case "overloaded_error", "server_is_overloaded":
		e := openAIStatusError(503)
		e.code = "server_error"
		return e
	case "api_error", "server_error":
		e := openAIStatusError(500)
		e.code = "server_error"
		return e
	case "rate_limit_error", "rate_limit_exceeded":
		return openAIStatusError(429)
	}
	return apiError{status: 500, typ: typ, code: typ, message: typ}
}

func openAIErrorBody(e apiError) any {
	return obj{{"error", obj{{"message", e.message}, {"type", e.typ}, {"param", e.param}, {"code", e.code}}}}
}

func openAIRequestID(api API, n int) (string, string) {
	return "x-request-id", "req_" + hexID(seedOf(api, n, "req"), 32)
}

func (responsesDialect) statusError(status int) apiError { return openAIStatusError(status) }
func (responsesDialect) namedError(typ string) apiError  { return openAINamedError(typ) }
func (responsesDialect) errorBody(e apiError, _ string) any {
	return openAIErrorBody(e)
}
func (responsesDialect) requestID(n int) (string, string) { return openAIRequestID(APIResponses, n) }

func (responsesDialect) contextWindow() apiError {
	return apiError{
		status:  400,
		typ:     "invalid_request_error",
		param:   "input",
		code:    "context_length_exceeded",
		message: "Your input exceeds the context window of this model. Please adjust your input and try again.",
	}
}

// Item ids of a reply.
func (responsesDialect) responseID(t *turn) string  { return "resp_" + hexID(t.seed("resp", 0), 48) }
func (responsesDialect) reasoningID(t *turn) string { return "rs_" + hexID(t.seed("rs", 0), 48) }
func (responsesDialect) messageID(t *turn) string   { return "msg_" + hexID(t.seed("msg", 0), 48) }

func (responsesDialect) itemID(t *turn, i int) string {
	if t.reply.ToolCalls[i].Custom {
		return "ctc_" + hexID(t.seed("ctc", i), 48)
	}
	return "fc_" + hexID(t.seed("fc", i), 48)
}

func (responsesDialect) callIDs(t *turn) []string {
	return t.callIDs(func(i int) string { return "call_" + alnum(t.seed("call", i), 24) })
}

func (d responsesDialect) assistantKeys(t *turn) []string {
	var keys []string
	if t.reply.Thinking != "" {
		keys = append(keys, reasoningKey(d.reasoningID(t)))
	}
	if t.reply.Text != "" {
		keys = append(keys, textKey(t.reply.Text))
	}
	for _, id := range d.callIDs(t) {
		keys = append(keys, callsKey([]string{id}))
	}
	return keys
}

// encryptedContent stands in for an encrypted reasoning item.
func (responsesDialect) encryptedContent(t *turn) string {
	return "gAAAAAB" + opaque(t.seed("enc", 0), 120)
}

// Output items, as output_item.added (done=false) and as output_item.done
// and the final response carry them (done=true).

func (d responsesDialect) reasoningItem(t *turn, done bool) obj {
	summary := []any{}
	if done {
		summary = []any{obj{{"type", "summary_text"}, {"text", t.reply.Thinking}}}
	}
	return obj{{"id", d.reasoningID(t)}, {"type", "reasoning"}, {"encrypted_content", d.encryptedContent(t)}, {"summary", summary}}
}

func outputText(text string) obj {
	return obj{{"type", "output_text"}, {"annotations", []any{}}, {"logprobs", []any{}}, {"text", text}}
}

func (d responsesDialect) messageItem(t *turn, done bool) obj {
	status, content := "in_progress", []any{}
	if done {
		status, content = "completed", []any{outputText(t.reply.Text)}
	}
	return obj{{"id", d.messageID(t)}, {"type", "message"}, {"status", status}, {"content", content}, {"role", "assistant"}}
}

func (d responsesDialect) callItem(t *turn, i int, done bool) obj {
	c := t.reply.ToolCalls[i]
	status, input := "in_progress", ""
	switch {
	case done && t.reply.Stop == StopMaxTokens && i == len(t.reply.ToolCalls)-1:
		// The limit struck while the model wrote the last item.
		status, input = "incomplete", c.argsText()
	case done:
		status, input = "completed", c.argsText()
	}
	id, callID := d.itemID(t, i), d.callIDs(t)[i]
	if c.Custom {
		return obj{{"id", id}, {"type", "custom_tool_call"}, {"status", status}, {"call_id", callID}, {"input", input}, {"name", c.Name}}
	}
	return obj{{"id", id}, {"type", "function_call"}, {"status", status}, {"arguments", input}, {"call_id", callID}, {"name", c.Name}}
}

func (d responsesDialect) output(t *turn) []any {
	out := []any{}
	if t.reply.Compaction != "" {
		out = append(out, d.compactionItem(t, true))
	}
	if t.reply.Thinking != "" {
		out = append(out, d.reasoningItem(t, true))
	}
	if t.reply.Text != "" {
		out = append(out, d.messageItem(t, true))
	}
	for i := range t.reply.ToolCalls {
		out = append(out, d.callItem(t, i, true))
	}
	return out
}

func (responsesDialect) usage(t *turn) obj {
	u := t.usage
	return obj{
		{"input_tokens", u.totalInput()},
		{"input_tokens_details", obj{{"cached_tokens", u.CacheReadInputTokens}}},
		{"output_tokens", u.OutputTokens},
		{"output_tokens_details", obj{{"reasoning_tokens", t.reasoning}}},
		{"total_tokens", u.totalInput() + u.OutputTokens},
	}
}

// response is the Response object in a given state; the request's settings
// are echoed as the API does.
func (d responsesDialect) response(t *turn, status string, output []any, usage, errObj, incomplete any) obj {
	return obj{
		{"id", d.responseID(t)},
		{"object", "response"},
		{"created_at", t.created},
		{"status", status},
		{"background", false},
		{"error", errObj},
		{"incomplete_details", incomplete},
		{"instructions", t.echo("instructions", nil)},
		{"max_output_tokens", t.echo("max_output_tokens", nil)},
		{"max_tool_calls", nil},
		{"model", t.model},
		{"output", output},
		{"parallel_tool_calls", t.echo("parallel_tool_calls", true)},
		{"previous_response_id", t.echo("previous_response_id", nil)},
		{"prompt_cache_key", t.echo("prompt_cache_key", nil)},
		{"reasoning", t.echo("reasoning", obj{{"effort", nil}, {"summary", nil}})},
		{"safety_identifier", nil},
		{"service_tier", "default"},
		{"store", t.echo("store", true)},
		{"temperature", 1.0},
		{"text", obj{{"format", obj{{"type", "text"}}}, {"verbosity", "medium"}}},
		{"tool_choice", t.echo("tool_choice", "auto")},
		{"tools", t.echo("tools", []any{})},
		{"top_logprobs", 0},
		{"top_p", 1.0},
		{"truncation", "disabled"},
		{"usage", usage},
		{"user", nil},
		{"metadata", obj{}},
	}
}

// final is the completed (or, at the output limit, incomplete) response.
func (d responsesDialect) final(t *turn) (status string, resp obj) {
	if t.reply.Stop == StopMaxTokens {
		return "incomplete", d.response(t, "incomplete", d.output(t), d.usage(t), nil, obj{{"reason", "max_output_tokens"}})
	}
	return "completed", d.response(t, "completed", d.output(t), d.usage(t), nil, nil)
}

func (d responsesDialect) body(t *turn) any {
	_, resp := d.final(t)
	return resp
}

// seqBuilder numbers events as the Responses API does.
type seqBuilder struct {
	*builder
	seq int
}

func (b *seqBuilder) emit(typ string, fields ...field) {
	o := append(obj{{"type", typ}, {"sequence_number", b.seq}}, fields...)
	b.seq++
	b.add(typ, o)
}

func (d responsesDialect) open(t *turn) *seqBuilder {
	b := &seqBuilder{builder: newBuilder()}
	b.emit("response.created", field{"response", d.response(t, "in_progress", []any{}, nil, nil, nil)})
	b.emit("response.in_progress", field{"response", d.response(t, "in_progress", []any{}, nil, nil, nil)})
	b.markOpened()
	return b
}

func (d responsesDialect) streamError(t *turn, e apiError) *stream {
	b := d.open(t)
	b.emit("error", field{"code", e.code}, field{"message", e.message}, field{"param", nil})
	errObj := obj{{"code", e.code}, {"message", e.message}}
	b.emit("response.failed", field{"response", d.response(t, "failed", []any{}, nil, errObj, nil)})
	return &b.s
}

func (d responsesDialect) stream(t *turn) *stream {
	b := d.open(t)
	index := 0
	at := func(id string) []field { return []field{{"item_id", id}, {"output_index", index}} }
	item := func(typ string, o obj) { b.emit(typ, field{"output_index", index}, field{"item", o}) }

	if t.reply.Compaction != "" {
		item("response.output_item.added", d.compactionItem(t, false))
		b.emit("response.compaction.compacting", at(d.compactionID(t))...)
		item("response.output_item.done", d.compactionItem(t, true))
		index++
	}
	if t.reply.Thinking != "" {
		id := d.reasoningID(t)
		item("response.output_item.added", d.reasoningItem(t, false))
		summary := func(typ string, f field) {
			b.emit(typ, append(at(id), field{"summary_index", 0}, f)...)
		}
		summary("response.reasoning_summary_part.added", field{"part", obj{{"type", "summary_text"}, {"text", ""}}})
		for _, p := range split(t.reply.Thinking, 3) {
			summary("response.reasoning_summary_text.delta", field{"delta", p})
		}
		summary("response.reasoning_summary_text.done", field{"text", t.reply.Thinking})
		summary("response.reasoning_summary_part.done", field{"part", obj{{"type", "summary_text"}, {"text", t.reply.Thinking}}})
		item("response.output_item.done", d.reasoningItem(t, true))
		index++
	}
	if t.reply.Text != "" {
		id := d.messageID(t)
		item("response.output_item.added", d.messageItem(t, false))
		part := func(typ string, fields ...field) {
			b.emit(typ, append(at(id), append([]field{{"content_index", 0}}, fields...)...)...)
		}
		part("response.content_part.added", field{"part", outputText("")})
		for _, p := range split(t.reply.Text, t.reply.textDeltas()) {
			part("response.output_text.delta", field{"delta", p}, field{"logprobs", []any{}})
			b.markText()
		}
		part("response.output_text.done", field{"text", t.reply.Text}, field{"logprobs", []any{}})
		part("response.content_part.done", field{"part", outputText(t.reply.Text)})
		item("response.output_item.done", d.messageItem(t, true))
		index++
	}
	for i, c := range t.reply.ToolCalls {
		id := d.itemID(t, i)
		deltaType, doneType, doneField := "response.function_call_arguments.delta", "response.function_call_arguments.done", "arguments"
		if c.Custom {
			deltaType, doneType, doneField = "response.custom_tool_call_input.delta", "response.custom_tool_call_input.done", "input"
		}
		item("response.output_item.added", d.callItem(t, i, false))
		args := c.argsText()
		for _, p := range split(args, 3) {
			b.emit(deltaType, append(at(id), field{"delta", p})...)
			if len(p) < len(args) {
				b.markArgs()
			}
		}
		b.emit(doneType, append(at(id), field{doneField, args})...)
		item("response.output_item.done", d.callItem(t, i, true))
		index++
	}
	status, resp := d.final(t)
	b.emit("response."+status, field{"response", resp})
	return &b.s
}
