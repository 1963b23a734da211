package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/lathe-dev/lathe/internal/fakeapi"
)

// dialect is one way of running the pager task: an e2e script holding the
// task's repository and model script, and the flags choosing its provider.
type dialect struct {
	name  string
	txtar string
	flags []string
}

var dialects = []dialect{
	{"anthropic", "task_anthropic.txtar", nil},
	{"openai", "task_openai.txtar", []string{"--provider", "openai"}},
	{"openai-chat", "task_chat.txtar", []string{"--provider", "openai-chat", "--model", "qwen3-coder"}},
}

const pagerPrompt = "the tests in pager/ fail, fix them"

// pagerTask writes the repository of an e2e task script to dir and returns
// the script's model replies.
func pagerTask(root string, d dialect, dir string) (*fakeapi.Script, error) {
	a, err := txtar.ParseFile(filepath.Join(root, "cmd", "lathe", "testdata", "script", d.txtar))
	if err != nil {
		return nil, err
	}
	var script *fakeapi.Script
	for _, f := range a.Files {
		if f.Name == "script.json" {
			if script, err = fakeapi.ParseScript(f.Data); err != nil {
				return nil, fmt.Errorf("%s: %w", d.txtar, err)
			}
		}
		if name, ok := strings.CutPrefix(f.Name, "repo/"); ok {
			if err := writeFile(filepath.Join(dir, name), f.Data); err != nil {
				return nil, err
			}
		}
	}
	if script == nil {
		return nil, fmt.Errorf("%s has no script.json", d.txtar)
	}
	return script, gitInit(dir)
}

// Sizes of the long task's files in MiB.
var longFileMiB = []int{2, 3, 4, 5, 3}

const longPrompt = "tune the constants in tables/ as discussed"

var words = strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa")

// tableLine is line n (from 2) of table f: a function whose name makes it
// unique, so an Edit can target it.
func tableLine(f, n int) string {
	return fmt.Sprintf("func t%d_%06d(x int) int { return x*%d + %d } // %s %s %s",
		f, n, n%97, n%13, words[n%16], words[n/16%16], words[n/256%16])
}

// The long task's cycle, one turn each: a 150-line window of a table is
// read, searched for, edited, the tests run in full, the window read again
// after the edit; a second, 80-line window is read, edited, the files
// listed, the second window read again after its edit, and the tests run
// in short. Its test run prints about 70 KB, more than a tool result may
// hold, so the model gets the head and tail of it.
const (
	longCycle   = 10
	windowA     = 150
	windowB     = 80
	checkScript = `#!/bin/sh
# check.sh [-short]: the tables' tests, each named unless -short.
if [ "$1" = -short ]; then
	echo "ok  	example.com/tables	0.412s"
	exit 0
fi
awk 'BEGIN {
	for (i = 1; i <= 600; i++) {
		printf "=== RUN   TestTable%d\n", i
		printf "    table_test.go:%d: t%d_%06d: 120 cases against the reference, max error 0\n", 40 + i % 50, i % 5 + 1, i * 37
		printf "--- PASS: TestTable%d (0.00s)\n", i
	}
	print "PASS"
	print "ok  	example.com/tables	3.917s"
}'
`
)

// longTask writes a repository of large files to dir and returns a script
// of turns responses that read windows of them, search them, edit them,
// read them again and run the tests, in the cycle above, then answer.
func longTask(dir string, turns int) (*fakeapi.Script, error) {
	lines := make([]int, len(longFileMiB))
	paths := make([]string, len(longFileMiB))
	for i, size := range longFileMiB {
		var b strings.Builder
		b.WriteString("package tables\n")
		n := 2
		for ; b.Len() < size<<20; n++ {
			b.WriteString(tableLine(i+1, n))
			b.WriteByte('\n')
		}
		lines[i] = n - 1
		paths[i] = filepath.Join(dir, "tables", fmt.Sprintf("table%d.go", i+1))
		if err := writeFile(paths[i], []byte(b.String())); err != nil {
			return nil, err
		}
	}
	if err := writeFile(filepath.Join(dir, "check.sh"), []byte(checkScript)); err != nil {
		return nil, err
	}
	if err := gitInit(dir); err != nil {
		return nil, err
	}

	call := func(name string, input map[string]any) fakeapi.ToolCall {
		raw, _ := json.Marshal(input)
		return fakeapi.ToolCall{Name: name, Input: raw}
	}
	read := func(f, off, limit int) fakeapi.ToolCall {
		return call("Read", map[string]any{"file_path": paths[f], "offset": off, "limit": limit})
	}
	edited := map[[2]int]bool{}
	edit := func(f, from int) fakeapi.ToolCall {
		n := from
		for edited[[2]int{f, n}] {
			n++
		}
		edited[[2]int{f, n}] = true
		old := tableLine(f+1, n)
		old = old[:strings.Index(old, " //")]
		return call("Edit", map[string]any{"file_path": paths[f], "old_string": old, "new_string": strings.Replace(old, "x*", "2*x*", 1)})
	}
	var a, b int // this cycle's windows
	s := &fakeapi.Script{}
	for k := 1; k <= turns; k++ {
		// Whether a request extends the one before cannot be said here:
		// the first after a compaction does not. The bench checks it.
		expect := &fakeapi.Expect{CacheMarkers: true}
		if k > 1 {
			expect.ToolResults = []fakeapi.ToolResultExpect{{Call: 0, IsError: new(false)}}
		}
		if k == turns {
			s.Steps = append(s.Steps, fakeapi.Step{Expect: expect, Reply: &fakeapi.Reply{Text: "Done: the constants are tuned."}})
			break
		}
		c, step := (k-1)/longCycle, (k-1)%longCycle
		f := c % len(paths)
		r := &fakeapi.Reply{}
		switch step {
		case 0:
			a = 2 + (c*7919)%(lines[f]-2*windowA)
			b = 2 + (c*7919+104729)%(lines[f]-2*windowA)
			r.Text = fmt.Sprintf("Looking at table %d around line %d.", f+1, a)
			r.ToolCalls = []fakeapi.ToolCall{read(f, a, windowA)}
		case 1:
			r.ToolCalls = []fakeapi.ToolCall{call("Grep", map[string]any{
				"pattern": fmt.Sprintf(`return x\*%d \+ %d }`, c%97, c%13), "path": "tables", "output_mode": "content", "head_limit": 20,
			})}
		case 2:
			r.ToolCalls = []fakeapi.ToolCall{edit(f, a+10)}
		case 3:
			r.Text = "Running the tests."
			r.ToolCalls = []fakeapi.ToolCall{call("Bash", map[string]any{"command": "sh check.sh"})}
		case 4:
			r.ToolCalls = []fakeapi.ToolCall{read(f, a, windowA)}
		case 5:
			r.ToolCalls = []fakeapi.ToolCall{read(f, b, windowB)}
		case 6:
			r.ToolCalls = []fakeapi.ToolCall{edit(f, b+10)}
		case 7:
			r.ToolCalls = []fakeapi.ToolCall{call("Glob", map[string]any{"pattern": "**/*.go"})}
		case 8:
			r.ToolCalls = []fakeapi.ToolCall{read(f, b, windowB)}
		case 9:
			r.ToolCalls = []fakeapi.ToolCall{call("Bash", map[string]any{"command": "sh check.sh -short"})}
		}
		s.Steps = append(s.Steps, fakeapi.Step{Expect: expect, Reply: r})
	}
	return s, s.Validate()
}

// summaryText is the model's summary at each compaction: the sections
// internal/compact asks for, about 1.2k tokens, as a model writes them.
var summaryText = func() string {
	var b strings.Builder
	b.WriteString("## Goal\nTune the constants in tables/ as discussed: double the factor of the functions the review named, file by file, and keep `sh check.sh` passing.\n\n")
	b.WriteString("## Done\n")
	for f := 1; f <= len(longFileMiB); f++ {
		fmt.Fprintf(&b, "- tables/table%d.go: doubled the factor of the reviewed functions in the windows read so far; each edit re-read and checked; `sh check.sh` passed after each.\n", f)
	}
	b.WriteString("\n## In progress\nThe next window of the current table: read it, edit the reviewed function, run the tests, re-read to confirm.\n\n")
	b.WriteString("## Next action\nRead the next 150-line window of the current table at the offset the cycle gives, then edit the function ten lines into it.\n\n")
	b.WriteString("## Decisions and failed approaches\n")
	for _, w := range words {
		fmt.Fprintf(&b, "- Functions tagged %s keep their offset; only the factor changes, because the reference values depend on the offset.\n", w)
	}
	b.WriteString("- A Grep over all tables finds the reviewed functions faster than paging through a file; head_limit 20 keeps it short.\n")
	b.WriteString("- The full test run prints about 70 KB; its head and tail are enough to see that it passed.\n\n")
	b.WriteString("## Open questions\n- None; the review's list is the whole scope.\n")
	return b.String()
}()

// summaryScript answers up to n summary requests, each with summaryText.
func summaryScript(n int) *fakeapi.Script {
	s := &fakeapi.Script{}
	for range n {
		s.Steps = append(s.Steps, fakeapi.Step{
			Expect: &fakeapi.Expect{UserContains: []string{summaryMarker, longPrompt}},
			Reply:  &fakeapi.Reply{Text: summaryText},
		})
	}
	return s
}

func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// gitInit makes dir a repository, as a real working tree is.
func gitInit(dir string) error {
	if out, err := exec.Command("git", "init", "-q", dir).CombinedOutput(); err != nil {
		return fmt.Errorf("git init: %v: %s", err, out)
	}
	return nil
}
