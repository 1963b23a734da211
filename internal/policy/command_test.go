package policy

import (
	"os"
	"path/filepath"
	"testing"
)

// cmdCase is one command line of a bypass family: a blocked case, or a
// benign look-alike that stays allowed.
type cmdCase struct {
	family string
	cmd    string
	want   Verdict
	mode   Mode // Default unless set
}

// The rules every case is judged under: deny rules the bypasses try to
// get past, and allow rules broad enough that only the matcher's care
// keeps them from allowing what runs unseen code.
var (
	caseDeny  = []string{"Bash(git push:*)", "Bash(rm -rf:*)", "Edit(secret/**)"}
	caseAllow = []string{"Bash(npm test)", "Bash(echo:*)", "Bash(git:*)", "Bash(find:*)", "Bash(source:*)",
		"Bash(eval:*)", "Bash(bash:*)", "Bash(sh:*)", "Bash(xargs:*)", "Bash(sudo:*)", "Bash(diff:*)", "Bash(make test)"}
)

var cmdCases = []cmdCase{
	{"list", "git status && git push", Deny, ""},
	{"list", "git status || git push origin main", Deny, ""},
	{"list", "npm test | git push", Deny, ""},
	{"list", "npm test; git push &", Deny, ""},
	{"list", "git status; git log", Allow, ""},
	{"list", "npm test && git status", Allow, ""},
	{"list", "npm test && make", Ask, ""},

	{"compound", "(git push)", Deny, ""},
	{"compound", "{ git push; }", Deny, ""},
	{"compound", "if true; then git push; fi", Deny, ""},
	{"compound", "while false; do git push; done", Deny, ""},
	{"compound", "for x in a; do git push; done", Deny, ""},
	{"compound", "case x in x) git push;; esac", Deny, ""},
	{"compound", "! git push", Deny, ""},
	{"compound", "(npm test)", Allow, ""},
	{"compound", "{ npm test; }", Allow, ""},
	{"compound", "if npm test; then echo ok; fi", Allow, ""},
	{"compound", "for f in a b; do echo $f; done", Ask, ""},

	{"function", "f() { git push; }; f", Deny, ""},
	{"function", "function f { rm -rf /; }", Deny, ""},
	{"function", "f() { echo hi; }; f", Ask, ""},
	{"function", "echo 'f() { git push; }'", Allow, ""},

	{"substitution", "echo $(git push)", Deny, ""},
	{"substitution", "echo `git push`", Deny, ""},
	{"substitution", `echo "$(git push)"`, Deny, ""},
	{"substitution", `echo "${x:-$(git push)}"`, Deny, ""},
	{"substitution", "echo $(date)", Ask, ""},
	{"substitution", "echo '$(git push)'", Allow, ""},
	{"substitution", `echo "\$(git push)"`, Allow, ""},

	{"process substitution", "cat <(git push)", Deny, ""},
	{"process substitution", "diff <(ls) <(ls -a)", Ask, ""},
	{"process substitution", "diff a b", Allow, ""},

	{"assignment", "X=$(git push)", Deny, ""},
	{"assignment", "X=1 npm test", Allow, ""},
	{"assignment", "LD_PRELOAD=/tmp/x.so npm test", Ask, ""},
	{"assignment", "PATH=/tmp/evil:$PATH npm test", Ask, ""},
	{"assignment", "GIT_SSH_COMMAND=x git status", Ask, ""},
	{"assignment", "BASH_ENV=/tmp/x npm test", Ask, ""},
	{"assignment", "export BASH_ENV=/tmp/x", Ask, ""},
	{"assignment", "env LD_PRELOAD=x npm test", Ask, ""},
	{"assignment", "CI=1 FOO=bar npm test", Allow, ""},

	{"redirection", "echo x > /etc/passwd", Ask, AcceptEdits},
	{"redirection", "echo x > $(git push)", Deny, ""},
	{"redirection", "echo x >> .git/hooks/pre-commit", Ask, AcceptEdits},
	{"redirection", "echo x >> .git/hooks/pre-commit", Ask, Auto},
	{"redirection", "echo x > secret/a", Deny, AcceptEdits},
	{"redirection", "echo x > $OUT", Ask, AcceptEdits},
	{"redirection", "echo x > out.txt", Ask, ""},
	{"redirection", "echo x > out.txt", Allow, AcceptEdits},
	{"redirection", "npm test > /dev/null 2>&1", Allow, ""},
	{"redirection", "npm test 2>&1 >&2", Allow, ""},
	{"redirection", "echo x >&3", Allow, ""},

	{"heredoc", "cat <<EOF\n$(git push)\nEOF", Deny, ""},
	{"heredoc", "cat <<EOF\n`rm -rf /`\nEOF", Deny, ""},
	{"heredoc", "cat <<'EOF'\n$(git push)\nEOF", Allow, ""},
	{"heredoc", "cat <<EOF\nhello\nEOF", Allow, ""},
	{"heredoc", "cat <<< \"$(git push)\"", Deny, ""},

	{"eval", "eval 'git push'", Deny, ""},
	{"eval", "eval git push origin", Deny, ""},
	{"eval", "eval ls", Ask, ""},
	{"eval", `eval "$X"`, Ask, ""},
	{"eval", "trap 'git push' EXIT", Deny, ""},
	{"eval", "echo eval", Allow, ""},

	{"shell -c", "bash -c 'git push'", Deny, ""},
	{"shell -c", `sh -c "git push origin"`, Deny, ""},
	{"shell -c", "bash -lc 'npm test && git push'", Deny, ""},
	{"shell -c", "/bin/sh -c 'git push'", Deny, ""},
	{"shell -c", "bash -c \"bash -c 'git push'\"", Deny, ""},
	{"shell -c", "bash -c 'npm test'", Ask, ""},
	{"shell -c", "bash script.sh", Ask, ""},
	{"shell -c", "echo bash -c x", Allow, ""},

	{"source", "source ./env.sh", Ask, ""},
	{"source", ". ./env.sh && npm test", Ask, ""},
	{"source", "echo source", Allow, ""},

	{"xargs", "echo main | xargs git push", Deny, ""},
	{"xargs", "ls | xargs -n1 git", Ask, ""},
	{"xargs", "ls | xargs echo", Ask, ""},
	{"xargs", "ls | xargs  xargs ", Ask, ""}, // a fuzz crasher: the inner xargs runs a program named at run time
	{"xargs", "ls | wc -l", Allow, ""},

	{"find -exec", `find . -exec git push \;`, Deny, ""},
	{"find -exec", "find . -name '*.go' -exec rm -rf {} +", Deny, ""},
	{"find -exec", `find . -exec cat {} \;`, Ask, ""},
	{"find -exec", "find . -execdir git push {} +", Deny, ""},
	{"find -exec", "find . -name '*.go' -type f", Allow, ""},

	{"dynamic name", "$CMD push", Ask, ""},
	{"dynamic name", `"$(echo git)" push`, Ask, ""},
	{"dynamic name", "$'git' push", Ask, ""},
	{"dynamic name", "git status", Allow, ""},

	{"wrapper", "env X=1 git push", Deny, ""},
	{"wrapper", "env -i git push", Deny, ""},
	{"wrapper", "timeout 5 git push", Deny, ""},
	{"wrapper", "timeout -s KILL 5 git push", Deny, ""},
	{"wrapper", "nice -n 10 git push", Deny, ""},
	{"wrapper", "nohup git push", Deny, ""},
	{"wrapper", "command git push", Deny, ""},
	{"wrapper", "builtin git push", Deny, ""},
	{"wrapper", "time git push", Deny, ""},
	{"wrapper", "exec git push", Deny, ""},
	{"wrapper", "stdbuf -oL git push", Deny, ""},
	{"wrapper", "sudo -u root git push", Deny, ""},
	{"wrapper", "timeout 5 env X=1 nice git push", Deny, ""},
	{"wrapper", "timeout 60 npm test", Allow, ""},
	{"wrapper", "env CI=1 npm test", Allow, ""},
	{"wrapper", "nice npm test", Allow, ""},
	{"wrapper", "time npm test", Allow, ""},
	{"wrapper", "command -v git", Allow, ""},
	{"wrapper", "sudo npm test", Ask, ""},
	{"wrapper", "./timeout 5 npm test", Ask, ""},

	{"quoting", `\git push`, Deny, ""},
	{"quoting", `"git" push`, Deny, ""},
	{"quoting", `g'i't pu"sh"`, Deny, ""},
	{"quoting", `git\ push`, Deny, ""}, // no such program; denied all the same
	{"quoting", `git "push"`, Deny, ""},
	{"quoting", `git 'status'`, Allow, ""},

	{"program path", "/usr/bin/git push", Deny, ""},
	{"program path", "./git push", Deny, ""},
	{"program path", "/usr/bin/git status", Allow, ""},
	{"program path", "./git status", Ask, ""},

	{"git options", "git -C . push", Deny, ""},
	{"git options", "git -c x=y push", Deny, ""},
	{"git options", "git --git-dir=.git push", Deny, ""},
	{"git options", "git --work-tree . push", Deny, ""},
	{"git options", "git --no-pager push", Deny, ""},
	{"git options", "git -c core.fsmonitor=evil status", Ask, ""},
	{"git options", "git -c core.pager=evil log", Ask, ""},
	{"git options", "git -p log", Ask, ""},
	{"git options", "git --exec-path=/tmp status", Ask, ""},
	{"git options", "git --config-env=core.pager=X log", Ask, ""},
	{"git options", "git -C sub status", Ask, ""},
	{"git options", "git --no-pager log", Allow, ""},
	{"git subcommand", "git rebase -x 'git push' main", Deny, ""},
	{"git subcommand", "git submodule foreach git push", Deny, ""},
	{"git subcommand", "git bisect run sh -c 'rm -rf /'", Deny, ""},
	{"git subcommand", "git rebase -x make main", Ask, ""},
	{"git subcommand", "git diff --ext-diff", Ask, ""},
	{"git subcommand", "git grep -Ovim foo", Ask, ""},
	{"git subcommand", "git difftool HEAD", Ask, ""},
	{"git subcommand", "git rebase main", Allow, ""},
	{"git options", "git -c alias.p=push p", Ask, Auto},
	{"git options", "git --no-pager log", Allow, Auto},
	{"interpreter", `python3 -c "import os; os.system('git push')"`, Ask, Auto},
	{"interpreter", `node -e "require('child_process').execSync('git push')"`, Ask, Auto},
	{"interpreter", `perl -ne 'print' a`, Ask, Auto},
	{"interpreter", `awk '{system("git push")}' a`, Ask, Auto},
	{"interpreter", "python3 manage.py test", Allow, Auto},
	{"interpreter", "node build.js", Allow, Auto},
	{"interpreter", `awk '{ print $1 | "sh" }' a`, Ask, Auto},
	{"interpreter", `awk '{ print $1 }' a`, Allow, Auto},
	{"wrapper", "env -S 'git push'", Ask, Auto},
	{"wrapper", "env CI=1 go test ./...", Allow, Auto},
	{"git subcommand", "git submodule status", Allow, ""},
	{"git options", "git log --oneline", Allow, ""},

	{"look-alike", "gіt push", Ask, ""}, // Cyrillic і: another program, unknown
	{"look-alike", "ｇｉｔ status", Ask, ""},
	{"look-alike", "git status", Allow, ""},

	{"parse failure", "echo 'unterminated", Ask, ""},
	{"parse failure", "echo ok", Allow, ""},

	{"brace expansion", "rm {-rf,/}", Ask, Auto},
	{"brace expansion", "echo {a,b}", Ask, ""},
	{"brace expansion", "echo '{a,b}'", Allow, ""},
	{"brace expansion", "rm -f a.o", Allow, Auto},

	{"cd", "cd /etc && echo x > passwd", Ask, AcceptEdits},
	{"cd", "(cd sub); echo x > ../x", Ask, AcceptEdits},
	{"cd", "cd $D && echo x > y", Ask, AcceptEdits},
	{"cd", "cd sub && echo x > out", Allow, AcceptEdits},

	{"secret", "cat ~/.ssh/id_rsa", Deny, ""},
	{"secret", "cat /home/u/.aws/credentials", Deny, BypassPermissions + "x"},
	{"secret", "cat .env", Deny, ""},
	{"secret", "cat < .env", Deny, ""},
	{"secret", "grep -r KEY ~/.aws", Deny, ""},
	{"secret", "cd ~/.ssh && cat id_rsa", Deny, ""},
	{"secret", "cat sub/.env.local", Deny, Auto},
	{"secret", "rg --file=.env x", Deny, ""},
	{"secret", "cat server.key", Ask, Auto},
	{"secret", "cat .env.example", Allow, ""},
	{"secret", "cat ~/.ssh/id_rsa.pub", Deny, ""},
	{"secret", "cat ~/notes.txt", Allow, ""},
	{"secret", "cat README.md", Allow, ""},

	{"auto", "go test ./...", Allow, Auto},
	{"auto", "curl https://example.com", Ask, Auto},
	{"auto", "git push", Deny, Auto},
	{"auto", "eval \"$X\"", Ask, Auto},
	{"auto", "make && ./bin/app", Allow, Auto},
}

func TestDecideCommandFamilies(t *testing.T) {
	counts := map[string][2]int{}
	for _, tt := range cmdCases {
		mode := tt.mode
		switch mode {
		case "":
			mode = Default
		case BypassPermissions + "x":
			mode = AcceptEdits
		}
		p := &Policy{Mode: mode, Workspace: "/w", Home: "/home/u", Sandboxed: true, Rules: rules(t, caseAllow, nil, caseDeny)}
		c := execCall(tt.cmd)
		d := p.Decide(t.Context(), &c)
		if d.Verdict != tt.want {
			t.Errorf("%s: %s %q = %v (%s), want %v", tt.family, mode, tt.cmd, d.Verdict, d.Reason, tt.want)
		}
		if d.Verdict != Allow && d.Reason == "" {
			t.Errorf("%s: %q: a refusal must say why", tt.family, tt.cmd)
		}
		n := counts[tt.family]
		if tt.want == Allow {
			n[1]++
		} else {
			n[0]++
		}
		counts[tt.family] = n
	}
	for fam, n := range counts {
		if n[0] == 0 || n[1] == 0 {
			t.Errorf("family %s has %d blocked and %d benign cases, want both", fam, n[0], n[1])
		}
		t.Logf("%-22s %2d blocked %2d benign", fam, n[0], n[1])
	}
}

// A glob is judged as what it expands to: "git pu*" is git push where a
// file of that name exists, and "rg *" runs rg --pre when a file is
// named so.
func TestDecideCommandGlobs(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"push", "--pre=sh", ".env", "a.go"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := &Policy{Mode: Default, Workspace: dir, Sandboxed: true, Rules: rules(t, caseAllow, nil, caseDeny)}
	for cmd, want := range map[string]Verdict{
		"git pu*":   Deny,
		"git pu?h":  Deny,
		"rg x *":    Ask,
		"cat .e*":   Deny,
		"ls *.go":   Allow,
		"cat *":     Ask,   // --pre=sh is an option to cat
		"git pu'*'": Allow, // a literal argument
	} {
		c := Call{Tool: "Bash", Kind: Exec, Dir: dir, Command: cmd, Script: ParseCommand(cmd)}
		if d := p.Decide(t.Context(), &c); d.Verdict != want {
			t.Errorf("%q = %v (%s), want %v", cmd, d.Verdict, d.Reason, want)
		}
	}
}

// Codex's shell tool is judged like Bash, its bash -lc wrapper unwrapped
// by the tool; the rules that name Bash govern it.
func TestDecideShellTool(t *testing.T) {
	p := &Policy{Mode: Default, Workspace: "/w", Sandboxed: true, Rules: rules(t, []string{"Bash(npm test)"}, nil, []string{"Bash(git push:*)"})}
	for cmd, want := range map[string]Verdict{"npm test": Allow, "git push": Deny, "ls -la": Allow, "make": Ask} {
		c := Call{Tool: "shell", Kind: Exec, Dir: "/w", Command: cmd, Script: ParseCommand(cmd)}
		if d := p.Decide(t.Context(), &c); d.Verdict != want {
			t.Errorf("shell %q = %v (%s), want %v", cmd, d.Verdict, d.Reason, want)
		}
	}
}

// A Bash specifier is matched on the words it spells, quotes removed, as
// the command is.
func TestMatchCommandQuotes(t *testing.T) {
	for _, tt := range []struct {
		spec, cmd string
		want      bool
	}{
		{`git commit -m "fix it"`, `git commit -m 'fix it'`, true},
		{`git commit -m "fix it"`, `git commit -m fix`, false},
		{`grep 'a b' *`, `grep "a b" x.go`, true},
		{`npm  run   test`, `npm run test`, true},
		{`echo "it's":*`, `echo "it's" now`, true},
		{`git push:*`, `git push origin`, true},
		{`git push:*`, `git pushx`, false},
		{`npm run test *`, `npm run test`, true},
		{`npm run test *`, `npm run testing`, false},
		{`rm \*`, `rm '*'`, true},
		{`rm \*`, `rm a`, false},
	} {
		p := &Policy{Mode: Default, Workspace: "/w", Rules: rules(t, []string{"Bash(" + tt.spec + ")"}, nil, nil)}
		c := execCall(tt.cmd)
		if got := p.Decide(t.Context(), &c).Verdict == Allow; got != tt.want {
			t.Errorf("Bash(%s) on %s: allowed %v, want %v", tt.spec, tt.cmd, got, tt.want)
		}
	}
}
