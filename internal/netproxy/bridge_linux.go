package netproxy

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// ListenLoopback brings up the loopback interface of the current network
// namespace — a fresh one has it down — and listens on 127.0.0.1:port,
// or on a port the system picks when port is 0. It needs CAP_NET_ADMIN
// in the namespace, which the sandbox helper holds before it drops its
// privileges; in a namespace with lo up already it only listens.
func ListenLoopback(port int) (net.Listener, error) {
	if err := loopbackUp(); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, fmt.Errorf("netproxy bridge: %w", err)
	}
	return l, nil
}

func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("netproxy bridge: bring up lo: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("netproxy bridge: bring up lo: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("netproxy bridge: bring up lo: %w", err)
	}
	flags := ifr.Uint16()
	if flags&unix.IFF_UP != 0 {
		return nil
	}
	ifr.SetUint16(flags | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("netproxy bridge: bring up lo: %w", err)
	}
	return nil
}
