package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/regfile"
)

// SystemManagedPath is where an administrator puts the managed policy: the
// permission settings that every session on the machine runs under and
// that nothing a user or a project configures can loosen.
const SystemManagedPath = "/etc/lathe/managed.toml"

// ManagedEnv names an environment variable holding the path of one more
// managed policy file, read after SystemManagedPath. It adds to the
// system's policy and never replaces it, so that setting it cannot loosen
// what an administrator imposed; tests use it to impose a policy of their
// own.
const ManagedEnv = "LATHE_MANAGED_CONFIG"

// ManagedPaths lists the managed policy files, the system's first.
func ManagedPaths() []string {
	paths := []string{SystemManagedPath}
	if p := os.Getenv(ManagedEnv); p != "" {
		paths = append(paths, p)
	}
	return paths
}

// Option changes how Load reads the configuration: the command line's
// layer.
type Option func(*options)

type options struct {
	settings    []string
	allow, deny []string
	trust       bool
}

// WithSettings adds settings files above the project's (--settings), in
// order: Lathe's TOML, or Claude Code's settings JSON, told apart by
// their first character. A file that does not exist is an error.
func WithSettings(paths ...string) Option {
	return func(o *options) { o.settings = append(o.settings, paths...) }
}

// WithRules adds allow and deny rules above the project's (--allow,
// --deny); their Source names the flag.
func WithRules(allow, deny []string) Option {
	return func(o *options) {
		o.allow = append(o.allow, allow...)
		o.deny = append(o.deny, deny...)
	}
}

// WithTrustedWorkspace trusts the workspace's project configuration for
// this load (--trust-workspace), whether or not the user trusted it
// before, without remembering it.
func WithTrustedWorkspace() Option {
	return func(o *options) { o.trust = true }
}

// Sources of rules given on the command line.
const (
	AllowFlag = "--allow flag"
	DenyFlag  = "--deny flag"
)

// kind is where a layer comes from, which decides what it may set.
type kind int

const (
	kindUser kind = iota
	// kindProject is a file of the working tree, which anyone who can
	// push to the repository may have written.
	kindProject
	kindFlag
	kindManaged
)

// source is one layer as read.
type source struct {
	path   string // empty for the rules of flags
	kind   kind
	claude bool // Claude Code's settings JSON
	doc    []byte
	// allow and deny are the rules of flags.
	allow, deny []string
}

// Managed is what the managed policy imposes on every session.
type Managed struct {
	// Files are the managed policy files read.
	Files []string
	// Mode, when set, is the permission mode of every session: neither
	// a file nor a flag may choose another. ModeSource is its file.
	Mode       policy.Mode
	ModeSource string
	// MaxMode, when set, is the widest mode a session may run in, and
	// MaxSource the file that set it (max_mode, or
	// disable_bypass_permissions, which is a ceiling of auto).
	MaxMode   policy.Mode
	MaxSource string
}

// Allows returns an error naming the managed policy file when a session
// may not run in mode, chosen by what (a flag, a file).
func (m Managed) Allows(mode policy.Mode, what string) error {
	switch {
	case m.Mode != "" && mode != m.Mode:
		return fmt.Errorf("%s: the managed policy %s sets permission_mode = %q, and nothing may choose another", what, displayPath(m.ModeSource), m.Mode)
	case m.MaxMode != "" && mode.Wider(m.MaxMode):
		return fmt.Errorf("%s: the managed policy %s allows no mode wider than %s", what, displayPath(m.MaxSource), m.MaxMode)
	}
	return nil
}

// Clamp returns mode, or the managed ceiling when mode is wider.
func (m Managed) Clamp(mode policy.Mode) policy.Mode {
	if m.MaxMode != "" && mode.Wider(m.MaxMode) {
		return m.MaxMode
	}
	return mode
}

// readLayers reads every layer's file for a session in cwd, lowest
// first; see Load.
func readLayers(cwd string, o *options) ([]source, error) {
	var srcs []source
	// read adds the file at path, if there is one.
	read := func(path string, k kind, claude bool) error {
		doc, err := regfile.ReadFile(path, MaxFileSize)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil
		case err != nil && k == kindManaged:
			return fmt.Errorf("managed policy %s cannot be read, and Lathe does not run without the policy it imposes: %w", path, err)
		case err != nil:
			return fmt.Errorf("load config: %w", err)
		}
		srcs = append(srcs, source{path: path, kind: k, claude: claude, doc: doc})
		return nil
	}
	var errs []error
	if home := os.Getenv("HOME"); home != "" {
		errs = append(errs, read(filepath.Join(home, ".claude", "settings.json"), kindUser, true))
	}
	if dir := UserDir(); dir != "" {
		errs = append(errs, read(filepath.Join(dir, "config.toml"), kindUser, false))
	}
	dirs := projectDirs(cwd)
	for _, dir := range dirs {
		errs = append(errs, read(filepath.Join(dir, ".claude", "settings.json"), kindProject, true),
			read(filepath.Join(dir, ".lathe", "config.toml"), kindProject, false))
	}
	for _, dir := range dirs {
		errs = append(errs, read(filepath.Join(dir, ".claude", "settings.local.json"), kindProject, true),
			read(filepath.Join(dir, ".lathe", LocalFile), kindProject, false))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, path := range o.settings {
		// A file the user names must be there.
		abs, err := filepath.Abs(path)
		if err == nil {
			var doc []byte
			if doc, err = regfile.ReadFile(abs, MaxFileSize); err == nil {
				trimmed := bytes.TrimSpace(bytes.TrimPrefix(doc, []byte("\uFEFF")))
				srcs = append(srcs, source{path: abs, kind: kindFlag, claude: bytes.HasPrefix(trimmed, []byte("{")), doc: doc})
			}
		}
		if err != nil {
			return nil, fmt.Errorf("--settings %s: %w", path, err)
		}
	}
	if len(o.allow)+len(o.deny) > 0 {
		srcs = append(srcs, source{kind: kindFlag, allow: o.allow, deny: o.deny})
	}
	for _, path := range ManagedPaths() {
		if err := read(path, kindManaged, false); err != nil {
			return nil, err
		}
	}
	return srcs, nil
}

// LocalFile is the name, in a .lathe directory, of the project
// configuration that is the user's own and not shared: git ignores it,
// and "always" answers add their rules to it.
const LocalFile = "config.local.toml"

// projectDirs lists the directories whose project files a session in cwd
// reads, the repository root first; outside a repository, only cwd.
func projectDirs(cwd string) []string {
	dirs, inRepo := upToRepoRoot(cwd)
	if !inRepo {
		dirs = dirs[:1]
	}
	slices.Reverse(dirs)
	return dirs
}

// filePermissions is a [permissions] table.
type filePermissions struct {
	Allow []string `toml:"allow"`
	Ask   []string `toml:"ask"`
	Deny  []string `toml:"deny"`
	// MaxMode and DisableBypassPermissions are the managed policy's.
	MaxMode                  *string `toml:"max_mode"`
	DisableBypassPermissions *bool   `toml:"disable_bypass_permissions"`
}

// claudeSettings is what Lathe reads of a Claude Code settings file; the
// rest of the file is Claude Code's.
type claudeSettings struct {
	Permissions struct {
		Allow                        []string `json:"allow"`
		Ask                          []string `json:"ask"`
		Deny                         []string `json:"deny"`
		DefaultMode                  *string  `json:"defaultMode"`
		AdditionalDirectories        []string `json:"additionalDirectories"`
		DisableBypassPermissionsMode *string  `json:"disableBypassPermissionsMode"`
	} `json:"permissions"`
}

// decodeClaude reads a Claude Code settings file's permissions into f.
func (l *layer) decodeClaude(doc []byte, f *fileConfig) error {
	var s claudeSettings
	if err := json.Unmarshal(bytes.TrimPrefix(doc, []byte("\uFEFF")), &s); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			line, col := lineCol(doc, syn.Offset)
			return &Error{File: l.file, Line: line, Column: col, Msg: "invalid JSON: " + syn.Error()}
		case errors.As(err, &typ):
			line, col := lineCol(doc, typ.Offset)
			return &Error{File: l.file, Line: line, Column: col, Key: typ.Field, Msg: fmt.Sprintf("%s: want %s, not a JSON %s", typ.Field, jsonType(typ.Type.String()), typ.Value)}
		}
		return &Error{File: l.file, Msg: err.Error()}
	}
	p := s.Permissions
	f.PermissionMode = p.DefaultMode
	f.Permissions = filePermissions{Allow: p.Allow, Ask: p.Ask, Deny: p.Deny}
	if len(p.AdditionalDirectories) > 0 {
		l.warn("permissions.additionalDirectories is not supported yet, and ignored")
	}
	if p.DisableBypassPermissionsMode != nil {
		l.warn("permissions.disableBypassPermissionsMode is ignored: Lathe takes it from a managed policy (disable_bypass_permissions in " + SystemManagedPath + ")")
	}
	return nil
}

func jsonType(goType string) string {
	if strings.HasPrefix(goType, "[]") {
		return "an array of strings"
	}
	return "a string"
}

// lineCol turns a byte offset in doc into a line and column from 1.
func lineCol(doc []byte, off int64) (int, int) {
	off = min(max(off, 0), int64(len(doc)))
	before := doc[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	return line, int(off) - bytes.LastIndexByte(before, '\n')
}

// permissions merges the rules of a [permissions] table into c.
func (l *layer) permissions(c *Config, p filePermissions) {
	for _, list := range []struct {
		key   string
		texts []string
		dst   *[]policy.Rule
	}{{"deny", p.Deny, &c.Rules.Deny}, {"ask", p.Ask, &c.Rules.Ask}, {"allow", p.Allow, &c.Rules.Allow}} {
		for i, text := range list.texts {
			r, err := policy.ParseRule(text)
			if err != nil {
				l.failElem(err.Error(), i, text, "permissions", list.key)
				continue
			}
			r.Source = l.source
			*list.dst = append(*list.dst, r)
		}
	}
	if l.kind != kindManaged {
		if p.MaxMode != nil {
			l.fail("may only be set in a managed policy ("+SystemManagedPath+")", "permissions", "max_mode")
		}
		if p.DisableBypassPermissions != nil {
			l.fail("may only be set in a managed policy ("+SystemManagedPath+")", "permissions", "disable_bypass_permissions")
		}
	}
}

// flagRules merges the rules given with --allow and --deny.
func flagRules(c *Config, src source) error {
	var errs []error
	for _, list := range []struct {
		flag, source string
		texts        []string
		dst          *[]policy.Rule
	}{{"--deny", DenyFlag, src.deny, &c.Rules.Deny}, {"--allow", AllowFlag, src.allow, &c.Rules.Allow}} {
		for _, text := range list.texts {
			r, err := policy.ParseRule(text)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", list.flag, err))
				continue
			}
			r.Source = list.source
			*list.dst = append(*list.dst, r)
		}
	}
	return errors.Join(errs...)
}

// managed applies a managed policy file's own settings: a ceiling, which
// the mode the layers below chose must respect, and a mode that nothing
// overrides. It takes the place of merge's handling of permission_mode.
func (l *layer) managed(c *Config, f *fileConfig) {
	m := &c.Managed
	m.Files = append(m.Files, l.source)
	ceiling := func(mode policy.Mode) {
		if m.MaxMode == "" || m.MaxMode.Wider(mode) {
			m.MaxMode, m.MaxSource = mode, l.source
		}
	}
	if p := f.Permissions.MaxMode; p != nil {
		if mode, err := policy.ParseMode(*p); err != nil {
			l.fail(err.Error(), "permissions", "max_mode")
		} else {
			ceiling(mode)
		}
	}
	if b := f.Permissions.DisableBypassPermissions; b != nil && *b {
		ceiling(policy.Auto)
	}
	if c.PermissionMode != "" && m.MaxMode != "" && c.PermissionMode.Wider(m.MaxMode) {
		l.errs = append(l.errs, &Error{File: displayPath(c.ModeSource), Key: "permission_mode",
			Msg: fmt.Sprintf("permission_mode: %s is wider than the managed policy %s allows (%s at most)", c.PermissionMode, displayPath(m.MaxSource), m.MaxMode)})
	}
	if f.PermissionMode == nil {
		return
	}
	mode, err := policy.ParseMode(*f.PermissionMode)
	switch {
	case err != nil:
		l.fail(err.Error(), "permission_mode")
	case m.MaxMode != "" && mode.Wider(m.MaxMode):
		l.fail(fmt.Sprintf("%s is wider than the managed ceiling, %s", mode, m.MaxMode), "permission_mode")
	default:
		c.PermissionMode, c.ModeSource = mode, l.source
		m.Mode, m.ModeSource = mode, l.source
	}
}

// managedKeys are the keys a managed policy may set.
var managedKeys = []string{"permission_mode", "permissions"}

// checkManagedKeys refuses settings a managed policy does not impose, so
// that an administrator never believes a setting is enforced when it is
// not.
func (l *layer) checkManagedKeys(doc []byte) {
	var m map[string]any
	if err := toml.Unmarshal(doc, &m); err != nil {
		return // decoding reported it
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(managedKeys, k) {
			l.fail("a managed policy sets only permission_mode and [permissions]", k)
		}
	}
}

// warn records a problem that does not stop Lathe.
func (l *layer) warn(msg string) {
	l.warnings = append(l.warnings, l.file+": "+msg)
}

// neverMatch warns of rules that can never decide a call: a rule no call
// of Lathe's tools can match, an allow or ask rule that a deny rule of
// the same text overrides, and an allow rule that an ask rule of the
// same text overrides.
func neverMatch(r policy.Rules) []string {
	var ws []string
	for _, l := range []struct {
		name  string
		rules []policy.Rule
	}{{"deny", r.Deny}, {"ask", r.Ask}, {"allow", r.Allow}} {
		for _, rule := range l.rules {
			if why := rule.Inert(); why != "" {
				ws = append(ws, fmt.Sprintf("%s rule %s (%s) can never match: %s", l.name, rule.Text, displayPath(rule.Source), why))
			}
		}
	}
	shadow := func(list string, rules []policy.Rule, by string, over []policy.Rule) {
		for _, a := range rules {
			for _, d := range over {
				if a.Text == d.Text {
					ws = append(ws, fmt.Sprintf("%s rule %s (%s) can never match: the %s rule %s (%s) decides first", list, a.Text, displayPath(a.Source), by, d.Text, displayPath(d.Source)))
					break
				}
			}
		}
	}
	shadow("allow", r.Allow, "deny", r.Deny)
	shadow("ask", r.Ask, "deny", r.Deny)
	shadow("allow", r.Allow, "ask", r.Ask)
	return ws
}
