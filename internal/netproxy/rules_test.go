package netproxy

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

func TestRulesCheck(t *testing.T) {
	r, err := NewRules(
		[]string{"example.com", "*.github.com", "Api.Test.", "10.1.2.3", "::1", "*.0.0.1"},
		[]string{"evil.github.com", "*.internal.github.com"},
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		host         string
		allowed      bool
		named        bool
		rule, reason string
	}{
		{host: "example.com", allowed: true, named: true, rule: "example.com"},
		{host: "EXAMPLE.com.", allowed: true, named: true, rule: "example.com"},
		{host: "www.example.com", reason: "not in the allowed"},
		{host: "notexample.com", reason: "not in the allowed"},
		{host: "github.com", reason: "not in the allowed"},
		{host: "api.github.com", allowed: true, rule: "*.github.com"},
		{host: "a.b.github.com", allowed: true, rule: "*.github.com"},
		{host: "evilgithub.com", reason: "not in the allowed"},
		// Deny wins over every allow, exact or wildcard.
		{host: "evil.github.com", rule: "evil.github.com", reason: "denied"},
		{host: "x.internal.github.com", rule: "*.internal.github.com", reason: "denied"},
		{host: "api.test", allowed: true, named: true, rule: "api.test"},
		// An address is allowed only by naming it, in any spelling.
		{host: "10.1.2.3", allowed: true, named: true, rule: "10.1.2.3"},
		{host: "::ffff:10.1.2.3", allowed: true, named: true, rule: "10.1.2.3"},
		{host: "[::1]", allowed: true, named: true, rule: "::1"},
		{host: "127.0.0.1", reason: "IP address"},
		{host: "10.1.2.4", reason: "not in the allowed"},
	} {
		v := r.Check(c.host)
		if v.Allowed != c.allowed || v.Named != c.named || v.Rule != c.rule || !strings.Contains(v.Reason, c.reason) || (c.reason == "") != (v.Reason == "") {
			t.Errorf("Check(%q) = %+v, want allowed %v named %v rule %q reason containing %q", c.host, v, c.allowed, c.named, c.rule, c.reason)
		}
	}
}

func TestNewRulesRejects(t *testing.T) {
	for _, p := range []string{"", "*", "*.com", "https://example.com", "example.com:443", "example.com/x", "a.*.com", "ex ample.com", "-a.com", "fe80::1%eth0", "bücher.de"} {
		if _, err := NewRules([]string{p}, nil); err == nil || !strings.Contains(err.Error(), "allow rule") {
			t.Errorf("NewRules(%q) = %v, want an error naming the allow rule", p, err)
		}
		if _, err := NewRules(nil, []string{p}); err == nil || !strings.Contains(err.Error(), "deny rule") {
			t.Errorf("NewRules(deny %q) = %v, want an error naming the deny rule", p, err)
		}
	}
}

func TestPublic(t *testing.T) {
	for _, c := range []struct {
		addr   string
		public bool
	}{
		{"93.184.216.34", true},
		{"2606:2800:220:1:248:1893:25c8:1946", true},
		{"127.0.0.1", false},
		{"127.5.6.7", false},
		{"::1", false},
		{"::ffff:127.0.0.1", false},
		{"10.0.0.1", false},
		{"172.16.0.1", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false},
		{"100.64.0.1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"fd00::1", false},
		{"fe80::1", false},
		{"224.0.0.1", false},
		{"255.255.255.255", false},
		{"64:ff9b::7f00:1", false},
		{"2002:7f00:1::", false},
	} {
		if got := Public(netip.MustParseAddr(c.addr)); got != c.public {
			t.Errorf("Public(%s) = %v, want %v", c.addr, got, c.public)
		}
	}
}

func TestDialerAddrs(t *testing.T) {
	addrs := map[string][]netip.Addr{
		"mixed.test":    {netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("93.184.216.34")},
		"loopback.test": {netip.MustParseAddr("127.0.0.1")},
		"named.test":    {netip.MustParseAddr("127.0.0.1")},
	}
	d := Dialer{
		Named: func(h string) bool { return h == "named.test" || h == "10.9.9.9" },
		Resolve: func(_ context.Context, h string) ([]netip.Addr, error) {
			return addrs[h], nil
		},
	}
	for _, c := range []struct {
		host, want, refused string
	}{
		{host: "mixed.test", want: "[93.184.216.34]"},
		{host: "loopback.test", refused: "resolves to 127.0.0.1"},
		{host: "named.test", want: "[127.0.0.1]"},
		{host: "93.184.216.34", want: "[93.184.216.34]"},
		{host: "127.0.0.1", refused: "private or loopback"},
		{host: "::ffff:127.0.0.1", refused: "private or loopback"},
		{host: "10.9.9.9", want: "[10.9.9.9]"},
	} {
		got, err := d.Addrs(t.Context(), c.host)
		var ref *RefusedError
		switch {
		case c.refused != "":
			if !errors.As(err, &ref) || !strings.Contains(ref.Reason, c.refused) {
				t.Errorf("Addrs(%s) = %v, %v; want refused: %s", c.host, got, err, c.refused)
			}
		case err != nil || fmt.Sprint(got) != c.want:
			t.Errorf("Addrs(%s) = %v, %v; want %s", c.host, got, err, c.want)
		}
	}
}
