// Package helper is the sandbox's helper: Lathe's own binary, run with
// Arg as its first argument by the sandbox package, dispatched from this
// package's init so that a command does not wait for the rest of Lathe
// to initialise, and so that every binary that confines processes, tests
// included, is its own helper.
//
// Under bwrap, which confines it already, it runs only where a command
// may reach domains: it runs the bridge to the network proxy and starts
// the command. For the landlock backend it is started in new user,
// mount, pid, network, IPC and UTS namespaces, as pid 1, and sets up the
// sandbox itself: the mounts of the plan (everything read-only and
// without devices, the writable directories bound read-write over that,
// the protected paths read-only again, secret locations and host sockets
// covered, fresh /proc, /dev and /tmp), loopback up, then, on the thread
// that starts the command, no capabilities, no_new_privs, a Landlock
// ruleset with the same write boundary, and the seccomp filter. It stays
// as the namespace's init: it forwards signals to the command and exits
// with its status, which ends everything left in the namespace.
package helper
