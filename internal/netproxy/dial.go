package netproxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// RefusedError is a connection the rules do not allow: to a host they do
// not allow, or to an address they do not name.
type RefusedError struct {
	Host   string
	Reason string
}

func (e *RefusedError) Error() string { return "refused: " + e.Reason }

// Dialer resolves a host itself and connects to it only at addresses
// that are public or that the host's rule names: a name that resolves to
// a loopback or private address (DNS rebinding, an internal service) is
// refused unless a rule names that very host. It checks the addresses it
// dials, not those the client resolved, so what is checked is what is
// reached.
//
// The zero Dialer names nothing and dials with the system resolver.
// Its fields are not changed once it is in use; DialContext may be
// called concurrently.
type Dialer struct {
	// Named reports whether a rule names host exactly, so that its
	// private and loopback addresses may be dialed. nil names nothing.
	Named func(host string) bool
	// Resolve returns the addresses of a host name. nil uses the
	// system's resolver. Tests set it to map names of their own to
	// loopback servers; nothing else should.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	// Dial connects to one resolved address, "ip:port". nil uses a
	// net.Dialer.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// DialContext connects to address, "host:port", over network "tcp",
// "tcp4" or "tcp6", at the first of the host's addresses that may be
// dialed and answers. A host with no such address is a *[RefusedError].
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	addrs, err := d.Addrs(ctx, host)
	if err != nil {
		return nil, err
	}
	dial := d.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	var errs []error
	for _, a := range addrs {
		if network == "tcp4" && !a.Is4() || network == "tcp6" && !a.Is6() {
			continue
		}
		c, err := dial(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("dial %s: no %s address", address, network)
	}
	return nil, errors.Join(errs...)
}

// Addrs returns the addresses of host, a name or an IP address, that may
// be dialed: all of them when a rule names host, else only the public
// ones. A host left with none is a *[RefusedError] naming the address
// refused. (Whether an address may be a target at all is for the
// caller's rules: [Rules.Check] allows one only by naming it.)
func (d *Dialer) Addrs(ctx context.Context, host string) ([]netip.Addr, error) {
	h := canonHost(host)
	named := d.Named != nil && d.Named(h)
	if a, err := netip.ParseAddr(h); err == nil {
		if !named && !Public(a) {
			return nil, &RefusedError{Host: h, Reason: fmt.Sprintf("%s is a private or loopback address, which no rule names", h)}
		}
		return []netip.Addr{a}, nil
	}
	resolve := d.Resolve
	if resolve == nil {
		resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	all, err := resolve(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", h, err)
	}
	if named {
		return all, nil
	}
	var public []netip.Addr
	for _, a := range all {
		if Public(a) {
			public = append(public, a.Unmap())
		}
	}
	if len(public) == 0 {
		if len(all) == 0 {
			return nil, fmt.Errorf("resolve %s: no addresses", h)
		}
		return nil, &RefusedError{Host: h, Reason: fmt.Sprintf("%s resolves to %s, a private or loopback address, and no rule names %s", h, all[0], h)}
	}
	return public, nil
}

// nonPublic are the ranges, beyond those netip classifies, that reach
// this machine or a private network: this network, shared address space
// (carrier-grade NAT), IETF protocol assignments, benchmarking, and the
// IPv6 translation prefixes that embed an IPv4 address.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"),
}

// Public reports whether a is an address on the public internet: not
// loopback, private, link-local, multicast, unspecified or reserved.
func Public(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// hostPort splits a CONNECT target or URL host into host and port, with
// port defaulting to def.
func hostPort(hostport, def string) (string, int, error) {
	host, port := hostport, def
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host, port = h, p
	} else if strings.Count(hostport, ":") == 1 || strings.HasPrefix(hostport, "[") {
		return "", 0, fmt.Errorf("bad host %q: %w", hostport, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n <= 0 || n > 65535 {
		return "", 0, fmt.Errorf("bad port in %q", hostport)
	}
	if host == "" {
		return "", 0, fmt.Errorf("no host in %q", hostport)
	}
	return strings.Trim(host, "[]"), n, nil
}
