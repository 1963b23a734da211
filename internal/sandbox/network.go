package sandbox

import "context"

// Network is how a confined process whose profile allows domains reaches
// them: through a proxy that Lathe runs outside the sandbox, which lets
// through those domains and nothing else. Inside the process's network
// namespace the sandbox's helper listens on 127.0.0.1:ProxyPort and
// forwards each connection to the proxy's unix socket (netproxy.Bridge);
// the process finds it through the proxy variables (netproxy.Environ).
// Without a Network, such a profile is refused.
type Network interface {
	// Proxy returns the path of the unix socket of a proxy that allows
	// exactly domains, started if need be. It is called for every
	// confined start whose profile allows domains, perhaps concurrently
	// and with the same domains again; the socket must stay until the
	// Sandbox is closed.
	Proxy(ctx context.Context, domains []string) (socket string, err error)
}

// NetworkFunc adapts a function to a Network.
type NetworkFunc func(ctx context.Context, domains []string) (string, error)

// Proxy calls f.
func (f NetworkFunc) Proxy(ctx context.Context, domains []string) (string, error) {
	return f(ctx, domains)
}

// ProxyPort is the port of the bridge to the proxy on a confined
// process's own loopback interface.
const ProxyPort = 3128

// WithNetwork lets confined processes reach the domains their profile
// allows through n.
func WithNetwork(n Network) Option { return func(s *Sandbox) { s.network = n } }
