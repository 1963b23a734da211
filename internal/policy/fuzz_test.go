package policy

import (
	"strings"
	"testing"
)

// FuzzParseRule checks that any text parses or fails without panicking,
// and that a rule parsed reads back as itself.
func FuzzParseRule(f *testing.F) {
	for _, s := range append(append(append([]string{}, caseAllow...), caseDeny...),
		"Bash", "Bash(npm run test:*)", "Bash(git * main)", "Read(~/.ssh/**)", "Edit(//etc/x)", "Write(/docs/*.md)",
		"Read(./.env)", "WebFetch(domain:*.go.dev)", "mcp__s", "mcp__s__t", "mcp__s__*", "Bash(", "Bash()", "Read([)",
		"Bash(a:*b)", "Edit(!x)", "Read(~bob)", "Task(Explore)") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		r, err := ParseRule(text)
		if err != nil {
			return
		}
		back, err := ParseRule(r.String())
		if err != nil || back.Tool != r.Tool || back.Specifier != r.Specifier {
			t.Fatalf("%q parsed as %+v reads back as %+v, %v", text, r, back, err)
		}
		_ = r.Inert()
		// A parsed rule can be matched without panicking.
		p := &Policy{Mode: Default, Workspace: "/w", Home: "/home/u", Rules: Rules{Deny: []Rule{r}}}
		for _, c := range []Call{execCall("git push && ls a"), {Tool: "Read", Kind: Read, Reads: []string{"/w/a"}},
			{Tool: "Edit", Kind: Edit, Writes: []string{"/w/a"}}, {Tool: "WebFetch", Kind: Fetch, URLs: []string{"https://x.org"}}} {
			p.Decide(t.Context(), &c)
		}
	})
}

// FuzzDecideCommand checks that no command line makes the matcher panic,
// and that nothing after a denied command gets it allowed: every line
// that begins with git push and parses is denied.
func FuzzDecideCommand(f *testing.F) {
	for _, c := range cmdCases {
		f.Add(c.cmd)
	}
	f.Fuzz(func(t *testing.T, cmd string) {
		p := &Policy{Mode: Auto, Workspace: "/w", Home: "/home/u", Sandboxed: true, Rules: rules(t, caseAllow, nil, caseDeny)}
		c := execCall(cmd)
		d := p.Decide(t.Context(), &c)
		if d.Verdict != Allow && d.Reason == "" {
			t.Fatalf("%q: %v without a reason", cmd, d.Verdict)
		}
		ReadOnly(&c)
		for _, r := range p.Narrowest(&c) {
			if _, err := ParseRule(r); err != nil {
				t.Fatalf("%q: Narrowest gave %q: %v", cmd, r, err)
			}
		}
		line := "git push; " + cmd
		if strings.ContainsRune(cmd, 0) {
			return
		}
		lc := execCall(line)
		if lc.Script == nil {
			return
		}
		if d := p.Decide(t.Context(), &lc); d.Verdict != Deny {
			t.Fatalf("%q = %v (%s), want Deny", line, d.Verdict, d.Reason)
		}
	})
}

// BenchmarkDecideCommand times a decision on a typical command line
// under a typical set of rules.
func BenchmarkDecideCommand(b *testing.B) {
	w := b.TempDir()
	p := &Policy{Mode: Auto, Workspace: w, Home: b.TempDir(), Sandboxed: true, Rules: rules(b,
		[]string{"Bash(npm run test:*)", "Bash(go test:*)", "Bash(make test)", "Edit(src/**)", "WebFetch(domain:go.dev)"},
		[]string{"Bash(git commit:*)"},
		[]string{"Bash(git push:*)", "Bash(rm -rf:*)", "Read(./secrets/**)", "Bash(curl:*)"})}
	cmd := "cd " + w + " && go test -race ./internal/... 2>&1 | tail -n 50 && git status --short"
	b.ReportAllocs()
	for b.Loop() {
		c := Call{Tool: "Bash", Kind: Exec, Dir: w, Command: cmd, Script: ParseCommand(cmd)}
		if d := p.Decide(b.Context(), &c); d.Verdict != Allow {
			b.Fatalf("%v: %s", d.Verdict, d.Reason)
		}
	}
}
