package fakeapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
)

// Cmds returns the testscript command fakeapi:
//
//	fakeapi start SCRIPT.json  start a server for this script run and point
//	                           the API environment variables at it
//	fakeapi check              fail if any expectation failed or steps remain
//	fakeapi request N FILE     write the raw body of request N (1-based)
//	fakeapi messages N FILE    write request N's conversation (Anthropic and
//	                           Chat messages, Responses input) as indented
//	                           JSON without cache_control, for a golden file
//	fakeapi count N            assert exactly N requests were received
//
// start sets FAKEAPI_URL, ANTHROPIC_BASE_URL, OPENAI_BASE_URL (with /v1),
// ANTHROPIC_API_KEY and OPENAI_API_KEY, and closes the server when the
// script ends. check and count may be negated with !.
func Cmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	var (
		mu      sync.Mutex
		servers = map[*testscript.TestScript]*Server{}
	)
	server := func(ts *testscript.TestScript) *Server {
		mu.Lock()
		defer mu.Unlock()
		s := servers[ts]
		if s == nil {
			ts.Fatalf("fakeapi: no server; run fakeapi start first")
		}
		return s
	}
	start := func(ts *testscript.TestScript, args []string) {
		if len(args) != 1 {
			ts.Fatalf("usage: fakeapi start SCRIPT.json")
		}
		script, err := LoadScript(ts.MkAbs(args[0]))
		ts.Check(err)
		mu.Lock()
		defer mu.Unlock()
		if servers[ts] != nil {
			ts.Fatalf("fakeapi: server already started")
		}
		s := NewServer(script)
		servers[ts] = s
		ts.Defer(func() {
			s.Close()
			mu.Lock()
			delete(servers, ts)
			mu.Unlock()
		})
		ts.Setenv("FAKEAPI_URL", s.URL())
		ts.Setenv("ANTHROPIC_BASE_URL", s.URL())
		ts.Setenv("OPENAI_BASE_URL", s.URL()+"/v1")
		ts.Setenv("ANTHROPIC_API_KEY", "sk-ant-test")
		ts.Setenv("OPENAI_API_KEY", "sk-test")
	}
	check := func(ts *testscript.TestScript, neg bool) {
		s := server(ts)
		failures := s.Failures()
		switch {
		case neg && len(failures) == 0:
			ts.Fatalf("fakeapi: expected failures, found none (%d requests)", len(s.Requests()))
		case neg:
			ts.Logf("fakeapi: %d failures, as expected:\n%s", len(failures), strings.Join(failures, "\n"))
		case len(failures) > 0:
			ts.Fatalf("fakeapi: %d failures:\n%s", len(failures), strings.Join(failures, "\n"))
		}
	}
	request := func(ts *testscript.TestScript, args []string) {
		if len(args) != 2 {
			ts.Fatalf("usage: fakeapi request N FILE")
		}
		reqs := server(ts).Requests()
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 1 || n > len(reqs) {
			ts.Fatalf("fakeapi: request %q: have requests 1-%d", args[0], len(reqs))
		}
		ts.Check(os.WriteFile(ts.MkAbs(args[1]), reqs[n-1].Body, 0o666))
	}
	messages := func(ts *testscript.TestScript, args []string) {
		if len(args) != 2 {
			ts.Fatalf("usage: fakeapi messages N FILE")
		}
		reqs := server(ts).Requests()
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 1 || n > len(reqs) {
			ts.Fatalf("fakeapi: messages %q: have requests 1-%d", args[0], len(reqs))
		}
		out, err := conversationJSON(reqs[n-1].Body)
		ts.Check(err)
		ts.Check(os.WriteFile(ts.MkAbs(args[1]), out, 0o666))
	}
	count := func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 1 {
			ts.Fatalf("usage: fakeapi count N")
		}
		want, err := strconv.Atoi(args[0])
		if err != nil {
			ts.Fatalf("fakeapi: count %q: %v", args[0], err)
		}
		got := len(server(ts).Requests())
		if (got == want) == neg {
			if neg {
				ts.Fatalf("fakeapi: received %d requests, expected another number", got)
			}
			ts.Fatalf("fakeapi: received %d requests, want %d", got, want)
		}
	}

	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"fakeapi": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) == 0 {
				ts.Fatalf("usage: fakeapi start|check|request|messages|count ...")
			}
			sub, rest := args[0], args[1:]
			if neg && sub != "check" && sub != "count" {
				ts.Fatalf("fakeapi %s does not support negation", sub)
			}
			switch sub {
			case "start":
				start(ts, rest)
			case "check":
				if len(rest) != 0 {
					ts.Fatalf("usage: fakeapi check")
				}
				check(ts, neg)
			case "request":
				request(ts, rest)
			case "messages":
				messages(ts, rest)
			case "count":
				count(ts, neg, rest)
			default:
				ts.Fatalf("fakeapi: unknown subcommand %q (want start, check, request, messages or count)", sub)
			}
		},
	}
}

// conversationJSON is the conversation of a request body, indented, with
// the prompt-cache markers removed, which move from request to request.
func conversationJSON(body []byte) ([]byte, error) {
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("fakeapi: request body: %w", err)
	}
	conv, ok := req["messages"]
	if !ok {
		conv = req["input"]
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(stripCacheControl(conv)); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
