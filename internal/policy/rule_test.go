package policy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/sandbox"
)

func TestParseRule(t *testing.T) {
	good := []struct {
		text, tool, spec string
	}{
		{"Bash", "Bash", ""},
		{" Bash(npm run test:*) ", "Bash", "npm run test:*"},
		{"Bash(npm run test *)", "Bash", "npm run test *"},
		{"Bash(echo (x))", "Bash", "echo (x)"},
		{"Read(./.env)", "Read", "./.env"},
		{"Edit(src/**)", "Edit", "src/**"},
		{"Write(//tmp/x)", "Write", "//tmp/x"},
		{"Read(~/.ssh/**)", "Read", "~/.ssh/**"},
		{"WebFetch(domain:example.com)", "WebFetch", "domain:example.com"},
		{"WebFetch(domain:*.example.com)", "WebFetch", "domain:*.example.com"},
		{"mcp__github", "mcp__github", ""},
		{"mcp__github__create_issue", "mcp__github__create_issue", ""},
		{"mcp__my-server__*", "mcp__my-server__*", ""},
		{"Glob", "Glob", ""},
		{"NotebookEdit", "NotebookEdit", ""},
		{"Task(Explore)", "Task", "Explore"},
	}
	for _, g := range good {
		r, err := ParseRule(g.text)
		if err != nil {
			t.Errorf("ParseRule(%q): %v", g.text, err)
			continue
		}
		if r.Tool != g.tool || r.Specifier != g.spec || r.Text != strings.TrimSpace(g.text) {
			t.Errorf("ParseRule(%q) = %+v", g.text, r)
		}
	}
	bad := []struct{ text, want string }{
		{"", "empty rule"},
		{"Bash(", `end with ")"`},
		{"Bash(ls", `end with ")"`},
		{"Bash()", "empty specifier"},
		{"Bash(:*)", "needs a command"},
		{"Bash(git:* push)", "may only end"},
		{"(ls)", "no tool name"},
		{"Ba sh(ls)", "invalid tool name"},
		{"9tool", "invalid tool name"},
		{"Bash(ls)x", `end with ")"`},
		{"WebFetch(example.com)", "domain:HOST"},
		{"WebFetch(domain:)", "invalid domain"},
		{"WebFetch(domain:http://x)", "invalid domain"},
		{"WebFetch(domain:a..example.com)", "not a domain name"},
		{"WebFetch(domain:bücher.de)", "not a domain name"},
		{"WebFetch(domain:*.com)", "wildcard over a whole top-level domain"},
		{"mcp__", "server name"},
		{"mcp__x(y)", "no specifier"},
		{"Read(~bob/x)", "~user"},
		{"Read(!x)", "invalid path pattern"},
		{"Edit(a\x00b)", "NUL"},
		{"Read([)", "invalid path pattern"},
		{"Task(*)", "agent type's name"},
	}
	for _, b := range bad {
		_, err := ParseRule(b.text)
		if err == nil || !strings.Contains(err.Error(), b.want) || !strings.Contains(err.Error(), "permission rule") {
			t.Errorf("ParseRule(%q) = %v, want an error naming the rule and %q", b.text, err, b.want)
		}
	}
}

func TestRuleInert(t *testing.T) {
	for text, want := range map[string]string{
		"Bash(ls)":           "",
		"mcp__x":             "",
		"Glob":               "",
		"bash(ls)":           "case-sensitive",
		"Frobnicate":         "no tool is named",
		"Glob(*.go)":         "takes no specifier",
		"WebFetch(domain:x)": "",
		"Task(explore)":      "",
		"spawn_agent(x)":     "",
	} {
		r, err := ParseRule(text)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Inert(); want == "" && got != "" || want != "" && !strings.Contains(got, want) {
			t.Errorf("%s.Inert() = %q, want %q", text, got, want)
		}
	}
}

func rules(t testing.TB, allow, ask, deny []string) Rules {
	t.Helper()
	parse := func(list []string) []Rule {
		var out []Rule
		for _, s := range list {
			r, err := ParseRule(s)
			if err != nil {
				t.Fatal(err)
			}
			r.Source = "test.toml"
			out = append(out, r)
		}
		return out
	}
	return Rules{Allow: parse(allow), Ask: parse(ask), Deny: parse(deny)}
}

// File rules: anchors, gitignore globs, lexical and resolved names.
func TestDecideFileRules(t *testing.T) {
	type tc struct {
		name  string
		rule  string
		call  Call
		match bool
	}
	read := func(p ...string) Call { return Call{Tool: "Read", Kind: Read, Reads: p} }
	edit := func(p ...string) Call { return Call{Tool: "Edit", Kind: Edit, Writes: p} }
	tests := []tc{
		{"bare name at any depth", "Read(secret.txt)", read("/w/a/b/secret.txt"), true},
		{"bare name not a prefix", "Read(secret.txt)", read("/w/secret.txt.bak"), false},
		{"slash anchors to cwd", "Edit(src/*.go)", edit("/w/src/a.go"), true},
		{"slash anchored not deeper", "Edit(src/*.go)", edit("/w/x/src/a.go"), false},
		{"double star", "Edit(src/**)", edit("/w/src/a/b/c.go"), true},
		{"double star not sibling", "Edit(src/**)", edit("/w/srcx/a.go"), false},
		{"project root anchor", "Edit(/docs/*.md)", edit("/w/docs/a.md"), true},
		{"project root anchor is not fs root", "Edit(/docs/*.md)", edit("/docs/a.md"), false},
		{"absolute anchor", "Edit(//etc/hosts)", edit("/etc/hosts"), true},
		{"home anchor", "Read(~/.config/x/**)", read("/home/u/.config/x/y"), true},
		{"dot anchor", "Read(./.env.local)", read("/w/.env.local"), true},
		{"dot anchor not deeper", "Read(./notes.txt)", read("/w/sub/notes.txt"), false},
		{"directory covers contents", "Edit(build)", edit("/w/build/out/x.o"), true},
		{"directory pattern", "Edit(gen/)", edit("/w/a/gen/x.go"), true},
		{"outside base", "Edit(src/**)", edit("/other/src/a.go"), false},
		{"bare tool", "Edit", edit("/anywhere/x"), true},
		{"write rule covers edits", "Write(src/**)", edit("/w/src/a.go"), true},
		{"edit rule covers apply_patch", "Edit(src/**)", Call{Tool: "apply_patch", Kind: Edit, Writes: []string{"/w/src/a", "/w/src/b"}}, true},
		{"read rule covers read_file", "Read(src/**)", Call{Tool: "read_file", Kind: Read, Reads: []string{"/w/src/a"}}, true},
		{"read rule does not cover edits", "Read(src/**)", edit("/w/src/a.go"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// As a deny rule in bypass mode, the rule alone decides.
			p := &Policy{Mode: BypassPermissions, Workspace: "/w", Home: "/home/u", Rules: rules(t, nil, nil, []string{tt.rule})}
			d := p.Decide(t.Context(), &tt.call)
			if got := d.Verdict == Deny; got != tt.match {
				t.Fatalf("deny %s on %+v: %v (%s), want match %v", tt.rule, tt.call, d.Verdict, d.Reason, tt.match)
			}
			if tt.match && (d.Rule != tt.rule || d.Source != "test.toml" || !strings.Contains(d.Reason, tt.rule)) {
				t.Errorf("decision %+v does not name the rule and its file", d)
			}
		})
	}
}

// Deny applies if the lexical or the resolved name matches; allow needs
// both.
func TestDecideLexicalAndResolved(t *testing.T) {
	call := Call{Tool: "Edit", Kind: Edit, Writes: []string{"/w/real/a.go"}, LexicalWrites: []string{"/w/link/a.go"}}
	p := &Policy{Mode: Default, Workspace: "/w", Rules: rules(t, nil, nil, []string{"Edit(link/**)"})}
	if d := p.Decide(t.Context(), &call); d.Verdict != Deny {
		t.Errorf("deny on the lexical name: %v", d.Verdict)
	}
	p = &Policy{Mode: Default, Workspace: "/w", Rules: rules(t, nil, nil, []string{"Edit(real/**)"})}
	if d := p.Decide(t.Context(), &call); d.Verdict != Deny {
		t.Errorf("deny on the resolved name: %v", d.Verdict)
	}
	p = &Policy{Mode: Default, Workspace: "/w", Rules: rules(t, []string{"Edit(link/**)"}, nil, nil)}
	if d := p.Decide(t.Context(), &call); d.Verdict != Ask {
		t.Errorf("allow on the lexical name only: %v, want Ask", d.Verdict)
	}
	p = &Policy{Mode: Default, Workspace: "/w", Rules: rules(t, []string{"Edit(link/**)", "Edit(real/**)"}, nil, nil)}
	if d := p.Decide(t.Context(), &call); d.Verdict != Allow || d.Rule == "" {
		t.Errorf("allow on both names: %+v", d)
	}
	// "Inside the workspace" is a component test.
	p = &Policy{Mode: AcceptEdits, Workspace: "/proj"}
	if d := p.Decide(t.Context(), &Call{Tool: "Write", Kind: Edit, Writes: []string{"/proj-secrets/a"}}); d.Verdict != Ask {
		t.Errorf("/proj-secrets judged inside /proj: %v", d.Verdict)
	}
	// A NUL byte is refused.
	if d := p.Decide(t.Context(), &Call{Tool: "Read", Kind: Read, Reads: []string{"/proj/a\x00b"}}); d.Verdict != Deny {
		t.Errorf("NUL path: %v", d.Verdict)
	}
}

func TestDecideOrder(t *testing.T) {
	call := Call{Tool: "Edit", Kind: Edit, Writes: []string{"/w/src/a.go"}}
	for _, tt := range []struct {
		name             string
		allow, ask, deny []string
		want             Verdict
		rule             string
	}{
		{"deny beats allow", []string{"Edit(src/**)"}, nil, []string{"Edit(src/a.go)"}, Deny, "Edit(src/a.go)"},
		{"ask beats allow", []string{"Edit(src/a.go)"}, []string{"Edit(src/**)"}, nil, Ask, "Edit(src/**)"},
		{"deny beats ask", nil, []string{"Edit"}, []string{"Edit(**/*.go)"}, Deny, "Edit(**/*.go)"},
		{"allow beats mode", []string{"Edit(src/**)"}, nil, nil, Allow, "Edit(src/**)"},
		{"mode default", nil, nil, nil, Ask, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := &Policy{Mode: Default, Workspace: "/w", Rules: rules(t, tt.allow, tt.ask, tt.deny)}
			d := p.Decide(t.Context(), &call)
			if d.Verdict != tt.want || d.Rule != tt.rule {
				t.Errorf("got %+v, want %v by %q", d, tt.want, tt.rule)
			}
		})
	}
}

func TestDecideModes(t *testing.T) {
	edit := Call{Tool: "Edit", Kind: Edit, Writes: []string{"/w/a.go"}}
	outside := Call{Tool: "Write", Kind: Edit, Writes: []string{"/etc/x"}}
	hook := Call{Tool: "Write", Kind: Edit, Writes: []string{"/w/.git/hooks/pre-commit"}}
	claude := Call{Tool: "Write", Kind: Edit, Writes: []string{"/w/.claude/settings.json"}}
	rc := Call{Tool: "Edit", Kind: Edit, Writes: []string{"/home/u/.bashrc"}}
	cmd := execCall("go test ./...")
	ro := execCall("git status")
	net := execCall("curl https://example.com")
	fetch := Call{Tool: "WebFetch", Kind: Fetch, URLs: []string{"https://go.dev/doc"}}
	for _, tt := range []struct {
		mode      Mode
		sandboxed bool
		call      Call
		want      Verdict
	}{
		{Plan, true, edit, Deny},
		{Plan, true, cmd, Deny},
		{Plan, true, ro, Allow},
		{Default, true, edit, Ask},
		{Default, true, cmd, Ask},
		{Default, true, ro, Allow},
		{AcceptEdits, true, edit, Allow},
		{AcceptEdits, true, outside, Ask},
		{AcceptEdits, true, cmd, Ask},
		{Auto, true, edit, Allow},
		{Auto, true, outside, Ask},
		{Auto, true, cmd, Allow},
		{Auto, false, cmd, Ask},
		{Auto, false, ro, Allow},
		{Auto, true, net, Ask},
		{Auto, true, fetch, Ask},
		{Auto, true, hook, Ask},
		{Auto, true, claude, Ask},
		{Auto, true, rc, Ask},
		{BypassPermissions, false, hook, Allow},
		{BypassPermissions, false, net, Allow},
		{BypassPermissions, false, fetch, Allow},
	} {
		p := &Policy{Mode: tt.mode, Workspace: "/w", Home: "/home/u", Sandboxed: tt.sandboxed}
		c := tt.call
		d := p.Decide(t.Context(), &c)
		if d.Verdict != tt.want {
			t.Errorf("%s (sandboxed %v) %s %v%s: %v (%s), want %v", tt.mode, tt.sandboxed, c.Tool, c.Writes, c.Command, d.Verdict, d.Reason, tt.want)
		}
		if d.Verdict != Allow && d.Reason == "" {
			t.Errorf("%s %s: a refusal must say why", tt.mode, c.Tool)
		}
		if !tt.sandboxed && tt.mode == Auto && c.Kind == Exec && d.Verdict == Ask && !strings.Contains(d.Reason, "sandbox is unavailable") {
			t.Errorf("reason %q does not name the missing sandbox", d.Reason)
		}
	}
}

// An Exec outside bypass runs confined when the executor can confine;
// one asked about for crossing the boundary runs unconfined once
// approved, as does everything without a sandbox.
func TestDecideProfile(t *testing.T) {
	for _, tt := range []struct {
		mode      Mode
		sandboxed bool
		cmd       string
		want      sandbox.Level
	}{
		{Auto, true, "go test ./...", sandbox.WorkspaceWrite},
		{Default, true, "go test ./...", sandbox.WorkspaceWrite},
		{AcceptEdits, true, "git status", sandbox.WorkspaceWrite},
		{Plan, true, "git status", sandbox.ReadOnly},
		{Auto, true, "curl https://x", sandbox.Unconfined},
		{Auto, true, "echo x > /etc/x", sandbox.Unconfined},
		{Auto, false, "go test ./...", sandbox.Unconfined},
		{BypassPermissions, true, "go test ./...", sandbox.Unconfined},
	} {
		p := &Policy{Mode: tt.mode, Workspace: "/w", Sandboxed: tt.sandboxed}
		c := execCall(tt.cmd)
		d := p.Decide(t.Context(), &c)
		if d.Profile.Confine != tt.want || tt.want != sandbox.Unconfined && d.Profile.Workspace != "/w" {
			t.Errorf("%s sandboxed=%v %q: profile %+v, want %v", tt.mode, tt.sandboxed, tt.cmd, d.Profile, tt.want)
		}
	}
}

func TestDecideWebFetchAndMCP(t *testing.T) {
	p := &Policy{Mode: Auto, Workspace: "/w", Sandboxed: true, Rules: rules(t,
		[]string{"WebFetch(domain:go.dev)", "WebFetch(domain:*.example.com)", "mcp__github", "mcp__db__query"},
		nil, []string{"mcp__github__delete_repo"})}
	for _, tt := range []struct {
		call Call
		want Verdict
	}{
		{Call{Tool: "WebFetch", Kind: Fetch, URLs: []string{"https://go.dev/doc"}}, Allow},
		{Call{Tool: "web_fetch", Kind: Fetch, URLs: []string{"https://GO.dev/x"}}, Allow},
		{Call{Tool: "WebFetch", Kind: Fetch, URLs: []string{"https://go.dev.evil.com/"}}, Ask},
		{Call{Tool: "WebFetch", Kind: Fetch, URLs: []string{"https://a.example.com/"}}, Allow},
		{Call{Tool: "WebFetch", Kind: Fetch, URLs: []string{"https://example.com/"}}, Ask},
		{Call{Tool: "WebFetch", Kind: Fetch, URLs: []string{"https://go.dev/", "https://other.org/"}}, Ask},
		{Call{Tool: "mcp__github__create_issue", Kind: Exec}, Allow},
		{Call{Tool: "mcp__github__delete_repo", Kind: Exec}, Deny},
		{Call{Tool: "mcp__githubx__a", Kind: Exec}, Allow}, // auto: the mode allows
		{Call{Tool: "mcp__db__query", Kind: Exec}, Allow},
	} {
		c := tt.call
		if d := p.Decide(t.Context(), &c); d.Verdict != tt.want {
			t.Errorf("%s %v: %v (%s), want %v", c.Tool, c.URLs, d.Verdict, d.Reason, tt.want)
		}
	}
	p = &Policy{Mode: Default, Workspace: p.Workspace, Sandboxed: p.Sandboxed, Rules: p.Rules}
	c := Call{Tool: "mcp__githubx__a", Kind: Exec}
	if d := p.Decide(t.Context(), &c); d.Verdict != Ask {
		t.Errorf("an MCP tool no rule names in default mode: %v", d.Verdict)
	}
}

// TestDecideAgentRules: Task(TYPE) and spawn_agent(TYPE) rules decide
// the calls that start a subagent of that type, whatever the case of
// its name and in either dialect; a rule without a type, every such
// call; rules of one type leave the others to the mode.
func TestDecideAgentRules(t *testing.T) {
	task := func(tool, agent string, kind Kind) Call { return Call{Tool: tool, Kind: kind, Dir: "/w", Agent: agent} }
	for _, tt := range []struct {
		name             string
		mode             Mode
		allow, ask, deny []string
		call             Call
		want             Verdict
	}{
		{"deny a read-only type", Auto, nil, nil, []string{"Task(explore)"}, task("Task", "explore", Read), Deny},
		{"the type's case", Auto, nil, nil, []string{"Task(Explore)"}, task("Task", "explore", Read), Deny},
		{"Task rules govern spawn_agent", Auto, nil, nil, []string{"Task(explore)"}, task("spawn_agent", "explore", Read), Deny},
		{"another type", Auto, nil, nil, []string{"Task(explore)"}, task("Task", "general", Read), Allow},
		{"allow a writing type", Default, []string{"Task(fixer)"}, nil, nil, task("Task", "fixer", Exec), Allow},
		{"allow of another type", Default, []string{"Task(fixer)"}, nil, nil, task("Task", "other", Exec), Ask},
		{"ask", Auto, nil, []string{"spawn_agent(fixer)"}, nil, task("Task", "fixer", Exec), Ask},
		{"every type", Auto, nil, nil, []string{"Task"}, task("spawn_agent", "explore", Read), Deny},
		{"deny wins over allow", Default, []string{"Task"}, nil, []string{"Task(fixer)"}, task("Task", "fixer", Exec), Deny},
		{"no agent, no match", Auto, nil, nil, []string{"Task(explore)"}, task("Task", "", Read), Allow},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := &Policy{Mode: tt.mode, Workspace: "/w", Sandboxed: true, Rules: rules(t, tt.allow, tt.ask, tt.deny)}
			c := tt.call
			if d := p.Decide(t.Context(), &c); d.Verdict != tt.want {
				t.Errorf("%s of %q: %v (%s), want %v", c.Tool, c.Agent, d.Verdict, d.Reason, tt.want)
			}
		})
	}
}

func TestNarrowest(t *testing.T) {
	p := &Policy{Mode: Default, Workspace: "/w", Home: "/home/u"}
	for _, tt := range []struct {
		call Call
		want []string
	}{
		{execCall("npm run test"), []string{"Bash(npm run test)"}},
		{execCall("timeout 60 npm test && git status"), []string{"Bash(npm test)", "Bash(git status)"}},
		{execCall("go test > out.txt"), []string{"Bash(go test)", "Edit(./out.txt)"}},
		{execCall("echo $(id)"), nil},
		{execCall("lls| \f"), nil}, // found by FuzzDecideCommand
		{Call{Tool: "Edit", Kind: Edit, Writes: []string{"/w/src/a.go"}}, []string{"Edit(src/a.go)"}},
		{Call{Tool: "Write", Kind: Edit, Writes: []string{"/w/a[1].go"}}, []string{`Edit(./a\[1\].go)`}},
		{Call{Tool: "Read", Kind: Read, Reads: []string{"/home/u/notes"}}, []string{"Read(~/notes)"}},
		{Call{Tool: "Edit", Kind: Edit, Writes: []string{"/etc/hosts"}}, []string{"Edit(//etc/hosts)"}},
		{Call{Tool: "WebFetch", Kind: Fetch, URLs: []string{"https://Go.dev/x"}}, []string{"WebFetch(domain:go.dev)"}},
		{Call{Tool: "mcp__s__t", Kind: Exec}, []string{"mcp__s__t"}},
		{Call{Tool: "Task", Kind: Exec, Dir: "/w", Agent: "reviewer"}, []string{"Task(reviewer)"}},
	} {
		c := tt.call
		got := p.Narrowest(&c)
		if !slices.Equal(got, tt.want) {
			t.Errorf("Narrowest(%s %q %v) = %q, want %q", c.Tool, c.Command, c.Writes, got, tt.want)
			continue
		}
		// Each rule parses, and together they allow the call.
		q := &Policy{Mode: Default, Workspace: "/w", Home: "/home/u", Rules: rules(t, got, nil, nil)}
		if d := q.Decide(t.Context(), &c); len(got) > 0 && !strings.HasPrefix(c.Tool, "mcp") && d.Verdict != Allow && c.Kind != Fetch {
			t.Errorf("the rules %q do not allow the call: %v (%s)", got, d.Verdict, d.Reason)
		}
	}
}

func execCall(cmd string) Call {
	return Call{Tool: "Bash", Kind: Exec, Dir: "/w", Command: cmd, Script: ParseCommand(cmd)}
}

// Credential stores and dotenv files are denied by default, key files
// asked about, through the file tools by either name; an allow rule that
// names the file overrides the default, and bypassPermissions has none.
func TestDecideSecrets(t *testing.T) {
	w := t.TempDir()
	if err := os.WriteFile(filepath.Join(w, ".env"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(".env", filepath.Join(w, "notes")); err != nil {
		t.Fatal(err)
	}
	read := func(lexical, resolved string) Call {
		return Call{Tool: "Read", Kind: Read, Reads: []string{resolved}, LexicalReads: []string{lexical}}
	}
	for _, tt := range []struct {
		name  string
		mode  Mode
		allow []string
		call  Call
		want  Verdict
	}{
		{"ssh key", Auto, nil, read("/home/u/.ssh/id_ed25519", "/home/u/.ssh/id_ed25519"), Deny},
		{"aws", Default, nil, read("/home/u/.aws/credentials", "/home/u/.aws/credentials"), Deny},
		{"netrc", AcceptEdits, nil, read("/home/u/.netrc", "/home/u/.netrc"), Deny},
		{"dotenv", Auto, nil, read(w+"/.env", w+"/.env"), Deny},
		{"dotenv local", Auto, nil, read(w+"/sub/.env.local", w+"/sub/.env.local"), Deny},
		{"link to dotenv", Auto, nil, read(w+"/notes", w+"/notes"), Deny},
		{"pem", Auto, nil, read(w+"/certs/server.pem", w+"/certs/server.pem"), Ask},
		{"id_rsa in workspace", Auto, nil, read(w+"/id_rsa", w+"/id_rsa"), Ask},
		{"template", Auto, nil, read(w+"/.env.example", w+"/.env.example"), Allow},
		{"ordinary", Auto, nil, read(w+"/main.go", w+"/main.go"), Allow},
		{"allowed by name", Auto, []string{"Read(./.env)"}, read(w+"/.env", w+"/.env"), Allow},
		{"Grep in a credential store", Auto, nil, Call{Tool: "Grep", Kind: Read, Reads: []string{"/home/u/.aws"}}, Deny},
		{"read_file too", Auto, nil, Call{Tool: "read_file", Kind: Read, Reads: []string{w + "/.env"}}, Deny},
		{"bypass", BypassPermissions, nil, read(w+"/.env", w+"/.env"), Allow},
	} {
		p := &Policy{Mode: tt.mode, Workspace: w, Home: "/home/u", Sandboxed: true, Rules: rules(t, tt.allow, nil, nil)}
		c := tt.call
		if d := p.Decide(t.Context(), &c); d.Verdict != tt.want {
			t.Errorf("%s: %v (%s), want %v", tt.name, d.Verdict, d.Reason, tt.want)
		}
	}
}

// A confined command reaches, through the proxy, the hosts WebFetch allow
// rules name, but not a pattern a deny or ask rule carves a host out of;
// curl to such a host runs unasked in auto mode, curl elsewhere asks.
func TestDecideDomains(t *testing.T) {
	p := &Policy{Mode: Auto, Workspace: "/w", Sandboxed: true, Network: true, Rules: rules(t,
		[]string{"WebFetch(domain:go.dev)", "WebFetch(domain:*.example.com)", "WebFetch(domain:proxy.golang.org)"},
		[]string{"WebFetch(domain:evil.example.com)"}, nil)}
	c := execCall("go test ./...")
	d := p.Decide(t.Context(), &c)
	if !slices.Equal(d.Profile.AllowDomains, []string{"go.dev", "proxy.golang.org"}) {
		t.Errorf("AllowDomains = %q", d.Profile.AllowDomains)
	}
	for cmd, want := range map[string]Verdict{
		"curl -fsSL https://go.dev/dl/":           Allow,
		"curl https://go.dev/ https://x.org/":     Ask,
		"curl https://a.example.com/":             Ask,
		"wget -q https://proxy.golang.org/x -O x": Allow,
		"git push":  Ask,
		"curl $URL": Ask,
	} {
		c := execCall(cmd)
		got := p.Decide(t.Context(), &c)
		if got.Verdict != want {
			t.Errorf("%q = %v (%s), want %v", cmd, got.Verdict, got.Reason, want)
		}
	}
	// Without a proxy to route them through, no command has network.
	p = &Policy{Mode: p.Mode, Workspace: p.Workspace, Sandboxed: p.Sandboxed, Rules: p.Rules}
	c = execCall("curl -fsSL https://go.dev/dl/")
	if d := p.Decide(t.Context(), &c); d.Verdict != Ask || d.Profile.AllowDomains != nil {
		t.Errorf("without a proxy: %v, %q", d.Verdict, d.Profile.AllowDomains)
	}
}
