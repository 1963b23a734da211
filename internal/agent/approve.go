package agent

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/policy"
)

// Approver asks whether a call the policy would have a person approve may
// run. The policy decides, the approver asks, and the agent's session
// grants remember what was granted beyond one call.
//
// Approve blocks until the call is answered or ctx is done; then it must
// return promptly with ctx's error, withdrawing any question it put to a
// person. A non-nil error denies the call. Approve may be called
// concurrently, for calls of one response, and must not modify req.
type Approver interface {
	Approve(ctx context.Context, req *Approval) (Answer, error)
}

// ApproverFunc adapts a function to an [Approver].
type ApproverFunc func(ctx context.Context, req *Approval) (Answer, error)

// Approve calls f.
func (f ApproverFunc) Approve(ctx context.Context, req *Approval) (Answer, error) { return f(ctx, req) }

// Approval is the question put to an approver: the call as the model made
// it, as prepared and decided, and why it needs approval.
type Approval struct {
	CallID   string
	Name     string
	Input    json.RawMessage
	Call     *policy.Call
	Decision policy.Decision
	// Parts, if not nil, are what the call does, each as the policy
	// judged it (see [policy.Policy.Explain]), so that a person can be
	// shown which part needs approval; set, like Keep, by the app's
	// wrapper. A part the package guard asks about may show as allowed:
	// Decision is what counts.
	Parts []policy.Part
	// Keep, if not nil, is what an Always answer would keep for later
	// sessions. The front end that keeps rules (the app's) sets it on
	// the approval it passes on; without it, Always keeps nothing beyond
	// the session.
	Keep *Keep
}

// Scope is where an Always answer keeps its rules.
type Scope int

const (
	// ProjectScope keeps them for this project only, in the workspace's
	// .lathe/config.local.toml, which git ignores.
	ProjectScope Scope = iota
	// UserScope keeps them for every project, in the user's config.toml.
	UserScope
)

// Keep is what an Always answer to an approval would keep.
type Keep struct {
	// Rules are the narrowest allow rules that together cover the call;
	// empty when no rule can allow it (it runs code no rule sees, or
	// writes a protected path, which asks whatever the rules say), so
	// that Always reaches no further than Session. Reason then says why.
	Rules  []string
	Reason string
	// Check, if not nil, reports whether rules a person edited parse and
	// together would allow the call; the error says why not. Only rules
	// that pass it are kept. It may be called from any goroutine.
	Check func(rules []string) error
	// Files are the files each scope's rules go into; a scope without
	// one (no home directory) cannot keep rules.
	Files map[Scope]string
}

// Grant is how far an answer reaches. The zero Grant denies.
type Grant int

const (
	// No denies the call.
	No Grant = iota
	// Once allows this call only.
	Once
	// Session allows this call and the same call again for the rest of
	// the session.
	Session
	// Always is Session, and a front end that can also keeps it as a
	// rule for later sessions.
	Always
)

// Answer is an approver's answer. Message, if not empty, is told to the
// model with the result: why not, or what to do instead.
type Answer struct {
	Grant   Grant
	Message string
	// Rules are the allow rules an Always answer keeps, as the person
	// saw or edited them; nil keeps the approval's Keep.Rules. A rule
	// that does not parse is never kept.
	Rules []string
	// Scope is where an Always answer keeps them.
	Scope Scope
}

// nobodyCanApprove is what the model is told when no person can answer.
const nobodyCanApprove = "Nobody can approve it in this non-interactive run."

// Headless is the approver of a run with nobody to ask: it denies every
// call at once and explains why. The agent lists denied calls in the
// outcome and, as nobody was asked, emits no approval events for them.
var Headless Approver = headless{}

type headless struct{}

func (headless) Approve(context.Context, *Approval) (Answer, error) {
	return Answer{Grant: No, Message: nobodyCanApprove}, nil
}

// answerEvent names a grant as approval.resolved does.
func answerEvent(g Grant) event.ApprovalAnswer {
	switch g {
	case Once:
		return event.ApproveOnce
	case Session:
		return event.ApproveSession
	case Always:
		return event.ApproveAlways
	}
	return event.ApproveDeny
}

// ErrAnsweredElsewhere is the error with which [FirstAnswer] cancels the
// approvers that did not answer first, so that each can tell its user
// the question was answered elsewhere.
var ErrAnsweredElsewhere = errors.New("answered elsewhere")

// FirstAnswer asks every approver at once, as when several front ends
// show the same session, and returns the first answer. The others' ctx is
// then cancelled with cause [ErrAnsweredElsewhere] (see
// [context.Cause]), and FirstAnswer returns once all have returned. An
// approver that fails does not answer; if all fail, the first error is
// returned.
func FirstAnswer(approvers ...Approver) Approver {
	return ApproverFunc(func(ctx context.Context, req *Approval) (Answer, error) {
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		type reply struct {
			ans Answer
			err error
		}
		replies := make(chan reply, len(approvers))
		var wg sync.WaitGroup
		for _, ap := range approvers {
			wg.Go(func() {
				ans, err := ap.Approve(ctx, req)
				replies <- reply{ans, err}
			})
		}
		defer wg.Wait()
		var first error
		for range approvers {
			r := <-replies
			if r.err == nil {
				cancel(ErrAnsweredElsewhere)
				return r.ans, nil
			}
			if first == nil {
				first = r.err
			}
		}
		return Answer{}, first
	})
}

// grants remembers the calls approved for the rest of the session, apart
// from the policy, which knows nothing of them, each with the id of the
// call whose approval granted it, so that a later call's decision can say
// which answer decided it. A call is the same call when it is made to the
// same tool and runs the same command in the same directory, or writes
// the same files. It is safe for concurrent use.
type grants struct {
	mu   sync.Mutex
	keys map[string]string // grant key → the call id of the approval
}

func grantKey(c *policy.Call) string {
	return strings.Join(append([]string{c.Tool, c.Dir, c.Command}, c.Writes...), "\x00")
}

// granted returns the id of the call whose approval granted c for the
// session, and whether there was one.
func (g *grants) granted(c *policy.Call) (by string, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	by, ok = g.keys[grantKey(c)]
	return by, ok
}

// remember grants c for the session, by the approval of call callID.
func (g *grants) remember(c *policy.Call, callID string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.keys == nil {
		g.keys = make(map[string]string)
	}
	if _, ok := g.keys[grantKey(c)]; !ok {
		g.keys[grantKey(c)] = callID
	}
}
