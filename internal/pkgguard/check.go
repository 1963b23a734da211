package pkgguard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/lathe-dev/lathe/internal/policy"
)

// Config is the guard's policy, as the [package_guard] table of
// config.toml sets it.
type Config struct {
	// Registries overrides the base URLs of DefaultURLs, by registry:
	// a mirror, a company's proxy, a fake in tests.
	Registries map[Registry]string
	// Allow lists the packages trusted as they are: REGISTRY:PATTERN or
	// PATTERN for every registry, PATTERN a glob (** for any path),
	// such as "pypi:requests", "npm:@types/**", "go:golang.org/x/**".
	// They are exempt from MinAgeDays and MinDownloads, and must still
	// exist.
	Allow []string
	// RequireAllowlist denies every package Allow does not list.
	RequireAllowlist bool
	// MinAgeDays asks before installing a package first published fewer
	// than this many days ago, where the registry says when (all but
	// npm's abbreviated document, which the guard then does not use).
	MinAgeDays int
	// MinDownloads asks before installing a package with fewer
	// downloads, where the registry counts them: npm the last week's,
	// crates.io and RubyGems all time's. PyPI and the Go module proxy
	// count none, and this does not apply to them.
	MinDownloads int64
	// Timeout bounds each look-up; 0 means DefaultTimeout.
	Timeout time.Duration
	// Sources names the file that set each key of the settings that
	// decide ("enabled", "allow", "require_allowlist", "min_age_days",
	// "min_downloads"), so that a decision names the file of the setting
	// that made it; a key not in it is at its default.
	Sources map[string]string
}

// DefaultTimeout bounds a look-up when Config.Timeout is 0.
const DefaultTimeout = 10 * time.Second

// Checker looks packages up in their registries and checks them
// against the Config.
//
// Concurrency: Check may be called concurrently. Its answers are cached
// for the Checker's life (a session), and on disk with WithCacheDir;
// failed look-ups are not cached, so the next check asks again.
type Checker struct {
	cfg    Config
	urls   map[Registry]string
	allow  []allowEntry
	client *http.Client
	now    func() time.Time
	limit  int
	disk   *diskCache

	mu    sync.Mutex
	cache map[cacheKey]facts
}

type cacheKey struct {
	reg  Registry
	name string
}

// Option configures a Checker.
type Option func(*Checker)

// WithHTTPClient makes the Checker use client rather than a default
// one. Its own timeout, if any, applies on top of Config.Timeout.
func WithHTTPClient(client *http.Client) Option { return func(c *Checker) { c.client = client } }

// WithClock makes the Checker take the time from now, for ages.
func WithClock(now func() time.Time) Option { return func(c *Checker) { c.now = now } }

// WithConcurrency bounds the look-ups one Check runs at once; the
// default is 4.
func WithConcurrency(n int) Option { return func(c *Checker) { c.limit = max(n, 1) } }

// WithCacheDir keeps the answers in dir too, for ttl, so that later
// sessions need not ask again; a package found missing is remembered
// for an hour at most, as it may be published any moment.
func WithCacheDir(dir string, ttl time.Duration) Option {
	return func(c *Checker) { c.disk = &diskCache{dir: dir, ttl: ttl} }
}

// New returns a Checker for cfg, or an error naming an allowlist entry
// or a registry URL that is not valid.
func New(cfg Config, opts ...Option) (*Checker, error) {
	c := &Checker{cfg: cfg, urls: map[Registry]string{}, now: time.Now, limit: 4, cache: map[cacheKey]facts{}}
	for reg, u := range DefaultURLs {
		c.urls[reg] = u
	}
	var errs []error
	for reg, u := range cfg.Registries {
		if _, ok := DefaultURLs[reg]; !ok {
			errs = append(errs, fmt.Errorf("unknown registry %q (want one of %s)", string(reg), registryNames()))
			continue
		}
		if err := CheckURL(u); err != nil {
			errs = append(errs, fmt.Errorf("registry %s: %w", string(reg), err))
			continue
		}
		c.urls[reg] = u
	}
	for _, s := range cfg.Allow {
		e, err := ParseAllow(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.allow = append(c.allow, e)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, o := range opts {
		o(c)
	}
	if c.client == nil {
		c.client = &http.Client{}
	}
	return c, nil
}

// CheckURL checks a registry base URL: absolute, http or https.
func CheckURL(u string) error {
	p, err := url.Parse(u)
	if err != nil {
		return err
	}
	if p.Scheme != "http" && p.Scheme != "https" || p.Host == "" {
		return fmt.Errorf("want an http or https URL, not %q", u)
	}
	return nil
}

func registryNames() string {
	names := make([]string, len(Registries))
	for i, r := range Registries {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// allowEntry is a parsed Config.Allow entry.
type allowEntry struct {
	reg     Registry // "" for every registry
	pattern string
}

// ParseAllow parses an allowlist entry, REGISTRY:PATTERN or PATTERN.
func ParseAllow(s string) (allowEntry, error) {
	e := allowEntry{pattern: s}
	if reg, pat, ok := strings.Cut(s, ":"); ok {
		e.reg, e.pattern = Registry(reg), pat
		if _, known := DefaultURLs[e.reg]; !known || e.reg == NpmDownloads {
			return e, fmt.Errorf("allow entry %q: unknown registry %q (want pypi, npm, go, crates or rubygems)", s, reg)
		}
	}
	if e.pattern == "" || !doublestar.ValidatePattern(e.pattern) {
		return e, fmt.Errorf("allow entry %q: not a valid name or pattern", s)
	}
	if e.reg == PyPI {
		e.pattern = pypiNormal(e.pattern)
	}
	return e, nil
}

func (c *Checker) allowed(p Package) bool {
	for _, e := range c.allow {
		if e.reg != "" && e.reg != p.Registry {
			continue
		}
		name, pat := p.Name, e.pattern
		if p.Registry == PyPI {
			name, pat = pypiNormal(name), pypiNormal(pat)
		}
		if ok, _ := doublestar.Match(pat, name); ok {
			return true
		}
	}
	return false
}

// Finding is a package that may not be installed without more ado, and
// why.
type Finding struct {
	Package Package
	// Verdict is Ask or Deny.
	Verdict policy.Verdict
	Reason  string
	// Rule names the setting that decided, as config.toml spells it.
	Rule string
}

// Check checks each package and returns the findings about those that
// may not simply be installed, in the order of pkgs; none means every
// package passed. It returns when every look-up has, or when ctx is
// done, which makes the rest unreachable.
func (c *Checker) Check(ctx context.Context, pkgs []Package) []Finding {
	results := make([]*Finding, len(pkgs))
	sem := make(chan struct{}, c.limit)
	var wg sync.WaitGroup
	seen := map[cacheKey]bool{}
	for i, p := range pkgs {
		k := c.key(p)
		if seen[k] {
			continue
		}
		seen[k] = true
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
				results[i] = c.check(ctx, p)
			case <-ctx.Done():
				results[i] = c.failed(p, "", ctx.Err())
			}
		})
	}
	wg.Wait()
	var out []Finding
	for _, f := range results {
		if f != nil {
			out = append(out, *f)
		}
	}
	return out
}

func (c *Checker) key(p Package) cacheKey {
	name := p.Name
	if p.Registry == PyPI {
		name = pypiNormal(name)
	}
	return cacheKey{p.Registry, name}
}

// check checks one package; nil means it passed.
func (c *Checker) check(ctx context.Context, p Package) *Finding {
	trusted := c.allowed(p)
	if c.cfg.RequireAllowlist && !trusted {
		return &Finding{Package: p, Verdict: policy.Deny, Rule: "package_guard.require_allowlist",
			Reason: fmt.Sprintf("%s is not in package_guard.allow, and package_guard.require_allowlist is set", describe(p))}
	}
	n := need{age: c.cfg.MinAgeDays > 0 && !trusted, downloads: c.cfg.MinDownloads > 0 && !trusted}
	f, err := c.facts(ctx, p, n)
	if err != nil {
		return c.failed(p, f.URL, err)
	}
	if !f.Exists {
		why := fmt.Sprintf("%s returned %d", f.URL, f.Missing)
		if f.Invalid != "" {
			why = f.Invalid
		}
		return &Finding{Package: p, Verdict: policy.Deny, Rule: "package_guard.enabled",
			Reason: fmt.Sprintf("%s does not exist on %s (%s); check the name", describe(p), p.Registry, why)}
	}
	if n.age && !f.Created.IsZero() {
		if age := c.now().Sub(f.Created); age < time.Duration(c.cfg.MinAgeDays)*24*time.Hour {
			return &Finding{Package: p, Verdict: policy.Ask, Rule: "package_guard.min_age_days",
				Reason: fmt.Sprintf("%s was first published on %s, %s ago, less than package_guard.min_age_days = %d",
					describe(p), f.Created.UTC().Format(time.DateOnly), days(age), c.cfg.MinAgeDays)}
		}
	}
	if n.downloads && f.HaveDownloads && f.Downloads < c.cfg.MinDownloads {
		return &Finding{Package: p, Verdict: policy.Ask, Rule: "package_guard.min_downloads",
			Reason: fmt.Sprintf("%s has %d downloads %s, fewer than package_guard.min_downloads = %d",
				describe(p), f.Downloads, f.DownloadsOver, c.cfg.MinDownloads)}
	}
	return nil
}

// failed is the finding for a package whose registry did not answer.
func (c *Checker) failed(p Package, u string, err error) *Finding {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // it names the URL, which is said once below
	}
	what := err.Error()
	if errors.Is(err, context.DeadlineExceeded) {
		what = fmt.Sprintf("no answer within %s", cmp.Or(c.cfg.Timeout, DefaultTimeout))
	}
	var se *statusError
	if u != "" && !errors.As(err, &se) {
		what = "GET " + u + ": " + what
	}
	return &Finding{Package: p, Verdict: policy.Ask, Rule: "package_guard.enabled",
		Reason: fmt.Sprintf("could not check %s (%s)", describe(p), what)}
}

// facts looks p up, or takes what an earlier look-up found.
func (c *Checker) facts(ctx context.Context, p Package, n need) (facts, error) {
	k := c.key(p)
	c.mu.Lock()
	f, ok := c.cache[k]
	c.mu.Unlock()
	if ok && answers(f, n) {
		return f, nil
	}
	base := c.urls[p.Registry]
	if p.Registry == Npm && n.downloads {
		base += " " + c.urls[NpmDownloads]
	}
	if f, ok := c.disk.get(k, base, c.now()); ok && answers(f, n) {
		c.remember(k, f)
		return f, nil
	}
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(c.cfg.Timeout, DefaultTimeout))
	defer cancel()
	f, err := c.lookup(ctx, p.Registry, p.Name, n)
	if err != nil {
		return f, err
	}
	c.remember(k, f)
	c.disk.put(k, base, f, c.now())
	return f, nil
}

func (c *Checker) remember(k cacheKey, f facts) {
	c.mu.Lock()
	c.cache[k] = f
	c.mu.Unlock()
}

// answers reports whether f, found earlier, answers the questions n.
func answers(f facts, n need) bool {
	return !f.Exists || (f.AskedAge || !n.age) && (f.AskedDownloads || !n.downloads)
}

// describe names a package the way its registry's users do.
func describe(p Package) string {
	noun := "package"
	switch p.Registry {
	case Go:
		noun = "module"
	case Crates:
		noun = "crate"
	case RubyGems:
		noun = "gem"
	}
	return fmt.Sprintf("%s %q", noun, p.Name)
}

func days(d time.Duration) string {
	n := int(d.Hours() / 24)
	if n == 1 {
		return "1 day"
	}
	if n < 1 {
		return "less than a day"
	}
	return fmt.Sprintf("%d days", n)
}

// source is the Decision.Source of a decision that rule, a
// "package_guard.KEY" setting, made: the file that set KEY, or [Source]
// for a default.
func (c *Checker) source(rule string) string {
	if f := c.cfg.Sources[strings.TrimPrefix(rule, "package_guard.")]; f != "" {
		return f
	}
	return Source
}
