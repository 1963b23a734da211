package fakeapi

import (
	"strings"
	"testing"
)

// The Anthropic reply's compaction block, non-streamed, carries summary,
// encrypted content and signature; sent back unchanged it is read back,
// and a request must ask (edit and beta header) for a reply to compact.
func TestNativeCompactionAnthropic(t *testing.T) {
	srv := newTestServer(t,
		Step{Reply: &Reply{Compaction: "SUMMARY one", Text: "on we go"}},
		Step{Expect: &Expect{Compacted: "SUMMARY one", NativeCompaction: ptr(false)}, Reply: &Reply{Text: "ok"}},
		Step{Expect: &Expect{Compacted: "SUMMARY one"}, Reply: &Reply{Text: "ok"}},
	)
	// The first request asks without the beta header: the fake says so.
	_, body := post(t, srv, "/v1/messages", `{"model":"m","max_tokens":5,"context_management":{"edits":[{"type":"compact_20260112","trigger":{"type":"input_tokens","value":50000}}]},"messages":[{"role":"user","content":"hi"}]}`)
	if !strings.Contains(body, `"type":"compaction","content":"SUMMARY one","encrypted_content":"fakecmp_`) || !strings.Contains(body, `"signature":"Cmp`) {
		t.Fatalf("reply = %s", body)
	}
	block := body[strings.Index(body, `{"type":"compaction"`):]
	block = block[:strings.Index(block, "}")+1]
	post(t, srv, "/v1/messages", `{"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":[`+block+`,{"type":"text","text":"on we go"}]},{"role":"user","content":"next"}]}`)
	// A block changed on the way back is not the server's.
	changed := strings.Replace(block, "SUMMARY one", "SUMMARY two", 1)
	post(t, srv, "/v1/messages", `{"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":[`+changed+`]},{"role":"user","content":"next"}]}`)
	wantFailures(t, srv,
		"request 1 (step 1): context_management asks for compact_20260112 without the beta header",
		"request 3 (step 3): messages[0].content[0]: a compaction block that is not one the server sent",
		`request 3 (step 3): the conversation begins with the compaction "", want "SUMMARY one"`)
}

// A reply that compacts needs a request that asked; the Responses item
// streams as added, compacting, done.
func TestNativeCompactionResponses(t *testing.T) {
	srv := newTestServer(t,
		Step{Reply: &Reply{Compaction: "SUMMARY r"}},
		Step{Expect: &Expect{NativeCompaction: ptr(true), Compacted: "SUMMARY r"}, Reply: &Reply{Compaction: "again", Text: "ok"}},
	)
	_, body := post(t, srv, "/v1/responses", `{"model":"m","stream":true,"context_management":[{"type":"compaction","compact_threshold":1000}],"input":"hi"}`)
	for _, ev := range []string{`"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"id":"cmp_`, `"type":"response.compaction.compacting"`, `"type":"compaction","encrypted_content":"fakecmp_`} {
		if !strings.Contains(body, ev) {
			t.Errorf("stream lacks %s:\n%s", ev, body)
		}
	}
	post(t, srv, "/v1/responses", `{"model":"m","input":[{"type":"compaction","encrypted_content":"`+compactionEncrypted("SUMMARY r")+`"},{"role":"user","content":"next"}]}`)
	wantFailures(t, srv,
		"request 2 (step 2): the step's reply compacts, but the request asks for no native compaction",
		"request 2 (step 2): native compaction asked for: false, want true")
}
