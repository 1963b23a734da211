package policy

import (
	"regexp"
	"strings"
)

// ReadOnly reports whether call changes nothing: a Read call, or an Exec
// whose command line parses and consists only of commands of the
// read-only set, with no output redirected anywhere but /dev/null and
// nothing that runs code no rule sees. The checkpoint step skips such a
// call.
func ReadOnly(call *Call) bool {
	switch call.Kind {
	case Read:
		return true
	case Exec:
	default:
		return false
	}
	if call.Script == nil {
		return false
	}
	s := analyze(call.Script, call.Dir, "")
	if s.opaque != "" || len(s.cmds) == 0 {
		return false
	}
	for _, w := range s.writes {
		if w != "/dev/null" {
			return false
		}
	}
	for i := range s.cmds {
		c := &s.cmds[i]
		if c.opaque != "" || !readOnlyCommand(c.args) {
			return false
		}
	}
	return true
}

// option is how a command takes one option.
type option int

const (
	flag  option = iota + 1 // takes no value
	value                   // takes a value: attached, after "=", or the next word
)

// roCommand is a command of the read-only set: the options known to
// change nothing, and a check of the rest of its words.
type roCommand struct {
	short map[byte]option
	long  map[string]option
	// numeric accepts "-N" (head -20).
	numeric bool
	// check judges the words that are not options; nil accepts any.
	check func(operands []string) bool
	// subcommands, for git, judge the words after the first operand.
	sub map[string]*roCommand
}

func shorts(flags, values string) map[byte]option {
	m := make(map[byte]option, len(flags)+len(values))
	for i := 0; i < len(flags); i++ {
		m[flags[i]] = flag
	}
	for i := 0; i < len(values); i++ {
		m[values[i]] = value
	}
	return m
}

func longs(flags, values string) map[string]option {
	m := map[string]option{}
	for _, f := range strings.Fields(flags) {
		m[f] = flag
	}
	for _, v := range strings.Fields(values) {
		m[v] = value
	}
	return m
}

func maxOperands(n int) func([]string) bool {
	return func(ops []string) bool { return len(ops) <= n }
}

func noOperands(ops []string) bool { return len(ops) == 0 }

// The read-only set. Every option of every command here is on an
// allowlist: an option not named (rg --pre, sort -o, sed -i, find
// -exec, git --output) makes the command not read-only. Commands that
// only change the shell's own state (cd) are here too.
var readOnlySet map[string]*roCommand

var gitLogOpts = longs(
	"--oneline --graph --decorate --no-decorate --all --branches --tags --remotes --reverse --first-parent --merges --no-merges "+
		"--stat --shortstat --numstat --name-only --name-status --summary --patch --no-patch --raw --abbrev-commit --no-abbrev-commit "+
		"--follow --date-order --topo-order --author-date-order --no-color --color --cached --staged --minimal --patience --histogram "+
		"--ignore-all-space --ignore-space-change --ignore-blank-lines --exit-code --quiet --word-diff --no-renames --find-renames "+
		"--full-history --left-right --cherry-pick --boundary --no-walk --source --show-signature --no-ext-diff --no-textconv "+
		"--name-rev --check --full-index --binary --relative --no-prefix --ita-invisible-in-index --compact-summary --dirstat --cumulative "+
		"--short --branch --porcelain --long --show-stash --ahead-behind --no-ahead-behind --untracked-files --ignored --null "+
		"--show-current --list --verbose --all --remotes --merged --no-merged --contains --no-contains --points-at --sort "+
		"--abbrev --format --pretty --date --since --until --after --before --author --committer --grep --max-count --skip "+
		"--unified --diff-filter --stat-width --inter-hunk-context --word-diff-regex --color-words --diff-algorithm --anchored",
	"--format --pretty --date --since --until --after --before --author --committer --grep --max-count --skip --unified "+
		"--diff-filter --stat-width --inter-hunk-context --word-diff-regex --color-words --diff-algorithm --anchored --sort --abbrev "+
		"--contains --no-contains --points-at --merged --no-merged --untracked-files --ignored --color --word-diff --find-renames --dirstat --relative --porcelain --decorate")

func init() {
	any := func([]string) bool { return true }
	readOnlySet = map[string]*roCommand{
		"ls":        {short: shorts("aAbBcCdfFgGhHiklLmnNopqQrRsStuUvxXZ1", "IwT"), long: longs("--all --almost-all --human-readable --classify --directory --dereference --recursive --reverse --size --inode --numeric-uid-gid --no-group --group-directories-first --full-time --author --escape --literal", "--color --sort --time --time-style --format --indicator-style --ignore --hide --width --block-size --quoting-style")},
		"cat":       {short: shorts("AbeEnstTuv", ""), long: longs("--show-all --number-nonblank --number --squeeze-blank --show-ends --show-tabs --show-nonprinting", "")},
		"head":      {short: shorts("qvz", "nc"), long: longs("--quiet --silent --verbose --zero-terminated", "--lines --bytes"), numeric: true},
		"tail":      {short: shorts("qvzr", "nc"), long: longs("--quiet --silent --verbose --zero-terminated", "--lines --bytes"), numeric: true},
		"wc":        {short: shorts("clmwL", ""), long: longs("--bytes --chars --lines --words --max-line-length", "")},
		"grep":      {short: shorts("rRnivlLcEFGPwxohHsqIaUZzTbu", "eABCmdD"), long: longs("--recursive --dereference-recursive --line-number --ignore-case --invert-match --files-with-matches --files-without-match --count --extended-regexp --fixed-strings --basic-regexp --perl-regexp --word-regexp --line-regexp --only-matching --no-filename --with-filename --no-messages --quiet --silent --binary --text --null --null-data --byte-offset --initial-tab --line-buffered", "--regexp --include --exclude --exclude-dir --color --colour --max-count --context --before-context --after-context --binary-files --label --devices --directories")},
		"egrep":     nil,
		"fgrep":     nil,
		"rg":        {short: shorts("nNiIsSwvlcFxoaHLUuqp0.", "eEgtTABCmMdjrf"), long: longs("--line-number --no-line-number --ignore-case --case-sensitive --smart-case --word-regexp --invert-match --files-with-matches --files-without-match --count --count-matches --fixed-strings --line-regexp --only-matching --text --with-filename --no-filename --follow --multiline --multiline-dotall --hidden --no-ignore --no-ignore-vcs --no-ignore-parent --no-ignore-dot --no-ignore-global --no-ignore-exclude --files --json --no-heading --heading --column --vimgrep --trim --null --no-messages --quiet --pcre2 --no-pcre2 --passthru --stats --type-list --byte-offset --crlf --no-unicode --unrestricted --glob-case-insensitive --no-config --sort-files --debug", "--regexp --glob --iglob --type --type-not --after-context --before-context --context --max-count --max-columns --max-depth --max-filesize --color --colors --sort --sortr --encoding --engine --threads --replace --context-separator --field-match-separator --path-separator --type-add")},
		"find":      {check: findReadOnly},
		"pwd":       {short: shorts("LP", ""), check: noOperands},
		"echo":      {short: shorts("neE", ""), check: any},
		"printf":    {check: func(ops []string) bool { return len(ops) == 0 || ops[0] != "-v" }},
		"true":      {check: any},
		"false":     {check: any},
		":":         {check: any},
		"cd":        {short: shorts("LPe@", ""), check: maxOperands(1)},
		"pushd":     {check: maxOperands(1)},
		"popd":      {check: noOperands},
		"which":     {short: shorts("as", "")},
		"type":      {short: shorts("afptP", "")},
		"basename":  {short: shorts("asz", "s"), long: longs("--multiple --zero", "--suffix")},
		"dirname":   {short: shorts("z", "")},
		"realpath":  {short: shorts("eLmPqsz", ""), long: longs("--canonicalize-existing --canonicalize-missing --logical --physical --quiet --strip --no-symlinks --zero", "--relative-to --relative-base")},
		"readlink":  {short: shorts("efmnqsvz", "")},
		"stat":      {short: shorts("LftZ", "c"), long: longs("--dereference --file-system --terse", "--format --printf")},
		"file":      {short: shorts("bhiLNkzZ0", "eFP"), long: longs("--brief --mime --mime-type --mime-encoding --dereference --no-dereference --keep-going --uncompress --no-pad --print0", "--exclude --separator")},
		"du":        {short: shorts("ahcsSxkmbLlD0", "dBt"), long: longs("--all --human-readable --total --summarize --separate-dirs --one-file-system --apparent-size --bytes --dereference --count-links --null --si --inodes", "--max-depth --block-size --threshold --exclude --time")},
		"df":        {short: shorts("ahHiklPTx", "tB"), long: longs("--all --human-readable --si --inodes --local --portability --print-type --total", "--type --exclude-type --block-size --output")},
		"tree":      {short: shorts("adfilpsughDFqNQrtvxACJSn", "LIP"), long: longs("--noreport --dirsfirst --du --prune --gitignore", "--charset --filelimit --sort")},
		"sort":      {short: shorts("bdfgiMhnRrVcCsuz", "ktS"), long: longs("--ignore-leading-blanks --dictionary-order --ignore-case --general-numeric-sort --ignore-nonprinting --month-sort --human-numeric-sort --numeric-sort --random-sort --reverse --version-sort --check --stable --unique --zero-terminated", "--key --field-separator --buffer-size --sort")},
		"uniq":      {short: shorts("cdDiuz", "fsw"), long: longs("--count --repeated --ignore-case --unique --zero-terminated", "--skip-fields --skip-chars --check-chars --all-repeated --group"), check: maxOperands(1)},
		"cut":       {short: shorts("nsz", "bcdf"), long: longs("--complement --only-delimited --zero-terminated", "--bytes --characters --delimiter --fields --output-delimiter")},
		"tr":        {short: shorts("cCdst", ""), check: any},
		"diff":      {short: shorts("abBdEiNpqrstTuwyZ", "UCWxSXIF"), long: longs("--brief --report-identical-files --unified --context --recursive --new-file --ignore-case --ignore-all-space --ignore-space-change --ignore-blank-lines --text --side-by-side --suppress-common-lines --minimal --expand-tabs --strip-trailing-cr", "--color --exclude --unified --context --width --label --ignore-matching-lines")},
		"cmp":       {short: shorts("blsv", "in"), long: longs("--print-bytes --verbose --silent --quiet", "--ignore-initial --bytes")},
		"comm":      {short: shorts("123z", ""), long: longs("--check-order --nocheck-order --total --zero-terminated", "--output-delimiter")},
		"nl":        {short: shorts("p", "bdfhilnsvw")},
		"od":        {short: shorts("bcdiloxsv", "AjNtSw")},
		"hexdump":   {short: shorts("bcCdovx", "enLs")},
		"xxd":       {short: shorts("bCeEiprRu", "cgloOsn"), check: maxOperands(1)},
		"md5sum":    {short: shorts("bctwz", ""), long: longs("--binary --check --tag --text --zero --quiet --status --strict --warn", "")},
		"sha1sum":   nil,
		"sha256sum": nil,
		"sha512sum": nil,
		"date":      {short: shorts("uR", "dIr"), long: longs("--utc --universal --rfc-email", "--date --iso-8601 --rfc-3339 --reference"), check: func(ops []string) bool { return len(ops) == 0 || len(ops) == 1 && strings.HasPrefix(ops[0], "+") }},
		"uname":     {short: shorts("asnrvmpio", ""), long: longs("--all --kernel-name --nodename --kernel-release --kernel-version --machine --processor --hardware-platform --operating-system", ""), check: noOperands},
		"whoami":    {check: noOperands},
		"id":        {short: shorts("gGnruz", "")},
		"hostname":  {short: shorts("fsdiI", ""), check: noOperands},
		"test":      {check: any},
		"[":         {check: any},
		"jq":        {short: shorts("rcnesSMCjaR", ""), long: longs("--raw-output --compact-output --null-input --exit-status --slurp --sort-keys --monochrome-output --color-output --join-output --ascii-output --raw-input --tab", "--indent")},
		"sed":       {check: sedReadOnly},
		"git":       {sub: gitReadOnly()},
		"command":   {short: shorts("vVp", "")},
	}
	readOnlySet["egrep"] = readOnlySet["grep"]
	readOnlySet["fgrep"] = readOnlySet["grep"]
	for _, s := range []string{"sha1sum", "sha256sum", "sha512sum"} {
		readOnlySet[s] = readOnlySet["md5sum"]
	}
}

func gitReadOnly() map[string]*roCommand {
	log := &roCommand{short: shorts("pusvqlaARCMwbtz", "nSGUL"), long: gitLogOpts, numeric: true}
	return map[string]*roCommand{
		"status":     {short: shorts("sbvz", "u"), long: gitLogOpts},
		"diff":       log,
		"log":        log,
		"show":       log,
		"shortlog":   {short: shorts("nsec", ""), long: gitLogOpts},
		"blame":      {short: shorts("bcflnpstwe", "LMC"), long: longs("--porcelain --line-porcelain --show-name --show-number --show-email --root", "")},
		"branch":     {short: shorts("avrl", ""), long: gitLogOpts, check: noOperands},
		"tag":        {short: shorts("ln", ""), long: longs("--list", "--sort --contains --points-at --format"), check: noOperands},
		"rev-parse":  {long: longs("--show-toplevel --git-dir --abbrev-ref --short --verify --is-inside-work-tree --show-prefix --show-cdup --symbolic-full-name --quiet --absolute-git-dir --git-common-dir", "")},
		"ls-files":   {short: shorts("cdmoiskutvz", "x"), long: longs("--cached --deleted --modified --others --ignored --stage --unmerged --killed --exclude-standard --full-name --error-unmatch", "--exclude")},
		"ls-tree":    {short: shorts("rdtlz", ""), long: longs("--name-only --name-status --full-name --full-tree --long", "")},
		"describe":   {long: longs("--tags --all --long --always --dirty --exact-match", "--abbrev --match --exclude")},
		"remote":     {short: shorts("v", ""), check: noOperands},
		"cat-file":   {short: shorts("tspe", ""), check: maxOperands(1)},
		"merge-base": {long: longs("--is-ancestor --all --octopus --fork-point", "")},
		"rev-list":   {long: gitLogOpts, short: shorts("n", "")},
		"grep":       {short: shorts("nilvwcEFPhHIoq", "eABCm"), long: longs("--line-number --ignore-case --files-with-matches --invert-match --word-regexp --count --extended-regexp --fixed-strings --perl-regexp --cached --untracked --no-index --heading --break --full-name --quiet", "--max-depth --context --after-context --before-context --max-count")},
		"version":    {check: noOperands},
	}
}

// readOnlyCommand reports whether args, a simple command after its
// wrappers, is in the read-only set with only options known to be safe.
func readOnlyCommand(args []string) bool {
	if len(args) == 0 {
		return false
	}
	spec, ok := readOnlySet[args[0]]
	if !ok || spec == nil {
		return false
	}
	return spec.judge(args[1:])
}

func (spec *roCommand) judge(words []string) bool {
	if spec.sub != nil {
		// git: no global options but the printing ones, then a read-only
		// subcommand.
		for len(words) > 0 && (words[0] == "--no-pager" || words[0] == "-P" || words[0] == "--no-optional-locks") {
			words = words[1:]
		}
		if len(words) == 0 {
			return false
		}
		sub, ok := spec.sub[words[0]]
		return ok && sub.judge(words[1:])
	}
	var operands []string
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "--":
			operands = append(operands, words[i+1:]...)
			i = len(words)
		case strings.HasPrefix(w, "--"):
			name, _, attached := strings.Cut(w, "=")
			opt := spec.long[name]
			switch {
			case opt == 0:
				return false
			case opt == value && !attached:
				i++
			}
		case strings.HasPrefix(w, "-") && len(w) > 1:
			if spec.numeric && isDigits(w[1:]) {
				continue
			}
			if spec.short == nil && spec.long == nil && spec.check != nil {
				// Commands that take any words (echo, test).
				operands = append(operands, w)
				continue
			}
			for j := 1; j < len(w); j++ {
				opt := spec.short[w[j]]
				if opt == 0 {
					return false
				}
				if opt == value {
					if j == len(w)-1 {
						i++
					}
					break
				}
			}
		default:
			operands = append(operands, w)
		}
	}
	return spec.check == nil || spec.check(operands)
}

// findReadOnly judges find's words: paths, then an expression of tests
// and printing actions; -exec, -delete, -fprint and the like are not.
func findReadOnly(words []string) bool {
	tests := longs("-print -print0 -ls -prune -quit -empty -true -false -not -o -a -or -and ! ( ) , -readable -writable -executable -nouser -nogroup -xdev -mount -depth -daystart -follow -noleaf -L -H -P",
		"-name -iname -path -ipath -wholename -iwholename -regex -iregex -type -xtype -maxdepth -mindepth -size -mtime -mmin -atime -amin -ctime -cmin -newer -anewer -cnewer -perm -user -group -uid -gid -links -inum -samefile -regextype -lname -ilname -used -fstype -printf")
	for i := 0; i < len(words); i++ {
		w := words[i]
		if !strings.HasPrefix(w, "-") && w != "!" && w != "(" && w != ")" && w != "," {
			continue // a path, or a test's value
		}
		switch tests[w] {
		case 0:
			return false
		case value:
			i++
		}
	}
	return true
}

// sedScript is a sed script of only printing commands: addresses, p, d,
// q, =, n, and s/…/…/ with flags g, p, i, I and a number; no e, w, r or
// anything else that runs or touches files.
var sedScript = regexp.MustCompile(`^\s*(((\d+|\$|/([^/\\]|\\.)*/)(\s*,\s*(\d+|\$|/([^/\\]|\\.)*/))?)?\s*!?\s*([pdqn=]|s/([^/\\]|\\.)*/([^/\\]|\\.)*/[gpiI0-9]*)?\s*[;\n]?\s*)*$`)

func sedReadOnly(words []string) bool {
	var scripts, operands []string // the files it reads are any
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "-n" || w == "-E" || w == "-r" || w == "--quiet" || w == "--silent" || w == "--regexp-extended" || w == "-s" || w == "-z" || w == "-u":
		case w == "-e" || w == "--expression":
			if i+1 >= len(words) {
				return false
			}
			i++
			scripts = append(scripts, words[i])
		case strings.HasPrefix(w, "--expression="):
			scripts = append(scripts, strings.TrimPrefix(w, "--expression="))
		case strings.HasPrefix(w, "-"):
			return false // -i, -f, --in-place, …
		default:
			operands = append(operands, w)
		}
	}
	if len(scripts) == 0 {
		if len(operands) == 0 {
			return false
		}
		scripts = operands[:1]
	}
	for _, s := range scripts {
		if !sedScript.MatchString(s) {
			return false
		}
	}
	return true
}

// networkCommand reports whether a command is one whose work is reaching
// the network, which the sandbox has none of.
func networkCommand(args []string) bool {
	if len(args) == 0 {
		return false
	}
	sub := ""
	if len(args) > 1 {
		sub = args[1]
	}
	switch args[0] {
	case "curl", "wget", "ssh", "scp", "sftp", "rsync", "nc", "ncat", "telnet", "ftp", "http", "https":
		return true
	case "git":
		for _, w := range args[1:] {
			if !strings.HasPrefix(w, "-") {
				sub = w
				break
			}
		}
		switch sub {
		case "clone", "fetch", "pull", "push", "ls-remote", "submodule":
			return true
		}
	case "npm", "pnpm", "yarn", "bun":
		switch sub {
		case "install", "i", "add", "ci", "publish", "update", "upgrade":
			return true
		}
	case "pip", "pip3", "uv", "poetry", "cargo", "gem", "go":
		switch sub {
		case "install", "download", "add", "sync", "get", "fetch", "update", "publish", "lock":
			return true
		}
	}
	return false
}
