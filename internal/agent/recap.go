package agent

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
)

// recapLimit bounds a recap, in characters: a few lines to read before
// going back to a session.
const recapLimit = 400

// recapPrompt asks for the recap; strict is the second asking, after a
// reply that was no recap.
func recapPrompt(strict bool) string {
	s := "The user is coming back to this session and wants a recap before going on. " +
		"In plain text of at most 400 characters, with no heading and no tool call, say: " +
		"the goal, the task in progress, and the exact next action."
	if strict {
		s += " Your last reply was not that. Answer with the recap text alone; do not call a tool."
	}
	return s
}

// Recap returns a short recap of the conversation (goal, current task,
// next action) as the outcome's answer, once no Send is running (it
// waits for the running one, or for ctx). The request is a fork of the
// one the next prompt would send, so the provider's cache serves all of
// it but the question; the conversation is left as it was. The outcome
// carries the request's usage and cost.
func (a *Agent) Recap(ctx context.Context) Outcome {
	return a.onWhole(ctx, "recap", func(h llm.History) Outcome { return a.recap(ctx, h) })
}

// recap asks for the recap of h, the whole conversation, for Recap.
func (a *Agent) recap(ctx context.Context, h llm.History) Outcome {
	out := Outcome{CostKnown: true}
	for attempt := range 2 {
		prompt := llm.Message{Role: llm.RoleUser, Parts: []llm.Part{{Kind: llm.PartText, Text: recapPrompt(attempt > 0)}}}
		resp, err := a.forkRequest(ctx, h, prompt)
		if err != nil {
			if ctx.Err() != nil {
				return a.fail(out, event.Interrupted, ctx.Err())
			}
			return a.fail(out, event.ProviderError, err)
		}
		out.Turns++
		if err := a.account(&out, resp.Usage); err != nil {
			return a.fail(out, event.Failed, err)
		}
		text := strings.TrimSpace(resp.Message.Text())
		if len(resp.Message.ToolCalls()) > 0 || text == "" {
			continue
		}
		out.Answer, out.Kind = clip(text, recapLimit), event.Success
		return out
	}
	return a.fail(out, event.Failed, errors.New("the model gave no recap: it called a tool or answered nothing, twice"))
}

// clip shortens s to at most n characters, ending it with an ellipsis at
// a word boundary where there is one near.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	cut := string(r)
	if i := strings.LastIndexAny(cut, " \n\t"); i > len(cut)*3/4 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " \n\t.,;:") + "…"
}
