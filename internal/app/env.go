package app

import (
	"cmp"
	"errors"
	"time"

	"github.com/lathe-dev/lathe/internal/config"
	"github.com/lathe-dev/lathe/internal/netproxy"
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
// built-in providers and of providers. A confined process whose profile
// allows domains reaches them through the sandbox's network proxies,
// which report every connection, allowed or refused, to report (nil for
// nobody) as it ends, from their own goroutines.
func NewEnv(dir string, timeout time.Duration, providers map[string]config.ProviderConfig, report func(netproxy.Conn), opts ...sandbox.Option) (*tool.Env, *Sandbox) {
	var popts []netproxy.Option
	if report != nil {
		popts = append(popts, netproxy.WithReport(report))
	}
	proxies := netproxy.NewProxies(popts...)
	sb := sandbox.New(sandbox.Profile{HideEnv: credentialEnv(providers)}, append([]sandbox.Option{sandbox.WithNetwork(proxies)}, opts...)...)
	runner := shell.NewRunner(shell.WithTimeout(timeout), shell.WithExecutor(sb))
	return &tool.Env{Dir: dir, Reads: tool.NewReadTracker(), Shell: runner}, &Sandbox{Sandbox: sb, proxies: proxies}
}

// Sandbox is a session's sandbox with the network proxies its confined
// processes reach their allowed domains through, each started when a
// process first asks for its domains.
type Sandbox struct {
	*sandbox.Sandbox
	proxies *netproxy.Proxies
}

// Close stops the network proxies, once each of their connections has
// been reported, and removes the sandbox's private temporary directory.
func (s *Sandbox) Close() error {
	return errors.Join(s.proxies.Close(), s.Sandbox.Close())
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
