//go:build !linux

package netproxy

import "net"

// ListenLoopback is Linux only: elsewhere Lathe has no network namespace
// to bridge into.
func ListenLoopback(port int) (net.Listener, error) { return nil, ErrNoLoopback }
