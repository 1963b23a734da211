package composer

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/lathe-dev/lathe/internal/regfile"
)

// maxEdited caps the text read back from the editor.
const maxEdited = 64 << 20

// editorDone is the message of the editor having exited.
type editorDone struct {
	path string
	err  error
}

// EditorCommand returns the editor to run on a file: $VISUAL, else
// $EDITOR, else vi; the variable may hold arguments ("code --wait").
func EditorCommand() []string {
	for _, v := range []string{"VISUAL", "EDITOR"} {
		if f := strings.Fields(os.Getenv(v)); len(f) > 0 {
			return f
		}
	}
	return []string{"vi"}
}

// EditCmd writes text to a new file, private to the user (0600), named
// after pattern as os.CreateTemp does, and returns the editor's command
// on it and the file's path, which the caller removes once the editor
// exits.
func EditCmd(text, pattern string) (*exec.Cmd, string, error) {
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return nil, "", fmt.Errorf("editor: %w", err)
	}
	path := f.Name()
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, "", fmt.Errorf("editor: write %s: %w", path, err)
	}
	argv := append(EditorCommand(), path)
	c := exec.Command(argv[0], argv[1:]...)
	return c, path, nil
}

// openEditor runs the editor on the text, the program's terminal handed
// over to it until it exits.
func (m Model) openEditor() tea.Cmd {
	c, path, err := EditCmd(m.Value(), "lathe-prompt-*.md")
	if err != nil {
		return func() tea.Msg { return editorDone{err: err} }
	}
	return tea.ExecProcess(c, func(err error) tea.Msg { return editorDone{path: path, err: err} })
}

// editorDone takes the edited text. When the editor fails or the file
// cannot be read back, the text is left as it was and the error shown.
// Text longer than the text area holds comes back as a chip.
func (m Model) editorDone(msg editorDone) Model {
	if msg.path != "" {
		defer os.Remove(msg.path)
	}
	if msg.err != nil {
		var ee *exec.ExitError
		if errors.As(msg.err, &ee) {
			m.problem = fmt.Sprintf("editor %s: %v; the text is unchanged", EditorCommand()[0], msg.err)
		} else {
			m.problem = "editor: " + msg.err.Error()
		}
		return m
	}
	b, err := regfile.ReadFile(msg.path, maxEdited)
	if err != nil {
		m.problem = "editor: " + err.Error() + "; the text is unchanged"
		return m
	}
	m.pastes = nil
	return m.show(strings.TrimSuffix(string(b), "\n"))
}
