package policy

import (
	"path/filepath"
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// A command line is judged on its parsed form: every simple command in it,
// wherever it appears (lists, pipelines, subshells, compound commands,
// function bodies, substitutions, here-documents), must be allowed for
// the line to be; what it writes through redirections is judged as an
// edit of those paths; and what can run code that no rule saw is never
// allowed by an allow rule or the read-only set, though deny and ask
// rules still see into whatever can be seen.

// script is what the rules see of a command line.
type script struct {
	cmds []command
	// writes and reads are the paths redirections write and read,
	// absolute and clean; a target known only at run time is "".
	writes, reads []string
	// opaque says why the line as a whole can run code no rule sees
	// (a command substitution, a function definition), or is "".
	opaque string
	// dirs are the directories relative paths may be taken from: the
	// call's, and every directory a cd names; "" stands for one known
	// only at run time.
	dirs []string
}

// command is one simple command, wrappers seen through.
type command struct {
	// args are its words, quotes removed, tildes and globs expanded,
	// from the program on (after env, timeout, nice, command, …).
	args []string
	// forms are the texts deny and ask rules are matched against: the
	// command as run, and as written with its wrappers, and git's
	// without its global options.
	forms []string
	// allow is the text allow rules are matched against.
	allow string
	// wild is whether a wildcard allow rule may cover it: not when it
	// has options that make the program run other code (git -c).
	wild bool
	// opaque says why no allow rule may allow it, or is "".
	opaque string
	// unseen is set when part of what it runs is not visible at all
	// (eval "$x", a command name from a variable), so deny rules may
	// not have seen it.
	unseen bool
	// dynamic is set when some of its arguments are known only at run
	// time (a variable, brace expansion, xargs's input): a deny rule for
	// its program may match what runs though it matches no form.
	dynamic bool
	// paths are the words that may name files it reads or writes.
	paths []string
	// span is where the command is in the line: the byte offsets of its
	// text, or of the text of the command that runs it (bash -c, xargs)
	// for one of a script run in turn.
	span [2]int
}

// maxDepth bounds how deep bash -c and eval scripts are looked into.
const maxDepth = 8

// analyze parses the command line cmd (f is its parse) run in dir, with
// home for "~".
func analyze(f *syntax.File, dir, home string) *script {
	s := &script{dirs: []string{dir}}
	a := analyzer{s: s, dir: dir, home: home}
	a.file(f, 0)
	return s
}

type analyzer struct {
	s         *script
	dir, home string
	// span is that of the command of the line being looked into.
	span [2]int
}

// spanOf is the byte offsets of n's text in the line.
func spanOf(n syntax.Node) [2]int {
	return [2]int{int(n.Pos().Offset()), int(n.End().Offset())}
}

func (a *analyzer) lineOpaque(why string) {
	if a.s.opaque == "" {
		a.s.opaque = why
	}
}

func (a *analyzer) file(f *syntax.File, depth int) {
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.CallExpr:
			if depth == 0 {
				a.span = spanOf(n)
			}
			a.call(n.Assigns, n.Args, depth)
		case *syntax.DeclClause:
			if depth == 0 {
				a.span = spanOf(n)
			}
			a.decl(n)
		case *syntax.Redirect:
			a.redirect(n)
		case *syntax.CmdSubst:
			a.lineOpaque("it runs a command substitution")
		case *syntax.ProcSubst:
			a.lineOpaque("it runs a process substitution")
		case *syntax.FuncDecl:
			a.lineOpaque("it defines a function")
		case *syntax.CoprocClause:
			a.lineOpaque("it starts a coprocess")
		case *syntax.ArithmCmd, *syntax.LetClause:
			// Bash evaluates variables in arithmetic recursively,
			// array subscripts and command substitutions included.
			a.lineOpaque("it evaluates arithmetic")
		case *syntax.ForClause:
			if n.Select {
				a.lineOpaque("it reads a selection from the terminal")
			}
		}
		return true
	})
}

// decl judges export, declare, local, readonly and typeset, whose
// assignments can set what later commands load.
func (a *analyzer) decl(d *syntax.DeclClause) {
	c := command{args: []string{d.Variant.Value}, wild: true, span: a.span}
	for _, as := range d.Args {
		if as.Name != nil && dangerousVar(as.Name.Value) {
			c.opaque = "it sets " + as.Name.Value
		}
		if as.Naked && as.Name == nil && as.Value != nil {
			w, kind := a.word(as.Value)
			if kind != wordLiteral {
				c.opaque = "it declares a name known only at run time"
			}
			c.args = append(c.args, w)
			continue
		}
		if as.Name != nil {
			c.args = append(c.args, as.Name.Value)
		}
	}
	c.finish("")
	a.s.cmds = append(a.s.cmds, c)
}

func (a *analyzer) redirect(r *syntax.Redirect) {
	var target *[]string
	switch r.Op {
	case syntax.RdrOut, syntax.AppOut, syntax.RdrInOut, syntax.RdrClob, syntax.AppClob,
		syntax.RdrAll, syntax.RdrAllClob, syntax.AppAll, syntax.AppAllClob:
		target = &a.s.writes
	case syntax.DplOut, syntax.DplIn:
		// >&2, <&0 and >&- duplicate or close descriptors; >&file
		// (bash's &> spelled otherwise) writes a file.
		if w, kind := a.word(r.Word); kind == wordLiteral && (w == "-" || isDigits(w)) {
			return
		}
		target = &a.s.writes
	case syntax.RdrIn:
		target = &a.s.reads
	default:
		// Here-documents and here-strings: their words are walked, and a
		// substitution in an unquoted one is seen there.
		return
	}
	w, kind := a.word(r.Word)
	if kind != wordLiteral {
		*target = append(*target, "")
		return
	}
	*target = append(*target, a.paths(w)...)
}

// paths names the files a path word w may denote: from every directory
// the line may be in when w is relative; "" when one of those is unknown.
func (a *analyzer) paths(w string) []string {
	if w == "" {
		return nil
	}
	if filepath.IsAbs(w) {
		return []string{filepath.Clean(w)}
	}
	var out []string
	for _, d := range a.s.dirs {
		if d == "" {
			out = append(out, "")
			continue
		}
		out = append(out, filepath.Join(d, w))
	}
	return out
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// call judges one simple command: its leading assignments, the wrappers
// it runs through and the program it names.
func (a *analyzer) call(assigns []*syntax.Assign, words []*syntax.Word, depth int) {
	c := command{wild: true, span: a.span}
	for _, as := range assigns {
		if as.Name != nil && dangerousVar(as.Name.Value) {
			c.opaque = "it sets " + as.Name.Value + " for the command"
		}
	}
	if len(words) == 0 {
		if c.opaque != "" {
			c.args = []string{"="}
			c.finish("")
			a.s.cmds = append(a.s.cmds, c)
		}
		return
	}
	args := make([]string, 0, len(words))
	for i, w := range words {
		v, kind := a.word(w)
		switch kind {
		case wordDynamic:
			if i == 0 {
				c.opaque, c.unseen = "its command name is known only at run time", true
			} else if c.opaque == "" {
				c.opaque = "an argument is known only at run time"
			}
			c.dynamic = true
			args = append(args, v)
		case wordGlob:
			if i == 0 {
				c.opaque, c.unseen = "its command name is a pattern", true
				args = append(args, v)
				continue
			}
			args = append(args, a.glob(v)...)
		default:
			args = append(args, v)
		}
	}
	written := strings.Join(args, " ")
	a.command(&c, args, written, depth)
}

// command finishes judging c, whose words are args, and records it with
// the commands it runs in turn.
func (a *analyzer) command(c *command, args []string, written string, depth int) {
	args, inner, why := unwrap(args, c)
	if why != "" && c.opaque == "" {
		c.opaque = why
	}
	c.args = args
	c.finish(written)
	if len(args) > 0 {
		a.special(c, depth)
		if args[0] == "cd" || args[0] == "pushd" {
			a.cd(args[1:])
		}
	}
	a.s.cmds = append(a.s.cmds, *c)
	if inner != nil {
		// A command that xargs, find -exec or sudo runs: seen by deny
		// rules as itself, never allowed through its runner's rule.
		ic := command{wild: true, opaque: c.opaque, dynamic: true, span: c.span}
		a.command(&ic, inner, strings.Join(inner, " "), depth+1)
	}
}

// cd notes the directory a cd names, from which later relative paths may
// be taken.
func (a *analyzer) cd(args []string) {
	var dir string
	for _, w := range args {
		if w == "--" || strings.HasPrefix(w, "-") && w != "-" {
			continue
		}
		dir = w
		break
	}
	switch {
	case dir == "" && a.home != "":
		a.s.dirs = append(a.s.dirs, a.home)
	case dir == "" || dir == "-":
		a.s.dirs = append(a.s.dirs, "")
	default:
		for _, d := range a.paths(dir) {
			if !slices.Contains(a.s.dirs, d) {
				a.s.dirs = append(a.s.dirs, d)
			}
		}
	}
}

// special judges the programs that run code given as arguments or files.
func (a *analyzer) special(c *command, depth int) {
	args := c.args
	prog := filepath.Base(args[0])
	switch prog {
	case "eval", "trap":
		c.opaque = prog + " runs its arguments as a script"
		body := args[1:]
		if prog == "trap" && len(body) > 0 {
			body = body[:1]
		}
		a.inner(c, strings.Join(body, " "), depth)
	case "bash", "sh", "zsh", "dash", "ksh", "mksh", "fish", "busybox":
		c.opaque = "it runs a shell"
		if script, ok := shellScript(args[1:]); ok {
			a.inner(c, script, depth)
		} else {
			c.unseen = true
		}
	case "python", "python2", "python3", "node", "nodejs", "deno", "bun", "perl", "ruby", "php", "lua", "Rscript", "pwsh", "osascript", "awk", "gawk", "mawk":
		if inlineCode(prog, args[1:]) {
			c.opaque, c.unseen = prog+" runs code given on its command line", true
		}
	case "source", ".":
		c.opaque, c.unseen = prog+" runs the commands of a file", true
	case "alias":
		c.opaque = "it defines an alias"
		for _, def := range args[1:] {
			if _, body, ok := strings.Cut(def, "="); ok {
				a.inner(c, body, depth)
			}
		}
	case "exec", "enable", "coproc", "fc", "bind", "complete", "compgen", "shopt", "set", "hash":
		if prog != "exec" || len(args) > 1 {
			c.opaque = prog + " changes how the shell runs commands"
		}
	case "git":
		gitForms(c)
		a.gitInner(c, depth)
	case "find":
		if cmd := findExec(args[1:]); cmd != nil {
			c.opaque = "find -exec runs a command"
			ic := command{wild: true, opaque: c.opaque, dynamic: true, span: c.span}
			a.command(&ic, cmd, strings.Join(cmd, " "), depth+1)
		}
	}
}

// gitInner looks into the commands a git subcommand runs: rebase -x CMD
// and submodule foreach CMD through a shell, bisect run CMD as it is.
func (a *analyzer) gitInner(c *command, depth int) {
	args := c.args
	for i := 1; i < len(args); i++ {
		switch {
		case args[i] == "foreach":
			// Run through a shell, its words joined.
			if i+1 < len(args) {
				a.inner(c, strings.Join(args[i+1:], " "), depth)
			}
			return
		case args[i] == "run" && i > 1 && args[i-1] == "bisect":
			// Run as an argv.
			if i+1 < len(args) && depth < maxDepth {
				ic := command{wild: true, opaque: "git bisect runs a command", span: c.span}
				a.command(&ic, args[i+1:], strings.Join(args[i+1:], " "), depth+1)
			}
			return
		case (args[i] == "-x" || args[i] == "--exec") && i+1 < len(args):
			a.inner(c, args[i+1], depth)
		case strings.HasPrefix(args[i], "--exec="):
			a.inner(c, strings.TrimPrefix(args[i], "--exec="), depth)
		}
	}
}

// inner looks into a script that c runs as text: its commands are seen
// by deny and ask rules like any other.
func (a *analyzer) inner(c *command, text string, depth int) {
	if depth >= maxDepth {
		c.unseen = true
		return
	}
	f := ParseCommand(text)
	if f == nil {
		c.unseen = true
		return
	}
	a.file(f, depth+1)
}

// inlineCode reports whether an interpreter's arguments give it code to
// run (python -c, node -e, perl -e, awk's program) rather than a file.
func inlineCode(prog string, args []string) bool {
	if strings.HasSuffix(prog, "awk") {
		// An awk program runs commands through system(), pipes and
		// getline; one without them only computes.
		for _, w := range args {
			if strings.Contains(w, "system") || strings.Contains(w, "|") || strings.Contains(w, "getline") {
				return true
			}
		}
		return false
	}
	for _, w := range args {
		switch w {
		case "-c", "-e", "-E", "-r", "-p", "--eval", "--print", "-Command", "-command", "eval":
			return true
		}
		if !strings.HasPrefix(w, "-") {
			return false // a script file, and its arguments
		}
		if len(w) > 2 && w[1] != '-' && strings.ContainsAny(w[1:], "ce") {
			return true // python -Bc, perl -ne
		}
	}
	return false
}

// shellScript is the script of a shell's "-c SCRIPT" arguments, if that
// is what they are.
func shellScript(args []string) (string, bool) {
	for i := 0; i < len(args); i++ {
		w := args[i]
		switch {
		case w == "-o" || w == "+o" || w == "-O" || w == "+O":
			i++
		case strings.HasPrefix(w, "-") && len(w) > 1 && !strings.HasPrefix(w, "--"):
			if strings.ContainsRune(w[1:], 'c') {
				if i+1 < len(args) {
					return args[i+1], true
				}
				return "", false
			}
		case strings.HasPrefix(w, "--"):
		default:
			return "", false
		}
	}
	return "", false
}

// findExec is the command a find expression runs with -exec, -execdir,
// -ok or -okdir, or nil.
func findExec(args []string) []string {
	for i, w := range args {
		switch w {
		case "-exec", "-execdir", "-ok", "-okdir":
			cmd := args[i+1:]
			for j, x := range cmd {
				if x == ";" || x == "+" {
					cmd = cmd[:j]
					break
				}
			}
			if len(cmd) == 0 {
				return []string{""}
			}
			return cmd
		}
	}
	return nil
}

// finish works out the texts rules match c against; written is the
// command with its wrappers, as the line spells it.
func (c *command) finish(written string) {
	if len(c.args) == 0 {
		c.opaque = "it runs no command"
		c.forms = []string{written}
		return
	}
	prog := c.args[0]
	text := strings.Join(c.args, " ")
	c.forms = append(c.forms, text)
	if written != "" && written != text {
		c.forms = append(c.forms, written)
	}
	c.allow = text
	if strings.Contains(prog, "/") {
		// /usr/bin/git is git to a deny rule; to an allow rule only when
		// it is where programs are installed, not ./git.
		base := filepath.Base(prog)
		named := strings.Join(append([]string{base}, c.args[1:]...), " ")
		c.forms = append(c.forms, named)
		if systemBin(filepath.Dir(prog)) {
			c.allow = named
		}
	}
	for _, w := range c.args[1:] {
		if v, ok := optionValue(w); ok {
			c.paths = append(c.paths, v)
		}
		c.paths = append(c.paths, w)
	}
}

// optionValue is the value of a "--name=value" or "-o=value" word.
func optionValue(w string) (string, bool) {
	if !strings.HasPrefix(w, "-") {
		return "", false
	}
	_, v, ok := strings.Cut(w, "=")
	return v, ok && v != ""
}

func systemBin(dir string) bool {
	switch filepath.Clean(dir) {
	case "/bin", "/usr/bin", "/usr/local/bin", "/sbin", "/usr/sbin", "/usr/local/sbin", "/opt/homebrew/bin":
		return true
	}
	return false
}

// dangerousVar reports whether setting the variable name changes what a
// program loads or runs: the dynamic loader's, the shell's start-up and
// search path, git's, and language runtimes' code paths and options.
func dangerousVar(name string) bool {
	for _, p := range []string{"LD_", "DYLD_", "GIT_", "BASH_FUNC_", "PYTHON", "PERL", "RUBY", "NODE_", "NPM_CONFIG_", "npm_config_", "JAVA_", "_JAVA_", "CARGO_", "RUSTC", "GO"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	switch name {
	case "PATH", "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND", "IFS", "CDPATH",
		"GLOBIGNORE", "HOME", "XDG_CONFIG_HOME", "PAGER", "MANPAGER", "EDITOR", "VISUAL", "LESSOPEN",
		"LESSCLOSE", "BROWSER", "SSH_ASKPASS", "SUDO_ASKPASS", "GNUPGHOME", "MAKEFLAGS", "CLASSPATH",
		"TERMINFO", "PROMPT_DIRTRIM", "HISTFILE", "INPUTRC", "ZDOTDIR":
		return true
	}
	return false
}

// wordKind is what a word is before the shell runs it.
type wordKind int

const (
	// wordLiteral is the same text whenever it runs.
	wordLiteral wordKind = iota
	// wordGlob is a literal with unquoted pattern characters, which the
	// shell replaces by the names of the files it matches.
	wordGlob
	// wordDynamic depends on variables, substitutions or brace
	// expansion; its text is the source as written.
	wordDynamic
)

// word is w with its quotes removed, as the shell passes it: ~ expanded
// to home, backslash escapes undone. Pattern characters in a glob are kept
// as written, with backslashes, for [analyzer.glob].
func (a *analyzer) word(w *syntax.Word) (string, wordKind) {
	var sb strings.Builder
	kind := wordLiteral
	dynamic := func() (string, wordKind) {
		var src strings.Builder
		syntax.NewPrinter().Print(&src, w)
		return src.String(), wordDynamic
	}
	for i, part := range w.Parts {
		switch p := part.(type) {
		case *syntax.Lit:
			v := p.Value
			if i == 0 && strings.HasPrefix(v, "~") {
				rest := v[1:]
				if a.home == "" || rest != "" && !strings.HasPrefix(rest, "/") {
					return dynamic()
				}
				sb.WriteString(a.home)
				v = rest
			}
			if braceExpands(v) {
				return dynamic()
			}
			if hasGlob(v) {
				kind = wordGlob
				sb.WriteString(v)
				continue
			}
			sb.WriteString(unescape(v))
		case *syntax.SglQuoted:
			if p.Dollar {
				// $'\x67it' is git: decoding ANSI-C escapes is for the
				// shell; the rules do not guess.
				return dynamic()
			}
			if kind == wordGlob {
				sb.WriteString(escapeGlob(p.Value))
			} else {
				sb.WriteString(p.Value)
			}
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				lit, ok := q.(*syntax.Lit)
				if !ok {
					return dynamic()
				}
				v := unescapeDouble(lit.Value)
				if kind == wordGlob {
					v = escapeGlob(v)
				}
				sb.WriteString(v)
			}
		default:
			return dynamic()
		}
	}
	if kind == wordGlob {
		return sb.String(), wordGlob
	}
	return sb.String(), wordLiteral
}

func hasGlob(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '*', '?', '[':
			return true
		}
	}
	return false
}

// braceExpands reports whether unquoted s holds a brace expansion, which
// bash turns into several words: {a,b} or {1..3}.
func braceExpands(s string) bool {
	open := strings.IndexByte(s, '{')
	if open < 0 {
		return false
	}
	rest := s[open:]
	return strings.Contains(rest, "}") && (strings.Contains(rest, ",") || strings.Contains(rest, ".."))
}

// unescape undoes the backslashes of an unquoted literal.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			if s[i] == '\n' {
				continue
			}
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

// unescapeDouble undoes the backslashes that mean something inside
// double quotes.
func unescapeDouble(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
			i++
			if s[i] == '\n' {
				continue
			}
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

func escapeGlob(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(`*?[\`, s[i]) >= 0 {
			sb.WriteByte('\\')
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

// glob expands pattern as the shell would in the call's directory: the
// names of the files it matches, sorted, not those starting with "." unless
// the pattern's does; the pattern itself, unescaped, when nothing matches.
func (a *analyzer) glob(pattern string) []string {
	full := pattern
	if !filepath.IsAbs(full) {
		full = filepath.Join(a.dir, pattern)
	}
	matches, err := filepath.Glob(full)
	if err != nil || len(matches) == 0 {
		return []string{unescape(pattern)}
	}
	dot := strings.HasPrefix(filepath.Base(pattern), ".")
	out := matches[:0]
	for _, m := range matches {
		if !dot && strings.HasPrefix(filepath.Base(m), ".") {
			continue
		}
		if !filepath.IsAbs(pattern) {
			if rel, err := filepath.Rel(a.dir, m); err == nil {
				m = rel
			}
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return []string{unescape(pattern)}
	}
	slices.Sort(out)
	return out
}
