package tool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	htmltomarkdown "github.com/JohannesKaufmann/html-to-markdown/v2"
	"github.com/JohannesKaufmann/html-to-markdown/v2/converter"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/netproxy"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/textfile"
)

const (
	// fetchMaxURL is the longest URL WebFetch takes, Claude Code's limit.
	fetchMaxURL = 2000
	// fetchMaxBody bounds what one fetch downloads, and fetchMaxText
	// what it shows the model (about 25k tokens, as Claude Code does);
	// past either the content is cut with a marker saying so.
	fetchMaxBody = 10 << 20
	fetchMaxText = 100_000
	// fetchTimeout bounds a whole fetch, redirects included.
	fetchTimeout = 60 * time.Second
	// fetchMaxRedirects bounds the redirects followed within a host.
	fetchMaxRedirects = 10
)

type webFetch struct {
	name string
	// promptRequired is Claude Code's schema, which requires the prompt;
	// Codex models are offered it as optional.
	promptRequired bool
}

// NewWebFetch returns Claude Code's WebFetch tool: the content of a URL,
// HTML as Markdown.
func NewWebFetch() Tool { return webFetch{name: "WebFetch", promptRequired: true} }

// NewCodexWebFetch returns the same tool for the Codex dialect, as
// web_fetch with an optional prompt.
func NewCodexWebFetch() Tool { return webFetch{name: "web_fetch"} }

func (t webFetch) Def() llm.ToolDef {
	required := `["url", "prompt"]`
	if !t.promptRequired {
		required = `["url"]`
	}
	return llm.ToolDef{
		Name:        t.name,
		Description: describe(t.name),
		Schema: json.RawMessage(`{
			"type": "object",
			"properties": {
				"url": {"type": "string", "format": "uri", "description": "The URL to fetch content from"},
				"prompt": {"type": "string", "description": "The prompt to run on the fetched content"}
			},
			"required": ` + required + `,
			"additionalProperties": false
		}`),
	}
}

func (webFetch) ReadOnly() bool { return true }

func (t webFetch) Run(ctx context.Context, env *Env, input json.RawMessage) (Result, error) {
	p, err := t.Prepare(env, input)
	return runPrepared(ctx, p, err)
}

// Prepare decodes a WebFetch call and checks its URL: the policy decides
// on the URL as parsed, and the call fetches exactly it.
func (t webFetch) Prepare(env *Env, input json.RawMessage) (Prepared, error) {
	var args struct {
		URL    string `json:"url"`
		Prompt string `json:"prompt"`
	}
	required := []string{"url"}
	if t.promptRequired {
		required = append(required, "prompt")
	}
	if err := decodeArgs(input, &args, required...); err != nil {
		return Prepared{}, err
	}
	u, err := fetchURL(args.URL)
	if err != nil {
		return Prepared{}, err
	}
	return Prepared{
		Access: policy.Call{Kind: policy.Fetch, Dir: workDir(env), URLs: []string{u.String()}},
		Run: func(ctx context.Context) (Result, error) {
			return fetch(ctx, env, t.name, u, args.Prompt)
		},
	}, nil
}

// fetchURL checks a URL the model asks to fetch: absolute, http or
// https, with a host and no credentials.
func fetchURL(raw string) (*url.URL, error) {
	if len(raw) > fetchMaxURL {
		return nil, fmt.Errorf("url is %d characters long; the limit is %d", len(raw), fetchMaxURL)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("url %q is not a valid URL: %v", raw, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("url %q: only http and https URLs can be fetched", raw)
	case u.Hostname() == "":
		return nil, fmt.Errorf("url %q names no host", raw)
	case u.User != nil:
		return nil, fmt.Errorf("url %q holds a user name or password, which WebFetch does not send", raw)
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// NamedHosts returns what [Env.NamedHost] should be under rules: whether
// an allow rule names host exactly, as WebFetch(domain:HOST) — not by a
// wildcard, which never lets a name reach a private address.
func NamedHosts(rules policy.Rules) func(host string) bool {
	var named []string
	for _, r := range rules.Allow {
		if h, ok := strings.CutPrefix(r.Specifier, "domain:"); ok && r.Tool == "WebFetch" && !strings.HasPrefix(h, "*") {
			named = append(named, h)
		}
	}
	nr, err := netproxy.NewRules(named, nil)
	if err != nil {
		// The policy checked the rules' domains already; a form it
		// takes that the proxy does not names nothing here.
		nr = &netproxy.Rules{}
	}
	return nr.Named
}

// redirectError stops a fetch at a redirect to another host, which the
// policy has not decided on.
type redirectError struct {
	from, to *url.URL
	status   string
}

func (e *redirectError) Error() string { return "redirect to " + e.to.String() }

// fetch gets u and words what came back for the model.
func fetch(ctx context.Context, env *Env, tool string, u *url.URL, prompt string) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	dialer := &netproxy.Dialer{Named: env.NamedHost}
	client := &http.Client{
		Transport: &http.Transport{
			// Never through a proxy of the environment's: the dialer
			// checks the address it reaches, which must be the origin's.
			Proxy:               nil,
			DialContext:         dialer.DialContext,
			TLSHandshakeTimeout: 30 * time.Second,
			DisableKeepAlives:   true,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if !sameSite(via[0].URL, req.URL) {
				return &redirectError{from: via[0].URL, to: req.URL, status: req.Response.Status}
			}
			if len(via) >= fetchMaxRedirects {
				return fmt.Errorf("stopped after %d redirects", len(via))
			}
			return nil
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Errorf("Cannot fetch %s: %v", u, err), nil
	}
	req.Header.Set("User-Agent", "lathe (WebFetch)")
	req.Header.Set("Accept", "text/markdown, text/html, text/plain;q=0.9, */*;q=0.5")
	resp, err := client.Do(req)
	if err != nil {
		return fetchError(ctx, tool, u, prompt, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, fetchMaxBody+1))
	if err != nil {
		if ctx.Err() != nil {
			return fetchError(ctx, tool, u, prompt, err)
		}
		return Errorf("Fetching %s failed while reading the response: %v", u, err), nil
	}
	cut := len(body) > fetchMaxBody
	body = body[:min(len(body), fetchMaxBody)]
	text, kind, err := fetchedText(resp, body)
	if err != nil {
		return Errorf("Cannot show %s: %v", resp.Request.URL, err), nil
	}
	if total := len(text); total > fetchMaxText || cut {
		text = cutLine([]byte(text), total, fetchMaxText, "")
		from := ""
		if cut {
			from = fmt.Sprintf(" of the first %d MiB downloaded", fetchMaxBody>>20)
		}
		text += fmt.Sprintf("\n\n[content truncated: showing %d of %d bytes%s]", len(text), total, from)
	}
	summary := fmt.Sprintf("fetched %s (%s, %s)", resp.Request.URL.Host, resp.Status, kind)
	if resp.StatusCode >= 400 {
		return Result{Content: fmt.Sprintf("%s returned %s.\n\n%s", resp.Request.URL, resp.Status, text), IsError: true, Summary: summary}, nil
	}
	return Result{Content: text, Summary: summary}, nil
}

// fetchError words a failed fetch: a redirect to another host, an
// address the rules do not name, or a network failure. A cancelled ctx
// is the caller's error, so the call reads as interrupted.
func fetchError(ctx context.Context, tool string, u *url.URL, prompt string, err error) (Result, error) {
	var redir *redirectError
	var ref *netproxy.RefusedError
	switch {
	case errors.As(err, &redir):
		// Worded as Claude Code words it, which models know to follow
		// up with a new call, which the policy then decides.
		var b strings.Builder
		fmt.Fprintf(&b, "REDIRECT DETECTED: The URL redirects to a different host.\n\nOriginal URL: %s\nRedirect URL: %s\nStatus: %s\n\n", redir.from, redir.to, redir.status)
		fmt.Fprintf(&b, "To complete your request, I need to fetch content from the redirected URL. Please use %s again with these parameters:\n- url: %q\n", tool, redir.to.String())
		if prompt != "" {
			fmt.Fprintf(&b, "- prompt: %q\n", prompt)
		}
		return Result{Content: b.String(), Summary: "redirected to " + redir.to.Host}, nil
	case errors.As(err, &ref):
		return Errorf("Cannot fetch %s: %s. WebFetch reaches private and loopback addresses only for a host that a WebFetch(domain:%s) allow rule names.", u, ref.Reason, ref.Host), nil
	case ctx.Err() != nil && context.Cause(ctx) == context.DeadlineExceeded:
		return Errorf("Fetching %s timed out after %s.", u, fetchTimeout), nil
	case ctx.Err() != nil:
		return Result{}, context.Cause(ctx)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return Errorf("Cannot fetch %s: %v", u, err), nil
}

// sameSite reports whether a redirect from a to b stays on the site
// decided: the same host, or the same with "www." added or removed, on
// the same port, by the same scheme or from http to https.
func sameSite(a, b *url.URL) bool {
	strip := func(h string) string { return strings.TrimPrefix(strings.ToLower(h), "www.") }
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		return map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	sameScheme := a.Scheme == b.Scheme || a.Scheme == "http" && b.Scheme == "https"
	samePort := port(a) == port(b) || a.Port() == "" && b.Port() == ""
	return b.User == nil && sameScheme && samePort && strip(a.Hostname()) == strip(b.Hostname())
}

// fetchedText is the text a response shows the model: HTML as Markdown,
// other text as it is, in UTF-8; binary content is an error. kind names
// the content for the summary.
func fetchedText(resp *http.Response, body []byte) (text, kind string, err error) {
	ctype := resp.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ctype)
	if mt == "" {
		mt = strings.ToLower(strings.TrimSpace(strings.Split(http.DetectContentType(body), ";")[0]))
	}
	if what, binary := textfile.Binary(body[:min(len(body), textfile.SampleSize)]); binary && !strings.HasPrefix(mt, "text/") {
		return "", "", fmt.Errorf("it is binary content (%s), not text", what)
	}
	decoded, _ := textfile.Decode(body)
	switch mt {
	case "text/html", "application/xhtml+xml":
		md, err := htmltomarkdown.ConvertString(decoded, converter.WithDomain(resp.Request.URL.Scheme+"://"+resp.Request.URL.Host))
		if err != nil {
			return "", "", fmt.Errorf("its HTML does not convert to Markdown: %v", err)
		}
		return md, "HTML as Markdown", nil
	}
	if !strings.HasPrefix(mt, "text/") && !strings.HasSuffix(mt, "json") && !strings.HasSuffix(mt, "xml") && !strings.HasSuffix(mt, "javascript") {
		return "", "", fmt.Errorf("its content type %s is not text", mt)
	}
	return decoded, mt, nil
}
