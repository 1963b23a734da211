package tool

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lathe-dev/lathe/internal/policy"
)

// rulesNaming is the NamedHost of an Env whose policy allows each of
// rules, as the session builds it from the user's rules.
func rulesNaming(t *testing.T, rules ...string) func(string) bool {
	t.Helper()
	var rs policy.Rules
	for _, text := range rules {
		r, err := policy.ParseRule(text)
		if err != nil {
			t.Fatal(err)
		}
		rs.Allow = append(rs.Allow, r)
	}
	return NamedHosts(rs)
}

func fetchInput(url string) json.RawMessage {
	b, _ := json.Marshal(map[string]string{"url": url, "prompt": "what does it say?"})
	return b
}

func TestWebFetchPrepare(t *testing.T) {
	env := &Env{Dir: t.TempDir()}
	p, err := NewWebFetch().(webFetch).Prepare(env, fetchInput("https://Example.com/a?b=c#frag"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Access.Kind != policy.Fetch || len(p.Access.URLs) != 1 || p.Access.URLs[0] != "https://Example.com/a?b=c" {
		t.Errorf("Access = %+v, want a Fetch of the URL without its fragment", p.Access)
	}
	for _, c := range []struct{ input, want string }{
		{`{"url": "ftp://example.com/x", "prompt": "p"}`, "only http and https"},
		{`{"url": "file:///etc/passwd", "prompt": "p"}`, "only http and https"},
		{`{"url": "javascript:alert(1)", "prompt": "p"}`, "only http and https"},
		{`{"url": "example.com/x", "prompt": "p"}`, "only http and https"},
		{`{"url": "http:///x", "prompt": "p"}`, "names no host"},
		{`{"url": "https://user:pw@example.com/", "prompt": "p"}`, "user name or password"},
		{`{"url": "https://example.com/` + strings.Repeat("a", 2000) + `", "prompt": "p"}`, "the limit is 2000"},
		{`{"url": "https://example.com/"}`, `"prompt" is missing`},
	} {
		if _, err := NewWebFetch().(webFetch).Prepare(env, json.RawMessage(c.input)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Prepare(%.60s) = %v, want an error saying %q", c.input, err, c.want)
		}
	}
	// Codex's web_fetch takes the prompt as optional.
	if _, err := NewCodexWebFetch().(webFetch).Prepare(env, json.RawMessage(`{"url": "https://example.com/"}`)); err != nil {
		t.Errorf("web_fetch without a prompt: %v", err)
	}
}

// fetchServer is a loopback site: /page is HTML, /text plain text,
// /big more text than a fetch shows, /bin binary, /missing a 404,
// /moved a redirect within the site, /away a redirect to another host.
func fetchServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var awayHits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><head><title>T</title><script>evil()</script></head><body><h1>Title</h1><p>Some <b>bold</b> text and <a href="/docs">a link</a>.</p></body></html>`)
	})
	mux.HandleFunc("/text", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "plain <b>text</b>")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, strings.Repeat("é", 60_000))
	})
	mux.HandleFunc("/bin", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write([]byte{0x7f, 'E', 'L', 'F', 0, 0, 1, 2, 3})
	})
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such page", http.StatusNotFound)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/text", http.StatusMovedPermanently)
	})
	srv := httptest.NewServer(mux)
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		// The same server by another name: another host to WebFetch.
		http.Redirect(w, r, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)+"/landing", http.StatusFound)
	})
	mux.HandleFunc("/landing", func(w http.ResponseWriter, r *http.Request) {
		awayHits.Add(1)
		fmt.Fprint(w, "landed")
	})
	t.Cleanup(srv.Close)
	return srv, &awayHits
}

func runFetch(t *testing.T, tl Tool, env *Env, url string) Result {
	t.Helper()
	res, err := tl.Run(t.Context(), env, fetchInput(url))
	if err != nil {
		t.Fatalf("Run(%s): %v", url, err)
	}
	return res
}

func TestWebFetchRefusesLoopbackUnlessNamed(t *testing.T) {
	srv, _ := fetchServer(t)
	for _, named := range []func(string) bool{
		nil,
		// Rules for other hosts, and a wildcard, name no loopback host.
		rulesNaming(t, "WebFetch(domain:example.com)", "WebFetch(domain:*.0.0.1)", "WebFetch"),
	} {
		res := runFetch(t, NewWebFetch(), &Env{NamedHost: named}, srv.URL+"/page")
		if !res.IsError || !strings.Contains(res.Content, "127.0.0.1 is a private or loopback address") || !strings.Contains(res.Content, "WebFetch(domain:127.0.0.1)") {
			t.Errorf("fetch of a loopback server: %+v, want it refused, naming the rule that would allow it", res)
		}
	}
	for _, host := range []string{"http://10.0.0.1/", "http://[::1]:1/", "http://169.254.169.254/latest/meta-data/"} {
		res := runFetch(t, NewWebFetch(), &Env{}, host)
		if !res.IsError || !strings.Contains(res.Content, "private or loopback") {
			t.Errorf("fetch %s: %+v, want it refused", host, res)
		}
	}
}

func TestWebFetchContent(t *testing.T) {
	srv, _ := fetchServer(t)
	env := &Env{NamedHost: rulesNaming(t, "WebFetch(domain:127.0.0.1)")}
	for _, c := range []struct {
		path    string
		isError bool
		want    []string
		not     []string
	}{
		{path: "/page", want: []string{"# Title", "Some **bold** text and [a link](" + srv.URL + "/docs)."}, not: []string{"<b>", "evil()"}},
		{path: "/text", want: []string{"plain <b>text</b>"}},
		{path: "/moved", want: []string{"plain <b>text</b>"}},
		{path: "/big", want: []string{"[content truncated: showing 100000 of 120000 bytes]"}},
		{path: "/bin", isError: true, want: []string{"binary"}},
		{path: "/missing", isError: true, want: []string{"404 Not Found", "no such page"}},
	} {
		res := runFetch(t, NewWebFetch(), env, srv.URL+c.path)
		if res.IsError != c.isError {
			t.Errorf("%s: IsError = %v, want %v: %s", c.path, res.IsError, c.isError, res.Content)
		}
		for _, w := range c.want {
			if !strings.Contains(res.Content, w) {
				t.Errorf("%s: content lacks %q:\n%.500s", c.path, w, res.Content)
			}
		}
		for _, n := range c.not {
			if strings.Contains(res.Content, n) {
				t.Errorf("%s: content has %q:\n%.500s", c.path, n, res.Content)
			}
		}
	}
}

func TestWebFetchStopsAtRedirectToAnotherHost(t *testing.T) {
	srv, awayHits := fetchServer(t)
	env := &Env{NamedHost: rulesNaming(t, "WebFetch(domain:127.0.0.1)", "WebFetch(domain:localhost)")}
	for _, tl := range []Tool{NewWebFetch(), NewCodexWebFetch()} {
		res := runFetch(t, tl, env, srv.URL+"/away")
		to := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/landing"
		if res.IsError || !strings.Contains(res.Content, "REDIRECT DETECTED") || !strings.Contains(res.Content, "Redirect URL: "+to) ||
			!strings.Contains(res.Content, "use "+tl.Def().Name+" again") || !strings.Contains(res.Content, "302 Found") {
			t.Errorf("%s: fetch of a redirect to another host: %+v", tl.Def().Name, res)
		}
	}
	if n := awayHits.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times; it must stop for a new call the policy decides", n)
	}
}

func TestWebFetchInterrupted(t *testing.T) {
	srv, _ := fetchServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := NewWebFetch().Run(ctx, &Env{NamedHost: rulesNaming(t, "WebFetch(domain:127.0.0.1)")}, fetchInput(srv.URL+"/page"))
	if err == nil {
		t.Error("a cancelled fetch returned no error")
	}
}

func TestSameSite(t *testing.T) {
	for _, c := range []struct {
		from, to string
		same     bool
	}{
		{"https://a.com/x", "https://a.com/y", true},
		{"https://a.com/x", "https://www.a.com/y", true},
		{"https://www.a.com/x", "https://a.com/y", true},
		{"http://a.com/x", "https://a.com/y", true},
		{"https://a.com/x", "http://a.com/y", false},
		{"https://a.com/x", "https://b.com/y", false},
		{"https://a.com/x", "https://sub.a.com/y", false},
		{"https://a.com/x", "https://a.com:8443/y", false},
		{"https://a.com/x", "https://u:p@a.com/y", false},
	} {
		from, to := mustURL(t, c.from), mustURL(t, c.to)
		if got := sameSite(from, to); got != c.same {
			t.Errorf("sameSite(%s, %s) = %v, want %v", c.from, c.to, got, c.same)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
