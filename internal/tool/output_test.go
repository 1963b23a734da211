package tool

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lathe-dev/lathe/internal/spill"
)

// TestCap: a result longer than the limit enters the history cut, its
// whole saved under the session's outputs; one the tool sized is not cut
// again, and a short one is left alone.
func TestCap(t *testing.T) {
	env := &Env{Outputs: spill.New(filepath.Join(t.TempDir(), "outputs"))}
	long := strings.Repeat("grep match\n", 5000)
	res := env.Cap(Result{Content: long, Summary: "5000 lines"})
	m := regexp.MustCompile(`\.\.\. \[\d+ characters truncated; the full output is in (\S+)\] \.\.\.`).FindStringSubmatch(res.Content)
	if m == nil || !res.Capped || utf8.RuneCountInString(res.Content) > spill.Limit+200 {
		t.Fatalf("capped result of %d characters has no marker naming a file", len(res.Content))
	}
	if b, err := os.ReadFile(m[1]); err != nil || string(b) != long {
		t.Errorf("%s holds %d bytes (%v); want the whole result", m[1], len(b), err)
	}
	if res.Summary != "5000 lines" {
		t.Errorf("Summary = %q, changed by Cap", res.Summary)
	}
	paged := Result{Content: long, Capped: true}
	if got := env.Cap(paged); got.Content != long {
		t.Error("Cap cut a result its tool had sized")
	}
	if got := env.Cap(Result{Content: "short"}); got.Content != "short" {
		t.Errorf("Cap changed a short result to %q", got.Content)
	}
	var none *Env
	if got := none.Cap(Result{Content: long}); !strings.Contains(got.Content, "characters truncated] ...") {
		t.Error("a nil Env did not cut a long result")
	}
}

// TestReadFilePages: read_file stops at Read's page size and says how to
// read on, rather than returning 2000 lines of any length.
func TestReadFilePages(t *testing.T) {
	env := fileEnv(t)
	path := filepath.Join(env.Dir, "wide.txt")
	put(t, path, strings.Repeat(strings.Repeat("x", 400)+"\n", 2000), 0o644)
	res := runTool(t, NewReadFile(), env, map[string]any{"file_path": path})
	if len(res.Content) > readMaxBytes+200 || !res.Capped {
		t.Errorf("read_file returned %d bytes; want a page of at most about %d", len(res.Content), readMaxBytes)
	}
	if !regexp.MustCompile(`\n\(Showing lines 1-\d+ of 2000; output size limit reached. To read more, use offset=\d+.\)$`).MatchString(res.Content) {
		t.Errorf("page ends %q", res.Content[len(res.Content)-120:])
	}
}
