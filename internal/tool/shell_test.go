package tool

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func TestShell(t *testing.T) {
	t.Setenv("LATHE_SHELL_TEST", "kept")
	env := shellEnv(t)
	sub := filepath.Join(env.Dir, "sub dir")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, input string
		want        string // a regular expression for the whole content
		wantErr     bool
	}{
		{"output", `{"command": ["bash", "-lc", "echo hi"]}`,
			`Exit code: 0\nWall time: \d+\.\d seconds\nOutput:\nhi\n`, false},
		// A login shell would re-read /etc/profile and could reset PATH;
		// the user's environment must reach the command.
		{"login shell keeps the environment", `{"command": ["bash", "-lc", "echo $LATHE_SHELL_TEST; shopt -q login_shell && echo login; true"]}`,
			`Exit code: 0\nWall time: \d+\.\d seconds\nOutput:\nkept\n`, false},
		{"argv verbatim", `{"command": ["printf", "%s|", "a b", "$HOME"]}`,
			`Exit code: 0\nWall time: \d+\.\d seconds\nOutput:\na b\|\$HOME\|`, false},
		{"failure", `{"command": ["bash", "-lc", "echo no >&2; exit 3"]}`,
			`Exit code: 3\nWall time: \d+\.\d seconds\nOutput:\nno\n`, true},
		{"relative workdir", `{"command": ["pwd"], "workdir": "sub dir"}`,
			`Exit code: 0\nWall time: \d+\.\d seconds\nOutput:\n` + regexp.QuoteMeta(sub) + `\n`, false},
		{"absolute workdir", `{"command": ["pwd"], "workdir": "` + sub + `"}`,
			`Exit code: 0\nWall time: \d+\.\d seconds\nOutput:\n` + regexp.QuoteMeta(sub) + `\n`, false},
		// Stopped at its timeout, long before the sleep would end; a
		// loaded machine may take a second or more to stop it.
		{"timeout", `{"command": ["bash", "-c", "echo started; sleep 30"], "timeout_ms": 200}`,
			`Exit code: 124\nWall time: \d\.\d seconds\nOutput:\ncommand timed out after 200 milliseconds\nstarted\n`, true},
		{"truncated", `{"command": ["seq", "1", "20000"]}`,
			`Exit code: 0\nWall time: \d+\.\d seconds\nTotal output lines: 20000\nOutput:\n1\n2\n(?s:.*)\.\.\. \[\d+ characters truncated\] \.\.\.(?s:.*)\n20000\n`, false},
		{"missing program", `{"command": ["lathe-no-such-program"]}`, `execution error: .*executable file not found.*`, true},
		{"missing workdir", `{"command": ["pwd"], "workdir": "nope"}`, `workdir .*nope: .*no such file or directory`, true},
		{"workdir is a file", `{"command": ["pwd"], "workdir": "/dev/null"}`, `workdir /dev/null is not a directory`, true},
		{"empty command", `{"command": []}`, `command must not be empty`, true},
		{"string command", `{"command": "ls"}`, `.*"command" must be of type \[\]string.*`, true},
		{"negative timeout", `{"command": ["true"], "timeout_ms": -5}`, `timeout_ms must be a positive.*`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := call(t, NewShell(), env, tt.input)
			if !regexp.MustCompile(`^`+tt.want+`$`).MatchString(res.Content) || res.IsError != tt.wantErr {
				t.Errorf("got %q (error %v), want match for %q (error %v)", res.Content, res.IsError, tt.want, tt.wantErr)
			}
		})
	}
}

func TestApplyPatchCall(t *testing.T) {
	const patch = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch\n"
	tests := []struct {
		name      string
		argv      []string
		wantPatch string
		wantCD    string
		wantOK    bool
	}{
		{"argv", []string{"apply_patch", patch}, patch, "", true},
		{"argv alias", []string{"applypatch", patch}, patch, "", true},
		{"heredoc quoted", []string{"bash", "-lc", "apply_patch <<'EOF'\n" + patch + "EOF\n"}, patch, "", true},
		{"heredoc double quoted", []string{"bash", "-lc", "apply_patch <<\"PATCH\"\n" + patch + "PATCH"}, patch, "", true},
		{"heredoc bare", []string{"/bin/bash", "-c", "applypatch << EOF\n" + patch + "EOF\n"}, patch, "", true},
		{"heredoc after cd", []string{"bash", "-lc", "cd 'my dir' && apply_patch <<'EOF'\n" + patch + "EOF\n"}, patch, "my dir", true},
		{"crlf delimiter", []string{"bash", "-lc", "apply_patch <<'EOF'\r\n" + patch + "EOF\r\n"}, "", "", false},
		{"more after the patch", []string{"bash", "-lc", "apply_patch <<'EOF'\n" + patch + "EOF\nrm -rf x\n"}, "", "", false},
		{"no delimiter", []string{"bash", "-lc", "apply_patch <<'EOF'\n" + patch}, "", "", false},
		{"other program", []string{"bash", "-lc", "cat <<'EOF'\n" + patch + "EOF\n"}, "", "", false},
		{"other shell", []string{"python3", "-c", "apply_patch <<'EOF'\n" + patch + "EOF\n"}, "", "", false},
		{"argv with extra args", []string{"apply_patch", patch, "x"}, "", "", false},
		{"plain command", []string{"ls", "-la"}, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, cd, ok := applyPatchCall(tt.argv)
			if p != tt.wantPatch || cd != tt.wantCD || ok != tt.wantOK {
				t.Errorf("applyPatchCall = %q, %q, %v; want %q, %q, %v", p, cd, ok, tt.wantPatch, tt.wantCD, tt.wantOK)
			}
		})
	}
}

func TestShellHandsPatchesToApplyPatch(t *testing.T) {
	t.Parallel()
	// With no runner, a call that reached it would be a harness error.
	env := &Env{Dir: t.TempDir()}
	if err := os.Mkdir(filepath.Join(env.Dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ input, file string }{
		{`{"command": ["apply_patch", "*** Begin Patch\n*** Add File: a.txt\n+a\n*** End Patch\n"]}`, "a.txt"},
		{`{"command": ["bash", "-lc", "cd sub && apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: b.txt\n+b\n*** End Patch\nEOF\n"]}`, "sub/b.txt"},
	}
	for _, tt := range tests {
		res, err := NewShell().Run(t.Context(), env, []byte(tt.input))
		if err != nil || res.IsError {
			t.Errorf("shell(%s) = %q, %v", tt.input, res.Content, err)
		}
		if _, err := os.Stat(filepath.Join(env.Dir, tt.file)); err != nil {
			t.Errorf("the patch did not create %s: %v", tt.file, err)
		}
	}
	if _, err := NewShell().Run(t.Context(), env, []byte(`{"command": ["true"]}`)); err == nil {
		t.Error("a plain command did not reach the (missing) runner")
	}
}
