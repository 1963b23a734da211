package ssetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/llm"
)

// FuzzRequest is the request the stream fuzzers send: a function tool and
// a freeform one, so that the adapters' stand-ins are exercised too.
var FuzzRequest = llm.Request{
	Model: "fuzz-model",
	Tools: []llm.ToolDef{
		{Name: "Bash", Description: "Run a command.", Schema: json.RawMessage(`{"type":"object","properties":{"command":{"type":"string"}}}`)},
		{Name: "apply_patch", Description: "Patch files.", Grammar: `start: /(.|\n)+/`},
	},
	History: llm.NewHistory(llm.Message{Role: llm.RoleUser, Parts: []llm.Part{{Kind: llm.PartText, Text: "go"}}}),
}

// Fuzz feeds arbitrary bytes, as the body of a 200 event-stream response,
// through the real parsing path of the provider that newProvider builds on
// the given client, and checks [CheckResponse] on what comes out. The seed
// corpus is every case's response.sse in dir, whole, cut short and
// garbled.
func Fuzz[P llm.Provider](f *testing.F, dir string, newProvider func(hc *http.Client) (P, error)) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no cases in %s: %v", dir, err)
	}
	for _, file := range files {
		stream := Load(f, file).Stream(f)
		f.Add([]byte(stream))
		events := strings.SplitAfter(stream, "\n\n")
		f.Add([]byte(strings.Join(events[:len(events)/2], "")))
		f.Add([]byte(Garble(stream, len(events)/2)))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := newProvider(&http.Client{Transport: replay(body)})
		if err != nil {
			t.Fatal(err)
		}
		req := FuzzRequest
		resp, err := p.Stream(context.Background(), &req, func(llm.Delta) {})
		CheckResponse(t, resp, err)
	})
}

// replay answers every request with body as an event stream.
type replay []byte

func (b replay) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		// The request is not what is under test; it only has to be sent.
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	return &http.Response{
		StatusCode: http.StatusOK,
		Status:     "200 OK",
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  http.Header{"Content-Type": {"text/event-stream"}},
		Body:    io.NopCloser(bytes.NewReader(b)),
		Request: req,
	}, nil
}

// CheckResponse asserts what every adapter promises of a Stream, whatever
// the server sent: an *llm.APIError or a complete response, never both or
// neither; every tool call with an id of its own and input that is valid
// JSON of the kind its marks say (an object for a readable function call,
// a string for a freeform or malformed one); and a message the session
// log can store and read back unchanged.
func CheckResponse(t *testing.T, resp *llm.Response, err error) {
	t.Helper()
	if (resp == nil) == (err == nil) {
		t.Fatalf("Stream returned response %v and error %v: want exactly one", resp, err)
	}
	if err != nil {
		if _, ok := errors.AsType[*llm.APIError](err); !ok {
			t.Fatalf("error %T %v is not an *llm.APIError", err, err)
		}
		return
	}
	if resp.StopReason == "" {
		t.Error("response without a stop reason")
	}
	ids := map[string]bool{}
	for i, p := range resp.Message.Parts {
		if p.Kind != llm.PartToolCall {
			continue
		}
		if p.CallID == "" || ids[p.CallID] {
			t.Errorf("call %d has id %q, empty or another call's", i, p.CallID)
		}
		ids[p.CallID] = true
		if !json.Valid(p.Input) {
			t.Fatalf("call %d input %q is not valid JSON", i, p.Input)
		}
		wantString := p.Freeform || p.Malformed != ""
		if isString := bytes.HasPrefix(p.Input, []byte(`"`)); wantString != isString {
			t.Errorf("call %d (freeform %v, malformed %q) has input %.80s", i, p.Freeform, p.Malformed, p.Input)
		}
		if !wantString && !bytes.HasPrefix(p.Input, []byte(`{`)) {
			t.Errorf("call %d input %.80s is not an object", i, p.Input)
		}
	}
	// Storing replaces invalid UTF-8 once; after that, what is read back
	// must store the same again.
	stored := roundTrip(t, resp.Message)
	if again := roundTrip(t, stored); !bytes.Equal(mustJSON(t, stored), mustJSON(t, again)) {
		t.Errorf("message changes through the session log:\n%s\n%s", mustJSON(t, stored), mustJSON(t, again))
	}
}

func roundTrip(t *testing.T, m llm.Message) llm.Message {
	t.Helper()
	var back llm.Message
	if err := json.Unmarshal(mustJSON(t, m), &back); err != nil {
		t.Fatalf("message does not read back: %v", err)
	}
	return back
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return data
}
