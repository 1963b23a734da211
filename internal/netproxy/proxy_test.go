package netproxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// testProxy is a proxy on a unix socket whose dialer resolves every name
// to loopback, where the test's origin servers listen; its connections
// are reported on conns, in the order they end.
type testProxy struct {
	socket string
	conns  chan Conn
}

func startProxy(t *testing.T, allow, deny []string) *testProxy {
	t.Helper()
	rules, err := NewRules(allow, deny)
	if err != nil {
		t.Fatal(err)
	}
	tp := &testProxy{socket: filepath.Join(t.TempDir(), "proxy.sock"), conns: make(chan Conn, 16)}
	loopback := func(ctx context.Context, host string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	p := New(rules, WithReport(func(c Conn) { tp.conns <- c }), WithDialer(Dialer{Resolve: loopback}))
	l, err := Listen(tp.socket)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Serve(l) }()
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return tp
}

// client returns an HTTP client that uses the proxy for every request,
// trusting the certificates of tlsServer, if any.
func (tp *testProxy) client(tlsServer *httptest.Server) *http.Client {
	tr := &http.Transport{
		Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: "proxy"}),
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", tp.socket)
		},
		DisableKeepAlives: true,
	}
	if tlsServer != nil {
		tr.TLSClientConfig = tlsServer.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	}
	return &http.Client{Transport: tr}
}

// origin is a loopback server that answers "hello from PATH" and counts
// the requests that reach it.
func origin(t *testing.T, tls bool) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprintf(w, "hello from %s", r.URL.Path)
	})
	var s *httptest.Server
	if tls {
		s = httptest.NewTLSServer(h)
	} else {
		s = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s, &hits
}

func port(s *httptest.Server) string { return s.URL[strings.LastIndex(s.URL, ":")+1:] }

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", u, err)
	}
	return resp.StatusCode, string(b)
}

func TestProxyPlainHTTP(t *testing.T) {
	srv, hits := origin(t, false)
	tp := startProxy(t, []string{"allowed.test", "*.wild.test"}, []string{"bad.wild.test"})
	c := tp.client(nil)

	status, body := get(t, c, "http://allowed.test:"+port(srv)+"/a")
	if status != 200 || body != "hello from /a" {
		t.Fatalf("allowed GET = %d %q, want 200 hello from /a", status, body)
	}
	conn := <-tp.conns
	if !conn.Allowed || conn.Host != "allowed.test" || conn.Method != "GET" || conn.Rule != "allowed.test" ||
		conn.Addr != "127.0.0.1:"+port(srv) || conn.Status != 200 || conn.Sent == 0 || conn.Received == 0 || conn.Err != "" {
		t.Errorf("allowed GET reported as %+v", conn)
	}

	for _, c2 := range []struct{ host, rule, reason string }{
		{"denied.test", "", "not in the allowed network domains"},
		{"bad.wild.test", "bad.wild.test", "denied by the network rule"},
		// A wildcard does not name a host, so its loopback address is refused.
		{"x.wild.test", "*.wild.test", "private or loopback address"},
		{"127.0.0.1", "", "not in the allowed"},
	} {
		status, body := get(t, c, "http://"+c2.host+":"+port(srv)+"/")
		if status != http.StatusForbidden || !strings.Contains(body, c2.reason) {
			t.Errorf("GET %s = %d %q, want 403 saying %q", c2.host, status, body, c2.reason)
		}
		conn := <-tp.conns
		if conn.Allowed || conn.Host != c2.host || conn.Rule != c2.rule || !strings.Contains(conn.Reason, c2.reason) || conn.Status != http.StatusForbidden {
			t.Errorf("GET %s reported as %+v, want refused by %q", c2.host, conn, c2.rule)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("the origin got %d requests, want only the allowed one", n)
	}
}

func TestProxyConnect(t *testing.T) {
	// httptest's certificate is for example.com, which the test proxy
	// resolves to the server.
	srv, hits := origin(t, true)
	tp := startProxy(t, []string{"example.com", "*.example.com"}, nil)
	c := tp.client(srv)

	status, body := get(t, c, "https://example.com:"+port(srv)+"/tls")
	if status != 200 || body != "hello from /tls" {
		t.Fatalf("GET through the tunnel = %d %q", status, body)
	}
	conn := <-tp.conns
	if !conn.Allowed || conn.Method != "CONNECT" || conn.Host != "example.com" || conn.Port == 0 || conn.Status != 200 ||
		conn.Addr != "127.0.0.1:"+port(srv) || conn.Sent == 0 || conn.Received == 0 {
		t.Errorf("tunnel reported as %+v", conn)
	}

	for _, host := range []string{"www.example.com", "other.test", "127.0.0.1"} {
		_, msg := get(t, c, "https://"+host+":"+port(srv)+"/")
		if !strings.Contains(msg, "Forbidden") {
			t.Errorf("GET https://%s through the proxy: %s, want the CONNECT refused", host, msg)
		}
		if conn := <-tp.conns; conn.Allowed || conn.Method != "CONNECT" || conn.Status != http.StatusForbidden || conn.Addr != "" {
			t.Errorf("CONNECT %s reported as %+v", host, conn)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("the origin got %d requests, want only the allowed one", n)
	}
}

func TestProxyRefusesOtherRequests(t *testing.T) {
	tp := startProxy(t, []string{"allowed.test"}, nil)
	c, err := net.Dial("unix", tp.socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, req := range []string{
		"GET /x HTTP/1.1\r\nHost: allowed.test\r\n\r\n",
		"GET https://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\n\r\n",
		"CONNECT allowed.test:0 HTTP/1.1\r\nHost: allowed.test:0\r\n\r\n",
	} {
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%q: %v", req, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%q: status %d, want 400", req, resp.StatusCode)
		}
		if conn := <-tp.conns; conn.Allowed || conn.Reason == "" {
			t.Errorf("%q reported as %+v", req, conn)
		}
		c.Close()
		if c, err = net.Dial("unix", tp.socket); err != nil {
			t.Fatal(err)
		}
	}
}

// TestProxyCloseEndsTunnels checks that Close ends an open tunnel and
// reports it before returning.
func TestProxyCloseEndsTunnels(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		// An origin that accepts and never answers.
		c, err := l.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	rules, _ := NewRules([]string{"127.0.0.1"}, nil)
	conns := make(chan Conn, 1)
	p := New(rules, WithReport(func(c Conn) { conns <- c }))
	pl, err := Listen(filepath.Join(t.TempDir(), "p.sock"))
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- p.Serve(pl) }()
	c, err := net.Dial("unix", pl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %[1]s\r\n\r\n", l.Addr())
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case conn := <-conns:
		if !conn.Allowed || conn.Host != "127.0.0.1" {
			t.Errorf("tunnel reported as %+v", conn)
		}
	default:
		t.Fatal("Close returned before the tunnel was reported")
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("read from the closed tunnel: %v, want EOF", err)
	}
}

func TestListenReplacesOnlySockets(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "s")
	l, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	if l, err = Listen(sock); err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	l.Close()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(file); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("Listen over a file: %v", err)
	}
}

// TestProxyHostIsTheURLs checks that a plain request reaches the origin
// with the host the rules checked, whatever Host header it came with.
func TestProxyHostIsTheURLs(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Host) }))
	t.Cleanup(srv.Close)
	tp := startProxy(t, []string{"allowed.test"}, nil)
	c, err := net.Dial("unix", tp.socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET http://allowed.test:%s/ HTTP/1.1\r\nHost: denied.test\r\n\r\n", port(srv))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "allowed.test:" + port(srv); string(b) != want {
		t.Errorf("the origin saw Host %q, want %q", b, want)
	}
	<-tp.conns
}

func TestProxies(t *testing.T) {
	srv, _ := origin(t, false)
	conns := make(chan Conn, 4)
	ps := NewProxies(WithReport(func(c Conn) { conns <- c }))
	a, err := ps.Proxy(t.Context(), []string{"localhost", "example.com"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := ps.Proxy(t.Context(), []string{"Example.com.", "localhost", "localhost"})
	if err != nil || b != a {
		t.Errorf("the same domains got socket %q, %v; want %q again", b, err, a)
	}
	c, err := ps.Proxy(t.Context(), []string{"localhost"})
	if err != nil || c == a {
		t.Errorf("other domains got socket %q, %v; want a new one", c, err)
	}
	if _, err := ps.Proxy(t.Context(), []string{"https://x.com"}); err == nil || !strings.Contains(err.Error(), `"https://x.com"`) {
		t.Errorf("an invalid domain: %v", err)
	}

	// "localhost" is named, so its loopback address may be reached.
	tp := &testProxy{socket: c}
	status, body := get(t, tp.client(nil), "http://localhost:"+port(srv)+"/p")
	if status != 200 || body != "hello from /p" {
		t.Errorf("GET through the proxy = %d %q", status, body)
	}
	if conn := <-conns; !conn.Allowed || conn.Host != "localhost" {
		t.Errorf("reported %+v", conn)
	}

	if err := ps.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(a)); !os.IsNotExist(err) {
		t.Errorf("the sockets' directory is still there after Close: %v", err)
	}
	if _, err := ps.Proxy(t.Context(), []string{"localhost"}); err == nil {
		t.Error("Proxy after Close succeeded")
	}
}

// TestProxyCloseEndsRequests checks that Close ends a plain request
// still waiting for its origin and reports it before returning, so that
// a log closed after the proxy misses no connection.
func TestProxyCloseEndsRequests(t *testing.T) {
	arrived := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	}))
	defer srv.Close()
	rules, _ := NewRules([]string{"127.0.0.1"}, nil)
	conns := make(chan Conn, 1)
	p := New(rules, WithReport(func(c Conn) { conns <- c }))
	pl, err := Listen(filepath.Join(t.TempDir(), "p.sock"))
	if err != nil {
		t.Fatal(err)
	}
	go p.Serve(pl)
	tp := &testProxy{socket: pl.Addr().String()}
	got := make(chan int, 1)
	go func() {
		status, _ := get(t, tp.client(nil), srv.URL+"/slow")
		got <- status
	}()
	<-arrived
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case conn := <-conns:
		if !conn.Allowed || conn.Method != "GET" || conn.Host != "127.0.0.1" {
			t.Errorf("request reported as %+v", conn)
		}
	default:
		t.Fatal("Close returned before the request was reported")
	}
	if status := <-got; status == 200 {
		t.Errorf("the cut request got %d", status)
	}
}

// TestProxiesHosts checks the test hook of HostsEnv: a name it maps is
// resolved to its address, which the rules still judge; a malformed
// value fails every proxy, naming the variable.
func TestProxiesHosts(t *testing.T) {
	srv, _ := origin(t, false)
	t.Setenv(HostsEnv, "allowed.test=127.0.0.1, denied.test=127.0.0.1,a.wild.test=127.0.0.1")
	conns := make(chan Conn, 4)
	ps := NewProxies(WithReport(func(c Conn) { conns <- c }))
	defer ps.Close()
	socket, err := ps.Proxy(t.Context(), []string{"allowed.test"})
	if err != nil {
		t.Fatal(err)
	}
	c := (&testProxy{socket: socket}).client(nil)
	if status, body := get(t, c, "http://allowed.test:"+port(srv)+"/a"); status != 200 || body != "hello from /a" {
		t.Errorf("GET of a mapped, allowed name = %d %q", status, body)
	}
	if conn := <-conns; !conn.Allowed || conn.Addr != "127.0.0.1:"+port(srv) {
		t.Errorf("reported %+v", conn)
	}
	if status, _ := get(t, c, "http://denied.test:"+port(srv)+"/a"); status != 403 {
		t.Errorf("GET of a mapped name the rules do not allow = %d, want 403", status)
	}
	if conn := <-conns; conn.Allowed || conn.Host != "denied.test" {
		t.Errorf("reported %+v", conn)
	}

	// A wildcard allows the name but does not name it: its loopback
	// address stays out of reach.
	socket, err = ps.Proxy(t.Context(), []string{"*.wild.test"})
	if err != nil {
		t.Fatal(err)
	}
	c = (&testProxy{socket: socket}).client(nil)
	if status, body := get(t, c, "http://a.wild.test:"+port(srv)+"/a"); status != 403 || !strings.Contains(body, "private or loopback") {
		t.Errorf("GET of a mapped name under a wildcard = %d %q, want 403", status, body)
	}
	<-conns

	for _, bad := range []string{"allowed.test", "allowed.test=localhost", "http://x=127.0.0.1"} {
		t.Setenv(HostsEnv, bad)
		ps := NewProxies()
		if _, err := ps.Proxy(t.Context(), []string{"allowed.test"}); err == nil || !strings.Contains(err.Error(), HostsEnv) {
			t.Errorf("%s=%q: Proxy = %v, want an error naming the variable", HostsEnv, bad, err)
		}
		ps.Close()
	}
}
