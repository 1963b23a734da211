package tool

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lathe-dev/lathe/internal/shell"
)

// shellEnv returns an Env over a fresh workspace whose runner is closed
// when the test ends.
func shellEnv(t *testing.T) *Env {
	t.Helper()
	r := shell.NewRunner()
	t.Cleanup(func() { r.Close() })
	return &Env{Dir: t.TempDir(), Shell: r}
}

func call(t *testing.T, tl Tool, env *Env, input string) Result {
	t.Helper()
	res, err := tl.Run(context.Background(), env, json.RawMessage(input))
	if err != nil {
		t.Fatalf("%s(%s): %v", tl.Def().Name, input, err)
	}
	return res
}

func TestShellToolDefs(t *testing.T) {
	for _, tl := range []Tool{NewBash(), NewBashOutput(), NewKillShell(), NewShell()} {
		def := tl.Def()
		var schema struct {
			Type       string                     `json:"type"`
			Properties map[string]json.RawMessage `json:"properties"`
			Required   []string                   `json:"required"`
		}
		if err := json.Unmarshal(def.Schema, &schema); err != nil {
			t.Errorf("%s: schema is not JSON: %v", def.Name, err)
			continue
		}
		for _, name := range schema.Required {
			if _, ok := schema.Properties[name]; !ok {
				t.Errorf("%s: required %q is not a property", def.Name, name)
			}
		}
		if schema.Type != "object" || def.Description == "" {
			t.Errorf("%s: schema type %q, description %q", def.Name, schema.Type, def.Description)
		}
	}
}

func TestBash(t *testing.T) {
	t.Parallel()
	env := shellEnv(t)
	if err := os.WriteFile(filepath.Join(env.Dir, "my file.txt"), []byte("spaced\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, input string
		want        string
		wantErr     bool
		wantSummary string
	}{
		{"output", `{"command": "echo hi", "description": "Say hi"}`, "hi", false, `^exit 0, 1 line, \d+ms$`},
		{"failure", `{"command": "echo out; echo err >&2; exit 2"}`, "out\nerr\nExit code: 2", true, `^exit 2, 2 lines, `},
		{"no output", `{"command": "true"}`, "(no output)", false, `^exit 0, 0 lines, `},
		{"signal", `{"command": "kill -KILL $$"}`, "(no output)\nExit code: 137 (killed)", true, `^exit 137, `},
		{"timeout", `{"command": "echo started; sleep 30", "timeout": 200}`, "started\nCommand timed out after 200ms", true, `^timed out after 200ms, 1 line, `},
		{"runs in the workspace", `{"command": "cat \"my file.txt\""}`, "spaced", false, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := call(t, NewBash(), env, tt.input)
			if res.Content != tt.want || res.IsError != tt.wantErr {
				t.Errorf("got %q (error %v), want %q (error %v)", res.Content, res.IsError, tt.want, tt.wantErr)
			}
			if !regexp.MustCompile(tt.wantSummary).MatchString(res.Summary) {
				t.Errorf("summary %q does not match %q", res.Summary, tt.wantSummary)
			}
		})
	}
}

func TestBashInvalidArgs(t *testing.T) {
	t.Parallel()
	env := shellEnv(t)
	tests := []struct{ input, want string }{
		{`{}`, `"command" is missing`},
		{`{"command": 5}`, `"command" must be of type string`},
		{`{"command": "  "}`, "must not be empty"},
		{`{"command": "true", "timeout": -1}`, "timeout must be a positive"},
		{`{"command": "true", "cwd": "/"}`, "unknown field"},
		{`"true"`, "expected a JSON object"},
	}
	for _, tt := range tests {
		res := call(t, NewBash(), env, tt.input)
		if !res.IsError || !strings.Contains(res.Content, tt.want) {
			t.Errorf("Bash(%s) = %q (error %v), want an error containing %q", tt.input, res.Content, res.IsError, tt.want)
		}
	}
}

func TestBashCancelledIsHarnessError(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewBash().Run(ctx, shellEnv(t), json.RawMessage(`{"command": "true"}`)); err == nil {
		t.Error("Bash with a cancelled context returned no error")
	}
}

var outputBlock = regexp.MustCompile(`(?s)\n*<output>\n(.*)\n</output>$`)

// pollOutput calls BashOutput until the job is no longer running. It
// returns the lines of output of every read joined, since a job's output
// may arrive over several reads, and the last read without its output.
func pollOutput(t *testing.T, env *Env, input string) (output, last string) {
	t.Helper()
	var lines []string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		res := call(t, NewBashOutput(), env, input)
		if res.IsError {
			t.Fatalf("BashOutput(%s): %s", input, res.Content)
		}
		status := res.Content
		if m := outputBlock.FindStringSubmatchIndex(res.Content); m != nil {
			lines = append(lines, res.Content[m[2]:m[3]])
			status = res.Content[:m[0]]
		}
		if !strings.HasPrefix(status, "<status>running</status>") {
			return strings.Join(lines, "\n"), status
		}
	}
	t.Fatalf("job %s still running", input)
	return "", ""
}

func TestBashBackground(t *testing.T) {
	t.Parallel()
	env := shellEnv(t)
	res := call(t, NewBash(), env, `{"command": "echo one; echo two", "run_in_background": true}`)
	if res.Content != "Command running in background with ID: bash_1" || res.IsError {
		t.Fatalf("start: %q", res.Content)
	}
	out, last := pollOutput(t, env, `{"bash_id": "bash_1"}`)
	if out != "one\ntwo" || last != "<status>completed</status>\n\n<exit_code>0</exit_code>" {
		t.Errorf("BashOutput gave output %q, finally %q; want one and two, completed with 0", out, last)
	}
	if res := call(t, NewBashOutput(), env, `{"bash_id": "bash_1"}`); res.Content != "<status>completed</status>\n\n<exit_code>0</exit_code>" {
		t.Errorf("second read repeated output: %q", res.Content)
	}
}

func TestBashOutputFilter(t *testing.T) {
	t.Parallel()
	env := shellEnv(t)
	call(t, NewBash(), env, `{"command": "printf 'apple\\nbanana\\navocado\\n'; exit 3", "run_in_background": true}`)
	out, last := pollOutput(t, env, `{"bash_id": "bash_1", "filter": "^a"}`)
	if out != "apple\navocado" || last != "<status>failed</status>\n\n<exit_code>3</exit_code>" {
		t.Errorf("filtered output %q, finally %q; want apple and avocado of a failed job", out, last)
	}
	if res := call(t, NewBashOutput(), env, `{"bash_id": "bash_1", "filter": "("}`); !res.IsError {
		t.Errorf("bad filter: %q is not an error", res.Content)
	}
}

func TestKillShell(t *testing.T) {
	t.Parallel()
	env := shellEnv(t)
	call(t, NewBash(), env, `{"command": "sleep 30", "run_in_background": true}`)
	if res := call(t, NewKillShell(), env, `{"shell_id": "bash_1"}`); res.Content != "Successfully killed shell: bash_1 (sleep 30)" || res.IsError {
		t.Errorf("KillShell: %q", res.Content)
	}
	if res := call(t, NewBashOutput(), env, `{"bash_id": "bash_1"}`); !strings.HasPrefix(res.Content, "<status>killed</status>") {
		t.Errorf("BashOutput after kill: %q", res.Content)
	}
	if res := call(t, NewKillShell(), env, `{"shell_id": "bash_1"}`); !res.IsError || !strings.Contains(res.Content, "not running") {
		t.Errorf("second KillShell: %q", res.Content)
	}
	for _, tl := range []Tool{NewKillShell(), NewBashOutput()} {
		input := `{"shell_id": "bash_9"}`
		if tl.Def().Name == "BashOutput" {
			input = `{"bash_id": "bash_9"}`
		}
		if res := call(t, tl, env, input); !res.IsError || res.Content != "No shell found with ID: bash_9" {
			t.Errorf("%s of an unknown job: %q", tl.Def().Name, res.Content)
		}
	}
}

func TestHeadline(t *testing.T) {
	tests := []struct{ in, want string }{
		{"sleep 30", "sleep 30"},
		{"make\nmake test", "make…"},
		{strings.Repeat("é", 100), strings.Repeat("é", 80) + "…"},
	}
	for _, tt := range tests {
		if got := headline(tt.in); got != tt.want {
			t.Errorf("headline(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
