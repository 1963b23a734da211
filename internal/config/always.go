package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"

	"github.com/lathe-dev/lathe/internal/regfile"
	"github.com/lathe-dev/lathe/internal/textfile"
)

// alwaysMu serialises the writes of AllowAlways within the process, for
// approvers that answer concurrently.
var alwaysMu sync.Mutex

// AllowAlways adds rules to the allow list of the project's local file
// (see [Config.LocalRulesFile]), for a person's "always in this project"
// answer. The file is replaced atomically and keeps everything else it
// said, comments included; a rule it already allows is not added again.
// It returns the file's path.
//
// The person approved these rules, so the trust of the workspace follows
// it: when the configuration was trusted, or widened nothing that was
// ignored, the configuration with the new rule is remembered as trusted,
// and later sessions apply it. Otherwise the rule waits, like the rest,
// for `lathe trust`. It may be called from any goroutine.
func (c *Config) AllowAlways(rules ...string) (string, error) {
	alwaysMu.Lock()
	defer alwaysMu.Unlock()
	path := c.LocalRulesFile()
	dir := filepath.Dir(path)
	doc, changed, err := addAllowRules(path, rules, localHeader)
	if err != nil || !changed {
		return path, err
	}
	// The file is the user's own: git should not offer to commit it.
	ignore := filepath.Join(dir, ".gitignore")
	if _, err := os.Lstat(ignore); errors.Is(err, fs.ErrNotExist) {
		if err := textfile.WriteAtomic(ignore, []byte(LocalFile+"\n"), 0o644); err != nil {
			return path, fmt.Errorf("add rule %s: %w", strings.Join(rules, ", "), err)
		}
	}
	t := &c.Trust
	t.setDoc(path, doc)
	if t.Remembered || len(t.Ignored) == 0 {
		if err := rememberTrust(t.Dir, t.Hash); err != nil {
			return path, err
		}
		t.Remembered = true
	}
	return path, nil
}

// LocalRulesFile is the file [Config.AllowAlways] writes: the
// .lathe/config.local.toml at the workspace's repository root (as `git
// rev-parse --show-toplevel` finds it, a worktree's or submodule's own;
// the workspace itself outside a repository).
func (c *Config) LocalRulesFile() string {
	root, ok := RepoRoot(c.Trust.Dir)
	if !ok {
		root = c.Trust.Dir
	}
	return filepath.Join(root, ".lathe", LocalFile)
}

// UserRulesFile is the file [AllowAlwaysUser] writes: config.toml in
// [UserDir]; "" when there is no user directory.
func UserRulesFile() string {
	dir := UserDir()
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, "config.toml")
}

// AllowAlwaysUser adds rules to the allow list of the user's config.toml
// (see [UserRulesFile]), for a person's "always, in every project"
// answer, as [Config.AllowAlways] does to the project's file. The user's
// own file needs no trust. It returns the file's path. It may be called
// from any goroutine.
func AllowAlwaysUser(rules ...string) (string, error) {
	alwaysMu.Lock()
	defer alwaysMu.Unlock()
	path := UserRulesFile()
	if path == "" {
		return "", fmt.Errorf("add rule %s: no user configuration directory: set HOME or XDG_CONFIG_HOME", strings.Join(rules, ", "))
	}
	_, _, err := addAllowRules(path, rules, userHeader)
	return path, err
}

// addAllowRules adds rules to the allow list of the TOML file at path,
// creating it and its directory if need be, and returns what the file
// now holds and whether that changed; header starts a new file.
func addAllowRules(path string, rules []string, header string) (doc []byte, changed bool, err error) {
	rule := strings.Join(rules, ", ")
	old, err := regfile.ReadFile(path, MaxFileSize)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("add rule %s: %w", rule, err)
	}
	doc = old
	for _, r := range rules {
		if doc, err = addAllowRule(doc, r, header); err != nil {
			return nil, false, fmt.Errorf("add rule %s to %s: %w", r, displayPath(path), err)
		}
	}
	if bytes.Equal(doc, old) {
		return doc, false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, false, fmt.Errorf("add rule %s: %w", rule, err)
	}
	if err := textfile.WriteAtomic(path, doc, 0o644); err != nil {
		return nil, false, fmt.Errorf("add rule %s: %w", rule, err)
	}
	return doc, true, nil
}

// setDoc updates the trust's view of the project file at path, which now
// holds doc, where Load would have read it.
func (t *Trust) setDoc(path string, doc []byte) {
	i := slices.IndexFunc(t.docs, func(d projectDoc) bool { return d.path == path })
	if i >= 0 {
		t.docs[i].doc = doc
	} else {
		// A new file at the root is read after every other file of its
		// name, and before the files of deeper directories.
		at := len(t.docs)
		for j, d := range t.docs {
			if filepath.Base(d.path) == LocalFile || filepath.Base(d.path) == "settings.local.json" {
				at = j
				break
			}
		}
		t.docs = slices.Insert(t.docs, at, projectDoc{path, doc})
		t.Files = slices.Insert(t.Files, at, path)
	}
	t.Hash = hashDocs(t.docs)
}

// Headers of the files "always" rules go into, when Lathe makes them.
const (
	localHeader = "# Your own settings for this workspace, not shared: git ignores this file.\n" +
		"# Lathe adds the rules you approve with \"always\" here.\n"
	userHeader = "# Your settings for every project.\n" +
		"# Lathe adds the rules you approve with \"always, in every project\" here.\n"
)

// addAllowRule returns doc, a TOML document, with rule added to its
// permissions.allow array, and the rest of doc as it was; header starts
// a document that was empty.
func addAllowRule(doc []byte, rule, header string) ([]byte, error) {
	var before map[string]any
	if err := toml.Unmarshal(doc, &before); err != nil {
		return nil, fmt.Errorf("the file is not valid TOML: %w", err)
	}
	allow, err := allowList(before)
	if err != nil {
		return nil, err
	}
	if slices.Contains(allow, rule) {
		return doc, nil
	}
	out, err := insertRule(doc, rule, header)
	if err != nil {
		return nil, err
	}
	// Whatever the edit, the document must say what it said, and the
	// rule.
	var after map[string]any
	if err := toml.Unmarshal(out, &after); err != nil {
		return nil, fmt.Errorf("adding the rule would break the file (%v); add it to [permissions] allow by hand", err)
	}
	got, _ := allowList(after)
	perms, _ := after["permissions"].(map[string]any)
	if !slices.Equal(got, append(allow, rule)) || perms == nil {
		return nil, errors.New("could not add the rule to the file's [permissions] allow; add it by hand")
	}
	delete(perms, "allow")
	bp, _ := before["permissions"].(map[string]any)
	delete(bp, "allow")
	if len(perms) == 0 && len(bp) == 0 {
		// A table made for the rule, or one that held only rules.
		delete(after, "permissions")
		delete(before, "permissions")
	}
	if !reflect.DeepEqual(before, after) {
		return nil, errors.New("could not add the rule without changing the rest of the file; add it to [permissions] allow by hand")
	}
	return out, nil
}

func allowList(doc map[string]any) ([]string, error) {
	p, ok := doc["permissions"]
	if !ok {
		return nil, nil
	}
	perms, ok := p.(map[string]any)
	if !ok {
		return nil, errors.New("permissions is not a table")
	}
	a, ok := perms["allow"]
	if !ok {
		return nil, nil
	}
	list, ok := a.([]any)
	if !ok {
		return nil, errors.New("permissions.allow is not an array")
	}
	var rules []string
	for _, v := range list {
		s, ok := v.(string)
		if !ok {
			return nil, errors.New("permissions.allow holds something other than strings")
		}
		rules = append(rules, s)
	}
	return rules, nil
}

// insertRule adds rule to doc's permissions.allow array, creating the
// array or the table when there is none, and header, comments saying
// what the file is, when doc is empty. It edits the text, so that
// comments and layout stay; addAllowRule checks the result.
func insertRule(doc []byte, rule, header string) ([]byte, error) {
	lit := tomlString(rule)
	var p unstable.Parser
	p.Reset(doc)
	var table []string
	headerEnd := -1 // the end of the [permissions] header's line
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = keyParts(e.Key())
			if e.Kind == unstable.Table && slices.Equal(table, []string{"permissions"}) {
				it := e.Key()
				it.Next()
				off := p.Shape(it.Node().Raw).End.Offset
				if nl := bytes.IndexByte(doc[off:], '\n'); nl >= 0 {
					headerEnd = off + nl + 1
				} else {
					headerEnd = len(doc)
				}
			}
		case unstable.KeyValue:
			v := findIn(e, table, []string{"permissions", "allow"})
			if v == nil || v.Kind != unstable.Array {
				continue
			}
			var last *unstable.Node
			for it := v.Children(); it.Next(); {
				if c := it.Node(); c.Kind != unstable.Comment {
					last = c
				}
			}
			if last == nil {
				// An empty array: the rule goes right after its "[".
				it := e.Key()
				var keyEnd int
				for it.Next() {
					keyEnd = p.Shape(it.Node().Raw).End.Offset
				}
				open := bytes.IndexByte(doc[keyEnd:], '[')
				if open < 0 {
					return nil, errors.New("cannot find permissions.allow's array")
				}
				at := keyEnd + open + 1
				return slices.Concat(doc[:at], []byte(lit), doc[at:]), nil
			}
			at := p.Shape(last.Raw).End.Offset
			return slices.Concat(doc[:at], []byte(", "+lit), doc[at:]), nil
		}
	}
	if err := p.Error(); err != nil {
		return nil, err
	}
	if headerEnd >= 0 {
		line := "allow = [" + lit + "]\n"
		if headerEnd == len(doc) && !bytes.HasSuffix(doc, []byte("\n")) {
			line = "\n" + line
		}
		return slices.Concat(doc[:headerEnd], []byte(line), doc[headerEnd:]), nil
	}
	var b bytes.Buffer
	b.Write(doc)
	if len(doc) > 0 && !bytes.HasSuffix(doc, []byte("\n")) {
		b.WriteByte('\n')
	}
	if len(doc) == 0 {
		b.WriteString(header)
	} else {
		b.WriteByte('\n')
	}
	b.WriteString("[permissions]\nallow = [" + lit + "]\n")
	return b.Bytes(), nil
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || r == utf8.RuneError:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
