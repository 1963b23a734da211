// Package netproxy is the network boundary of Lathe's sandbox: an HTTP
// proxy that Lathe runs outside the sandbox, on a unix socket, and that
// lets a sandboxed command reach only the domains the policy allows.
//
// A sandboxed command has a network namespace of its own, with nothing
// in it but a loopback interface. [Bridge], run inside that namespace,
// listens on its loopback and forwards every connection to the proxy's
// socket; the command finds it through the proxy variables [Environ]
// returns. The proxy ([Proxy]) serves HTTP CONNECT tunnels (HTTPS and
// anything else over TCP) and absolute-form plain HTTP requests, checks
// each target against its [Rules], resolves and dials the target itself
// ([Dialer]), refusing private and loopback addresses no rule names, and
// reports every connection, allowed or refused, as a [Conn] for the
// audit log.
package netproxy

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Rules is a domain allowlist with a denylist over it. A pattern is a
// domain ("example.com", which matches that name only), a wildcard
// ("*.example.com", which matches every name below example.com but not
// example.com itself) or an IP address ("127.0.0.1", "::1"). Names are
// compared without case and without a trailing dot. A deny pattern wins
// over every allow pattern.
//
// A Rules is not changed after [NewRules], so its methods may be called
// concurrently.
type Rules struct {
	allow, deny []string
}

// NewRules checks the allow and deny patterns and returns their Rules.
// An invalid pattern is an error naming it.
func NewRules(allow, deny []string) (*Rules, error) {
	r := &Rules{}
	for _, list := range []struct {
		name string
		in   []string
		out  *[]string
	}{{"allow", allow, &r.allow}, {"deny", deny, &r.deny}} {
		for _, p := range list.in {
			q, err := parsePattern(p)
			if err != nil {
				return nil, fmt.Errorf("network %s rule %q: %w", list.name, p, err)
			}
			*list.out = append(*list.out, q)
		}
	}
	return r, nil
}

// parsePattern checks one pattern and returns it in the form it is
// compared in.
func parsePattern(p string) (string, error) {
	q := normalize(p)
	if a, err := netip.ParseAddr(strings.Trim(q, "[]")); err == nil {
		if a.Zone() != "" {
			return "", errors.New("an address with a zone cannot be named")
		}
		return a.Unmap().String(), nil
	}
	name, wild := strings.CutPrefix(q, "*.")
	switch {
	case q == "":
		return "", errors.New("empty domain")
	case strings.Contains(name, "*"):
		return "", errors.New(`"*" may only stand for the leading labels, as in "*.example.com"`)
	case !validDomain(name):
		return "", errors.New("not a domain name (no scheme, port or path: just the host, such as example.com)")
	case wild && !strings.Contains(name, "."):
		return "", fmt.Errorf("wildcard over a whole top-level domain %q", name)
	}
	return q, nil
}

// validDomain reports whether name is a host name in letters, digits,
// hyphens and underscores, in dot-separated labels. Internationalised
// names must be written as the punycode clients send.
func validDomain(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// normalize is a host or pattern in the form rules compare: lower case,
// without a trailing dot.
func normalize(host string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
}

// canonHost is host as a rule names it: an IP address in its canonical
// form (IPv4 without the IPv6 mapping), a name normalized.
func canonHost(host string) string {
	h := normalize(host)
	if a, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return a.Unmap().WithZone("").String()
	}
	return h
}

// Verdict is what the rules say about one host.
type Verdict struct {
	// Allowed reports whether the host may be reached at all.
	Allowed bool
	// Named reports that an allow rule names the host exactly (not by a
	// wildcard), which lets it be reached at a private or loopback
	// address too: the user meant that machine.
	Named bool
	// Rule is the pattern that decided, empty when none matched.
	Rule string
	// Reason says why a host is refused.
	Reason string
}

// Check returns the verdict for host, a domain name or an IP address as
// a client names it (an IPv6 address may be in brackets).
func (r *Rules) Check(host string) Verdict {
	h := canonHost(host)
	for _, p := range r.deny {
		if match(p, h) {
			return Verdict{Rule: p, Reason: fmt.Sprintf("%s is denied by the network rule %q", h, p)}
		}
	}
	var v Verdict
	for _, p := range r.allow {
		if !match(p, h) {
			continue
		}
		if p == h {
			return Verdict{Allowed: true, Named: true, Rule: p}
		}
		if !v.Allowed {
			v = Verdict{Allowed: true, Rule: p}
		}
	}
	if !v.Allowed {
		return Verdict{Reason: fmt.Sprintf("%s is not in the allowed network domains", h)}
	}
	if _, err := netip.ParseAddr(h); err == nil {
		// Only naming an address allows it; no wildcard covers one.
		return Verdict{Reason: fmt.Sprintf("%s is an IP address, which no network rule names", h)}
	}
	return v
}

// Named reports whether an allow rule names host exactly and no deny rule
// matches it.
func (r *Rules) Named(host string) bool { return r.Check(host).Named }

// match reports whether pattern p matches the canonical host h.
func match(p, h string) bool {
	if suffix, ok := strings.CutPrefix(p, "*"); ok {
		return strings.HasSuffix(h, suffix) && len(h) > len(suffix)
	}
	return p == h
}
