// Package pkgguardtest serves fake package registries on loopback for
// the package guard's tests: a directory of files laid out as the
// registries' URLs, which can hold trimmed copies of real answers.
package pkgguardtest

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/lathe-dev/lathe/internal/pkgguard"
)

// Prefixes are the directories of a registry tree, by registry: a file
// pypi/requests/json answers PyPI's /pypi/requests/json, a file
// go/golang.org/x/net/@latest the proxy's /golang.org/x/net/@latest.
var Prefixes = map[pkgguard.Registry]string{
	pkgguard.PyPI:         "pypi",
	pkgguard.Npm:          "npm",
	pkgguard.NpmDownloads: "npm-downloads",
	pkgguard.Go:           "go",
	pkgguard.Crates:       "crates",
	pkgguard.RubyGems:     "rubygems",
}

// Registry is a fake registry serving a tree of files.
//
// Concurrency: its methods may be called from any goroutine, while it
// serves.
type Registry struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []string
}

// Serve starts a Registry serving tree on a loopback port. Every GET of
// a path that is a file in tree is answered 200 with the file as JSON;
// of a path P for which tree has a file P.status, with the status code
// it holds; any other, 404, as registries answer for a package they do
// not have.
func Serve(tree fs.FS) *Registry {
	r := &Registry{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.reqs = append(r.reqs, req.URL.Path)
		r.mu.Unlock()
		name := strings.TrimPrefix(path.Clean(req.URL.Path), "/")
		if code, err := fs.ReadFile(tree, name+".status"); err == nil {
			n, err := strconv.Atoi(strings.TrimSpace(string(code)))
			if err != nil {
				n = http.StatusInternalServerError
			}
			w.WriteHeader(n)
			return
		}
		b, err := fs.ReadFile(tree, name)
		if err != nil || req.Method != http.MethodGet {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintln(w, `{"message": "Not Found"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}))
	return r
}

// URLs are the base URLs of the registries r serves, for
// pkgguard.Config.Registries.
func (r *Registry) URLs() map[pkgguard.Registry]string {
	m := map[pkgguard.Registry]string{}
	for reg, p := range Prefixes {
		m[reg] = r.srv.URL + "/" + p
	}
	return m
}

// Requests lists the paths asked for so far, in order.
func (r *Registry) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

// Close stops serving.
func (r *Registry) Close() { r.srv.Close() }

// Cmds returns the testscript command fakeregistry:
//
//	fakeregistry start DIR CONFIG  serve the tree DIR and append a
//	                               [package_guard.registries] table
//	                               pointing every registry at it to
//	                               the config.toml CONFIG
//	fakeregistry count N           assert exactly N requests were made
//
// The registry stops when the script ends.
func Cmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	var (
		mu   sync.Mutex
		regs = map[*testscript.TestScript]*Registry{}
	)
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"fakeregistry": func(ts *testscript.TestScript, neg bool, args []string) {
			if neg {
				ts.Fatalf("fakeregistry does not support negation")
			}
			switch {
			case len(args) == 3 && args[0] == "start":
				r := Serve(os.DirFS(ts.MkAbs(args[1])))
				mu.Lock()
				regs[ts] = r
				mu.Unlock()
				ts.Defer(func() {
					r.Close()
					mu.Lock()
					delete(regs, ts)
					mu.Unlock()
				})
				var b strings.Builder
				b.WriteString("\n[package_guard.registries]\n")
				for _, reg := range pkgguard.Registries {
					fmt.Fprintf(&b, "%s = %q\n", string(reg), r.URLs()[reg])
				}
				f, err := os.OpenFile(ts.MkAbs(args[2]), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
				ts.Check(err)
				_, err = f.WriteString(b.String())
				ts.Check(err)
				ts.Check(f.Close())
			case len(args) == 2 && args[0] == "count":
				mu.Lock()
				r := regs[ts]
				mu.Unlock()
				if r == nil {
					ts.Fatalf("fakeregistry: no registry; run fakeregistry start first")
				}
				if got := len(r.Requests()); fmt.Sprint(got) != args[1] {
					ts.Fatalf("fakeregistry: %d requests (%s), want %s", got, strings.Join(r.Requests(), " "), args[1])
				}
			default:
				ts.Fatalf("usage: fakeregistry start DIR CONFIG | fakeregistry count N")
			}
		},
	}
}
