package pkgguard

import (
	"path"
	"regexp"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// Install is one install command of a script: the packages it names from
// their registries and, when there is something it installs that the
// guard cannot check, why.
type Install struct {
	// Manager is the package manager as the command names it: "pip",
	// "npm", "go get", ….
	Manager  string
	Packages []Package
	// Unchecked says why the command may install something no look-up
	// can vouch for: a name known only when it runs ($PKG, $(cat …)) or
	// a package index the command chooses itself (--index-url,
	// --registry). Empty when every package it installs is named.
	Unchecked string
}

// Installs returns the install commands among the simple commands of f,
// wherever they are: in lists, pipelines, subshells, functions and
// substitutions. Commands are matched on their parsed words, through
// the wrappers that run a command (sudo, env, timeout, nice, …) and by
// the program's base name, so /usr/bin/pip is pip. Installs that name
// no registry package — a lockfile (bare npm install), a requirements
// file, a local path or a URL — are not listed.
func Installs(f *syntax.File) []Install {
	var out []Install
	syntax.Walk(f, func(n syntax.Node) bool {
		if c, ok := n.(*syntax.CallExpr); ok && len(c.Args) > 0 && mayInstall(c.Args) {
			ws := words(c.Args)
			if script, ok := shellScript(ws); ok {
				out = append(out, Installs(script)...)
			} else if in, ok := parseCommand(ws); ok {
				out = append(out, in)
			}
		}
		return true
	})
	return out
}

// mayInstall is a quick look at a command's first words, to spare
// expanding those of the many commands that cannot install anything: a
// plain literal program name that is neither a package manager nor a
// command that runs another, or go with a subcommand other than get
// and install. Anything quoted, escaped or expanded is looked at in
// full.
func mayInstall(args []*syntax.Word) bool {
	prog := args[0].Lit()
	if prog == "" || strings.Contains(prog, `\`) {
		return true
	}
	prog = path.Base(prog)
	switch {
	case prog == "go":
		sub := ""
		if len(args) > 1 {
			sub = args[1].Lit()
		}
		return sub == "" || sub == "get" || sub == "install" || strings.HasPrefix(sub, "-")
	case managers[prog], shells[prog], pipName.MatchString(prog), pythonName.MatchString(prog):
		return true
	}
	_, wraps := wrappers[prog]
	return wraps
}

var managers = set("uv", "uvx", "pipx", "poetry", "npm", "pnpm", "yarn", "cargo", "gem")

// shellScript returns the script of sh -c SCRIPT (bash, zsh, dash too),
// parsed, when it parses.
func shellScript(ws []word) (*syntax.File, bool) {
	ws = unwrap(ws)
	if len(ws) < 3 || !ws[0].static || !shells[path.Base(ws[0].s)] {
		return nil, false
	}
	for i, w := range ws[1:] {
		// -c, or a cluster of options holding it: -lc, -ec, -xc.
		if !w.static || !strings.HasPrefix(w.s, "-") || strings.HasPrefix(w.s, "--") {
			return nil, false
		}
		if strings.Contains(w.s, "c") && i+2 < len(ws) && ws[i+2].static {
			f, err := syntax.NewParser().Parse(strings.NewReader(ws[i+2].s), "")
			return f, err == nil
		}
	}
	return nil, false
}

var shells = set("sh", "bash", "zsh", "dash", "ksh")

// word is a word of a command as the shell will pass it, when known:
// static is false for a word with expansions (parameters, command
// substitutions), whose value only the running shell knows; s is then
// the word as written.
type word struct {
	s      string
	static bool
}

// words expands the literal parts of args as the shell does — quotes
// removed, escapes resolved, braces expanded — leaving the rest unknown.
func words(args []*syntax.Word) []word {
	var ws []word
	for _, a := range args {
		if !isStatic(a) {
			var src strings.Builder
			if syntax.NewPrinter().Print(&src, a) != nil {
				src.Reset()
			}
			ws = append(ws, word{s: src.String()})
			continue
		}
		fields, err := expand.Fields(nil, a)
		if err != nil {
			ws = append(ws, word{})
			continue
		}
		for _, f := range fields {
			ws = append(ws, word{s: f, static: true})
		}
	}
	return ws
}

// isStatic reports whether w means the same whatever the environment:
// only literals and quotes, no expansions.
func isStatic(w *syntax.Word) bool {
	for _, p := range w.Parts {
		switch p := p.(type) {
		case *syntax.Lit, *syntax.SglQuoted:
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				if _, ok := q.(*syntax.Lit); !ok {
					return false
				}
			}
		default:
			return false
		}
	}
	return true
}

// parseCommand recognises one simple command as an install.
func parseCommand(ws []word) (Install, bool) {
	ws = unwrap(ws)
	if len(ws) == 0 || !ws[0].static {
		return Install{}, false
	}
	prog, args := path.Base(ws[0].s), ws[1:]
	switch {
	case pipName.MatchString(prog):
		return pipCommand(prog, args)
	case pythonName.MatchString(prog):
		return pythonCommand(args)
	case prog == "uv":
		sub, rest := subcommand(args, uvGlobal)
		switch sub {
		case "add":
			return install("uv add", PyPI, rest, uvAdd, pipSpec)
		case "pip":
			if s, r := subcommand(rest, uvGlobal); s == "install" {
				return install("uv pip install", PyPI, r, pipInstall, pipSpec)
			}
		case "tool":
			if s, r := subcommand(rest, uvGlobal); s == "install" || s == "run" {
				return runTool("uv tool "+s, r, uvTool)
			}
		}
	case prog == "uvx":
		return runTool("uvx", args, uvTool)
	case prog == "pipx":
		switch sub, rest := subcommand(args, pipxOptions); sub {
		case "install":
			return install("pipx install", PyPI, rest, pipxOptions, pipSpec)
		case "run":
			return runTool("pipx run", rest, pipxOptions)
		}
	case prog == "poetry":
		if sub, rest := subcommand(args, poetryGlobal); sub == "add" {
			return install("poetry add", PyPI, rest, poetryAdd, poetrySpec)
		}
	case prog == "npm":
		sub, rest := subcommand(args, npmOptions)
		if npmInstall[sub] {
			return install("npm "+sub, Npm, rest, npmOptions, npmSpec)
		}
	case prog == "pnpm":
		sub, rest := subcommand(args, pnpmOptions)
		if sub == "add" || sub == "install" || sub == "i" {
			return install("pnpm "+sub, Npm, rest, pnpmOptions, npmSpec)
		}
	case prog == "yarn":
		sub, rest := subcommand(args, yarnOptions)
		if sub == "global" {
			sub, rest = subcommand(rest, yarnOptions)
		}
		if sub == "add" {
			return install("yarn add", Npm, rest, yarnOptions, npmSpec)
		}
	case prog == "go":
		sub, rest := subcommand(args, nil)
		if sub == "get" || sub == "install" {
			return install("go "+sub, Go, rest, goOptions, goSpec(sub == "install"))
		}
	case prog == "cargo":
		sub, rest := subcommand(args, cargoGlobal)
		if sub == "add" {
			return install("cargo add", Crates, rest, cargoAdd, cargoSpec)
		}
	case prog == "gem":
		if sub, rest := subcommand(args, nil); sub == "install" || sub == "i" {
			return install("gem install", RubyGems, rest, gemInstall, gemSpec)
		}
	}
	return Install{}, false
}

var (
	pipName    = regexp.MustCompile(`^pip[0-9.]*$`)
	pythonName = regexp.MustCompile(`^(python[0-9.]*|py)$`)
)

// pythonCommand recognises python [options] -m pip ARGS.
func pythonCommand(args []word) (Install, bool) {
	for i := 0; i < len(args); i++ {
		a := args[i].s
		var mod string
		var rest []word
		switch {
		case !args[i].static:
			return Install{}, false
		case a == "-m" && i+1 < len(args):
			mod, rest = args[i+1].s, args[i+2:]
		case strings.HasPrefix(a, "-m"):
			mod, rest = a[2:], args[i+1:]
		case a == "-X" || a == "-W" || a == "--check-hash-based-pycs":
			i++
			continue
		// Other options take no value; -c runs code, and a script
		// name ends python's options.
		case strings.HasPrefix(a, "-") && !strings.ContainsAny(a[1:], "cm"):
			continue
		default:
			return Install{}, false
		}
		if pipName.MatchString(mod) {
			return pipCommand(mod, rest)
		}
		return Install{}, false
	}
	return Install{}, false
}

func pipCommand(prog string, args []word) (Install, bool) {
	if sub, rest := subcommand(args, pipInstall); sub == "install" {
		return install(prog+" install", PyPI, rest, pipInstall, pipSpec)
	}
	return Install{}, false
}

// runTool reads the arguments of a command that installs a Python tool
// from PyPI and may run it: uvx, uv tool run|install, pipx run. The
// package is the first operand — the tool's own arguments follow it —
// unless --from or --spec names it; --with adds more.
func runTool(manager string, args []word, o *options) (Install, bool) {
	in := Install{Manager: manager}
	named := false
	add := func(s string) {
		if p, ok := poetrySpec(s); ok && p.Name != "" {
			p.Registry = PyPI
			in.Packages = append(in.Packages, p)
		}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !a.static {
			in.Unchecked = manager + " is given " + quoteWord(a) + ", which is known only when the command runs"
			break
		}
		if !strings.HasPrefix(a.s, "-") || len(a.s) == 1 {
			if !named {
				add(a.s)
			}
			break
		}
		name, value, attached := strings.Cut(a.s, "=")
		if o.index[name] {
			in.Unchecked = manager + " " + name + " installs from a package index of its own choosing, not the one the package guard checks"
		}
		if !o.values[name] {
			continue
		}
		if !attached {
			if i++; i >= len(args) {
				break
			}
			if value = args[i].s; !args[i].static {
				in.Unchecked = manager + " is given " + quoteWord(args[i]) + ", which is known only when the command runs"
				continue
			}
		}
		switch name {
		case "--from", "--spec":
			named = true
			add(value)
		case "--with", "--preinstall":
			add(value)
		}
	}
	if len(in.Packages) == 0 && in.Unchecked == "" {
		return Install{}, false
	}
	return in, true
}

// unwrap strips the commands that run their arguments as a command —
// sudo, env, timeout, nice and the like — with their own options.
func unwrap(ws []word) []word {
	for len(ws) > 0 && ws[0].static {
		w, ok := wrappers[path.Base(ws[0].s)]
		if !ok {
			return ws
		}
		ws = ws[1:]
	args:
		// The wrapper's options, then env's NAME=VALUE words or
		// timeout's duration, come before the command.
		for len(ws) > 0 {
			a := ws[0]
			switch {
			case a.s == "--":
				ws = ws[1:]
				break args
			case strings.HasPrefix(a.s, "-") && len(a.s) > 1:
				ws = ws[1:]
				name, _, attached := strings.Cut(a.s, "=")
				if w.values[name] && !attached && len(ws) > 0 {
					ws = ws[1:]
				}
			case w.assigns && strings.Contains(a.s, "=") && !strings.HasPrefix(a.s, "="):
				ws = ws[1:]
			case w.operand:
				ws = ws[1:]
				break args
			default:
				break args
			}
		}
	}
	return ws
}

// wrapper describes a command that runs its arguments as a command.
type wrapper struct {
	// values are the options that take the next word as their value.
	values map[string]bool
	// assigns says NAME=VALUE words come before the command (env).
	assigns bool
	// operand says one more word comes before the command (timeout's
	// duration).
	operand bool
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

var wrappers = map[string]wrapper{
	"sudo":    {values: set("-u", "--user", "-g", "--group", "-h", "--host", "-p", "--prompt", "-C", "--close-from", "-D", "--chdir", "-r", "--role", "-t", "--type", "-U", "--other-user", "-T", "--command-timeout", "-R", "--chroot")},
	"doas":    {values: set("-u", "-C")},
	"env":     {values: set("-u", "--unset", "-C", "--chdir"), assigns: true},
	"timeout": {values: set("-s", "--signal", "-k", "--kill-after"), operand: true},
	"nice":    {values: set("-n", "--adjustment")},
	"ionice":  {values: set("-c", "--class", "-n", "--classdata", "-t")},
	"stdbuf":  {values: set("-i", "-o", "-e")},
	"nohup":   {},
	"command": {},
	"builtin": {},
	"exec":    {values: set("-a")},
	"time":    {values: set("-f", "--format", "-o", "--output")},
	"chrt":    {},
}

func merge(sets ...map[string]bool) map[string]bool {
	m := map[string]bool{}
	for _, s := range sets {
		for k := range s {
			m[k] = true
		}
	}
	return m
}

// options describes a package manager's options: those taking a value
// as the next word, and those pointing it at a package index of the
// command's choosing, which the guard's registry cannot vouch for.
type options struct {
	values map[string]bool
	index  map[string]bool
	// local are options after which the packages come from files, not
	// from the registry (pip --no-index).
	local map[string]bool
}

// subcommand returns the first word that is not an option, skipping
// the values of global options, and the words after it.
func subcommand(args []word, o *options) (string, []word) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !a.static {
			return "", nil
		}
		if strings.HasPrefix(a.s, "-") {
			if o != nil && o.values[a.s] {
				i++
			}
			continue
		}
		return a.s, args[i+1:]
	}
	return "", nil
}

// install reads the arguments of an install subcommand: options (their
// values skipped) and package specifications, each turned into a
// Package by spec, which returns false for one that names no registry
// package (a path, a URL).
func install(manager string, reg Registry, args []word, o *options, spec func(string) (Package, bool)) (Install, bool) {
	in := Install{Manager: manager}
	local, operands := false, false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !a.static {
			in.Unchecked = manager + " is given " + quoteWord(a) + ", which is known only when the command runs"
			continue
		}
		if a.s == "--" && !operands {
			operands = true
			continue
		}
		if strings.HasPrefix(a.s, "-") && len(a.s) > 1 && !operands {
			name, _, attached := strings.Cut(a.s, "=")
			switch {
			case o.index[name]:
				in.Unchecked = manager + " " + name + " installs from a package index of its own choosing, not the one the package guard checks"
			case o.local[name]:
				local = true
			}
			if o.values[name] && !attached {
				i++
			}
			continue
		}
		p, ok := spec(a.s)
		// An empty word names nothing; the manager refuses it.
		if !ok || p.Name == "" {
			continue
		}
		p.Registry = reg
		in.Packages = append(in.Packages, p)
	}
	if local {
		in.Packages = nil
	}
	if len(in.Packages) == 0 && in.Unchecked == "" {
		return Install{}, false
	}
	return in, true
}

func quoteWord(w word) string {
	if w.s == "" {
		return "a word"
	}
	return w.s
}

var (
	pipInstall = &options{
		values: set(
			"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-t", "--target",
			"--prefix", "--root", "--src", "--upgrade-strategy", "--platform", "--python-version",
			"--implementation", "--abi", "--no-binary", "--only-binary", "--progress-bar",
			"--global-option", "--install-option", "-C", "--config-settings", "--report",
			"--proxy", "--cache-dir", "--log", "--timeout", "--retries", "--cert", "--client-cert",
			"--trusted-host", "--exists-action", "--python", "--use-feature", "--use-deprecated",
			"--keyring-provider", "--root-user-action", "--group", "-i", "--index-url",
			"--extra-index-url", "-f", "--find-links", "--index", "--default-index",
			"--index-strategy", "--python-platform", "--resolution", "--prerelease",
			"--exclude-newer", "--link-mode", "-p", "--directory", "--project", "--config-file",
			"--color", "--extra", "--overrides", "--build-constraints",
		),
		index: set("-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--index", "--default-index"),
		local: set("--no-index"),
	}
	uvGlobal = &options{values: set("--directory", "--project", "--config-file", "--cache-dir", "--color", "-p", "--python")}
	uvAdd    = &options{
		values: set(
			"--group", "--optional", "--extra", "--package", "--script", "--tag", "--branch", "--rev",
			"-r", "--requirements", "-c", "--constraints", "-m", "--marker", "-p", "--python",
			"--directory", "--project", "--config-file", "--cache-dir", "--bounds", "--color",
			"--index-strategy", "--keyring-provider", "--resolution", "--prerelease",
			"--exclude-newer", "--link-mode", "-P", "--upgrade-package", "-C", "--config-setting",
			"--index", "--default-index", "-i", "--index-url", "--extra-index-url", "-f", "--find-links",
			"--refresh-package", "--reinstall-package", "--no-build-package", "--no-binary-package",
		),
		index: set("--index", "--default-index", "-i", "--index-url", "--extra-index-url", "-f", "--find-links"),
		local: set("--no-index"),
	}
	uvTool = &options{
		values: merge(uvAdd.values, set("--from", "--with", "--with-editable", "--with-requirements", "-w")),
		index:  uvAdd.index,
	}
	pipxOptions = &options{
		values: set("--python", "--index-url", "-i", "--pip-args", "--suffix", "--preinstall", "--spec", "--global", "--backend"),
		// --pip-args may point pip anywhere.
		index: set("--index-url", "-i", "--pip-args"),
	}
	poetryGlobal = &options{values: set("-C", "--directory", "-P", "--project")}
	poetryAdd    = &options{
		values: set("-G", "--group", "-E", "--extras", "--optional", "--python", "--platform", "--markers", "--source", "-C", "--directory", "-P", "--project"),
		index:  set("--source"),
	}
	npmOptions = &options{
		values: set(
			"--registry", "--prefix", "-w", "--workspace", "--omit", "--include", "--tag", "--cache",
			"--userconfig", "--globalconfig", "--location", "--install-strategy", "--before",
			"--loglevel", "--save-prefix", "-C", "--dir",
		),
		index: set("--registry"),
	}
	pnpmOptions = &options{
		values: set("--registry", "-C", "--dir", "-F", "--filter", "--store-dir", "--virtual-store-dir", "--loglevel", "--reporter", "--config"),
		index:  set("--registry"),
	}
	yarnOptions = &options{
		values: set("--registry", "--cwd", "--modules-folder", "--cache-folder", "--global-folder", "--link-folder", "--mutex", "--network-timeout"),
		index:  set("--registry"),
	}
	goOptions = &options{values: set(
		"-C", "-p", "-asmflags", "-buildmode", "-compiler", "-gccgoflags", "-gcflags",
		"-installsuffix", "-ldflags", "-mod", "-modfile", "-overlay", "-pgo", "-pkgdir",
		"-tags", "-toolexec", "-o", "-covermode", "-coverpkg", "-exec",
		"--C", "--tags", "--ldflags", "--gcflags", "--mod", "--modfile", "--o",
	)}
	cargoGlobal = &options{values: set("--config", "-Z", "--color", "-C")}
	cargoAdd    = &options{
		values: set(
			"-F", "--features", "--rename", "--registry", "-p", "--package", "--manifest-path",
			"--lockfile-path", "--target", "--path", "--base", "--git", "--branch", "--tag", "--rev",
			"--config", "-Z", "--color",
		),
		index: set("--registry", "--git"),
		local: set("--path"),
	}
	gemInstall = &options{
		values: set(
			"-v", "--version", "-i", "--install-dir", "-n", "--bindir", "--document", "--build-root",
			"-P", "--trust-policy", "--platform", "-s", "--source", "-p", "--http-proxy",
			"--config-file", "-g", "--file", "--without", "--with", "--target-rbconfig",
		),
		index: set("-s", "--source", "--clear-sources"),
		local: set("-l", "--local"),
	}
)

// npmInstall lists npm's spellings of install, its abbreviations and
// its own typo aliases included.
var npmInstall = set("install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal", "isntall", "add")

// pipNameRe is a PEP 508 distribution name at the start of a
// requirement.
var pipNameRe = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?`)

// pipSpec reads a pip requirement: name, extras, version specifiers,
// markers (requests[socks]>=2; python_version>"3.8"). Paths, archives,
// URLs and direct references (name @ URL) name no registry package.
func pipSpec(s string) (Package, bool) {
	// pip takes any argument with a slash for a path.
	if isLocalOrURL(s) || strings.ContainsAny(s, "@/") {
		return Package{}, false
	}
	name := pipNameRe.FindString(s)
	if name == "" {
		return Package{Name: s}, true
	}
	version := strings.TrimSpace(s[len(name):])
	if i := strings.IndexByte(version, ']'); strings.HasPrefix(version, "[") && i >= 0 {
		version = strings.TrimSpace(version[i+1:])
	}
	version, _, _ = strings.Cut(version, ";")
	return Package{Name: name, Version: strings.TrimSpace(version)}, true
}

// poetrySpec reads a poetry add requirement, which takes pip's forms and
// name@constraint (requests@^2.31).
func poetrySpec(s string) (Package, bool) {
	if isLocalOrURL(s) {
		return Package{}, false
	}
	if name, version, ok := strings.Cut(s, "@"); ok {
		p, ok := pipSpec(name)
		if ok && p.Version == "" {
			p.Version = version
		}
		return p, ok
	}
	return pipSpec(s)
}

// npmSpec reads an npm package spec: name, name@range, @scope/name@tag,
// alias@npm:real@range. A path, tarball, URL, git or GitHub spec
// (user/repo) names no registry package.
func npmSpec(s string) (Package, bool) {
	if isLocalOrURL(s) || hasProtocol(s) && !strings.Contains(s, "@npm:") {
		return Package{}, false
	}
	// An alias installs the package it names after npm:.
	if i := strings.Index(s, "@npm:"); i > 0 {
		return npmSpec(s[i+len("@npm:"):])
	}
	name, version := s, ""
	if at := strings.LastIndexByte(s, '@'); at > 0 {
		name, version = s[:at], s[at+1:]
	}
	if strings.Contains(name, "/") && !strings.HasPrefix(name, "@") {
		return Package{}, false // GitHub shorthand
	}
	return Package{Name: name, Version: version}, true
}

// goSpec reads a module path with an optional version. A pattern or
// path in the main module (./..., all, a standard library package) needs
// no download; nor does go install without a version, which builds in
// the current module. @none removes a module.
func goSpec(install bool) func(string) (Package, bool) {
	return func(s string) (Package, bool) {
		mod, version, versioned := strings.Cut(s, "@")
		if install && !versioned || version == "none" {
			return Package{}, false
		}
		mod, _, _ = strings.Cut(mod, "/...")
		first, _, _ := strings.Cut(mod, "/")
		if mod == "" || isLocalOrURL(mod) || !strings.Contains(first, ".") {
			return Package{}, false
		}
		return Package{Name: mod, Version: version}, true
	}
}

// cargoSpec reads a crate spec: name or name@version.
func cargoSpec(s string) (Package, bool) {
	if isLocalOrURL(s) {
		return Package{}, false
	}
	name, version, _ := strings.Cut(s, "@")
	return Package{Name: name, Version: version}, true
}

// gemSpec reads a gem name, or NAME:VERSION as gem install takes it.
func gemSpec(s string) (Package, bool) {
	if isLocalOrURL(s) || strings.HasSuffix(s, ".gem") {
		return Package{}, false
	}
	name, version, _ := strings.Cut(s, ":")
	return Package{Name: name, Version: version}, true
}

// isLocalOrURL reports whether a spec is a path, an archive or a URL
// rather than the name of a package in a registry.
func isLocalOrURL(s string) bool {
	switch {
	case strings.HasPrefix(s, "."), strings.HasPrefix(s, "/"), strings.HasPrefix(s, "~"),
		strings.Contains(s, "://"), strings.Contains(s, `\`):
		return true
	}
	for _, ext := range []string{".whl", ".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tar"} {
		if strings.HasSuffix(s, ext) {
			return true
		}
	}
	return false
}

// hasProtocol reports whether an npm spec starts with a protocol such
// as file:, git+ssh:, github: or npm:.
func hasProtocol(s string) bool {
	i := strings.IndexByte(s, ':')
	return i > 0 && !strings.Contains(s[:i], "@") || strings.HasPrefix(s, "git+")
}
