package tui

import (
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	tea "charm.land/bubbletea/v2"
)

// suspend stops lathe as Ctrl+Z does in a shell, first printing to the
// native scrollback the finished cells not printed yet, so that the shell
// the person returns to shows them. It runs as an exec, for which the
// program gives back the terminal (alternate screen off) and takes it
// again once lathe continues.
func (m *model) suspend() tea.Cmd {
	var text string
	if lines := m.takeFinished(false); len(lines) > 0 {
		text = strings.Join(lines, "\n") + "\n"
	}
	return tea.Exec(&scrollbackExec{text: text, stop: true}, func(error) tea.Msg { return nil })
}

// scrollbackExec prints text to the terminal's normal screen, which the
// program gives back for an exec, so that it lands in the native
// scrollback; a suspend's (stop) then stops the process group until
// SIGCONT.
type scrollbackExec struct {
	text string
	out  io.Writer
	stop bool
}

func (s *scrollbackExec) SetStdin(io.Reader)    {}
func (s *scrollbackExec) SetStdout(w io.Writer) { s.out = w }
func (s *scrollbackExec) SetStderr(io.Writer)   {}

func (s *scrollbackExec) Run() error {
	if s.out != nil && s.text != "" {
		if _, err := io.WriteString(s.out, s.text); err != nil {
			return err
		}
	}
	if !s.stop {
		return nil
	}
	cont := make(chan os.Signal, 1)
	signal.Notify(cont, syscall.SIGCONT)
	defer signal.Stop(cont)
	if err := syscall.Kill(0, syscall.SIGTSTP); err != nil {
		return err
	}
	<-cont
	return nil
}
