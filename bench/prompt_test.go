package main

import (
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/fakeapi"
)

func TestWithoutKey(t *testing.T) {
	in := `{"a":1,"cache_control":{"type":"ephemeral"},"b":[{"x":"\u003c","cache_control":{"type":"ephemeral"}},{"y":"cache_control"}]}`
	want := `{"a":1,"b":[{"x":"\u003c"},{"y":"cache_control"}]}`
	if got := string(withoutKey([]byte(in), "cache_control")); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	plain := `{"a": 1, "b": "keeps its spacing"}`
	if got := string(withoutKey([]byte(plain), "cache_control")); got != plain {
		t.Errorf("a value without the key changed: %s", got)
	}
}

func TestExtends(t *testing.T) {
	parse := func(body string) *prompt {
		t.Helper()
		p, err := parsePrompt(fakeapi.APIAnthropic, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	marker := `,"cache_control":{"type":"ephemeral"}`
	first := parse(`{"model":"m","system":[{"type":"text","text":"sys"` + marker + `}],"messages":[{"role":"user","content":[{"type":"text","text":"hi"` + marker + `}]}],"stream":true}`)
	next := parse(`{"model":"m","system":[{"type":"text","text":"sys"` + marker + `}],"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]},{"role":"assistant","content":[{"type":"text","text":"yo"` + marker + `}]}],"stream":true}`)
	if ok, why := next.extends(first); !ok {
		t.Errorf("a moved marker broke the prefix: %s", why)
	}
	if !next.lastMarked() || next.markers() != "system+msg 2/2" {
		t.Errorf("markers %q, last marked %v", next.markers(), next.lastMarked())
	}
	auto := parse(`{"model":"m","cache_control":{"type":"ephemeral"},"system":[{"type":"text","text":"sys"` + marker + `}],"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"stream":true}`)
	if !auto.lastMarked() || auto.markers() != "system+auto" {
		t.Errorf("automatic breakpoint: markers %q, last marked %v", auto.markers(), auto.lastMarked())
	}
	changed := parse(`{"model":"m","system":[{"type":"text","text":"sys"}],"messages":[{"role":"user","content":[{"type":"text","text":"hi!"}]},{"role":"assistant","content":[{"type":"text","text":"yo"}]}],"stream":true}`)
	if ok, why := changed.extends(first); ok || !strings.Contains(why, "messages[0]") {
		t.Errorf("an edited message: extends %v, %q", ok, why)
	}
	reordered := parse(`{"system":[{"type":"text","text":"sys"}],"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"stream":true}`)
	if ok, why := reordered.extends(first); ok || !strings.Contains(why, "outside the conversation") {
		t.Errorf("reordered fields: extends %v, %q", ok, why)
	}
	if got := first.systemText(); got != "sys" {
		t.Errorf("system text %q", got)
	}
}
