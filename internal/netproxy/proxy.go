package netproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is one connection through the proxy, allowed or refused, as the
// audit log records it: a CONNECT tunnel, or one plain HTTP request.
type Conn struct {
	// Host and Port are the target as the client named it.
	Host string
	Port int
	// Method is CONNECT for a tunnel, else the plain request's method.
	Method string
	// Allowed reports whether the rules let the connection through;
	// Rule is the rule that decided, and Reason why it was refused.
	Allowed bool
	Rule    string
	Reason  string
	// RuleSource is the file or flag Rule came from. The proxy knows
	// patterns only and leaves it empty, for the report function of
	// whoever gave it its rules to fill in.
	RuleSource string
	// Addr is the address dialed, "ip:port", empty when nothing was.
	Addr string
	// Err is why an allowed connection failed (the dial, the origin),
	// empty when it did not.
	Err string
	// Status is the HTTP status of a plain request's response, or of
	// the proxy's answer to a refused one or a CONNECT.
	Status int
	// Sent and Received count the bytes written to and read from the
	// origin.
	Sent, Received int64
	// Start is when the client asked; Duration how long the connection
	// lasted.
	Start    time.Time
	Duration time.Duration
}

// Proxy is the domain-allowlist proxy. Serve it on a listener (a unix
// socket, see [Listen]) and Close it when done.
//
// Concurrency: Serve may be called for several listeners; every
// connection is served on its own goroutine, and the report function is
// called from them, concurrently, once per [Conn] as it ends. Close stops
// every listener and open connection and returns once every request and
// tunnel has ended and been reported: none is reported after it, so
// that a log closed next misses none.
type Proxy struct {
	rules  *Rules
	dialer *Dialer
	report func(Conn)

	srv      *http.Server
	upstream *http.Transport
	rp       *httputil.ReverseProxy

	ctx    context.Context
	cancel context.CancelFunc

	// mu guards closed; active counts the requests being served, which
	// Close waits for. A request is counted only while closed is false,
	// so that none is added once Close waits.
	mu     sync.Mutex
	closed bool
	active sync.WaitGroup
}

// Option configures a Proxy.
type Option func(*Proxy)

// WithReport has every connection reported to f, as it ends. f must not
// block for long: it runs on the connection's goroutine.
func WithReport(f func(Conn)) Option { return func(p *Proxy) { p.report = f } }

// WithDialer has the proxy resolve and dial through d, whose Named is
// replaced by the rules'. Tests use it to resolve names of their own to
// loopback servers ([Dialer.Resolve]).
func WithDialer(d Dialer) Option { return func(p *Proxy) { p.dialer = &d } }

// New returns a proxy that lets through the hosts rules allows.
func New(rules *Rules, opts ...Option) *Proxy {
	p := &Proxy{rules: rules, dialer: &Dialer{}, report: func(Conn) {}}
	for _, o := range opts {
		o(p)
	}
	p.dialer.Named = rules.Named
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.upstream = &http.Transport{
		// A pooled connection would carry later requests that the
		// count of the one that dialed it would take; and the origin
		// is reached only as dialed here, never through another proxy.
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := p.dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			rec := ctx.Value(recordKey{}).(*record)
			rec.addr.Store(c.RemoteAddr().String())
			return &countingConn{Conn: c, sent: &rec.sent, received: &rec.received}, nil
		},
		ResponseHeaderTimeout: 5 * time.Minute,
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			// The Host header is the checked URL's host: another
			// would have the origin's server (a CDN, a shared host)
			// serve a site the rules never saw.
			pr.Out.URL = pr.In.URL
			pr.Out.Host = ""
		},
		Transport:    p.upstream,
		ErrorHandler: p.upstreamError,
		// Stream server-sent events and long downloads as they come.
		FlushInterval: -1,
	}
	p.srv = &http.Server{
		Handler:           p,
		ReadHeaderTimeout: 30 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return p.ctx },
		// A client's broken request is its own business; Lathe's
		// terminal is not the place for it.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	return p
}

// Listen listens on a new unix socket at path, readable and writable by
// its owner only. A stale socket at path, left by a process that died,
// is replaced; any other file there is an error.
func Listen(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != os.ModeSocket {
			return nil, fmt.Errorf("listen on %s: a file that is not a socket is in the way", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("listen on %s: %w", path, err)
		}
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	return l, nil
}

// Serve serves the proxy on l until Close, and then returns nil.
func (p *Proxy) Serve(l net.Listener) error {
	err := p.srv.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("netproxy: serve: %w", err)
}

// Close stops the proxy: its listeners, its requests and tunnels. It
// returns once each has been reported.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cancel()
	err := p.srv.Close()
	p.active.Wait()
	p.upstream.CloseIdleConnections()
	return err
}

// enter counts a request in, unless the proxy is closing.
func (p *Proxy) enter() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.active.Add(1)
	return true
}

type recordKey struct{}

// record is what the dialer and the error handler learn of a plain
// request's connection. The dialer may run on a goroutine of the
// transport's; the error handler runs on the request's.
type record struct {
	addr           atomic.Value // string
	sent, received atomic.Int64
	err            error
}

// ServeHTTP implements http.Handler: a CONNECT request opens a tunnel,
// an absolute-form request is forwarded, anything else is refused.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !p.enter() {
		// Nothing is reported: whoever closed the proxy takes no more
		// reports.
		http.Error(w, "lathe proxy: closing", http.StatusServiceUnavailable)
		return
	}
	defer p.active.Done()
	c := Conn{Method: r.Method, Start: time.Now()}
	defer func() {
		c.Duration = time.Since(c.Start)
		p.report(c)
	}()
	def := "80"
	target := r.Host
	switch {
	case r.Method == http.MethodConnect:
		def = "443"
	case r.URL.IsAbs() && r.URL.Scheme == "http":
		target = r.URL.Host
	default:
		c.Reason = "not a proxy request (want CONNECT host:port or an absolute http:// URL)"
		c.Status = http.StatusBadRequest
		http.Error(w, "lathe proxy: "+c.Reason, c.Status)
		return
	}
	host, port, err := hostPort(target, def)
	if err != nil {
		c.Host, c.Reason, c.Status = target, err.Error(), http.StatusBadRequest
		http.Error(w, "lathe proxy: "+c.Reason, c.Status)
		return
	}
	c.Host, c.Port = canonHost(host), port
	v := p.rules.Check(host)
	c.Allowed, c.Rule = v.Allowed, v.Rule
	if !v.Allowed {
		c.Reason, c.Status = v.Reason, http.StatusForbidden
		http.Error(w, "lathe proxy: network access refused: "+v.Reason, c.Status)
		return
	}
	if r.Method == http.MethodConnect {
		p.tunnel(w, r, &c)
		return
	}
	rec := &record{}
	p.rp.ServeHTTP(&statusWriter{ResponseWriter: w, status: &c.Status}, r.WithContext(context.WithValue(r.Context(), recordKey{}, rec)))
	if a, ok := rec.addr.Load().(string); ok {
		c.Addr = a
	}
	c.Sent, c.Received = rec.sent.Load(), rec.received.Load()
	if rec.err != nil {
		p.refusedOrFailed(&c, rec.err)
	}
}

// upstreamError answers a plain request whose origin could not be
// reached: 403 for an address the rules refuse, 502 otherwise. It keeps
// the error in the request's record for ServeHTTP to report.
func (p *Proxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	r.Context().Value(recordKey{}).(*record).err = err
	var ref *RefusedError
	if errors.As(err, &ref) {
		http.Error(w, "lathe proxy: network access refused: "+ref.Reason, http.StatusForbidden)
		return
	}
	http.Error(w, "lathe proxy: "+err.Error(), http.StatusBadGateway)
}

// refusedOrFailed records err, from dialing an allowed host, on c: a
// refusal of its address, or a failure.
func (p *Proxy) refusedOrFailed(c *Conn, err error) {
	var ref *RefusedError
	if errors.As(err, &ref) {
		c.Allowed, c.Reason = false, ref.Reason
		return
	}
	c.Err = err.Error()
}

// tunnel dials the CONNECT target and splices the client to it until
// either side closes or the proxy does.
func (p *Proxy) tunnel(w http.ResponseWriter, r *http.Request, c *Conn) {
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	up, err := p.dialer.DialContext(ctx, "tcp", net.JoinHostPort(c.Host, strconv.Itoa(c.Port)))
	cancel()
	if err != nil {
		p.refusedOrFailed(c, err)
		c.Status = http.StatusBadGateway
		msg := "lathe proxy: " + err.Error()
		if !c.Allowed {
			c.Status, msg = http.StatusForbidden, "lathe proxy: network access refused: "+c.Reason
		}
		http.Error(w, msg, c.Status)
		return
	}
	c.Addr = up.RemoteAddr().String()
	hj, ok := w.(http.Hijacker)
	if !ok {
		up.Close()
		c.Err, c.Status = "the connection cannot be taken over for a tunnel", http.StatusInternalServerError
		http.Error(w, "lathe proxy: "+c.Err, c.Status)
		return
	}
	client, buf, err := hj.Hijack()
	if err != nil {
		up.Close()
		c.Err = "take over the connection: " + err.Error()
		return
	}
	c.Status = http.StatusOK
	if _, err := io.WriteString(client, "HTTP/1.1 200 Connection Established\r\n\r\n"); err != nil {
		client.Close()
		up.Close()
		c.Err = "answer the client: " + err.Error()
		return
	}
	// Close both ends when the proxy closes, which ends both copies.
	stop := context.AfterFunc(p.ctx, func() { client.Close(); up.Close() })
	defer stop()
	var wg sync.WaitGroup
	wg.Go(func() {
		// Bytes the client sent after its CONNECT are in buf already.
		n, _ := io.Copy(up, io.MultiReader(buf.Reader, client))
		c.Sent = n
		closeWrite(up)
	})
	n, _ := io.Copy(client, up)
	c.Received = n
	closeWrite(client)
	wg.Wait()
	client.Close()
	up.Close()
}

// closeWrite half-closes c, so the peer sees the end of what the other
// side sent while its answer may still come back.
func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
		return
	}
	c.Close()
}

// statusWriter remembers the status of the response written through it.
type statusWriter struct {
	http.ResponseWriter
	status *int
}

func (w *statusWriter) WriteHeader(code int) {
	if *w.status == 0 {
		*w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if *w.status == 0 {
		*w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer's Flush.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// countingConn counts the bytes through a connection.
type countingConn struct {
	net.Conn
	sent, received *atomic.Int64
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.received.Add(int64(n))
	return n, err
}

// Write counts b before writing it, and takes back what was not written
// after: the transport writes on a goroutine of its own, which may
// still be returning from a write when the response it asked for has
// already been read and the request reported.
func (c *countingConn) Write(b []byte) (int, error) {
	c.sent.Add(int64(len(b)))
	n, err := c.Conn.Write(b)
	c.sent.Add(int64(n - len(b)))
	return n, err
}
