package slash

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/lathe-dev/lathe/internal/frontmatter"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/regfile"
	"go.yaml.in/yaml/v3"
)

// Dirs are the directories command files are loaded from for a
// workspace, lowest precedence first, as [frontmatter.Dirs] lists them:
// the user's ~/.claude/commands and ~/.config/lathe/commands, then the
// project's .claude/commands and .lathe/commands.
func Dirs(home, userDir, root, workspace string) []string {
	return frontmatter.Dirs("commands", home, userDir, root, workspace)
}

// maxFileSize caps a command file: its body is sent as a prompt.
const maxFileSize = 256 << 10

// maxDepth bounds how deep below a commands directory files are looked
// for: Claude Code's subdirectories are namespaces, one level is usual.
const maxDepth = 3

// FileError is a command file that could not be loaded.
type FileError = frontmatter.FileError

// fileKind names the files of this package in a [FileError].
const fileKind = "command"

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]*$`)

func validName(name string) bool { return namePattern.MatchString(name) }

// Load reads the custom commands defined by the *.md files of dirs and
// their subdirectories; a file's name, less ".md", is the command's
// name. A later directory's command replaces an earlier one's of the
// same name, in its place. A file that cannot be loaded, or whose name
// is a built-in's or is taken in its own directory, is left out and
// reported in problems (each a [*FileError]), and the others still load;
// a directory that does not exist is no problem.
func Load(dirs ...string) (cmds []Command, problems []error) {
	builtins := NewSet(nil)
	for _, dir := range dirs {
		var inDir []string // names defined in this directory tree
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if path == dir && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission)) {
					return fs.SkipAll
				}
				problems = append(problems, &FileError{Kind: fileKind, File: path, Err: err})
				return nil
			}
			rel, _ := filepath.Rel(dir, path)
			if d.IsDir() {
				if path != dir && strings.Count(rel, string(filepath.Separator))+1 >= maxDepth {
					return fs.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(d.Name(), ".md") {
				return nil
			}
			c, err := loadFile(path)
			if err != nil {
				problems = append(problems, err)
				return nil
			}
			if ns := filepath.Dir(rel); ns != "." {
				c.Namespace = filepath.ToSlash(ns)
			}
			switch {
			case !validName(c.Name):
				problems = append(problems, &FileError{Kind: fileKind, File: path, Err: fmt.Errorf("%q is not a command name: use letters, digits, '-', '_', '.' and ':'", c.Name)})
			case hasName(builtins, c.Name):
				problems = append(problems, &FileError{Kind: fileKind, File: path, Err: fmt.Errorf("/%s is a built-in command; rename the file", c.Name)})
			case slices.ContainsFunc(inDir, func(n string) bool { return strings.EqualFold(n, c.Name) }):
				problems = append(problems, &FileError{Kind: fileKind, File: path, Err: fmt.Errorf("/%s is already defined in %s; this one is left out", c.Name, dir)})
			default:
				inDir = append(inDir, c.Name)
				if i := slices.IndexFunc(cmds, func(o Command) bool { return o.hasName(c.Name) }); i >= 0 {
					cmds[i] = c
				} else {
					cmds = append(cmds, c)
				}
			}
			return nil
		})
		if err != nil {
			problems = append(problems, &FileError{Kind: fileKind, File: dir, Err: err})
		}
	}
	return cmds, problems
}

func hasName(s *Set, name string) bool {
	_, ok := s.Lookup(name)
	return ok
}

func loadFile(path string) (Command, error) {
	data, err := regfile.ReadFile(path, maxFileSize)
	if err != nil {
		return Command{}, &FileError{Kind: fileKind, File: path, Err: err}
	}
	c, err := ParseFile(data)
	var fe *FileError
	if errors.As(err, &fe) {
		fe.File = path
		return Command{}, fe
	}
	if err != nil {
		return Command{}, &FileError{Kind: fileKind, File: path, Err: err}
	}
	c.Name = strings.TrimSuffix(filepath.Base(path), ".md")
	c.Source = path
	return c, nil
}

// Keys of the frontmatter, as Claude Code names them.
const (
	keyDescription  = "description"
	keyArgumentHint = "argument-hint"
	keyAllowedTools = "allowed-tools"
	keyModel        = "model"
	keyDisableModel = "disable-model-invocation"
)

// ignoredKeys are keys Claude Code's files carry that change nothing
// here: the model does not invoke commands in Lathe, and the name is the
// file's.
var ignoredKeys = map[string]bool{keyDisableModel: true, "name": true}

// ParseFile parses a command file: optional YAML frontmatter between "---"
// lines, then the Markdown body, the command's prompt. description and
// argument-hint are strings, allowed-tools permission rules (a list, or
// separated by commas) and model a model name or alias; argument-hint is
// text as written, YAML aside. Without a
// description, the body's first non-blank line is one. An error names the
// key at fault ([*FileError]). The name is the caller's to set.
func ParseFile(data []byte) (Command, error) {
	entries, body, _, err := frontmatter.Read(data, fileKind)
	if err != nil {
		return Command{}, err
	}
	var c Command
	for _, e := range entries {
		key, bad := e.Key, e.Errorf
		if key == keyArgumentHint {
			// Claude Code's own examples write "[message]", which YAML
			// would take for a list: the hint is the text as written.
			raw, ok := e.Raw()
			if !ok {
				return Command{}, bad("want the hint on the key's line")
			}
			c.ArgumentHint = raw
			continue
		}
		v, err := e.Value()
		if err != nil {
			return Command{}, bad("invalid YAML: %v", err)
		}
		switch key {
		case keyDescription, keyModel:
			s, ok := frontmatter.Scalar(v)
			if !ok {
				return Command{}, bad("want a string")
			}
			s = strings.TrimSpace(s)
			switch key {
			case keyDescription:
				c.Description = s
			case keyModel:
				c.Model = s
			}
		case keyAllowedTools:
			rules, err := ruleList(v)
			if err != nil {
				return Command{}, bad("%v", err)
			}
			c.AllowedTools = rules
		default:
			if !ignoredKeys[key] {
				return Command{}, bad("unknown key (want description, argument-hint, allowed-tools, model)")
			}
		}
	}
	c.Body = strings.TrimSpace(string(body))
	if c.Description == "" {
		for line := range strings.Lines(c.Body) {
			if line = strings.TrimSpace(strings.TrimLeft(line, "# ")); line != "" {
				c.Description = line
				break
			}
		}
	}
	return c, nil
}

// ruleList reads permission rules: "Bash(git add:*), Read" or a list of
// them. Commas inside a rule's parentheses do not split it.
func ruleList(v *yaml.Node) ([]policy.Rule, error) {
	var raw []string
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag != "!!null" {
			raw = splitTop(v.Value)
		}
	case yaml.SequenceNode:
		for _, item := range v.Content {
			s, ok := frontmatter.Scalar(item)
			if !ok {
				return nil, errors.New("want permission rules, as a list or separated by commas")
			}
			raw = append(raw, s)
		}
	default:
		return nil, errors.New("want permission rules, as a list or separated by commas")
	}
	var rules []policy.Rule
	for _, s := range raw {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		r, err := policy.ParseRule(s)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// splitTop splits s at the commas outside parentheses.
func splitTop(s string) []string {
	var out []string
	depth, from := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth = max(depth-1, 0)
		case ',':
			if depth == 0 {
				out = append(out, s[from:i])
				from = i + 1
			}
		}
	}
	return append(out, s[from:])
}
