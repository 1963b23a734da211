package pkgguard

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// facts is what a look-up learnt about a package.
type facts struct {
	// URL is the address that answered, or the first asked when none
	// did, for messages.
	URL    string
	Exists bool
	// Missing is the status with which the registry said there is no
	// such package (404, or the Go proxy's 410); 0 when it exists.
	Missing int
	// Invalid says why the name cannot be a package's at all, when it
	// cannot (a malformed module path); nothing was asked.
	Invalid string
	// Created is when the package was first published; zero when the
	// registry does not say or it was not asked.
	Created time.Time
	// Downloads counts downloads over DownloadsOver ("last week", "in
	// all"); HaveDownloads is false when the registry does not say or
	// it was not asked.
	Downloads     int64
	DownloadsOver string
	HaveDownloads bool
	// AskedAge and AskedDownloads record what was asked, so that a
	// cached answer is reused only for questions it answers.
	AskedAge, AskedDownloads bool
}

// need is what a look-up must find out beyond existence.
type need struct{ age, downloads bool }

// statusError is an answer from a registry that says nothing about the
// package: a server error, a rate limit, a refusal.
type statusError struct {
	url    string
	status string
}

func (e *statusError) Error() string { return fmt.Sprintf("%s returned %s", e.url, e.status) }

// notFound reports whether a registry's status means there is no such
// package; the Go module proxy answers 410 Gone for modules it cannot
// fetch from their origin.
func notFound(reg Registry, code int) bool {
	return code == http.StatusNotFound || reg == Go && code == http.StatusGone
}

// maxBody bounds a registry document. The full npm document of a
// package with thousands of versions runs to tens of megabytes; it is
// read only when the age is asked, and streamed.
const maxBody = 128 << 20

// get fetches u. For a status that means no such package it returns
// that status and no error; for any other failure, an error; otherwise
// 200, having decoded the JSON body into v, unless v is nil.
func (c *Checker) get(ctx context.Context, reg Registry, u, accept string, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", accept)
	// crates.io refuses requests without a User-Agent.
	req.Header.Set("User-Agent", "lathe-package-guard (https://github.com/lathe-dev/lathe)")
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	switch {
	case notFound(reg, resp.StatusCode):
		return resp.StatusCode, nil
	case resp.StatusCode != http.StatusOK:
		return 0, &statusError{url: u, status: resp.Status}
	case v == nil:
		return http.StatusOK, nil
	}
	body := io.LimitReader(resp.Body, maxBody+1)
	if err := json.NewDecoder(body).Decode(v); err != nil {
		return 0, fmt.Errorf("read %s: %w", u, err)
	}
	return http.StatusOK, nil
}

// exists records in f what a get's status says of the package.
func (f *facts) exists(code int, err error) error {
	f.Exists = err == nil && code == http.StatusOK
	if err == nil && !f.Exists {
		f.Missing = code
	}
	return err
}

// lookup asks reg about the package name: whether it exists and, as n
// says, its age and downloads.
func (c *Checker) lookup(ctx context.Context, reg Registry, name string, n need) (facts, error) {
	base := strings.TrimSuffix(c.urls[reg], "/")
	f := facts{AskedAge: n.age, AskedDownloads: n.downloads}
	var err error
	switch reg {
	case PyPI:
		err = c.pypi(ctx, base, name, n, &f)
	case Npm:
		err = c.npm(ctx, base, name, n, &f)
	case Go:
		err = c.goProxy(ctx, base, name, n, &f)
	case Crates:
		err = c.crates(ctx, base, name, n, &f)
	case RubyGems:
		err = c.rubygems(ctx, base, name, n, &f)
	default:
		err = fmt.Errorf("unknown registry %q", reg)
	}
	return f, err
}

// pypiSeparators and pypiNormal are PEP 503's normalisation, under which PyPI names are
// one: Django, django and DJANGO; zope.interface and zope-interface.
var pypiSeparators = regexp.MustCompile(`[-_.]+`)

func pypiNormal(name string) string {
	return pypiSeparators.ReplaceAllString(strings.ToLower(name), "-")
}

// pypi uses the JSON API, /pypi/NAME/json. A project's first upload is
// the oldest of its releases' files; PyPI publishes no download counts.
func (c *Checker) pypi(ctx context.Context, base, name string, n need, f *facts) error {
	f.URL = base + "/" + url.PathEscape(pypiNormal(name)) + "/json"
	var err error
	if !n.age {
		err = f.exists(c.get(ctx, PyPI, f.URL, "application/json", nil))
		return err
	}
	var doc struct {
		Releases map[string][]struct {
			UploadTime time.Time `json:"upload_time_iso_8601"`
		} `json:"releases"`
	}
	if err = f.exists(c.get(ctx, PyPI, f.URL, "application/json", &doc)); err != nil || !f.Exists {
		return err
	}
	for _, files := range doc.Releases {
		for _, file := range files {
			f.Created = earliest(f.Created, file.UploadTime)
		}
	}
	return nil
}

// npm uses the registry's package document, /NAME: the abbreviated one
// for existence, the full one, which has the time of creation, for the
// age; downloads come from the downloads API's last week.
func (c *Checker) npm(ctx context.Context, base, name string, n need, f *facts) error {
	f.URL = base + "/" + url.PathEscape(name)
	var err error
	if n.age {
		var doc struct {
			Time map[string]string `json:"time"`
		}
		if err = f.exists(c.get(ctx, Npm, f.URL, "application/json", &doc)); err != nil || !f.Exists {
			return err
		}
		if t, err := time.Parse(time.RFC3339, doc.Time["created"]); err == nil {
			f.Created = t
		}
	} else if err = f.exists(c.get(ctx, Npm, f.URL, "application/vnd.npm.install-v1+json", nil)); err != nil || !f.Exists {
		return err
	}
	if !n.downloads {
		return nil
	}
	var dl struct {
		Downloads int64 `json:"downloads"`
	}
	// A package too new to be counted yet has no entry: no downloads.
	u := strings.TrimSuffix(c.urls[NpmDownloads], "/") + "/point/last-week/" + name
	if _, err := c.get(ctx, Npm, u, "application/json", &dl); err != nil {
		return err
	}
	f.Downloads, f.DownloadsOver, f.HaveDownloads = dl.Downloads, "last week", true
	return nil
}

// goProxy asks the module proxy for NAME/@latest. The name may be a
// package inside a module, so each path prefix is tried, longest first,
// as the go command does. The age is that of the module's oldest
// tagged version, or of its latest pseudo-version when it has none; the
// proxy counts no downloads.
func (c *Checker) goProxy(ctx context.Context, base, name string, n need, f *facts) error {
	var mod string
	for p := name; p != "." && p != "/" && p != ""; p = parent(p) {
		esc, err := module.EscapePath(p)
		if err != nil {
			if p == name {
				// No module has this path; nothing to ask.
				f.URL, f.Invalid = base+"/"+name+"/@latest", err.Error()
				return nil
			}
			break
		}
		u := base + "/" + esc + "/@latest"
		if f.URL == "" {
			f.URL = u
		}
		var latest struct{ Time time.Time }
		code, err := c.get(ctx, Go, u, "application/json", &latest)
		if err != nil {
			return err
		}
		if code == http.StatusOK {
			f.URL, f.Exists, f.Missing, f.Created, mod = u, true, 0, latest.Time, esc
			break
		}
		if f.Missing == 0 {
			f.Missing = code // the path's own answer, which the message names
		}
	}
	if !f.Exists || !n.age {
		return nil
	}
	oldest, err := c.oldestGoVersion(ctx, base+"/"+mod)
	if err != nil || oldest == "" {
		return err
	}
	var info struct{ Time time.Time }
	if _, err := c.get(ctx, Go, base+"/"+mod+"/@v/"+oldest+".info", "application/json", &info); err != nil {
		return err
	}
	f.Created = earliest(f.Created, info.Time)
	return nil
}

func parent(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	return p[:i]
}

// oldestGoVersion returns the lowest tagged version in the module's
// /@v/list, escaped for a URL, or "" when it has none.
func (c *Checker) oldestGoVersion(ctx context.Context, modURL string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, modURL+"/@v/list", nil)
	if err != nil {
		return "", err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", &statusError{url: req.URL.String(), status: resp.Status}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return "", err
	}
	var vs []string
	for _, v := range strings.Fields(string(b)) {
		if semver.IsValid(v) {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return "", nil
	}
	semver.Sort(vs)
	return module.EscapeVersion(vs[0])
}

// crates uses /api/v1/crates/NAME, whose crate has created_at and the
// all-time downloads.
func (c *Checker) crates(ctx context.Context, base, name string, n need, f *facts) error {
	f.URL = base + "/" + url.PathEscape(name)
	var doc struct {
		Crate struct {
			CreatedAt time.Time `json:"created_at"`
			Downloads int64     `json:"downloads"`
		} `json:"crate"`
	}
	var err error
	if err = f.exists(c.get(ctx, Crates, f.URL, "application/json", &doc)); err != nil || !f.Exists {
		return err
	}
	f.Created = doc.Crate.CreatedAt
	f.Downloads, f.DownloadsOver, f.HaveDownloads = doc.Crate.Downloads, "in all", true
	return nil
}

// rubygems uses /api/v1/gems/NAME.json, with the all-time downloads,
// and for the age /api/v1/versions/NAME.json, the oldest version's
// created_at.
func (c *Checker) rubygems(ctx context.Context, base, name string, n need, f *facts) error {
	f.URL = base + "/gems/" + url.PathEscape(name) + ".json"
	var doc struct {
		Downloads int64 `json:"downloads"`
	}
	var err error
	if err = f.exists(c.get(ctx, RubyGems, f.URL, "application/json", &doc)); err != nil || !f.Exists {
		return err
	}
	f.Downloads, f.DownloadsOver, f.HaveDownloads = doc.Downloads, "in all", true
	if !n.age {
		return nil
	}
	var versions []struct {
		CreatedAt time.Time `json:"created_at"`
	}
	u := base + "/versions/" + url.PathEscape(name) + ".json"
	code, err := c.get(ctx, RubyGems, u, "application/json", &versions)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return &statusError{url: u, status: "404 Not Found for a gem that exists"}
	}
	for _, v := range versions {
		f.Created = earliest(f.Created, v.CreatedAt)
	}
	return nil
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}
