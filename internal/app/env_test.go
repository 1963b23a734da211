package app

import (
	"testing"

	"github.com/lathe-dev/lathe/internal/sandbox"
	"github.com/lathe-dev/lathe/internal/shell"
)

// BenchmarkEnvNetwork measures what allowed domains add to a confined
// command as a session's shell tool runs it: the bridge to the proxy in
// the command's namespace, the proxy started by the first command only.
func BenchmarkEnvNetwork(b *testing.B) {
	for _, backend := range []sandbox.Backend{sandbox.Bwrap, sandbox.Landlock} {
		for _, domains := range [][]string{nil, {"example.com"}} {
			name := string(backend) + "/no-network"
			if domains != nil {
				name = string(backend) + "/domains"
			}
			b.Run(name, func(b *testing.B) {
				ws := b.TempDir()
				env, sb := NewEnv(ws, 0, nil, nil, sandbox.WithBackend(backend), sandbox.WithTempRoot(b.TempDir()))
				defer sb.Close()
				defer env.Shell.Close()
				if _, err := sb.Backend(); err != nil {
					b.Skipf("%s: %v", backend, err)
				}
				ctx := sandbox.WithProfile(b.Context(), sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: ws, AllowDomains: domains})
				for b.Loop() {
					res, err := env.Shell.Run(ctx, shell.Command{Args: []string{"true"}, Dir: ws})
					if err != nil || res.ExitCode != 0 {
						b.Fatal(res, err)
					}
				}
			})
		}
	}
}
