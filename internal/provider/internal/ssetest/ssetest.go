// Package ssetest is test support for the provider adapters: a loopback
// server that replays scripted responses (server-sent event streams, error
// bodies, streams cut, stalled or ended part-way) and records what it was
// sent, conformance cases kept as txtar archives with golden sections that
// -update rewrites, and the tests that every adapter runs on its own
// cases, so that all are held to the same assertions.
package ssetest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/lathe-dev/lathe/internal/llm"
)

// Reply is one scripted response.
type Reply struct {
	// Status defaults to 200.
	Status int
	Header map[string]string
	// Body is sent as it is: an SSE stream (events end with a blank line)
	// or an error body.
	Body string
	// CutAfter, when positive, sends only the first CutAfter events of
	// Body and then drops the connection without ending the response.
	CutAfter int
	// StallAfter, when positive, sends the first StallAfter events of Body
	// and then nothing more until the client hangs up.
	StallAfter int
	// EndAfter, when positive, sends the first EndAfter events of Body and
	// then ends the response cleanly, as a server does that stops early
	// without an error.
	EndAfter int
}

// Server replays Replies in order, one per request.
type Server struct {
	*httptest.Server
	t       testing.TB
	mu      sync.Mutex
	replies []Reply
	bodies  [][]byte
	headers []http.Header
}

// NewServer starts a server that answers with replies in turn; a request
// beyond them fails the test. It is closed when the test ends.
func NewServer(t testing.TB, replies ...Reply) *Server {
	s := &Server{t: t, replies: replies}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Bodies returns the bodies of the requests received so far.
func (s *Server) Bodies() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.bodies...)
}

// Headers returns the headers of the requests received so far.
func (s *Server) Headers() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.headers...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r.Body); err != nil {
		s.t.Errorf("read request body: %v", err)
	}
	s.mu.Lock()
	n := len(s.bodies)
	s.bodies = append(s.bodies, buf.Bytes())
	s.headers = append(s.headers, r.Header.Clone())
	var rep Reply
	ok := n < len(s.replies)
	if ok {
		rep = s.replies[n]
	}
	s.mu.Unlock()
	if !ok {
		s.t.Errorf("unexpected request %d to %s", n+1, r.URL.Path)
		http.Error(w, `{"error":{"message":"no more replies","type":"server_error"}}`, http.StatusInternalServerError)
		return
	}

	status := rep.Status
	if status == 0 {
		status = http.StatusOK
	}
	if status == http.StatusOK {
		w.Header().Set("Content-Type", "text/event-stream")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	for k, v := range rep.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(status)

	events := strings.SplitAfter(rep.Body, "\n\n")
	limit := len(events)
	switch {
	case rep.CutAfter > 0:
		limit = rep.CutAfter
	case rep.StallAfter > 0:
		limit = rep.StallAfter
	case rep.EndAfter > 0:
		limit = rep.EndAfter
	}
	for _, ev := range events[:min(limit, len(events))] {
		if _, err := w.Write([]byte(ev)); err != nil {
			return
		}
		w.(http.Flusher).Flush()
	}
	switch {
	case rep.CutAfter > 0:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			s.t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
	case rep.StallAfter > 0:
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
			s.t.Errorf("client kept waiting on a stalled stream")
		}
	}
}

// Case is a conformance case: a txtar archive whose comment says what the
// case pins, with input sections and golden output sections.
type Case struct {
	Path    string
	archive *txtar.Archive
	changed bool
}

// Load reads the case at path.
func Load(t testing.TB, path string) *Case {
	t.Helper()
	a, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatalf("load case: %v", err)
	}
	return &Case{Path: path, archive: a}
}

// Has reports whether the case has a section called name.
func (c *Case) Has(name string) bool {
	for _, f := range c.archive.Files {
		if f.Name == name {
			return true
		}
	}
	return false
}

// Section returns the contents of the section called name.
func (c *Case) Section(t testing.TB, name string) []byte {
	t.Helper()
	for _, f := range c.archive.Files {
		if f.Name == name {
			return f.Data
		}
	}
	t.Fatalf("%s: no section %q", c.Path, name)
	return nil
}

// Decode unmarshals the JSON section called name into v.
func (c *Case) Decode(t testing.TB, name string, v any) {
	t.Helper()
	if err := json.Unmarshal(c.Section(t, name), v); err != nil {
		t.Fatalf("%s: section %s: %v", c.Path, name, err)
	}
}

// Request decodes the section request.json.
func (c *Case) Request(t testing.TB) *llm.Request {
	t.Helper()
	var req llm.Request
	c.Decode(t, "request.json", &req)
	return &req
}

// Stream returns the section response.sse.
func (c *Case) Stream(t testing.TB) string {
	t.Helper()
	return string(c.Section(t, "response.sse"))
}

// Options decodes the section options.json into o, if the case has one;
// otherwise it leaves o as it is.
func (c *Case) Options(t testing.TB, o any) {
	t.Helper()
	if c.Has("options.json") {
		c.Decode(t, "options.json", o)
	}
}

// Golden compares got, JSON, with the section called name after putting
// both in canonical form (sorted keys, indented). With update set, it
// rewrites the section instead, and [Case.Save] writes the archive.
func (c *Case) Golden(t testing.TB, name string, got []byte, update bool) {
	t.Helper()
	canon, err := Canonical(got)
	if err != nil {
		t.Fatalf("%s: %s: output is not JSON: %v\n%s", c.Path, name, err, got)
	}
	if update {
		c.set(name, canon)
		return
	}
	want, err := Canonical(c.Section(t, name))
	if err != nil {
		t.Fatalf("%s: section %s is not JSON: %v", c.Path, name, err)
	}
	if !bytes.Equal(canon, want) {
		t.Errorf("%s: %s differs (run go test -update to accept)\ngot:\n%s\nwant:\n%s", c.Path, name, canon, want)
	}
}

func (c *Case) set(name string, data []byte) {
	c.changed = true
	for i, f := range c.archive.Files {
		if f.Name == name {
			c.archive.Files[i].Data = data
			return
		}
	}
	c.archive.Files = append(c.archive.Files, txtar.File{Name: name, Data: data})
}

// Save writes the archive back if [Case.Golden] changed it.
func (c *Case) Save(t testing.TB) {
	t.Helper()
	if !c.changed {
		return
	}
	if err := os.WriteFile(c.Path, txtar.Format(c.archive), 0o644); err != nil {
		t.Fatalf("save case: %v", err)
	}
}

// Canonical returns JSON in a canonical form: keys sorted, indented, with
// numbers kept as written and a final newline.
func Canonical(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// SSE builds an event stream from alternating event names and JSON data;
// an empty name writes a data-only event, as Chat Completions streams do.
func SSE(pairs ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i] != "" {
			b.WriteString("event: " + pairs[i] + "\n")
		}
		b.WriteString("data: " + pairs[i+1] + "\n\n")
	}
	return b.String()
}

// Garble returns stream with two broken lines after its first n events,
// as a proxy that mangles a stream sends them: a line that is no SSE
// field, which the SSE rules ignore, then an event whose data is JSON cut
// short. The rest of the stream follows intact; a client must not read
// past the broken event as if nothing happened.
func Garble(stream string, n int) string {
	events := strings.SplitAfter(stream, "\n\n")
	n = min(n, len(events))
	broken := "garbage without a colon\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\n\n"
	return strings.Join(events[:n], "") + broken + strings.Join(events[n:], "")
}

// Conformance runs every case in dir: it streams the case's request.json
// from a provider that newProvider builds, with the case's options.json if
// it has one, against a server replaying response.sse, then compares the
// body sent with the golden section sent.json and the deltas and response
// with result.json. check, if not nil, asserts what every sent body must
// satisfy. The provider must not modify the request.
func Conformance[O any, P llm.Provider](t *testing.T, dir string, update bool, newProvider func(t *testing.T, url string, o O) P, check func(t *testing.T, sent []byte)) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in %s: %v", dir, err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			c := Load(t, file)
			req := c.Request(t)
			var o O
			c.Options(t, &o)
			before, err := json.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			srv := NewServer(t, Reply{Body: c.Stream(t)})

			var deltas []llm.Delta
			resp, err := newProvider(t, srv.URL, o).Stream(context.Background(), req, func(d llm.Delta) { deltas = append(deltas, d) })
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}

			sent := srv.Bodies()[0]
			if check != nil {
				check(t, sent)
			}
			c.Golden(t, "sent.json", sent, update)
			result, err := json.Marshal(map[string]any{"deltas": deltas, "response": resp})
			if err != nil {
				t.Fatal(err)
			}
			c.Golden(t, "result.json", result, update)
			c.Save(t)

			after, err := json.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Errorf("Stream modified the request:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}
