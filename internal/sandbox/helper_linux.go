package sandbox

import (
	"context"
	"os"
	"syscall"

	"github.com/lathe-dev/lathe/internal/netproxy"
	"github.com/lathe-dev/lathe/internal/sandbox/helper"
)

// The sandbox helper (package helper) runs from its own package's init,
// before this one's, but for a command that may reach domains: its
// bridge to the network proxy is netproxy's, which the helper package
// does not import, so that it is not initialised first. This init runs
// that helper.
func init() {
	if len(os.Args) > 1 && os.Args[1] == helper.Arg {
		// Not os.Exit: see the supervisor's init in internal/shell.
		syscall.Exit(helper.Main(os.Args[2:], bridge))
	}
}

// bridge listens on 127.0.0.1:ProxyPort, in the sandbox's network
// namespace, and forwards each connection to the proxy's socket. The
// bridge's goroutine is the helper process's, until it exits with the
// command.
func bridge(socket string) error {
	l, err := netproxy.ListenLoopback(ProxyPort)
	if err != nil {
		return err
	}
	go netproxy.Bridge(context.Background(), l, socket)
	return nil
}
