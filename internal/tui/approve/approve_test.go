package approve

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/policy"
)

// testWorkspace is where the calls of the tests work.
const testWorkspace = "/home/ada/web"

// approval is the approval of call as the app makes it: decided and
// explained by a default-mode policy, with what "always" would keep.
func approval(t *testing.T, name string, input any, call policy.Call) *agent.Approval {
	t.Helper()
	p := &policy.Policy{Mode: policy.Default, Workspace: testWorkspace, Home: "/home/ada"}
	if call.Kind == policy.Exec {
		call.Script = policy.ParseCommand(call.Command)
	}
	if call.Dir == "" {
		call.Dir = testWorkspace
	}
	d, parts := p.Explain(context.Background(), &call)
	in, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	return &agent.Approval{
		CallID: "toolu_1", Name: name, Input: in, Call: &call, Decision: d, Parts: parts,
		Keep: &agent.Keep{Rules: p.Narrowest(&call), Files: map[agent.Scope]string{
			agent.ProjectScope: testWorkspace + "/.lathe/config.local.toml",
			agent.UserScope:    "/home/ada/.config/lathe/config.toml",
		}},
	}
}

func bashApproval(t *testing.T, cmd string) *agent.Approval {
	return approval(t, "Bash", map[string]string{"command": cmd}, policy.Call{Tool: "Bash", Kind: policy.Exec, Command: cmd})
}

// serverGo is the file the edits of the tests change.
const serverGo = "package web\n\nimport \"net/http\"\n\n// Serve serves the site.\nfunc Serve(addr string) error {\n\tmux := http.NewServeMux()\n\tmux.HandleFunc(\"/\", index)\n\treturn http.ListenAndServe(addr, mux)\n}\n\nfunc index(w http.ResponseWriter, r *http.Request) {\n\tw.Write([]byte(\"hello\"))\n}\n"

// editInput is the input of an Edit of serverGo at path.
func editInput(path string) map[string]string {
	return map[string]string{
		"file_path":  path,
		"old_string": "\treturn http.ListenAndServe(addr, mux)\n",
		"new_string": "\tsrv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}\n\treturn srv.ListenAndServe()\n",
	}
}

// editApproval is the approval of an Edit of serverGo in the test
// workspace, with the change the dialog shows.
func editApproval(t *testing.T) (*agent.Approval, []Change) {
	t.Helper()
	path := testWorkspace + "/server.go"
	in := editInput(path)
	req := approval(t, "Edit", in, policy.Call{Tool: "Edit", Kind: policy.Edit, Writes: []string{path}, LexicalWrites: []string{path}})
	return req, []Change{wholeChange(path, serverGo, strings.Replace(serverGo, in["old_string"], in["new_string"], 1))}
}

// TestGoldenCommand pins the dialog of a command line at 80 and 160
// columns: the commands that need approval marked, why, and the rules
// each "always" keeps with their file.
func TestGoldenCommand(t *testing.T) {
	for _, w := range []int{80, 160} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			m := New(bashApproval(t, "ls -la && npm install left-pad && git push origin main"), Options{Width: w, Home: "/home/ada"})
			golden.RequireEqual(t, m.View())
		})
	}
}

// TestGoldenDiff pins the dialog of an edit at 80 columns (a unified
// diff) and 160 (side by side), and that v toggles between them.
func TestGoldenDiff(t *testing.T) {
	for _, w := range []int{80, 160} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			req, ch := editApproval(t)
			m := New(req, Options{Width: w, Changes: ch, Home: "/home/ada"})
			golden.RequireEqual(t, m.View())
			toggled, _ := m.Update(key("v"))
			if toggled.split == m.split || toggled.View() == m.View() {
				t.Error("v did not toggle the diff's layout")
			}
		})
	}
}

// TestGoldenEditingRule pins the dialog while the rule of an "always"
// is edited, after a rule that does not parse was refused.
func TestGoldenEditingRule(t *testing.T) {
	m := New(bashApproval(t, "npm test"), Options{Width: 80, Home: "/home/ada"})
	m = press(t, m, "p", "ctrl+u")
	m = typeText(m, "Bash(npm test")
	m, cmd := m.Update(key("enter"))
	if cmd != nil || m.Done() {
		t.Fatal("a rule that does not parse was sent")
	}
	golden.RequireEqual(t, m.View())
}

// key is the press of the key named as tea.KeyPressMsg.String names it.
func key(name string) tea.KeyPressMsg {
	switch name {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "ctrl+u":
		return tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
	}
	r := []rune(name)
	return tea.KeyPressMsg{Code: r[0], Text: name}
}

// press sends the keys to m.
func press(t *testing.T, m Model, keys ...string) Model {
	t.Helper()
	for _, k := range keys {
		m, _ = m.Update(key(k))
	}
	return m
}

func typeText(m Model, s string) Model {
	for _, r := range s {
		m, _ = m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return m
}
