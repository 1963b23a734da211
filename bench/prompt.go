package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lathe-dev/lathe/internal/fakeapi"
)

// prompt is one request body taken apart: the conversation array
// (Anthropic and Chat messages, Responses input) and everything else.
type prompt struct {
	api    fakeapi.API
	fields []member // top-level members, in order
	convo  string   // the key of the conversation array
	items  []json.RawMessage
}

func parsePrompt(api fakeapi.API, body []byte) (*prompt, error) {
	ms, err := members(body)
	if err != nil {
		return nil, err
	}
	p := &prompt{api: api, fields: ms, convo: "messages"}
	if api == fakeapi.APIResponses {
		p.convo = "input"
	}
	if p.items, err = elements(field(ms, p.convo)); err != nil {
		return nil, fmt.Errorf("%s: %w", p.convo, err)
	}
	return p, nil
}

// systemText is the system prompt as the model reads it: Anthropic's
// system (a string or text blocks), Responses instructions and system or
// developer items, Chat system and developer messages.
func (p *prompt) systemText() string {
	var parts []string
	addContent := func(raw json.RawMessage) {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			parts = append(parts, s)
			return
		}
		var blocks []struct{ Text string }
		if json.Unmarshal(raw, &blocks) == nil {
			for _, b := range blocks {
				parts = append(parts, b.Text)
			}
		}
	}
	switch p.api {
	case fakeapi.APIAnthropic:
		addContent(field(p.fields, "system"))
	case fakeapi.APIResponses:
		addContent(field(p.fields, "instructions"))
	}
	if p.api != fakeapi.APIAnthropic {
		for _, it := range p.items {
			var m struct {
				Role    string
				Content json.RawMessage
			}
			if json.Unmarshal(it, &m) == nil && (m.Role == "system" || m.Role == "developer") {
				addContent(m.Content)
			}
		}
	}
	return strings.Join(parts, "\n")
}

// tools is the tool definitions as sent: the raw tools array.
func (p *prompt) tools() []byte { return field(p.fields, "tools") }

// head is every top-level member but the conversation, cache_control
// removed, in order: what must not change between requests.
func (p *prompt) head() []byte {
	var b bytes.Buffer
	for _, m := range p.fields {
		if m.key != p.convo {
			fmt.Fprintf(&b, "%q:%s,", m.key, withoutKey(m.raw, "cache_control"))
		}
	}
	return b.Bytes()
}

// extends reports whether p's conversation extends prev's byte for byte,
// with cache_control keys removed, and if not, where it first differs.
func (p *prompt) extends(prev *prompt) (bool, string) {
	if h, ph := p.head(), prev.head(); !bytes.Equal(h, ph) {
		return false, "outside the conversation: " + firstDiff(ph, h)
	}
	if len(p.items) < len(prev.items) {
		return false, fmt.Sprintf("%s shrank from %d to %d items", p.convo, len(prev.items), len(p.items))
	}
	for i, it := range prev.items {
		a, b := withoutKey(it, "cache_control"), withoutKey(p.items[i], "cache_control")
		if !bytes.Equal(a, b) {
			return false, fmt.Sprintf("%s[%d]: %s", p.convo, i, firstDiff(a, b))
		}
	}
	return true, ""
}

// firstDiff shows where two byte strings first differ.
func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	clip := func(s []byte) string { return string(s[max(0, i-40):min(len(s), i+40)]) }
	return fmt.Sprintf("byte %d: %q vs %q", i, clip(a), clip(b))
}

// markers describes the request's prompt-cache hints: where Anthropic
// cache_control markers sit, the Responses prompt_cache_key.
func (p *prompt) markers() string {
	marked := func(raw json.RawMessage) bool { return bytes.Contains(raw, []byte(`"cache_control"`)) }
	switch p.api {
	case fakeapi.APIAnthropic:
		var where []string
		if marked(p.tools()) {
			where = append(where, "tools")
		}
		if marked(field(p.fields, "system")) {
			where = append(where, "system")
		}
		if p.autoMarked() {
			where = append(where, "auto")
		}
		for i, it := range p.items {
			if marked(it) {
				where = append(where, fmt.Sprintf("msg %d/%d", i+1, len(p.items)))
			}
		}
		if len(where) == 0 {
			return "none"
		}
		return strings.Join(where, "+")
	case fakeapi.APIResponses:
		var key string
		if json.Unmarshal(field(p.fields, "prompt_cache_key"), &key) != nil || key == "" {
			return "no prompt_cache_key"
		}
		return "prompt_cache_key"
	}
	return "none (no such API feature)"
}

// lastMarked says whether an Anthropic request marks its system/tools
// prefix and its last message (explicitly, or by the automatic
// breakpoint the API puts on the last block), as incremental caching
// needs.
func (p *prompt) lastMarked() bool {
	if p.api != fakeapi.APIAnthropic || len(p.items) == 0 {
		return false
	}
	return (p.autoMarked() || bytes.Contains(p.items[len(p.items)-1], []byte(`"cache_control"`))) &&
		(bytes.Contains(p.tools(), []byte(`"cache_control"`)) || bytes.Contains(field(p.fields, "system"), []byte(`"cache_control"`)))
}

// autoMarked says whether an Anthropic request asks for automatic
// caching: a top-level cache_control.
func (p *prompt) autoMarked() bool {
	cc := field(p.fields, "cache_control")
	return len(cc) > 0 && string(cc) != "null"
}
