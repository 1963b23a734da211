package netproxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Proxies are a session's proxies: one for each set of allowed domains
// its confined commands have asked for, each on its own unix socket in a
// private directory, started on first use and served until Close. Its
// Proxy method is what the sandbox asks for a socket (sandbox.Network).
//
// Concurrency: Proxy may be called concurrently, and concurrently with
// Close; once Close has begun, Proxy fails. Every proxy serves on a
// goroutine of its own, which Close ends and waits for; the report
// function of [WithReport] is called from the proxies' goroutines, never
// after Close has returned.
type Proxies struct {
	opts []Option
	// hosts is the test hook's map of HostsEnv, read once by
	// NewProxies; hostsErr is why it could not be read, which every
	// Proxy returns.
	hosts    map[string][]netip.Addr
	hostsErr error

	mu      sync.Mutex
	dir     string
	proxies map[string]*served
	closed  bool
}

// served is one proxy, serving on socket until Close; done has what its
// Serve returned.
type served struct {
	socket string
	proxy  *Proxy
	done   chan error
}

// HostsEnv names the environment variable of a test hook: a list of
// NAME=ADDRESS pairs, separated by commas or spaces, that the session's
// proxies resolve NAME to instead of asking DNS, like a hosts file read
// by them alone ("allowed.test=127.0.0.1,denied.test=127.0.0.1"). It
// lets the end-to-end tests reach a loopback server by a domain name.
// It changes what a name resolves to, never what the rules allow: the
// name must still be allowed, and named exactly for a loopback or
// private address to be dialed. Nothing but [NewProxies] reads it.
const HostsEnv = "LATHE_NETPROXY_HOSTS"

// NewProxies returns an empty set of proxies whose every proxy is made
// with opts, such as [WithReport] for the audit log. It reads the test
// hook of [HostsEnv] from the environment, which then replaces the
// resolver of any [WithDialer] among opts; a malformed value fails every
// Proxy, naming the variable.
func NewProxies(opts ...Option) *Proxies {
	ps := &Proxies{opts: opts, proxies: map[string]*served{}}
	if v := os.Getenv(HostsEnv); v != "" {
		ps.hosts, ps.hostsErr = parseHosts(v)
		if ps.hostsErr != nil {
			ps.hostsErr = fmt.Errorf("%s: %w", HostsEnv, ps.hostsErr)
		}
	}
	return ps
}

// parseHosts parses HostsEnv's value.
func parseHosts(v string) (map[string][]netip.Addr, error) {
	hosts := map[string][]netip.Addr{}
	for _, pair := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		name, addr, ok := strings.Cut(pair, "=")
		name = normalize(name)
		if !ok || !validDomain(name) {
			return nil, fmt.Errorf("%q: want NAME=ADDRESS, such as allowed.test=127.0.0.1", pair)
		}
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", pair, err)
		}
		hosts[name] = append(hosts[name], a.Unmap())
	}
	return hosts, nil
}

// resolve returns the hook's addresses of host, or asks the system's
// resolver about a host the hook does not name.
func (ps *Proxies) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, ok := ps.hosts[host]; ok {
		return a, nil
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// Proxy returns the socket of the proxy that allows exactly domains
// (exact names and "*." wildcards, see [Rules]), starting it on first
// use. An invalid domain is an error naming it.
func (ps *Proxies) Proxy(ctx context.Context, domains []string) (string, error) {
	if ps.hostsErr != nil {
		return "", ps.hostsErr
	}
	key := slices.Clone(domains)
	for i, d := range key {
		key[i] = normalize(d)
	}
	slices.Sort(key)
	key = slices.Compact(key)
	k := strings.Join(key, " ")
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.closed {
		return "", errors.New("network proxy: the session's proxies are closed")
	}
	if s, ok := ps.proxies[k]; ok {
		return s.socket, nil
	}
	rules, err := NewRules(key, nil)
	if err != nil {
		return "", err
	}
	if ps.dir == "" {
		// A directory of its own, 0700, so that no other user reaches
		// the sockets; short, as a socket's path may be 107 bytes.
		if ps.dir, err = os.MkdirTemp("", "lathe-net-"); err != nil {
			return "", fmt.Errorf("network proxy: %w", err)
		}
	}
	socket := filepath.Join(ps.dir, strconv.Itoa(len(ps.proxies))+".sock")
	l, err := Listen(socket)
	if err != nil {
		return "", fmt.Errorf("network proxy: %w", err)
	}
	opts := ps.opts
	if ps.hosts != nil {
		opts = append(slices.Clip(opts), WithDialer(Dialer{Resolve: ps.resolve}))
	}
	s := &served{socket: socket, proxy: New(rules, opts...), done: make(chan error, 1)}
	go func() { s.done <- s.proxy.Serve(l) }()
	ps.proxies[k] = s
	return socket, nil
}

// Close stops every proxy, ending their requests and tunnels once each
// is reported, and removes their sockets. Its error says too why a proxy
// stopped serving before, if one did.
func (ps *Proxies) Close() error {
	ps.mu.Lock()
	ps.closed = true
	all := ps.proxies
	ps.proxies = map[string]*served{}
	dir := ps.dir
	ps.mu.Unlock()
	var errs []error
	for _, s := range all {
		errs = append(errs, s.proxy.Close(), <-s.done)
	}
	if dir != "" {
		errs = append(errs, os.RemoveAll(dir))
	}
	return errors.Join(errs...)
}
