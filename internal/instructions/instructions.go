// Package instructions loads the project instructions that head the system
// prompt: the user's own AGENTS.md, then the AGENTS.md (or, failing that,
// CLAUDE.md) of each directory from the repository root down to the
// working directory, so that the most specific instructions come last.
//
// The text is a pure function of the files, with no timestamps or other
// varying parts, so that the system prompt stays byte-stable and the
// provider's prompt cache keeps hitting.
package instructions

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/lathe-dev/lathe/internal/config"
	"github.com/lathe-dev/lathe/internal/regfile"
	"github.com/lathe-dev/lathe/internal/textfile"
)

// MaxFileSize caps the size of one instructions file that Load reads: only
// MaxBytes of the instructions are used, and a file far larger is a
// mistake, refused rather than read.
const MaxFileSize = 4 << 20

// MaxBytes caps the instructions, as Codex's project_doc_max_bytes does:
// they are sent with every request, and a runaway file would crowd out the
// conversation.
const MaxBytes = 32 << 10

// Doc is the combined instructions.
type Doc struct {
	// Text is the rendered instructions, each file under a heading naming
	// it; empty when there are none. It holds at most MaxBytes of the
	// files, plus a short note when they were cut.
	Text string
	// Files are the paths of the files used, in order, including one that
	// was cut.
	Files []string
	// Truncated is set when MaxBytes cut the instructions.
	Truncated bool
}

// section is one instructions file.
type section struct {
	path string
	// name is how the text refers to the file: its path relative to the
	// repository root, or its full path for the user's file.
	name  string
	title string
	text  string
}

// Load reads the instructions for a session in cwd: userDir/AGENTS.md, then
// one file per directory from the repository root (the nearest ancestor of
// cwd holding .git, or cwd itself when there is none) down to cwd. Missing
// and empty files are skipped; a file that exists but cannot be read, is
// not a regular file (a FIFO would block the start) or is larger than
// MaxFileSize is an error naming it.
func Load(userDir, cwd string) (Doc, error) {
	cwd, err := filepath.Abs(cwd)
	if err != nil {
		return Doc{}, fmt.Errorf("load instructions: %w", err)
	}
	var sections []section
	add := func(path, name, title string) (bool, error) {
		return readSection(&sections, path, name, title, "load instructions")
	}

	if userDir != "" {
		path := filepath.Join(userDir, "AGENTS.md")
		if _, err := add(path, path, "AGENTS.md (user instructions)"); err != nil {
			return Doc{}, err
		}
	}

	root, inRepo := config.RepoRoot(cwd)
	rootNote := " (repo root)"
	if !inRepo {
		root, rootNote = cwd, " (working directory)"
	}
	rel, err := filepath.Rel(root, cwd)
	if err != nil {
		return Doc{}, fmt.Errorf("load instructions: %w", err)
	}
	dirs := []string{"."}
	if rel != "." {
		parts := strings.Split(rel, string(filepath.Separator))
		for i := range parts {
			dirs = append(dirs, filepath.Join(parts[:i+1]...))
		}
	}
	for _, dir := range dirs {
		for _, base := range []string{"AGENTS.md", "CLAUDE.md"} {
			name := filepath.ToSlash(filepath.Join(dir, base))
			title := name
			if dir == "." {
				title += rootNote
			}
			found, err := add(filepath.Join(root, dir, base), name, title)
			if err != nil {
				return Doc{}, err
			}
			if found {
				break
			}
		}
	}
	return render(sections, MaxBytes, "Instructions"), nil
}

// readSection reads the file at path into a section appended to
// sections, unless it is empty, and reports whether it exists. Errors
// name the file and say what failed (op).
func readSection(sections *[]section, path, name, title, op string) (bool, error) {
	b, err := regfile.ReadFile(path, MaxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	text, _ := textfile.Decode(b)
	if text = strings.TrimSpace(text); text != "" {
		*sections = append(*sections, section{path: path, name: name, title: title, text: text})
	}
	return true, nil
}

// render joins the sections, keeping whole sections from the start while
// they fit in max bytes and cutting the first one that does not, with a
// note that says what (Instructions, Memory) was cut.
func render(sections []section, max int, what string) Doc {
	var doc Doc
	var b strings.Builder
	for i, s := range sections {
		block := "# " + s.title + "\n\n" + s.text + "\n"
		if i > 0 {
			block = "\n" + block
		}
		doc.Files = append(doc.Files, s.path)
		if b.Len()+len(block) <= max {
			b.WriteString(block)
			continue
		}
		b.WriteString(cut(block, max-b.Len()))
		b.WriteString(truncationNote(sections[i:], max, what))
		doc.Truncated = true
		break
	}
	doc.Text = b.String()
	return doc
}

// cut returns the longest prefix of s of at most n bytes that ends a line,
// or, if no line fits, that ends a character.
func cut(s string, n int) string {
	s = s[:n]
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[:i+1]
	}
	// Drop the bytes of a character cut in two.
	for len(s) > 0 {
		if r, size := utf8.DecodeLastRuneInString(s); r != utf8.RuneError || size > 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}

// truncationNote tells the model that the text was cut at max bytes, and
// where to read the rest: the file cut, sections[0], and those left out.
func truncationNote(sections []section, max int, what string) string {
	names := make([]string, len(sections))
	for i, s := range sections {
		names[i] = s.name
	}
	return fmt.Sprintf("\n[%s truncated at %d KiB. Read %s for the rest.]\n",
		what, max>>10, strings.Join(names, ", "))
}
