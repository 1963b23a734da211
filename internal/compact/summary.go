package compact

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Sections are the headings a summary must have, in order.
var Sections = []string{
	"Goal",
	"Done",
	"In progress",
	"Next action",
	"Decisions and failed approaches",
	"Open questions",
}

// MaxSummaryTokens caps a summary, as the prompt tells the model; a
// longer one is cut at a line, see [Check].
const MaxSummaryTokens = 4000

// maxSummaryBytes is the cap in bytes, at the same conservative three
// bytes a token the agent's context accounting estimates with.
const maxSummaryBytes = MaxSummaryTokens * 3

// Prompt is the user message that asks for the summary, appended to the
// conversation exactly as it stands, so that the request shares its whole
// prefix with the previous one. focus, if not empty, is what the user
// asked the summary to keep in particular (`lathe compact FOCUS`); strict
// is the second attempt's, after a reply that was no summary.
func Prompt(l Ledger, focus string, strict bool) string {
	var b strings.Builder
	b.WriteString("The conversation is about to be compacted: everything above will be replaced by a summary you write now, ")
	b.WriteString("the ledger below (which the harness keeps itself), and the last step verbatim. ")
	b.WriteString("Do not call any tool. Reply with text only, in Markdown, with exactly these sections:\n\n")
	for _, s := range Sections {
		fmt.Fprintf(&b, "## %s\n", s)
	}
	b.WriteString("\n- Goal: what the user wants, in a sentence or two.\n")
	b.WriteString("- Done: what has been completed and verified, with file names.\n")
	b.WriteString("- In progress: what you were doing when this was asked.\n")
	b.WriteString("- Next action: the exact next step, concrete enough to act on without rereading anything.\n")
	b.WriteString("- Decisions and failed approaches: what was decided and why, and what was tried and did not work, so it is not tried again.\n")
	b.WriteString("- Open questions: what is still unknown or needs the user.\n\n")
	fmt.Fprintf(&b, "Keep it under %d tokens. Do not repeat the ledger; refer to it. Do not restart finished work.\n", MaxSummaryTokens)
	if focus = strings.TrimSpace(focus); focus != "" {
		fmt.Fprintf(&b, "\nThe user asks the summary to keep in particular: %s\n", focus)
	}
	if ledger := l.Format(); ledger != "" {
		b.WriteString("\n<ledger>\n")
		b.WriteString(ledger)
		b.WriteString("</ledger>\n")
	}
	if strict {
		b.WriteString("\nYour previous reply was not a summary in these sections. Tools are not available now: answer with the summary text and nothing else.\n")
	}
	return b.String()
}

// ErrNoSummary is wrapped by Check's errors: the reply cannot serve as a
// summary.
var ErrNoSummary = errors.New("not a summary")

var headingRE = regexp.MustCompile(`(?m)^#{1,6}\s*(.+?)\s*#*\s*$`)

// Check validates a model's summary and caps it. A summary needs the
// Goal and Next action sections at least, and some text; one longer
// than the cap is cut at the last line break under it, with a marker.
func Check(text string) (string, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return "", fmt.Errorf("%w: the reply is empty", ErrNoSummary)
	}
	found := map[string]bool{}
	for _, m := range headingRE.FindAllStringSubmatch(text, -1) {
		h := strings.ToLower(strings.TrimRight(m[1], ":"))
		for _, s := range Sections {
			if strings.HasPrefix(h, strings.ToLower(s)) {
				found[s] = true
			}
		}
	}
	var missing []string
	for _, s := range []string{"Goal", "Next action"} {
		if !found[s] {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("%w: no %s section", ErrNoSummary, strings.Join(missing, " or "))
	}
	if len(text) > maxSummaryBytes {
		cut := clip(text, maxSummaryBytes)
		if i := strings.LastIndexByte(cut, '\n'); i > maxSummaryBytes/2 {
			cut = cut[:i]
		}
		text = strings.TrimRight(strings.TrimSuffix(cut, "…"), "\n") + fmt.Sprintf("\n[summary cut at about %d tokens]", MaxSummaryTokens)
	}
	return text, nil
}
