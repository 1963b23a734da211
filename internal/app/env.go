package app

import (
	"cmp"
	"time"

	"github.com/lathe-dev/lathe/internal/config"
	"github.com/lathe-dev/lathe/internal/provider"
	"github.com/lathe-dev/lathe/internal/sandbox"
	"github.com/lathe-dev/lathe/internal/shell"
	"github.com/lathe-dev/lathe/internal/tool"
)

// NewEnv returns the environment tools run in for directory dir, with a
// command timeout (0 for the default), and the sandbox its processes
// start through; closing its Shell and then the sandbox releases them.
// A process runs confined as its call's decision says (the profile the
// agent puts in the context, see sandbox.WithProfile), unconfined when
// the decision confines nothing, as for Lathe's own ripgrep; either way
// without the environment variables that hold the keys of Lathe's
// built-in providers and of providers.
func NewEnv(dir string, timeout time.Duration, providers map[string]config.ProviderConfig, opts ...sandbox.Option) (*tool.Env, *sandbox.Sandbox) {
	sb := sandbox.New(sandbox.Profile{HideEnv: credentialEnv(providers)}, opts...)
	runner := shell.NewRunner(shell.WithTimeout(timeout), shell.WithExecutor(sb))
	return &tool.Env{Dir: dir, Reads: tool.NewReadTracker(), Shell: runner}, sb
}

// credentialEnv names the environment variables that hold Lathe's own
// provider keys: the built-in providers' and each api_key_env of
// providers. Commands the model runs never get them, or any of them could
// print the key into the transcript or send it anywhere.
func credentialEnv(providers map[string]config.ProviderConfig) []string {
	names := []string{provider.EnvKey(provider.KindAnthropic), provider.EnvKey(provider.KindOpenAI), provider.EnvKey(provider.KindOpenAIChat)}
	for _, p := range providers {
		names = append(names, cmp.Or(p.APIKeyEnv, provider.EnvKey(p.Type)))
	}
	return names
}
