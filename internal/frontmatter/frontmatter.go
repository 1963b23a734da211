// Package frontmatter reads the YAML frontmatter of Claude Code's
// Markdown definition files (agents, slash commands): "---" lines around
// top-level keys, then a body. Each key is read on its own, so that an
// error names its key and line, and a one-line value that is not valid
// YAML as it stands, as Claude Code's descriptions often are
// ("description: Use it when: …"), is taken as the text it is.
package frontmatter

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FileError is a definition file that could not be loaded, naming the
// frontmatter key at fault when one is.
type FileError struct {
	// Kind is what the file defines ("agent", "command"), for the message.
	Kind string
	File string
	// Key is the frontmatter key at fault; "" for the file as a whole.
	Key string
	Err error
}

func (e *FileError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s file %s: %v", e.Kind, e.File, e.Err)
	}
	return fmt.Sprintf("%s file %s: key %q: %v", e.Kind, e.File, e.Key, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// Split separates the frontmatter from the body. ok reports whether data
// begins with a "---" line (a byte order mark aside); if not, front is
// nil and body is all of data. A frontmatter without its closing "---"
// line is an error.
func Split(data []byte) (front, body []byte, ok bool, err error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	rest, ok := cutLine(data, "---")
	if !ok {
		return nil, data, false, nil
	}
	for off := 0; off <= len(rest); {
		line := rest[off:]
		end := bytes.IndexByte(line, '\n')
		if end >= 0 {
			line = line[:end]
		}
		if string(bytes.TrimRight(line, " \t\r")) == "---" {
			if end < 0 {
				return rest[:off], nil, true, nil
			}
			return rest[:off], rest[off+end+1:], true, nil
		}
		if end < 0 {
			break
		}
		off += end + 1
	}
	return nil, nil, true, errors.New(`the frontmatter has no closing "---" line`)
}

// cutLine cuts the first line of data if it is want, trailing blanks
// aside.
func cutLine(data []byte, want string) ([]byte, bool) {
	line, rest, _ := bytes.Cut(data, []byte("\n"))
	if string(bytes.TrimRight(line, " \t\r")) != want {
		return nil, false
	}
	return rest, true
}

// Entry is one top-level key of the frontmatter and the lines of its
// value.
type Entry struct {
	Key string
	// Line is the file's line the key is on.
	Line int
	// text is the key's lines, as YAML.
	text string
	// kind is what the file defines, for Errorf; set by Read.
	kind string
}

// Read splits a definition file of kind ("agent", "command") into its
// frontmatter's entries and its body, as Split and Entries do, and
// refuses a key defined twice. ok reports whether the file has a
// frontmatter. Every error is a [*FileError] of kind, its File the
// caller's to set.
func Read(data []byte, kind string) (entries []Entry, body []byte, ok bool, err error) {
	front, body, ok, err := Split(data)
	if err != nil {
		return nil, nil, ok, &FileError{Kind: kind, Err: err}
	}
	entries, err = Entries(front)
	if err != nil {
		return nil, nil, ok, &FileError{Kind: kind, Err: err}
	}
	seen := make(map[string]bool, len(entries))
	for i := range entries {
		entries[i].kind = kind
		if seen[entries[i].Key] {
			return nil, nil, ok, entries[i].Errorf("defined twice")
		}
		seen[entries[i].Key] = true
	}
	return entries, body, ok, nil
}

// Errorf returns a [*FileError] naming the entry's key and line.
func (e Entry) Errorf(format string, args ...any) error {
	return &FileError{Kind: e.kind, Key: e.Key, Err: fmt.Errorf("line %d: "+format, append([]any{e.Line}, args...)...)}
}

// Entries splits the frontmatter into its top-level keys: a line that
// begins at the margin with neither "#" nor "-" starts one, and the lines
// below it, up to the next such line, are its value's.
func Entries(front []byte) ([]Entry, error) {
	var out []Entry
	for i, line := range strings.Split(strings.ReplaceAll(string(front), "\r\n", "\n"), "\n") {
		n := i + 2 // the frontmatter starts on the file's second line
		switch {
		case strings.TrimSpace(line) == "" || line[0] == '#' || line[0] == ' ' || line[0] == '\t' || line[0] == '-':
			if len(out) > 0 {
				out[len(out)-1].text += "\n" + line
			} else if t := strings.TrimSpace(line); t != "" && t[0] != '#' {
				return nil, fmt.Errorf("frontmatter line %d: want a key, as in \"name: reviewer\"", n)
			}
		default:
			key, _, ok := strings.Cut(line, ":")
			if !ok {
				return nil, fmt.Errorf("frontmatter line %d: want \"key: value\", not %q", n, line)
			}
			out = append(out, Entry{Key: strings.TrimSpace(key), Line: n, text: line})
		}
	}
	return out, nil
}

// Value decodes the entry's value.
func (e Entry) Value() (*yaml.Node, error) {
	var doc yaml.Node
	err := yaml.Unmarshal([]byte(e.text), &doc)
	if err != nil {
		// A one-line plain value that YAML cannot take is meant as text;
		// one that begins as YAML syntax is not.
		_, v, _ := strings.Cut(e.text, ":")
		v = strings.TrimSpace(v)
		oneLine := !strings.Contains(strings.TrimRight(e.text, "\n \t"), "\n")
		if !oneLine || v == "" || strings.ContainsAny(v[:1], "[{|>\"'&*!%@`") {
			return nil, errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}, nil
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode || len(doc.Content[0].Content) != 2 {
		return nil, errors.New("want one value")
	}
	return doc.Content[0].Content[1], nil
}

// Raw returns the entry's value as written, when it is on the key's own
// line: Claude Code reads some keys as plain text where YAML would see
// syntax ("argument-hint: [pr-number] [priority]"). ok is false for a
// value on the lines below its key.
func (e Entry) Raw() (text string, ok bool) {
	line, below, _ := strings.Cut(strings.TrimRight(e.text, "\n \t"), "\n")
	if strings.TrimSpace(below) != "" {
		return "", false
	}
	_, v, _ := strings.Cut(line, ":")
	return strings.TrimSpace(v), true
}

// Scalar returns the text of a scalar value; ok is false for a null, a
// list or a mapping.
func Scalar(v *yaml.Node) (s string, ok bool) {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		return "", false
	}
	return v.Value, true
}

// Dirs are the directories definition files of a kind (kind names the
// subdirectory: "agents", "commands") are loaded from for a workspace,
// lowest precedence first: the user's (~/.claude/KIND, then
// userDir/KIND, userDir being ~/.config/lathe), then the project's
// root's and, when the workspace is below it, the workspace's own
// (.claude/KIND, then .lathe/KIND, in each). root is "" outside a
// repository. A later file defining a name overrides an earlier one.
func Dirs(kind, home, userDir, root, workspace string) []string {
	var dirs []string
	if home != "" {
		dirs = append(dirs, filepath.Join(home, ".claude", kind))
	}
	if userDir != "" {
		dirs = append(dirs, filepath.Join(userDir, kind))
	}
	for _, d := range []string{root, workspace} {
		if d == "" || slices.Contains(dirs, filepath.Join(d, ".lathe", kind)) {
			continue
		}
		dirs = append(dirs, filepath.Join(d, ".claude", kind), filepath.Join(d, ".lathe", kind))
	}
	return dirs
}
