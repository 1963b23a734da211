package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// Backend is a way of confining processes.
type Backend string

const (
	// Auto picks Bwrap when it works here, else Landlock.
	Auto Backend = ""
	// Bwrap confines processes with bubblewrap.
	Bwrap Backend = "bwrap"
	// Landlock confines processes with Lathe's own helper: namespaces,
	// mounts, Landlock and seccomp, set up by a re-executed Lathe.
	Landlock Backend = "landlock"
)

// BackendEnv names the environment variable that forces a backend
// ("bwrap" or "landlock") on a Sandbox made without WithBackend, for
// tests of each through the binary.
const BackendEnv = "LATHE_SANDBOX_BACKEND"

// ParseBackend returns the backend named s: "", "auto", "bwrap" or
// "landlock".
func ParseBackend(s string) (Backend, error) {
	switch s {
	case "", "auto":
		return Auto, nil
	case string(Bwrap), string(Landlock):
		return Backend(s), nil
	}
	return Auto, fmt.Errorf("unknown sandbox backend %q (want bwrap or landlock)", s)
}

// Sandbox is the Executor that confines processes: a process whose
// profile is confined runs under the backend that works here, one whose
// profile is Unconfined runs as a Host would run it. Where no backend
// works, a confined profile is refused with a NotConfinedError.
//
// Each Sandbox is one session's: its confined processes share a private
// temporary directory, removed by Close. Its methods are safe for
// concurrent use.
type Sandbox struct {
	base    Profile
	backend Backend
	home    string
	// tempRoot is where the private temporary directory is made.
	tempRoot string
	isolate  bool
	bwrap    string // the bwrap program, found in PATH unless set
	network  Network

	// bwrapOnce looks bwrap up in PATH, for bwrapFound or bwrapErr.
	bwrapOnce  sync.Once
	bwrapFound string
	bwrapErr   error

	// envMu guards envs, the dotenv files of each workspace.
	envMu sync.Mutex
	envs  map[string]*dotenvs

	servers servers

	// tmpMu guards tmp and placeholders, what Close removes.
	tmpMu        sync.Mutex
	tmp          string
	placeholders []placeholder
}

// Option configures a Sandbox.
type Option func(*Sandbox)

// WithBackend forces a backend instead of the one that works here.
func WithBackend(b Backend) Option { return func(s *Sandbox) { s.backend = b } }

// WithHome sets the home directory whose secret locations (see
// secret.Paths) are hidden and whose language caches are writable; the
// default is $HOME.
func WithHome(dir string) Option { return func(s *Sandbox) { s.home = dir } }

// WithTempRoot sets the directory the private temporary directory is
// made in; the default is os.TempDir().
func WithTempRoot(dir string) Option { return func(s *Sandbox) { s.tempRoot = dir } }

// WithIsolateCaches gives confined processes private language caches,
// in the private temporary directory, instead of the user's.
func WithIsolateCaches(on bool) Option { return func(s *Sandbox) { s.isolate = on } }

// WithBwrap sets the bubblewrap program to use; the default is bwrap in
// PATH.
func WithBwrap(path string) Option { return func(s *Sandbox) { s.bwrap = path } }

// New returns a Sandbox whose every process runs under base at least.
// Without WithBackend, the backend named by $LATHE_SANDBOX_BACKEND is
// forced, if any.
func New(base Profile, opts ...Option) *Sandbox {
	s := &Sandbox{base: base, home: os.Getenv("HOME"), tempRoot: os.TempDir()}
	s.backend, _ = ParseBackend(os.Getenv(BackendEnv))
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// Start implements Executor.
func (s *Sandbox) Start(ctx context.Context, cmd *exec.Cmd) error {
	p, b, err := s.confinement(ctx, cmd)
	if err != nil {
		return err
	}
	if p.Confine == Unconfined {
		return cmd.Start()
	}
	if err := s.startConfined(ctx, b, cmd, p); err != nil {
		return fmt.Errorf("start %s in the sandbox (%s): %w", cmd.Path, b, err)
	}
	return nil
}

// Spawn starts cmd as Start does and returns the process, which the
// caller waits for and signals through the Process rather than cmd: a
// confined process is started by the sandbox server of its plan, in a
// sandbox made once per session (see package helper), and is not
// Lathe's child. cmd.Process stays nil then; ctx is only that of the
// start, as for Start. Its standard descriptors must be files or nil
// (/dev/null), and of SysProcAttr only Setpgid, Setsid and Pdeathsig are
// kept; a cmd that asks for more, or whose arguments and environment
// are too large for a request, starts as Start starts it, in a sandbox
// of its own. A server that
// cannot start or dies fails the command, after one restart for a
// command it had not yet been sent; it never runs unconfined. Spawn may
// be called concurrently.
func (s *Sandbox) Spawn(ctx context.Context, cmd *exec.Cmd) (*Process, error) {
	p, b, err := s.confinement(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if p.Confine != Unconfined && servable(cmd) {
		proc, err := s.spawnServed(ctx, b, cmd, p)
		if err == nil {
			return proc, nil
		}
		if !errors.Is(err, errTooLarge) {
			return nil, fmt.Errorf("start %s in the sandbox (%s): %w", cmd.Path, b, err)
		}
	}
	if p.Confine == Unconfined {
		err = cmd.Start()
	} else if err = s.startConfined(ctx, b, cmd, p); err != nil {
		err = fmt.Errorf("start %s in the sandbox (%s): %w", cmd.Path, b, err)
	}
	if err != nil {
		return nil, err
	}
	return &Process{cmd: cmd}, nil
}

// confinement returns the profile cmd runs under, given ctx, and the
// backend that confines it unless it is Unconfined, with cmd's
// environment narrowed to the profile's; or the error that starts
// nothing.
func (s *Sandbox) confinement(ctx context.Context, cmd *exec.Cmd) (Profile, Backend, error) {
	if err := ctx.Err(); err != nil {
		return Profile{}, Auto, fmt.Errorf("start %s: %w", cmd.Path, context.Cause(ctx))
	}
	p := s.base
	if q, ok := ProfileFrom(ctx); ok {
		p = p.Narrow(q)
	}
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = p.Environ(env)
	if p.Confine == Unconfined {
		return p, Auto, nil
	}
	if err := p.Check(); err != nil {
		return p, Auto, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	if len(p.AllowDomains) > 0 && s.network == nil {
		return p, Auto, fmt.Errorf("start %s: %w", cmd.Path, &NotConfinedError{Profile: p, Missing: "no network proxy to reach the allowed domains through"})
	}
	b, err := s.Backend()
	if err != nil {
		return p, Auto, fmt.Errorf("start %s: %w", cmd.Path, &NotConfinedError{Profile: p, Missing: err.Error()})
	}
	return p, b, nil
}

// Backend returns the backend that confines this Sandbox's processes,
// or an error saying why none can. Backends are tried once per process
// (a confined process is started under each), and the outcome kept for
// every Sandbox that asks for the same backend.
func (s *Sandbox) Backend() (Backend, error) {
	v, _ := choices.LoadOrStore(choiceKey{s.backend, s.bwrap}, &choice{})
	c := v.(*choice)
	c.once.Do(func() { c.backend, c.err = s.choose() })
	return c.backend, c.err
}

// choices holds each choice of backend this process has made.
var choices sync.Map // choiceKey -> *choice

type choiceKey struct {
	backend Backend
	bwrap   string
}

type choice struct {
	once    sync.Once
	backend Backend
	err     error
}

// tempDir returns the private temporary directory, made on first use.
func (s *Sandbox) tempDir() (string, error) {
	s.tmpMu.Lock()
	defer s.tmpMu.Unlock()
	if s.tmp == "" {
		dir, err := os.MkdirTemp(s.tempRoot, "lathe-tmp-")
		if err != nil {
			return "", fmt.Errorf("private temporary directory: %w", err)
		}
		s.tmp = dir
	}
	return s.tmp, nil
}

// Close removes the private temporary directory, and with it the
// private caches, and the empty protected directories the Sandbox made
// in workspaces that had none, and stops watching the workspaces for
// dotenv files. Processes still running lose them.
func (s *Sandbox) Close() error {
	s.closeServers()
	s.closeDotenvs()
	s.tmpMu.Lock()
	defer s.tmpMu.Unlock()
	err := s.removePlaceholders()
	if s.tmp == "" {
		return err
	}
	err = errors.Join(err, removeAll(s.tmp))
	s.tmp = ""
	return err
}

// removeAll removes dir and everything in it, read-only directories
// (Go's module cache) included.
func removeAll(dir string) error {
	if err := os.RemoveAll(dir); err == nil {
		return nil
	}
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(path, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}
