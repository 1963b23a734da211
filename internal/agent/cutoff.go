package agent

import (
	"fmt"
	"strings"

	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/tool"
)

// cutLimit is how many responses in a row may end at the output token
// limit before the run stops: a model that cannot finish within the limit
// after being asked to continue twice is not going to, and each attempt
// costs the whole limit.
const cutLimit = 3

// continuation asks the model to go on after a response that the output
// token limit cut off.
const continuation = "Your response was cut off at the output token limit. " +
	"Continue exactly where you stopped, without repeating what you already wrote. " +
	"If you were about to call a tool with large arguments, make the call in smaller pieces."

// cutOff follows the responses that ended at the output token limit.
type cutOff struct {
	// n counts them, in a row.
	n int
	// text is what they said since the last tool call, the start of the
	// answer that the next response continues.
	text string
}

// add notes resp, returning an error once too many responses in a row
// were cut off.
func (c *cutOff) add(resp *llm.Response, calls int) error {
	if calls > 0 {
		c.text = ""
	} else {
		c.text += resp.Message.Text()
	}
	if resp.StopReason != llm.StopMaxTokens {
		c.n = 0
		return nil
	}
	c.n++
	if c.n >= cutLimit {
		return fmt.Errorf("stopped: %d responses in a row were cut off at the output token limit; raise max_tokens or ask for less at a time", c.n)
	}
	return nil
}

// answer returns the answer that a response ending the run completes.
func (c *cutOff) answer() string { return strings.TrimSpace(c.text) }

// continueMessage is the user message that asks for the rest of a cut-off
// response.
func continueMessage() llm.Message {
	return llm.Message{Role: llm.RoleUser, Parts: []llm.Part{{Kind: llm.PartText, Text: continuation}}}
}

// malformedResult is the answer to a call whose arguments could not be
// read: it is never run, and the model is told what to do instead.
func (a *Agent) malformedResult(call llm.Part) tool.Result {
	switch call.Malformed {
	case llm.MalformedNoName:
		return tool.Result{
			Content: fmt.Sprintf("Your tool call %s named no tool, so it was not run. Call one of these tools by name: %s.", call.CallID, strings.Join(a.ToolNames(), ", ")),
			IsError: true, Summary: "malformed call",
		}
	case llm.MalformedCutOff:
		return tool.Result{
			Content: fmt.Sprintf("Your response was cut off at the output token limit while writing the arguments for %s, so the call was not run. "+
				"Write smaller pieces: split a large file or command into several calls, each well under the limit.", call.Name),
			IsError: true, Summary: "cut off",
		}
	}
	return tool.Result{
		Content: fmt.Sprintf("Your arguments for %s were %s, so the call was not run. Send the call again with its arguments as one JSON object that matches the tool's schema.",
			call.Name, call.Malformed),
		IsError: true, Summary: "malformed arguments",
	}
}
