package fakeapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Request is a request the server received.
type Request struct {
	// API is the protocol the endpoint speaks, "" for an unknown endpoint.
	API    API
	Method string
	Path   string
	Header http.Header
	// Body is the raw request body.
	Body []byte
	// Received is when the request's headers arrived. Answered is when its
	// answer was complete: for a reply, just before its last bytes were
	// written, so it precedes any request the client sends after reading
	// the reply; for an error or a fault, when the handler finished. It is
	// zero until then. Together they measure the client's time between
	// requests.
	Received, Answered time.Time
}

// Server is a running fake API. It answers each request with the next step
// of its script and records what it received; requests are handled one at a
// time in arrival order as far as the script is concerned.
type Server struct {
	script *Script
	srv    *http.Server
	url    string
	// done is closed by Close to end stalls early.
	done      chan struct{}
	serveDone chan struct{}
	closeOnce sync.Once

	mu     sync.Mutex
	closed bool
	active sync.WaitGroup
	// used marks the steps consumed; in a script without matches
	// ([Script.routed]) they are consumed in order.
	used     []bool
	requests []Request
	failures []string
	// main is the conversation the requests continue; in a routed
	// script, each conversation has its own, in threads, by
	// [conversation.threadKey].
	main    thread
	threads map[string]*thread
	// firstKey is the first Responses request's prompt_cache_key.
	firstKey *string
	cache    *promptCache
	// known holds the tool call ids of every completed reply; produced
	// counts the assistant message keys of completed replies.
	known    map[string]bool
	produced map[string]int
	// tokens counts a request body's input tokens; nil is four bytes a
	// token.
	tokens func(body []byte) int
}

// Option configures a [Server].
type Option func(*Server)

// WithTokenCounter makes the server count each request body's input
// tokens with count instead of at four bytes a token, as a benchmark
// needs whose figures are in a real tokenizer's tokens: the usage
// reported, and the declared window a script's limits hold requests to,
// are then in those tokens. The cached parts of a prompt get their share
// of the count by size. The server calls count under its lock, for one
// request at a time.
func WithTokenCounter(count func(body []byte) int) Option {
	return func(s *Server) { s.tokens = count }
}

// thread is what the checks keep of one conversation: the previous
// request per API, for extends_previous, and the calls of the last reply.
type thread struct {
	prev      map[API]*conversation
	lastCalls []madeCall
}

// madeCall is a tool call of a completed reply.
type madeCall struct {
	id, name string
	// loose marks a call whose id was empty or another call's, in this
	// reply or an earlier one: the id the client gave it is learnt from
	// the next request.
	loose bool
}

// NewServer starts a server for s on a loopback port. It panics if it cannot
// listen, like httptest.NewServer; an invalid script is reported by
// [Server.Failures].
func NewServer(s *Script, opts ...Option) *Server {
	srv, err := Listen("127.0.0.1:0", s, opts...)
	if err != nil {
		panic(fmt.Sprintf("fakeapi: %v", err))
	}
	return srv
}

// Listen starts a server for s on addr (host:port; port 0 picks one).
func Listen(addr string, s *Script, opts ...Option) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &Server{
		script:    s,
		url:       "http://" + ln.Addr().String(),
		done:      make(chan struct{}),
		serveDone: make(chan struct{}),
		used:      make([]bool, len(s.Steps)),
		main:      thread{prev: map[API]*conversation{}},
		threads:   map[string]*thread{},
		cache:     newPromptCache(),
		known:     map[string]bool{},
		produced:  map[string]int{},
	}
	for _, o := range opts {
		o(srv)
	}
	if err := s.Validate(); err != nil {
		srv.failures = append(srv.failures, "invalid script: "+err.Error())
	}
	srv.srv = &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(srv.serveDone)
		// Serve only ever returns ErrServerClosed or a listener failure
		// after Close; requests are what tests look at.
		_ = srv.srv.Serve(ln)
	}()
	return srv, nil
}

// URL is the server's base URL, e.g. http://127.0.0.1:43121.
func (s *Server) URL() string { return s.url }

// Close stops the server, ending stalled responses, and waits for every
// handler to return.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.done)
		_ = s.srv.Close() // Its only error is the listener's, already closing.
		s.active.Wait()
		<-s.serveDone
	})
}

// Failures lists every failed expectation so far, then the script steps no
// request has consumed, if any: ask at the end of a test.
func (s *Server) Failures() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.failures)
	var left []int
	for i, used := range s.used {
		if !used {
			left = append(left, i+1)
		}
	}
	if len(left) > 0 {
		steps := fmt.Sprintf("%d-%d", left[0], left[len(left)-1])
		if left[len(left)-1]-left[0] != len(left)-1 {
			words := make([]string, len(left))
			for i, n := range left {
				words[i] = strconv.Itoa(n)
			}
			steps = strings.Join(words, ", ")
		}
		out = append(out, fmt.Sprintf("script steps %s of %d were not consumed (%d requests received)",
			steps, len(s.used), len(s.requests)))
	}
	return out
}

// Requests returns copies of the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Header = r.Header.Clone()
		r.Body = slices.Clone(r.Body)
		out[i] = r
	}
	return out
}

func (s *Server) failf(format string, args ...any) {
	s.failures = append(s.failures, fmt.Sprintf(format, args...))
}

// enter registers a handler, unless the server is closing.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.active.Add(1)
	return true
}

// ServeHTTP answers one request with the next step of the script.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		http.Error(w, "fakeapi: server closed", http.StatusServiceUnavailable)
		return
	}
	defer s.active.Done()
	received := time.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		// The client hung up before sending its request: nobody to answer.
		s.mu.Lock()
		s.failf("request %d: read body: %v", len(s.requests)+1, err)
		s.mu.Unlock()
		return
	}
	x := s.prepare(r, body, received)
	x.serve(w, r, s.done, func() func() { return s.complete(x) })
	s.mu.Lock()
	if req := &s.requests[x.n-1]; req.Answered.IsZero() {
		req.Answered = time.Now()
	}
	s.mu.Unlock()
}

// exchange is the answer chosen for one request.
type exchange struct {
	d dialect
	n int
	// th is the conversation the request continues.
	th *thread
	// err, if set, is sent as an error response.
	err *apiError
	// turn is the reply to stream or send, interrupted by fault if set.
	turn  *turn
	fault *Fault
	// midErr is the error event of a mid-stream error fault.
	midErr *apiError
}

// prepare records the request, runs the checks and picks the answer.
func (s *Server) prepare(r *http.Request, body []byte, received time.Time) *exchange {
	s.mu.Lock()
	defer s.mu.Unlock()
	api := route(r)
	n := len(s.requests) + 1
	s.requests = append(s.requests, Request{API: api, Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body, Received: received})
	if api == "" {
		s.failf("request %d: unknown endpoint %s %s", n, r.Method, r.URL.Path)
		d := guessDialect(r)
		e := notFound(d, r)
		return &exchange{d: d, n: n, err: &e}
	}
	d := dialectOf(api)
	conv, err := parseRequest(api, body)
	if err != nil {
		s.failf("request %d: %v", n, err)
		e := d.statusError(http.StatusBadRequest)
		e.message = "fakeapi: " + err.Error()
		return &exchange{d: d, n: n, err: &e}
	}
	if m := s.script.MaxInputTokens; m > 0 && s.scale(body)(len(body)) > int64(m) {
		s.failf("request %d: %d input tokens (%d bytes), over the script's max_input_tokens of %d", n, s.scale(body)(len(body)), len(body), m)
	}
	if api == APIResponses && s.firstKey == nil {
		s.firstKey = &conv.cacheKey
	}
	th := s.threadOf(conv)
	defer func() { th.prev[api] = conv }()
	step, i := s.standing(conv), -1
	if step == nil {
		i = s.nextStep(conv)
	}
	if step == nil && i < 0 {
		msg := fmt.Sprintf("unexpected request %d: the script has only %d steps", n, len(s.script.Steps))
		if s.script.routed() {
			msg = fmt.Sprintf("unexpected request %d: no step of the script's %d that is left matches it", n, len(s.script.Steps))
		}
		s.failf("%s", msg)
		e := d.statusError(http.StatusInternalServerError)
		e.message = "fakeapi: " + msg
		return &exchange{d: d, n: n, err: &e}
	}
	if step == nil {
		step = &s.script.Steps[i]
		s.used[i] = true
	}
	if step.Expect != nil && step.Expect.NewConversation {
		// A new session owes the previous reply's calls nothing.
		th.lastCalls = nil
	}
	s.checkHistory(n, conv, th)
	s.checkExpect(n, i+1, api, conv, step.Expect, th)
	s.checkNative(n, i+1, api, r.Header, conv, step)

	x := &exchange{d: d, n: n, fault: step.Fault, th: th}
	switch f := step.Fault; {
	case f != nil && f.Status != 0:
		e := d.statusError(f.Status).withOverrides(f)
		x.err = &e
	case f != nil && f.ContextWindow:
		e := d.contextWindow()
		x.err = &e
	default:
		x.turn = s.newTurn(api, n, conv, step.Reply, body)
		if f != nil && f.MidStreamError != "" {
			e := d.namedError(f.MidStreamError).withOverrides(f)
			x.midErr = &e
		}
	}
	return x
}

// nextStep is the index of the step that answers the request conv, or
// -1 for none: the first step not consumed, or in a routed script the
// first whose match the request meets.
func (s *Server) nextStep(conv *conversation) int {
	for i := range s.script.Steps {
		if s.used[i] {
			continue
		}
		if !s.script.routed() {
			return i
		}
		if s.script.Steps[i].Match.matches(conv) {
			return i
		}
	}
	return -1
}

// threadOf is the conversation request conv continues: in a routed
// script, the one of its system prompt and first user message; else
// the one conversation of the script.
func (s *Server) threadOf(conv *conversation) *thread {
	if !s.script.routed() {
		return &s.main
	}
	key := conv.threadKey()
	th := s.threads[key]
	if th == nil {
		th = &thread{prev: map[API]*conversation{}}
		s.threads[key] = th
	}
	return th
}

// defaultModels name the model in replies to requests that name none.
var defaultModels = map[API]string{
	APIAnthropic: "claude-sonnet-4-5-20250929",
	APIResponses: "gpt-5-2025-08-07",
	APIChat:      "gpt-4.1-2025-04-14",
}

// newTurn prepares a reply, accounting its usage and recording what the
// request writes to the prompt cache: the prompt was processed even if the
// reply is then cut.
func (s *Server) newTurn(api API, n int, conv *conversation, reply *Reply, body []byte) *turn {
	if reply == nil {
		reply = &Reply{}
	}
	usage := s.cache.usage(api, conv, len(body), s.scale(body))
	output, reasoning := outputTokens(reply)
	if reply.Usage != nil {
		usage = *reply.Usage
		reasoning = min(reasoning, usage.OutputTokens)
	} else {
		usage.OutputTokens = output
	}
	model := conv.model
	if model == "" {
		model = defaultModels[api]
	}
	return &turn{api: api, n: n, model: model, conv: conv, reply: reply, usage: usage, reasoning: reasoning, created: time.Now().Unix()}
}

// scale returns how many tokens n bytes of body are.
func (s *Server) scale(body []byte) func(n int) int64 {
	if s.tokens == nil {
		return func(n int) int64 { return int64(n / bytesPerToken) }
	}
	total, size := int64(s.tokens(body)), int64(max(1, len(body)))
	return func(n int) int64 { return int64(n) * total / size }
}

// complete records a reply as received in full: only its tool calls may be
// answered and only it may be echoed. It returns a function undoing that,
// for when the final write fails.
func (s *Server) complete(x *exchange) (undo func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[x.n-1].Answered = time.Now()
	th := x.th
	prevCalls := th.lastCalls
	ids := x.d.callIDs(x.turn)
	th.lastCalls = make([]madeCall, len(ids))
	seen := map[string]bool{}
	for i, id := range ids {
		loose := id == "" || seen[id] || s.known[id]
		th.lastCalls[i] = madeCall{id: id, name: x.turn.reply.ToolCalls[i].Name, loose: loose}
		if !th.lastCalls[i].loose {
			s.known[id] = true
		}
		seen[id] = true
	}
	made := th.lastCalls
	keys := x.d.assistantKeys(x.turn)
	for _, k := range keys {
		s.produced[k]++
	}
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		th.lastCalls = prevCalls
		for _, c := range made {
			if !c.loose {
				delete(s.known, c.id)
			}
		}
		for _, k := range keys {
			s.produced[k]--
		}
	}
}

// serve writes the answer. Just before the last bytes of a complete reply
// go out it calls complete, so that by the time the client can send its
// next request the server knows the reply was delivered; if the last write
// fails, it calls the undo function complete returned.
func (x *exchange) serve(w http.ResponseWriter, r *http.Request, done <-chan struct{}, complete func() (undo func())) {
	name, id := x.d.requestID(x.n)
	w.Header().Set(name, id)
	if x.err != nil {
		writeError(w, x.d, *x.err, id)
		return
	}
	f := x.fault
	if !x.turn.conv.stream {
		x.serveJSON(w, r, done, id, complete)
		return
	}
	var st *stream
	if x.midErr != nil {
		st = x.d.streamError(x.turn, *x.midErr)
	} else {
		st = x.d.stream(x.turn)
	}
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	switch {
	case x.midErr != nil:
		// The client has nobody to tell if the write fails.
		_ = send(w, rc, st.events)
	case f == nil:
		last := len(st.events) - 1
		pace := func(events []event, from int) error {
			return sendPaced(r.Context(), done, w, rc, events, from, x.turn.reply.DeltaMS)
		}
		if pace(st.events[:last], st.midText) != nil {
			return
		}
		undo := complete()
		if pace(st.events[last:], 0) != nil {
			undo()
		}
	case f.MalformedEvent:
		at := st.cutAt(f)
		if send(w, rc, st.events[:at]) == nil {
			// The client should hang up at the broken event; if it reads
			// on, it finds nothing more.
			_ = send(w, rc, mangle(st.events[at]))
		}
		abort(rc)
	default:
		if send(w, rc, st.events[:st.cutAt(f)]) == nil && f.StallMS > 0 {
			stall(r.Context(), done, f.StallMS)
		}
		abort(rc)
	}
}

// serveJSON answers a non-streaming request. A cut or stall drops the
// connection without a response; a mid-stream error becomes the equivalent
// error response.
func (x *exchange) serveJSON(w http.ResponseWriter, r *http.Request, done <-chan struct{}, id string, complete func() (undo func())) {
	f := x.fault
	switch {
	case x.midErr != nil:
		writeError(w, x.d, *x.midErr, id)
		return
	case f != nil:
		if f.StallMS > 0 {
			stall(r.Context(), done, f.StallMS)
		}
		abort(http.NewResponseController(w))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	undo := complete()
	if _, err := w.Write(mustMarshal(x.d.body(x.turn))); err != nil {
		undo()
	}
}

func writeError(w http.ResponseWriter, d dialect, e apiError, requestID string) {
	if e.retryAfter != "" {
		w.Header().Set("retry-after", e.retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	// A client that hung up gets nothing either way.
	_, _ = w.Write(mustMarshal(d.errorBody(e, requestID)))
}

// send writes events one by one, flushing each so the client sees a real
// stream and a later cut lands between events already delivered.
func send(w io.Writer, rc *http.ResponseController, events []event) error {
	for _, e := range events {
		if _, err := w.Write(e.encode()); err != nil {
			return fmt.Errorf("write event: %w", err)
		}
		if err := rc.Flush(); err != nil {
			return fmt.Errorf("flush event: %w", err)
		}
	}
	return nil
}

// sendPaced sends events like send, pausing ms milliseconds before each
// event from index from on (none if from < 0 or ms is 0). It stops when
// the client hangs up or the server closes.
func sendPaced(ctx context.Context, done <-chan struct{}, w io.Writer, rc *http.ResponseController, events []event, from, ms int) error {
	if ms == 0 || from < 0 || from >= len(events) {
		return send(w, rc, events)
	}
	if err := send(w, rc, events[:from]); err != nil {
		return err
	}
	for i := from; i < len(events); i++ {
		stall(ctx, done, ms)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-done:
			return errors.New("server closed")
		default:
		}
		if err := send(w, rc, events[i:i+1]); err != nil {
			return err
		}
	}
	return nil
}

// stall holds the connection silent for ms milliseconds, or until the
// client hangs up or the server closes.
func stall(ctx context.Context, done <-chan struct{}, ms int) {
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-done:
	}
}

// abort drops the connection without finishing the response, so the client
// sees the body end mid-stream (no terminating chunk), as when a proxy or
// the API resets the connection.
func abort(rc *http.ResponseController) {
	conn, _, err := rc.Hijack()
	if err != nil {
		// Where hijacking is not supported (HTTP/2), aborting the handler
		// resets the stream instead.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close() // The point is to drop it; there is nothing to report.
}

// standing returns the standing step that answers conv, if any; s.mu is
// held.
func (s *Server) standing(conv *conversation) *Step {
	for i := range s.script.Standing {
		if strings.Contains(conv.lastUser, s.script.Standing[i].Match) {
			return &s.script.Standing[i].Step
		}
	}
	return nil
}
