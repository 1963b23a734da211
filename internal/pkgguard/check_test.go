package pkgguard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lathe-dev/lathe/internal/pkgguard"
	"github.com/lathe-dev/lathe/internal/pkgguard/pkgguardtest"
	"github.com/lathe-dev/lathe/internal/policy"
)

// now is the tests' clock: the fresh packages of testdata/registry were
// published two days before.
var now = time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)

// fake serves testdata/registry, trimmed real answers of each registry.
func fake(t *testing.T) *pkgguardtest.Registry {
	t.Helper()
	r := pkgguardtest.Serve(os.DirFS("testdata/registry"))
	t.Cleanup(r.Close)
	return r
}

func checker(t *testing.T, cfg pkgguard.Config, opts ...pkgguard.Option) *pkgguard.Checker {
	t.Helper()
	c, err := pkgguard.New(cfg, append([]pkgguard.Option{pkgguard.WithClock(func() time.Time { return now })}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	requests = pkgguard.Package{Registry: pkgguard.PyPI, Name: "requests"}
	leftPad  = pkgguard.Package{Registry: pkgguard.Npm, Name: "left-pad"}
	typesNod = pkgguard.Package{Registry: pkgguard.Npm, Name: "@types/node"}
	xnet     = pkgguard.Package{Registry: pkgguard.Go, Name: "golang.org/x/net/http2", Version: "v0.32.0"}
	toml     = pkgguard.Package{Registry: pkgguard.Go, Name: "github.com/BurntSushi/toml"}
	serde    = pkgguard.Package{Registry: pkgguard.Crates, Name: "serde"}
	rails    = pkgguard.Package{Registry: pkgguard.RubyGems, Name: "rails"}
	existing = []pkgguard.Package{requests, leftPad, typesNod, xnet, toml, serde, rails}
)

func TestCheckExisting(t *testing.T) {
	r := fake(t)
	c := checker(t, pkgguard.Config{Registries: r.URLs()})
	if fs := c.Check(context.Background(), existing); len(fs) != 0 {
		t.Errorf("findings for packages that exist: %+v", fs)
	}
	// Existence needs one request a package, but for a package inside a
	// module, which takes one for each path up to the module.
	want := []string{
		"/pypi/requests/json", "/npm/@types/node", "/npm/left-pad",
		"/go/golang.org/x/net/http2/@latest", "/go/golang.org/x/net/@latest",
		"/go/github.com/!burnt!sushi/toml/@latest", "/crates/serde", "/rubygems/gems/rails.json",
	}
	got := r.Requests()
	if !sameSet(got, want) {
		t.Errorf("requests:\n got %q\nwant %q", got, want)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestCheckMissing(t *testing.T) {
	r := fake(t)
	u := r.URLs()
	c := checker(t, pkgguard.Config{Registries: u})
	for _, tc := range []struct {
		pkg  pkgguard.Package
		want string
	}{
		{pkgguard.Package{Registry: pkgguard.PyPI, Name: "reqeusts"},
			`package "reqeusts" does not exist on PyPI (` + u[pkgguard.PyPI] + `/reqeusts/json returned 404); check the name`},
		{pkgguard.Package{Registry: pkgguard.Npm, Name: "@typos/node"},
			`package "@typos/node" does not exist on npm (` + u[pkgguard.Npm] + `/@typos%2Fnode returned 404); check the name`},
		{pkgguard.Package{Registry: pkgguard.Go, Name: "github.com/nobody/nothing"},
			`module "github.com/nobody/nothing" does not exist on the Go module proxy (` + u[pkgguard.Go] + `/github.com/nobody/nothing/@latest returned 404); check the name`},
		{pkgguard.Package{Registry: pkgguard.Go, Name: "github.com/gone/away/sub"},
			`module "github.com/gone/away/sub" does not exist on the Go module proxy (` + u[pkgguard.Go] + `/github.com/gone/away/sub/@latest returned 410); check the name`},
		{pkgguard.Package{Registry: pkgguard.Go, Name: "example.com/bad path"},
			`module "example.com/bad path" does not exist on the Go module proxy (malformed module path "example.com/bad path": invalid char ' '); check the name`},
		{pkgguard.Package{Registry: pkgguard.Crates, Name: "serde_jsonn"},
			`crate "serde_jsonn" does not exist on crates.io (` + u[pkgguard.Crates] + `/serde_jsonn returned 404); check the name`},
		{pkgguard.Package{Registry: pkgguard.RubyGems, Name: "railz"},
			`gem "railz" does not exist on RubyGems (` + u[pkgguard.RubyGems] + `/gems/railz.json returned 404); check the name`},
	} {
		fs := c.Check(context.Background(), []pkgguard.Package{tc.pkg, requests})
		if len(fs) != 1 || fs[0].Verdict != policy.Deny || fs[0].Reason != tc.want || fs[0].Rule != "package_guard.enabled" {
			t.Errorf("%s %s: findings %+v,\nwant one Deny: %s", tc.pkg.Registry, tc.pkg.Name, fs, tc.want)
		}
	}
}

// A registry that does not answer, or answers anything but yes or no,
// makes the install an ask, never an allow.
func TestCheckUnreachable(t *testing.T) {
	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }
	}
	hang := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	closed := httptest.NewServer(status(200))
	closed.Close()
	for name, tc := range map[string]struct {
		handler http.HandlerFunc
		url     string
		want    string
	}{
		"500":     {handler: status(500), want: "returned 500 Internal Server Error"},
		"503":     {handler: status(503), want: "returned 503 Service Unavailable"},
		"429":     {handler: status(429), want: "returned 429 Too Many Requests"},
		"403":     {handler: status(403), want: "returned 403 Forbidden"},
		"refused": {url: closed.URL, want: "connection refused"},
		"timeout": {handler: hang, want: "/requests/json: no answer within 100ms"},
		"garbage": {handler: func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>")) }, want: "invalid character"},
	} {
		t.Run(name, func(t *testing.T) {
			u := tc.url
			if u == "" {
				srv := httptest.NewServer(tc.handler)
				t.Cleanup(srv.Close)
				u = srv.URL
			}
			regs := map[pkgguard.Registry]string{}
			for _, reg := range pkgguard.Registries {
				regs[reg] = u
			}
			// Age makes PyPI's body read, so that garbage is seen.
			c := checker(t, pkgguard.Config{Registries: regs, Timeout: 100 * time.Millisecond, MinAgeDays: 1})
			fs := c.Check(context.Background(), []pkgguard.Package{requests})
			if len(fs) != 1 || fs[0].Verdict != policy.Ask || !strings.Contains(fs[0].Reason, tc.want) ||
				!strings.HasPrefix(fs[0].Reason, `could not check package "requests" (`) {
				t.Errorf("findings %+v, want one Ask saying %q", fs, tc.want)
			}
			// Failures are not cached: the next check asks again.
			if fs := c.Check(context.Background(), []pkgguard.Package{requests}); len(fs) != 1 {
				t.Errorf("second check: %+v", fs)
			}
		})
	}
}

func TestCheckCancelled(t *testing.T) {
	r := fake(t)
	c := checker(t, pkgguard.Config{Registries: r.URLs()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fs := c.Check(ctx, existing)
	if len(fs) != len(existing) {
		t.Fatalf("findings %+v, want one for each package", fs)
	}
	for _, f := range fs {
		if f.Verdict != policy.Ask || !strings.Contains(f.Reason, "context canceled") {
			t.Errorf("finding %+v, want an Ask saying the check was cancelled", f)
		}
	}
}

func TestCheckMinAge(t *testing.T) {
	r := fake(t)
	c := checker(t, pkgguard.Config{Registries: r.URLs(), MinAgeDays: 30})
	young := []pkgguard.Package{{Registry: pkgguard.PyPI, Name: "fresh-pkg"}, {Registry: pkgguard.Npm, Name: "fresh-pkg"}}
	fs := c.Check(context.Background(), append(existing, young...))
	want := []string{
		`package "fresh-pkg" was first published on 2026-12-05, 1 day ago, less than package_guard.min_age_days = 30`,
		`package "fresh-pkg" was first published on 2026-12-05, 1 day ago, less than package_guard.min_age_days = 30`,
	}
	if len(fs) != 2 {
		t.Fatalf("findings %+v, want the two young packages", fs)
	}
	for i, f := range fs {
		if f.Package != young[i] || f.Verdict != policy.Ask || f.Reason != want[i] || f.Rule != "package_guard.min_age_days" {
			t.Errorf("finding %+v,\nwant Ask: %s", f, want[i])
		}
	}
	// The Go module's age is its oldest tag's, not its latest's.
	if !contains(r.Requests(), "/go/golang.org/x/net/@v/v0.1.0.info") {
		t.Errorf("the oldest version of x/net was not looked up: %q", r.Requests())
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestCheckMinDownloads(t *testing.T) {
	r := fake(t)
	c := checker(t, pkgguard.Config{Registries: r.URLs(), MinDownloads: 1000})
	few := []pkgguard.Package{{Registry: pkgguard.Npm, Name: "fresh-pkg"}, {Registry: pkgguard.Crates, Name: "tiny-crate"}}
	fs := c.Check(context.Background(), append(existing, few...))
	want := []string{
		`package "fresh-pkg" has 12 downloads last week, fewer than package_guard.min_downloads = 1000`,
		`crate "tiny-crate" has 40 downloads in all, fewer than package_guard.min_downloads = 1000`,
	}
	if len(fs) != 2 {
		t.Fatalf("findings %+v, want the two little-used packages (PyPI and the Go proxy count no downloads)", fs)
	}
	for i, f := range fs {
		if f.Package != few[i] || f.Verdict != policy.Ask || f.Reason != want[i] || f.Rule != "package_guard.min_downloads" {
			t.Errorf("finding %+v,\nwant Ask: %s", f, want[i])
		}
	}
}

func TestCheckAllowlist(t *testing.T) {
	r := fake(t)
	c := checker(t, pkgguard.Config{
		Registries: r.URLs(), RequireAllowlist: true, MinAgeDays: 30,
		Allow: []string{"pypi:Requests", "npm:@types/**", "go:golang.org/x/**", "fresh-pkg", "crates:serde*", "pypi:reqeusts"},
	})
	fresh := pkgguard.Package{Registry: pkgguard.Npm, Name: "fresh-pkg"}
	missing := pkgguard.Package{Registry: pkgguard.PyPI, Name: "reqeusts"}
	fs := c.Check(context.Background(), []pkgguard.Package{requests, typesNod, xnet, serde, fresh, leftPad, rails, missing})
	var got []string
	for _, f := range fs {
		got = append(got, f.Package.Name+" "+f.Rule)
	}
	// Allowed packages are exempt from the minimum age (fresh-pkg), but
	// must still exist; nothing is looked up for the others.
	want := []string{"left-pad package_guard.require_allowlist", "rails package_guard.require_allowlist", "reqeusts package_guard.enabled"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n got %q\nwant %q", got, want)
	}
	for _, f := range fs {
		if f.Verdict != policy.Deny || f.Rule == "package_guard.require_allowlist" && !strings.Contains(f.Reason, "is not in package_guard.allow, and package_guard.require_allowlist is set") {
			t.Errorf("finding %+v, want Deny naming the allowlist", f)
		}
	}
	if contains(r.Requests(), "/npm/left-pad") {
		t.Errorf("a package outside the allowlist was looked up: %q", r.Requests())
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  pkgguard.Config
		want string
	}{
		{pkgguard.Config{Allow: []string{"pip:requests"}}, `allow entry "pip:requests": unknown registry "pip"`},
		{pkgguard.Config{Allow: []string{"npm:"}}, `allow entry "npm:": not a valid name or pattern`},
		{pkgguard.Config{Allow: []string{"npm:[a"}}, `allow entry "npm:[a": not a valid name or pattern`},
		{pkgguard.Config{Registries: map[pkgguard.Registry]string{"pip": "https://x"}}, `unknown registry "pip"`},
		{pkgguard.Config{Registries: map[pkgguard.Registry]string{pkgguard.PyPI: "file:///etc"}}, `registry pypi: want an http or https URL`},
	} {
		if _, err := pkgguard.New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error containing %q", tc.cfg, err, tc.want)
		}
	}
}

func TestCheckCachesPerSession(t *testing.T) {
	r := fake(t)
	c := checker(t, pkgguard.Config{Registries: r.URLs()})
	missing := pkgguard.Package{Registry: pkgguard.PyPI, Name: "reqeusts"}
	c.Check(context.Background(), []pkgguard.Package{requests, missing, requests})
	n := len(r.Requests())
	if n != 2 {
		t.Errorf("%d requests for two packages: %q", n, r.Requests())
	}
	// PyPI names are one under PEP 503's normalisation.
	fs := c.Check(context.Background(), []pkgguard.Package{{Registry: pkgguard.PyPI, Name: "Requests"}, missing})
	if len(fs) != 1 || len(r.Requests()) != n {
		t.Errorf("second check: findings %+v, %d requests, want the cached answers", fs, len(r.Requests())-n)
	}
	// A question the cache cannot answer is asked.
	aged := checker(t, pkgguard.Config{Registries: r.URLs(), MinAgeDays: 1})
	aged.Check(context.Background(), []pkgguard.Package{requests})
	aged.Check(context.Background(), []pkgguard.Package{requests})
	if got := len(r.Requests()) - n; got != 1 {
		t.Errorf("%d requests for one package checked twice, want 1", got)
	}
}

func TestCheckCachesOnDisk(t *testing.T) {
	r := fake(t)
	dir := t.TempDir()
	missing := pkgguard.Package{Registry: pkgguard.PyPI, Name: "reqeusts"}
	clock := now
	session := func() *pkgguard.Checker {
		return checker(t, pkgguard.Config{Registries: r.URLs()}, pkgguard.WithCacheDir(dir, 24*time.Hour),
			pkgguard.WithClock(func() time.Time { return clock }))
	}
	session().Check(context.Background(), []pkgguard.Package{requests, missing})
	if n := len(r.Requests()); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
	fs := session().Check(context.Background(), []pkgguard.Package{requests, missing})
	if len(fs) != 1 || fs[0].Verdict != policy.Deny || len(r.Requests()) != 2 {
		t.Errorf("next session: findings %+v, %d requests, want the answers from disk", fs, len(r.Requests()))
	}
	// A package found missing is asked about again after an hour, one
	// found after the TTL.
	clock = now.Add(2 * time.Hour)
	session().Check(context.Background(), []pkgguard.Package{requests, missing})
	if got := r.Requests()[2:]; len(got) != 1 || got[0] != "/pypi/reqeusts/json" {
		t.Errorf("two hours later: requests %q, want the missing package's only", got)
	}
	clock = now.Add(25 * time.Hour)
	session().Check(context.Background(), []pkgguard.Package{requests})
	if got := r.Requests()[3:]; len(got) != 1 {
		t.Errorf("a day later: requests %q, want one", got)
	}
}

// Look-ups run concurrently, never more at once than the bound.
func TestCheckConcurrencyBound(t *testing.T) {
	var mu sync.Mutex
	inFlight, most := 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		w.Write([]byte("{}"))
		mu.Lock()
		inFlight--
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	c := checker(t, pkgguard.Config{Registries: map[pkgguard.Registry]string{pkgguard.Crates: srv.URL}}, pkgguard.WithConcurrency(2))
	var pkgs []pkgguard.Package
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		pkgs = append(pkgs, pkgguard.Package{Registry: pkgguard.Crates, Name: n})
	}
	if fs := c.Check(context.Background(), pkgs); len(fs) != 0 {
		t.Errorf("findings %+v", fs)
	}
	if most > 2 {
		t.Errorf("%d look-ups at once, want at most 2", most)
	}
}
