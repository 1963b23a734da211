package app

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/config"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/policy"
)

// withSandbox makes the sandbox work, or not, for one test.
func withSandbox(t *testing.T, works bool) {
	t.Helper()
	old := sandboxWorks
	sandboxWorks = func(context.Context) (bool, string) { return works, "no user namespaces" }
	t.Cleanup(func() { sandboxWorks = old })
}

// TestDefaultMode checks the mode a session gets: auto where the sandbox
// works, acceptEdits with a notice where it does not, what the
// configuration or a flag chooses otherwise, and never more than the
// managed policy allows.
func TestDefaultMode(t *testing.T) {
	tests := []struct {
		name            string
		sandbox         bool
		user, managed   string
		flag            string
		want            policy.Mode
		notice, wantErr string
	}{
		{name: "sandbox works", sandbox: true, want: policy.Auto},
		{name: "no sandbox", want: policy.AcceptEdits, notice: "the sandbox is unavailable (no user namespaces), so the permission mode is acceptEdits rather than auto"},
		{name: "configured", user: `permission_mode = "plan"`, want: policy.Plan},
		{name: "flag", sandbox: true, user: `permission_mode = "plan"`, flag: "default", want: policy.Default},
		{name: "auto without a sandbox", flag: "auto", want: policy.Auto, notice: "in auto mode commands need approval"},
		{name: "managed ceiling", sandbox: true, managed: "[permissions]\nmax_mode = \"acceptEdits\"\n", want: policy.AcceptEdits},
		{name: "managed forbids bypass", sandbox: true, managed: "[permissions]\ndisable_bypass_permissions = true\n", flag: "bypassPermissions",
			wantErr: "--permission-mode bypassPermissions: the managed policy MANAGED allows no mode wider than auto"},
		{name: "managed allows the rest", sandbox: true, managed: "[permissions]\ndisable_bypass_permissions = true\n", flag: "acceptEdits", want: policy.AcceptEdits},
		{name: "unknown mode", flag: "yolo", wantErr: `unknown permission mode "yolo"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := isolate(t)
			withSandbox(t, tt.sandbox)
			writeFile(t, filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "lathe", "config.toml"), tt.user)
			managed := filepath.Join(t.TempDir(), "managed.toml")
			writeFile(t, managed, tt.managed)
			t.Setenv(config.ManagedEnv, managed)
			p, err := LoadPermissions(t.Context(), dir, &Options{PermissionMode: tt.flag})
			if tt.wantErr != "" {
				var ue UsageError
				if want := strings.ReplaceAll(tt.wantErr, "MANAGED", managed); !errors.As(err, &ue) || !strings.Contains(err.Error(), want) {
					t.Fatalf("error %v, want a UsageError containing %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Policy.Mode != tt.want || p.Policy.Sandboxed != tt.sandbox || p.Policy.Workspace != dir || p.Policy.Home != os.Getenv("HOME") {
				t.Errorf("policy %+v, want mode %s", p.Policy, tt.want)
			}
			if !strings.Contains(p.ModeNotice, tt.notice) || (tt.notice == "") != (p.ModeNotice == "") {
				t.Errorf("notice %q, want %q", p.ModeNotice, tt.notice)
			}
		})
	}
}

// TestModeNoticeInSessionStart checks that session.start says why the
// mode is acceptEdits where the sandbox does not work.
func TestModeNoticeInSessionStart(t *testing.T) {
	dir := isolate(t)
	withSandbox(t, false)
	srv := fake(t, `{"steps": [{"reply": {"text": "Hi."}}]}`)
	a, _, got := runPrompt(t, srv, Options{Dir: dir, Approver: agent.Headless}, "hello")
	start := got.Events()[0]
	if start.PermissionMode != string(policy.AcceptEdits) || !strings.Contains(start.ModeNotice, "the sandbox is unavailable") {
		t.Errorf("session.start = %+v, want acceptEdits and the notice", start)
	}
	if n := a.Permissions().Notices(); len(n) != 1 || n[0] != start.ModeNotice {
		t.Errorf("notices %q", n)
	}
}

// TestAlways checks that an "always" answer keeps the narrowest rule for
// the call in the .lathe/config.local.toml at the repository root, says
// so in an event naming that exact rule, and that the next session
// applies it.
func TestAlways(t *testing.T) {
	repo := isolate(t)
	withSandbox(t, false)
	t.Setenv(config.ManagedEnv, "")
	if err := os.MkdirAll(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(repo, "sub")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	srv := fake(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "touch ran"}}]}},
	  {"expect": {"tool_results": [{"call": 0, "is_error": false}]}, "reply": {"text": "Ran it."}}]}`)
	var asked *policy.Call
	approve := agent.ApproverFunc(func(_ context.Context, req *agent.Approval) (agent.Answer, error) {
		asked = req.Call
		return agent.Answer{Grant: agent.Always}, nil
	})
	a, res, got := runPrompt(t, srv, Options{Dir: dir, Approver: approve}, "run it")
	if res.ExitCode != ExitOK || asked == nil {
		t.Fatalf("Prompt = %+v, asked %v", res, asked)
	}
	rules := a.Permissions().Policy.Narrowest(asked)
	if len(rules) != 1 {
		t.Fatalf("narrowest rules %q, want one", rules)
	}
	rule := rules[0]
	path := filepath.Join(repo, ".lathe", config.LocalFile)
	var added []event.Event
	for _, e := range got.Events() {
		if e.Type == event.RuleAdded {
			added = append(added, e)
		}
	}
	if len(added) != 1 || added[0].Rule != rule || added[0].RuleSource != path || added[0].Name != "Bash" {
		t.Errorf("rule_added events %+v, want one with %s in %s", added, rule, path)
	}
	b, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(b), "allow = ["+`"`+strings.ReplaceAll(rule, `"`, `\"`)+`"`) {
		t.Errorf("%s: %q (%v), want the rule", path, b, err)
	}

	// The next session has the rule, from that file.
	p, err := LoadPermissions(t.Context(), dir, &Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := p.Policy.Rules.Allow; len(r) != 1 || r[0].Text != rule || r[0].Source != path {
		t.Errorf("allow rules %+v, want %s from %s", r, rule, path)
	}
}

// TestAlwaysAnswers checks what an approver is offered for "always" —
// the narrowest rule and each scope's file — and that the rules an
// answer carries, edited, go into the file of its scope, and that a rule
// that does not parse is never kept.
func TestAlwaysAnswers(t *testing.T) {
	tests := []struct {
		name  string
		ans   agent.Answer
		scope agent.Scope
		want  []string // the rules kept; nil: none
	}{
		{"narrowest in the project", agent.Answer{Grant: agent.Always}, agent.ProjectScope, []string{"Bash(touch ran)"}},
		{"edited for the project", agent.Answer{Grant: agent.Always, Rules: []string{"Bash(touch:*)"}}, agent.ProjectScope, []string{"Bash(touch:*)"}},
		{"edited for the user", agent.Answer{Grant: agent.Always, Rules: []string{"Bash(touch:*)", "Edit(ran)"}, Scope: agent.UserScope}, agent.UserScope, []string{"Bash(touch:*)", "Edit(ran)"}},
		{"a rule that does not parse", agent.Answer{Grant: agent.Always, Rules: []string{"Bash(touch:*)", "Bash(touch"}}, agent.ProjectScope, nil},
		{"session only", agent.Answer{Grant: agent.Session, Rules: []string{"Bash(touch:*)"}}, agent.ProjectScope, nil},
		{"a rule that does not cover the call", agent.Answer{Grant: agent.Always, Rules: []string{"Bash(ls)"}}, agent.ProjectScope, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := isolate(t)
			withSandbox(t, false)
			t.Setenv(config.ManagedEnv, "")
			srv := fake(t, `{"steps": [
			  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "touch ran"}}]}},
			  {"expect": {"tool_results": [{"call": 0, "is_error": false}]}, "reply": {"text": "Ran it."}}]}`)
			var offered *agent.Keep
			var parts []policy.Part
			approve := agent.ApproverFunc(func(_ context.Context, req *agent.Approval) (agent.Answer, error) {
				offered, parts = req.Keep, req.Parts
				return tt.ans, nil
			})
			var warnings []string
			_, res, got := runPrompt(t, srv, Options{Dir: dir, Approver: approve, Warn: func(err error) { warnings = append(warnings, err.Error()) }}, "run it")
			if res.ExitCode != ExitOK {
				t.Fatalf("Prompt = %+v", res)
			}
			files := map[agent.Scope]string{
				agent.ProjectScope: filepath.Join(dir, ".lathe", config.LocalFile),
				agent.UserScope:    filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "lathe", "config.toml"),
			}
			if offered == nil || !slices.Equal(offered.Rules, []string{"Bash(touch ran)"}) || !maps.Equal(offered.Files, files) {
				t.Errorf("offered %+v, want Bash(touch ran) and %v", offered, files)
			}
			if len(parts) == 0 || parts[0].What != "touch ran" || parts[0].Decision.Verdict != policy.Ask || parts[0].End != len("touch ran") {
				t.Errorf("parts %+v, want touch ran asked", parts)
			}
			var added []string
			for _, e := range got.Events() {
				if e.Type == event.RuleAdded {
					added = append(added, e.Rule)
					if e.RuleSource != files[tt.scope] {
						t.Errorf("rule_added from %s, want %s", e.RuleSource, files[tt.scope])
					}
				}
			}
			if !slices.Equal(added, tt.want) {
				t.Errorf("rules added %q, want %q", added, tt.want)
			}
			for scope, path := range files {
				b, err := os.ReadFile(path)
				if scope != tt.scope || tt.want == nil {
					if err == nil {
						t.Errorf("%s written: %q", path, b)
					}
					continue
				}
				var doc struct{ Permissions struct{ Allow []string } }
				if err := toml.Unmarshal(b, &doc); err != nil || !slices.Equal(doc.Permissions.Allow, tt.want) {
					t.Errorf("%s allows %q (%v), want %q", path, doc.Permissions.Allow, err, tt.want)
				}
			}
			want := map[string]string{"a rule that does not parse": `"Bash(touch"`, "a rule that does not cover the call": "Bash(ls) would not allow this call"}[tt.name]
			if (want == "") != (len(warnings) == 0) || want != "" && !strings.Contains(warnings[0], want) {
				t.Errorf("warnings %q, want one saying %q", warnings, want)
			}
			if offered.Check == nil || offered.Check([]string{"Bash(touch:*)"}) != nil || offered.Check([]string{"Bash(ls)"}) == nil || offered.Check([]string{"Bash("}) == nil {
				t.Error("Check does not tell rules that allow the call from others")
			}
		})
	}
}

// TestAlwaysProtected checks that "always" offers no rule for a call
// that no rule can allow, since a protected path asks whatever the rules
// say, and says why.
func TestAlwaysProtected(t *testing.T) {
	dir := isolate(t)
	withSandbox(t, false)
	t.Setenv(config.ManagedEnv, "")
	srv := fake(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Write", "input": {"file_path": ".lathe/notes.md", "content": "x"}}]}},
	  {"reply": {"text": "Done."}}]}`)
	var offered *agent.Keep
	approve := agent.ApproverFunc(func(_ context.Context, req *agent.Approval) (agent.Answer, error) {
		offered = req.Keep
		return agent.Answer{Grant: agent.Once}, nil
	})
	runPrompt(t, srv, Options{Dir: dir, Approver: approve}, "write it")
	if offered == nil || len(offered.Rules) != 0 || !strings.Contains(offered.Reason, "configures Lathe") {
		t.Errorf("offered %+v, want no rule and why", offered)
	}
}

// TestKeepNarrowest checks the rules "always" offers: one per command
// that needs a rule, none for a command the read-only set or a rule
// already allows, in any mode.
func TestKeepNarrowest(t *testing.T) {
	dir := isolate(t)
	withSandbox(t, true)
	t.Setenv(config.ManagedEnv, "")
	writeFile(t, filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "lathe", "config.toml"), "[permissions]\nallow = [\"Bash(make lint)\"]\n")
	tests := []struct {
		mode, cmd string
		want      []string
	}{
		{"default", "ls -la && npm install left-pad && git push origin main", []string{"Bash(npm install left-pad)", "Bash(git push origin main)"}},
		{"default", "make lint && make test", []string{"Bash(make test)"}},
		{"default", "git status", []string{"Bash(git status)"}},
		// What the mode allows still gets a rule: a later session may
		// be in another mode.
		{"auto", "make test && curl https://example.com", []string{"Bash(make test)", "Bash(curl https://example.com)"}},
	}
	for _, tt := range tests {
		p, err := LoadPermissions(t.Context(), dir, &Options{PermissionMode: tt.mode})
		if err != nil {
			t.Fatal(err)
		}
		call := &policy.Call{Tool: "Bash", Kind: policy.Exec, Dir: dir, Command: tt.cmd, Script: policy.ParseCommand(tt.cmd)}
		k := alwaysApprover{perms: p}.keep(call)
		if !slices.Equal(k.Rules, tt.want) || k.Check(k.Rules) != nil {
			t.Errorf("%s: keep %q (%s), want %q", tt.cmd, k.Rules, k.Reason, tt.want)
		}
	}
}

// TestHeadlessNeverAlways checks that a headless run keeps no rule.
func TestHeadlessNeverAlways(t *testing.T) {
	dir := isolate(t)
	withSandbox(t, false)
	fake(t, `{"steps": [
	  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "touch ran"}}]}},
	  {"reply": {"text": "Could not."}}]}`)
	a, err := Open(Options{Dir: dir, Approver: agent.Headless})
	if err != nil {
		t.Fatal(err)
	}
	a.Start()
	a.Prompt(t.Context(), "run it")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".lathe")); err == nil {
		t.Error("a headless run wrote .lathe")
	}
}

// TestCheck checks that Check prepares a call as the tool would and
// decides it with the session's policy.
func TestCheck(t *testing.T) {
	dir := isolate(t)
	withSandbox(t, false)
	t.Setenv(config.ManagedEnv, "")
	p, err := LoadPermissions(t.Context(), dir, &Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		tool, arg string
		want      policy.Verdict
		check     func(c policy.Call) bool
	}{
		{"Bash", "go test ./...", policy.Ask, func(c policy.Call) bool { return c.Kind == policy.Exec && c.Command == "go test ./..." && c.Dir == dir }},
		{"shell", "go test ./...", policy.Ask, func(c policy.Call) bool { return c.Kind == policy.Exec && c.Command == "go test ./..." }},
		{"Write", "notes.txt", policy.Allow, func(c policy.Call) bool { return len(c.Writes) == 1 && c.Writes[0] == filepath.Join(dir, "notes.txt") }},
		{"Edit", "../outside.txt", policy.Ask, func(c policy.Call) bool { return c.Kind == policy.Edit }},
		{"apply_patch", "a/b.go", policy.Allow, func(c policy.Call) bool { return len(c.Writes) == 1 && c.Writes[0] == filepath.Join(dir, "a", "b.go") }},
		{"Read", "main.go", policy.Allow, func(c policy.Call) bool { return c.Kind == policy.Read }},
		{"WebFetch", "https://go.dev/doc", policy.Ask, func(c policy.Call) bool {
			return c.Kind == policy.Fetch && len(c.URLs) == 1 && c.URLs[0] == "https://go.dev/doc"
		}},
		{"web_fetch", "https://go.dev/doc", policy.Ask, func(c policy.Call) bool { return c.Kind == policy.Fetch }},
	}
	for _, tt := range tests {
		c, d, err := p.Check(t.Context(), tt.tool, tt.arg)
		if err != nil {
			t.Errorf("Check(%s, %q): %v", tt.tool, tt.arg, err)
			continue
		}
		if d.Verdict != tt.want || !tt.check(c) {
			t.Errorf("Check(%s, %q) = %+v, %+v; want %v", tt.tool, tt.arg, c, d, tt.want)
		}
	}
	var ue UsageError
	if _, _, err := p.Check(t.Context(), "Nope", "x"); !errors.As(err, &ue) {
		t.Errorf("unknown tool: %v", err)
	}
	if _, _, err := p.Check(t.Context(), "Bash", ""); !errors.As(err, &ue) {
		t.Errorf("an empty command: %v", err)
	}
}

// TestRuleSources checks the sources the audit log records.
func TestRuleSources(t *testing.T) {
	dir := isolate(t)
	t.Setenv(config.ManagedEnv, "")
	user := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "lathe", "config.toml")
	writeFile(t, user, "[permissions]\nallow = [\"Bash(make)\"]\ndeny = [\"Bash(rm:*)\"]\n")
	p, err := LoadPermissions(t.Context(), dir, &Options{Allow: []string{"Bash(ls)"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.RuleSources(); !slices.Equal(got, []string{user, config.AllowFlag}) {
		t.Errorf("RuleSources = %q", got)
	}
}
