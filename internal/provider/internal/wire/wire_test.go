package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/llm"
)

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `"\/`, "\b\f\n\r\t\x00\x1f\x7f", "<a href='x'>&amp;</a>", "é漢🙂", "\u2028\u2029", "\xff\xfe\xc3", "a\xe2\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendString([]byte("x"), s); !bytes.Equal(got[1:], want) || got[0] != 'x' {
			t.Errorf("AppendString(%q) = %s, want %s", s, got[1:], want)
		}
	})
}

func TestAppendRaw(t *testing.T) {
	got, err := AppendRaw([]byte("x"), []byte(" {\"a\" : [1, 2.50, -3e2], \"h\": \"<&>\u2028\"} "))
	if want := `x{"a":[1,2.50,-3e2],"h":"\u003c\u0026\u003e\u2028"}`; err != nil || string(got) != want {
		t.Errorf("AppendRaw = %s, %v, want %s", got, err, want)
	}
	if _, err := AppendRaw(nil, []byte(`{"a":`)); err == nil || strings.Contains(err.Error(), "MarshalJSON") {
		t.Errorf("AppendRaw of a cut value: err = %v, want the syntax error alone", err)
	}
}

func TestAppendMembers(t *testing.T) {
	for _, tt := range []struct{ obj, want string }{
		{"", "{"}, {"{}", "{"}, {`{"a":1}`, `{,"a":1`}, {`{"a":1,"b":{}}`, `{,"a":1,"b":{}`},
	} {
		if got := AppendMembers([]byte("{"), []byte(tt.obj)); string(got) != tt.want {
			t.Errorf("AppendMembers(%s) = %s, want %s", tt.obj, got, tt.want)
		}
	}
}

func text(s string) llm.Message {
	return llm.Message{Role: llm.RoleUser, Parts: []llm.Part{{Kind: llm.PartText, Text: s}}}
}

// recorder encodes a message as its text and records which it encoded.
type recorder struct{ encoded []string }

func (r *recorder) enc(m llm.Message) (string, error) {
	r.encoded = append(r.encoded, m.Parts[0].Text)
	return m.Parts[0].Text, nil
}

// encoder returns a function that encodes msgs with c and checks that it
// encoded wantEncoded anew, no more.
func (r *recorder) encoder(t *testing.T, c *Conversation[string]) func(name string, msgs []llm.Message, wantEncoded ...string) []string {
	return func(name string, msgs []llm.Message, wantEncoded ...string) []string {
		t.Helper()
		r.encoded = nil
		encs, err := c.Encode(msgs, r.enc)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.encoded, wantEncoded) {
			t.Errorf("%s: encoded %q, want %q", name, r.encoded, wantEncoded)
		}
		return encs
	}
}

func TestConversation(t *testing.T) {
	var c Conversation[string]
	var r recorder
	msgs := []llm.Message{text("a"), text("b"), text("c")}
	step := r.encoder(t, &c)

	step("first", msgs[:2], "a", "b")
	step("same again", msgs[:2])
	encs := step("one more", msgs, "c")
	if !slices.Equal(encs, []string{"a", "b", "c"}) {
		t.Errorf("encodings = %q", encs)
	}
	step("a prefix", msgs[:1])
	step("all again", msgs)

	// Equal content is not enough: a message read back from a session
	// log is another message.
	copied := slices.Clone(msgs)
	copied[1] = text("b")
	step("a copy from 1 on", copied, "b", "c")
	grown := copied[:2:2]
	grown[1].Parts = append(grown[1].Parts, llm.Part{Kind: llm.PartText, Text: "more"})
	step("a message with another part", grown, "b")
	other := []llm.Message{text("x"), copied[1]}
	other[0].Role = llm.RoleAssistant
	step("another conversation", other, "x", "b")
}

func TestConversationSealed(t *testing.T) {
	var c Conversation[string]
	var r recorder
	encode := r.encoder(t, &c)
	seal := func(n int, encs []string) {
		c.Seal(n, func(b []byte) []byte { return append(b, strings.Join(encs[c.Sealed():n], "")...) })
	}
	prefix := func(name, want string) {
		t.Helper()
		if got := string(c.AppendPrefix(nil).Bytes()); got != want || c.PrefixLen() != len(want) {
			t.Errorf("%s: prefix %q (%d bytes), want %q", name, got, c.PrefixLen(), want)
		}
	}

	msgs := []llm.Message{text("a"), text("b"), text("c"), text("d"), text("e")}
	encs := encode("first", msgs[:3], "a", "b", "c")
	seal(2, encs)
	prefix("sealed", "ab")
	encs = encode("more", msgs[:4], "d")
	if encs[0] != "" || encs[2] != "c" {
		t.Errorf("encodings %q: want the sealed ones released", encs)
	}
	seal(3, encs)
	seal(4, encs)
	prefix("sealed more", "abcd")
	before := c.AppendPrefix(Body{[]byte("[")})

	// A history that differs within the sealed prefix keeps the units
	// before the difference and encodes the rest again.
	other := append(slices.Clone(msgs[:3]), text("D"), msgs[4])
	encs = encode("another newest turn", other, "D", "e")
	prefix("after the difference", "abc")
	seal(5, encs)
	prefix("sealed again", "abcDe")
	if got := string(before.Bytes()); got != "[abcd" {
		t.Errorf("an earlier body changed to %q", got)
	}
	// "ab" was one unit.
	encode("shorter than the prefix", other[:1], "a")
	prefix("shorter", "")
	seal(1, []string{"a"})
	encode("unlike from the start", []llm.Message{text("x")}, "x")
	prefix("unlike", "")
}

func TestBodyMiddleware(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, fmt.Sprintf("%s %d %q %s", r.Header.Get("Content-Type"), r.ContentLength, r.TransferEncoding, b))
	}))
	defer srv.Close()
	body := Body{[]byte(`{"a":`), nil, []byte(`[1,2]`), []byte(`}`)}
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("placeholder"))
		resp, err := body.Middleware(req, http.DefaultClient.Do)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if req.ContentLength != int64(body.Len()) {
			t.Errorf("ContentLength = %d, want %d", req.ContentLength, body.Len())
		}
		again, _ := req.GetBody()
		if b, _ := io.ReadAll(again); string(b) != `{"a":[1,2]}` {
			t.Errorf("GetBody gives %q", b)
		}
	}
	if want := `application/json 11 [] {"a":[1,2]}`; len(got) != 2 || got[0] != want || got[1] != want {
		t.Errorf("server got %q, want %q twice", got, want)
	}
}

func TestTools(t *testing.T) {
	var tools Tools
	calls := 0
	enc := func(defs []llm.ToolDef) ([]byte, error) {
		calls++
		return []byte(defs[0].Schema), nil
	}
	defs := []llm.ToolDef{{Name: "Read", Schema: json.RawMessage(`{"a":1}`)}}
	for range 3 {
		if got, _ := tools.Encode(defs, enc); string(got) != `{"a":1}` {
			t.Errorf("Encode = %s", got)
		}
	}
	// Schema bytes changed in place are noticed.
	defs[0].Schema[5] = '2'
	if got, _ := tools.Encode(defs, enc); string(got) != `{"a":2}` || calls != 2 {
		t.Errorf("after a change: %s, %d encodings", got, calls)
	}
	if _, _ = tools.Encode(slices.Clone(defs), enc); calls != 2 {
		t.Errorf("equal definitions encoded again")
	}
}

func TestConversationKeepNext(t *testing.T) {
	c := Conversation[string]{KeepNext: true}
	var r recorder
	msgs := []llm.Message{text("a"), text("b"), text("c")}
	encs, _ := c.Encode(msgs, r.enc)
	c.Seal(1, func(b []byte) []byte { return append(b, encs[0]...) })
	c.Seal(2, func(b []byte) []byte { return append(b, encs[1]...) })

	// The message after the second unit changes: that unit goes too.
	r.encoded = nil
	other := []llm.Message{msgs[0], msgs[1], text("C")}
	if _, err := c.Encode(other, r.enc); err != nil {
		t.Fatal(err)
	}
	if got := string(c.AppendPrefix(nil).Bytes()); got != "a" || !slices.Equal(r.encoded, []string{"b", "C"}) {
		t.Errorf("prefix %q, encoded %q; want a, and b and C encoded again", got, r.encoded)
	}
	c.Reset()
	if c.Sealed() != 0 || c.PrefixLen() != 0 {
		t.Errorf("after Reset: %d sealed in %d bytes", c.Sealed(), c.PrefixLen())
	}
}

func TestSealEach(t *testing.T) {
	var c Conversation[[]byte]
	enc := func(m llm.Message) ([]byte, error) { return []byte(m.Parts[0].Text), nil }
	msgs := []llm.Message{text("a"), text(""), text("b"), text(""), text("c")}
	for _, n := range []int{3, 5} {
		encs, err := c.Encode(msgs[:n], enc)
		if err != nil {
			t.Fatal(err)
		}
		SealEach(&c, encs)
	}
	if got := string(c.AppendPrefix(nil).Bytes()); got != "a,b,c" || c.Sealed() != 5 {
		t.Errorf("prefix %q of %d messages, want a,b,c of 5", got, c.Sealed())
	}
}

// raw is a param that marshals as itself.
type raw string

func (r raw) MarshalJSON() ([]byte, error) { return []byte(r), nil }

func TestEncoders(t *testing.T) {
	params := func(s string) ([]raw, error) {
		if s == "bad" {
			return nil, fmt.Errorf("bad")
		}
		var out []raw
		for _, f := range strings.Fields(s) {
			out = append(out, raw(f))
		}
		return out, nil
	}
	elements, member := Elements(params), Member("tools", params)
	for _, tt := range []struct{ in, elements, member string }{
		{"", "", ""},
		{"1", "1", `,"tools":[1]`},
		{`1 {"a":2}`, `1,{"a":2}`, `,"tools":[1,{"a":2}]`},
	} {
		if got, err := elements(tt.in); string(got) != tt.elements || err != nil {
			t.Errorf("Elements(%q) = %s, %v; want %s", tt.in, got, err, tt.elements)
		}
		if got, err := member(tt.in); string(got) != tt.member || err != nil {
			t.Errorf("Member(%q) = %s, %v; want %s", tt.in, got, err, tt.member)
		}
	}
	if _, err := elements("bad"); err == nil {
		t.Error("Elements lost an error")
	}
	if _, err := member("bad"); err == nil {
		t.Error("Member lost an error")
	}
}

func TestByRole(t *testing.T) {
	enc := ByRole(func(llm.Message) (string, error) { return "user", nil }, func(llm.Message) (string, error) { return "assistant", nil })
	for role, want := range map[llm.Role]string{llm.RoleUser: "user", llm.RoleAssistant: "assistant"} {
		if got, err := enc(llm.Message{Role: role}); got != want || err != nil {
			t.Errorf("role %s: %q, %v", role, got, err)
		}
	}
	if _, err := enc(llm.Message{Role: "system"}); err == nil || !strings.Contains(err.Error(), `"system"`) {
		t.Errorf("another role: err = %v", err)
	}
}

// TestConversations checks that each lineage has a conversation of its
// own, kept while it is among the MaxConversations used last, and that
// one conversation held locked does not hold up another.
func TestConversations(t *testing.T) {
	var cs Conversations[[]byte]
	c1, unlock1 := cs.Lock(1)
	encs, err := c1.Encode([]llm.Message{{Role: llm.RoleUser}}, func(llm.Message) ([]byte, error) { return []byte(`"one"`), nil })
	if err != nil {
		t.Fatal(err)
	}
	SealEach(c1, encs)
	// Lock 2 while 1 is held: it must not wait for 1.
	c2, unlock2 := cs.Lock(2)
	if c2 == c1 || c2.Sealed() != 0 {
		t.Fatalf("lineage 2 got lineage 1's conversation")
	}
	unlock2()
	unlock1()
	if c, unlock := cs.Lock(1); c != c1 || c.Sealed() != 1 {
		t.Errorf("lineage 1 lost its conversation to lineage 2")
	} else {
		unlock()
	}
	for id := range uint64(MaxConversations - 1) {
		_, unlock := cs.Lock(10 + id)
		unlock()
	}
	if c, unlock := cs.Lock(1); c != c1 {
		t.Errorf("lineage 1 dropped while among the %d used last", MaxConversations)
	} else {
		unlock()
	}
	for id := range uint64(MaxConversations) {
		_, unlock := cs.Lock(20 + id)
		unlock()
	}
	c, unlock := cs.Lock(1)
	defer unlock()
	if c == c1 || c.Sealed() != 0 {
		t.Errorf("lineage 1 kept after %d others were used", MaxConversations)
	}
	if len(cs.recent) > MaxConversations {
		t.Errorf("%d conversations kept, want at most %d", len(cs.recent), MaxConversations)
	}
}
