//go:build !linux

package sandbox

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"syscall"
)

// startConfined refuses: confinement is Linux only for now.
func (s *Sandbox) startConfined(ctx context.Context, b Backend, cmd *exec.Cmd, p Profile) error {
	return &NotConfinedError{Profile: p, Missing: "sandboxing is Linux only for now"}
}

func (s *Sandbox) choose() (Backend, error) {
	return Auto, errors.New("sandboxing is Linux only for now, not " + runtime.GOOS)
}

// spawnServed is not reached: no backend works here.
func (s *Sandbox) spawnServed(ctx context.Context, b Backend, cmd *exec.Cmd, p Profile) (*Process, error) {
	return nil, &NotConfinedError{Profile: p, Missing: "sandboxing is Linux only for now"}
}

// errTooLarge is not returned here: there are no sandbox servers.
var errTooLarge = errors.New("no sandbox server")

// servable is false: there are no sandbox servers here.
func servable(cmd *exec.Cmd) bool { return false }

// servers and server are what a Linux Sandbox keeps of its sandbox
// servers: nothing, here.
type (
	servers struct{}
	server  struct{}
)

func (s *Sandbox) closeServers() {}

func (sv *server) signal(p *Process, sig syscall.Signal) error { return os.ErrProcessDone }

// Probe says what confinement works here: none, on this system.
func Probe(ctx context.Context) Status {
	return Status{OS: runtime.GOOS, Missing: []string{"sandboxing is Linux only for now: commands are asked, or refused headless"}}
}

// placeholder is what a Linux Sandbox makes for protected directories:
// nothing, here, where nothing is confined.
type placeholder struct{}

func (s *Sandbox) removePlaceholders() error { return nil }

// dotenvs is what a Linux Sandbox keeps of a workspace's dotenv files.
type dotenvs struct{}

func (s *Sandbox) closeDotenvs() {}
