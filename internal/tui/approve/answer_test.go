package approve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/pelletier/go-toml/v2"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/app"
	"github.com/lathe-dev/lathe/internal/config"
	"github.com/lathe-dev/lathe/internal/fakeapi"
)

// host runs a dialog as a program of its own, as the core embeds it, and
// quits with its answer.
type host struct {
	m   Model
	got *Answered
}

func (h host) Init() tea.Cmd { return h.m.Init() }

func (h host) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if a, ok := msg.(Answered); ok {
		h.got = &a
		return h, tea.Quit
	}
	var cmd tea.Cmd
	h.m, cmd = h.m.Update(msg)
	return h, cmd
}

func (h host) View() tea.View { return tea.NewView(h.m.View()) }

// step is a key to press, "type TEXT" to type TEXT, or "see TEXT" to
// wait until the screen shows TEXT.
type step = string

// dialogApprover answers each approval by running the dialog through
// teatest and pressing keys.
func dialogApprover(t *testing.T, steps []step) agent.Approver {
	return agent.ApproverFunc(func(ctx context.Context, req *agent.Approval) (agent.Answer, error) {
		m := New(req, Options{Width: 100, Height: 40, Changes: Changes(req), Home: os.Getenv("HOME")})
		tm := teatest.NewTestModel(t, host{m: m}, teatest.WithInitialTermSize(100, 40))
		for _, s := range steps {
			switch {
			case strings.HasPrefix(s, "type "):
				tm.Type(strings.TrimPrefix(s, "type "))
			case strings.HasPrefix(s, "see "):
				want := []byte(strings.TrimPrefix(s, "see "))
				teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, want) }, teatest.WithDuration(20*time.Second))
			default:
				tm.Send(key(s))
			}
		}
		final, ok := tm.FinalModel(t, teatest.WithFinalTimeout(20*time.Second)).(host)
		if !ok || final.got == nil {
			return agent.Answer{}, errors.New("the dialog did not answer")
		}
		if final.got.CallID != req.CallID {
			t.Errorf("answered call %s, want %s", final.got.CallID, req.CallID)
		}
		return final.got.Answer, nil
	})
}

// TestAnswers drives the dialog through its keys for each answer, in a
// session of the app against the fake API, and checks what the model is
// told and the rule file each "always" writes.
func TestAnswers(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
		// ran says the command ran; told is what the tool result says.
		ran  bool
		told string
		// file is the rule file written ("project", "user" or ""), and
		// rules what it allows.
		file  string
		rules []string
	}{
		{name: "yes once", steps: []step{"y"}, ran: true},
		{name: "yes for the session", steps: []step{"down", "enter"}, ran: true},
		{name: "always in this project", steps: []step{"p", "see Bash(touch ran)", "enter"}, ran: true, file: "project", rules: []string{"Bash(touch ran)"}},
		{name: "always for me", steps: []step{"4", "enter"}, ran: true, file: "user", rules: []string{"Bash(touch ran)"}},
		{name: "always, the rule edited", steps: []step{"p", "ctrl+u", "type Bash(touch:*)", "enter"}, ran: true, file: "project", rules: []string{"Bash(touch:*)"}},
		{name: "a rule that does not parse is not sent", steps: []step{"u", "ctrl+u", "type Bash(touch", "enter", "see a specifier must end", "type :*)", "enter"},
			ran: true, file: "user", rules: []string{"Bash(touch:*)"}},
		{name: "a rule that does not cover the call is not sent", steps: []step{"p", "ctrl+u", "type Bash(ls)", "enter", "see would not allow this call", "ctrl+u", "type Bash(touch ran)", "enter"},
			ran: true, file: "project", rules: []string{"Bash(touch ran)"}},
		{name: "always, then back to once", steps: []step{"p", "esc", "up", "up", "enter"}, ran: true},
		{name: "no, and why", steps: []step{"n", "type use make instead", "enter"}, told: "use make instead"},
		{name: "esc denies", steps: []step{"esc"}, told: "Permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			t.Setenv("HOME", home)
			t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
			t.Setenv("XDG_STATE_HOME", filepath.Join(home, "state"))
			t.Setenv(config.ManagedEnv, "")
			dir := t.TempDir()
			result := `"is_error": false`
			if !tt.ran {
				result = fmt.Sprintf(`"is_error": true, "contains": [%q]`, tt.told)
			}
			s, err := fakeapi.ParseScript([]byte(`{"steps": [
			  {"reply": {"tool_calls": [{"name": "Bash", "input": {"command": "touch ran"}}]}},
			  {"expect": {"tool_results": [{"call": 0, ` + result + `}]}, "reply": {"text": "Done."}}]}`))
			if err != nil {
				t.Fatal(err)
			}
			srv := fakeapi.NewServer(s)
			defer srv.Close()
			t.Setenv("ANTHROPIC_BASE_URL", srv.URL())
			t.Setenv("ANTHROPIC_API_KEY", "sk-ant-test")

			a, err := app.Open(app.Options{Dir: dir, PermissionMode: "default", Approver: dialogApprover(t, tt.steps)})
			if err != nil {
				t.Fatal(err)
			}
			a.Start()
			a.Prompt(t.Context(), "touch it")
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			for _, f := range srv.Failures() {
				t.Error("fakeapi: " + f)
			}
			if _, err := os.Stat(filepath.Join(dir, "ran")); (err == nil) != tt.ran {
				t.Errorf("the command ran: %v, want %v", err == nil, tt.ran)
			}
			files := map[string]string{
				"project": filepath.Join(dir, ".lathe", config.LocalFile),
				"user":    filepath.Join(home, "config", "lathe", "config.toml"),
			}
			for name, path := range files {
				b, err := os.ReadFile(path)
				if name != tt.file {
					if err == nil {
						t.Errorf("%s written: %q", path, b)
					}
					continue
				}
				var doc struct{ Permissions struct{ Allow []string } }
				if err := toml.Unmarshal(b, &doc); err != nil || !slices.Equal(doc.Permissions.Allow, tt.rules) {
					t.Errorf("%s allows %q (%v), want %q", path, doc.Permissions.Allow, err, tt.rules)
				}
			}
		})
	}
}
