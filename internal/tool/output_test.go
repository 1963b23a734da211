package tool

import (
	"context"
	"encoding/json"
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
// again, and a short one is left alone. Saved names the file for the
// tool.end event.
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
	if res.Saved != m[1] {
		t.Errorf("Saved = %q, want the file the marker names, %s", res.Saved, m[1])
	}
	if res.Summary != "5000 lines" {
		t.Errorf("Summary = %q, changed by Cap", res.Summary)
	}
	paged := Result{Content: long, Capped: true}
	if got := env.Cap(paged); got.Content != long {
		t.Error("Cap cut a result its tool had sized")
	}
	if got := env.Cap(Result{Content: "short"}); got.Content != "short" || got.Saved != "" {
		t.Errorf("Cap changed a short result to %q, saved %q", got.Content, got.Saved)
	}
	var none *Env
	if got := none.Cap(Result{Content: long}); !strings.Contains(got.Content, "characters truncated] ...") || got.Saved != "" {
		t.Errorf("a nil Env did not cut a long result, or says it saved it in %q", got.Saved)
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

// TestReread: reading the same window of a file whose content has not
// changed since the model was shown it returns a line saying so; any
// change to the content (by Lathe or behind its back), another window,
// or a forgotten conversation shows the lines again.
func TestReread(t *testing.T) {
	for _, tc := range []struct {
		tool   Tool
		prefix string
	}{{NewRead(), "     1\tone"}, {NewReadFile(), "L1: one"}} {
		t.Run(tc.tool.Def().Name, func(t *testing.T) {
			env := fileEnv(t)
			path := filepath.Join(env.Dir, "f.txt")
			put(t, path, "one\ntwo\n", 0o644)
			read := func(turn int, args map[string]any) Result {
				t.Helper()
				args["file_path"] = path
				b, _ := json.Marshal(args)
				res, err := tc.tool.Run(WithTurn(context.Background(), "s1", turn), env, b)
				if err != nil || res.IsError {
					t.Fatalf("read: %+v, %v", res, err)
				}
				return res
			}
			shows := func(what string, res Result) {
				t.Helper()
				if !strings.HasPrefix(res.Content, tc.prefix) {
					t.Errorf("%s: got %q, want the lines", what, res.Content)
				}
			}
			shows("first read", read(1, map[string]any{}))
			const unchanged = "File unchanged since your last read of it at turn 1: lines 1-2 as shown then are still current. Refer to that result instead of reading it again."
			if res := read(3, map[string]any{}); res.Content != unchanged || !strings.Contains(res.Summary, "unchanged") {
				t.Errorf("second read: %q (%s)", res.Content, res.Summary)
			}
			shows("another window", read(4, map[string]any{"offset": 1, "limit": 1}))
			shows("back to the first window", read(5, map[string]any{}))

			// A command appends behind Lathe's back.
			put(t, path, "one\ntwo\nthree\n", 0o644)
			shows("after an outside change", read(6, map[string]any{}))

			// Lathe writes the file (even to the same content).
			if res := runTool(t, NewWrite(), env, map[string]any{"file_path": path, "content": "one\ntwo\nthree\n"}); res.IsError {
				t.Fatalf("write: %+v", res)
			}
			shows("after Lathe wrote it", read(7, map[string]any{}))
			if res := read(8, map[string]any{}); !strings.Contains(res.Content, "at turn 7") {
				t.Errorf("read after the read at turn 7: %q", res.Content)
			}
			// Another conversation sharing the Env (a subagent) was
			// shown nothing.
			b, _ := json.Marshal(map[string]any{"file_path": path})
			if res, err := tc.tool.Run(WithTurn(context.Background(), "child", 8), env, b); err != nil || !strings.HasPrefix(res.Content, tc.prefix) {
				t.Errorf("another conversation's read: %q, %v", res.Content, err)
			}
			env.ForgetShown("child")
			if res := read(9, map[string]any{}); !strings.Contains(res.Content, "at turn 7") {
				t.Errorf("forgetting another conversation forgot this one's: %q", res.Content)
			}
			env.ForgetShown("s1")
			shows("after the conversation was replaced", read(10, map[string]any{}))
		})
	}
}
