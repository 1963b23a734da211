package netproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

// Environ returns the proxy variables that send a command's HTTP, HTTPS
// and other proxy-aware traffic to the bridge at addr ("127.0.0.1:PORT"),
// in both the upper- and lower-case spellings that tools read, and with
// no exceptions (NO_PROXY) left from the host's environment: inside the
// sandbox nothing is reachable but through the proxy.
func Environ(addr string) []string {
	u := "http://" + addr
	return []string{
		"HTTP_PROXY=" + u, "http_proxy=" + u,
		"HTTPS_PROXY=" + u, "https_proxy=" + u,
		"ALL_PROXY=" + u, "all_proxy=" + u,
		"NO_PROXY=", "no_proxy=",
	}
}

// Bridge accepts connections on l, a loopback listener inside the
// sandbox's network namespace, and splices each to a new connection to
// the proxy's unix socket at socket, which the sandbox lets its processes
// reach. It returns when ctx is done, having closed l and every
// connection, or when l fails. See [ListenLoopback] for the listener.
func Bridge(ctx context.Context, l net.Listener, socket string) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("netproxy bridge: accept: %w", err)
		}
		wg.Go(func() { splice(ctx, c, socket) })
	}
}

// splice connects c to the proxy's socket and copies both ways until
// both sides are done, or ctx is.
func splice(ctx context.Context, c net.Conn, socket string) {
	defer c.Close()
	var d net.Dialer
	up, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		// The client sees its connection closed: there is no proxy to
		// answer it.
		return
	}
	defer up.Close()
	stop := context.AfterFunc(ctx, func() { c.Close(); up.Close() })
	defer stop()
	var wg sync.WaitGroup
	wg.Go(func() {
		io.Copy(up, c)
		closeWrite(up)
	})
	io.Copy(c, up)
	closeWrite(c)
	wg.Wait()
}

// ErrNoLoopback is returned by [ListenLoopback] on a system where Lathe
// cannot bring up a network namespace's loopback interface.
var ErrNoLoopback = errors.New("netproxy: cannot bring up the loopback interface on this system")
