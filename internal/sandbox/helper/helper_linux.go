package helper

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/landlock-lsm/go-landlock/landlock"
	"golang.org/x/sys/unix"
)

// Arg is the first argument that makes Lathe's binary the helper.
const Arg = "__sandbox-exec"

// Spec is what the helper is told, as JSON in its one argument.
type Spec struct {
	// Report is the descriptor the helper reports on: "ok" once the
	// command has started, an error otherwise.
	Report int `json:"report"`
	// Files is how many descriptors of the helper's, from 0, the command
	// gets: the caller's stdio and ExtraFiles.
	Files int `json:"files"`
	// Bwrap says that bwrap has set up the sandbox: the helper only runs
	// the bridge and starts the command.
	Bwrap bool `json:"bwrap,omitempty"`
	// Proxy, when not 0, is the descriptor of the proxy's socket, for
	// the bridge.
	Proxy int `json:"proxy,omitempty"`
	// Serve, when not 0, is the descriptor of the socket the helper
	// serves on as a sandbox server (see Request), instead of starting
	// the one command of Path and Args.
	Serve int `json:"serve,omitempty"`
	// Path and Args are the command's.
	Path string   `json:"path"`
	Args []string `json:"args"`

	// Dir is the command's working directory; the rest is the plan.
	Dir       string   `json:"dir"`
	Writable  []string `json:"writable,omitempty"`
	Readable  []string `json:"readable,omitempty"`
	ReadOnly  []string `json:"read_only,omitempty"`
	HideDirs  []string `json:"hide_dirs,omitempty"`
	HideFiles []string `json:"hide_files,omitempty"`
	Sockets   []string `json:"sockets,omitempty"`
	Tmp       string   `json:"tmp"`
}

// Bridge starts, in the background, the bridge from the sandbox's own
// loopback interface to the network proxy's socket, and returns once it
// listens. The bridge runs until the helper exits.
type Bridge func(socket string) error

// init runs the helper as soon as the packages it needs are initialised,
// before those of the rest of Lathe, which a command would wait for
// otherwise: Go initialises a package after its imports, and of the
// packages ready, the first by import path, so this one, which needs
// only the standard library's basics, x/sys and go-landlock, comes
// before the HTTP clients, parsers and tables most of Lathe's packages
// set up. Only a command that reaches domains needs more, the bridge to
// the network proxy: that one is left to Main, called by the sandbox
// package's own init.
func init() {
	if len(os.Args) > 1 && os.Args[1] == Arg {
		if sp, err := parse(os.Args[2:]); err != nil || sp.Proxy == 0 {
			// Not os.Exit: see the supervisor's init in internal/shell.
			syscall.Exit(run(sp, err, nil))
		}
	}
}

// Main runs the helper on its arguments, those after Arg, with bridge
// to reach the network proxy, and returns its exit status.
func Main(args []string, bridge Bridge) int {
	sp, err := parse(args)
	return run(sp, err, bridge)
}

func parse(args []string) (*Spec, error) {
	var sp Spec
	if len(args) != 1 || json.Unmarshal([]byte(args[0]), &sp) != nil || sp.Report < 3 {
		return nil, errors.New("the sandbox helper is started by lathe itself")
	}
	return &sp, nil
}

func run(sp *Spec, err error, bridge Bridge) int {
	if err != nil {
		fmt.Fprintf(os.Stderr, "lathe: %v\n", err)
		return 2
	}
	// The command gets the caller's descriptors and nothing else of the
	// helper's, the report pipe included.
	if err := unix.CloseRange(uint(sp.Files), ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		fmt.Fprintf(os.Stderr, "lathe: sandbox helper: %v\n", err)
		return 126
	}
	report := os.NewFile(uintptr(sp.Report), "report")
	fail := func(err error) int {
		fmt.Fprintf(report, "sandbox: %v\n", err)
		return 126
	}
	// Only the thread that starts the command is confined: the others,
	// the helper's own, keep what they need to set up the sandbox or
	// run the bridge. Not dumpable, the helper cannot be traced, nor its
	// memory read, by a process without CAP_SYS_PTRACE, which no command
	// has; the command, once it execs, is dumpable again.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fail(fmt.Errorf("set the helper not dumpable: %w", err))
	}
	if !sp.Bwrap {
		if err := setUp(sp); err != nil {
			return fail(err)
		}
	}
	if sp.Proxy > 0 {
		if bridge == nil {
			return fail(errors.New("no bridge to the network proxy in this binary"))
		}
		// The bridge is the helper's until it exits with the command;
		// its threads are not the command's, and keep what they need
		// to reach the proxy, outside Landlock's and seccomp's reach.
		if err := bridge(fmt.Sprintf("/proc/self/fd/%d", sp.Proxy)); err != nil {
			return fail(err)
		}
	}
	// Everything that confines the command is per thread: done on this
	// one, and the command forked from it. Under bwrap it is done.
	runtime.LockOSThread()
	if !sp.Bwrap {
		if err := confineThread(sp); err != nil {
			return fail(err)
		}
	}
	if sp.Serve > 0 {
		fmt.Fprintln(report, "ok")
		report.Close()
		return serve(sp.Serve)
	}
	if sp.Path == "/proc/self/exe" && sp.Proxy == 0 {
		// Lathe's own binary, the shell's supervisor, is a child
		// subreaper that reaps and ends everything it starts: fit to be
		// the namespace's init in the helper's place, which saves a
		// process. The report pipe closes as it execs.
		fmt.Fprintln(report, "ok")
		err := syscall.Exec(sp.Path, sp.Args, os.Environ())
		fmt.Fprintf(os.Stderr, "lathe: sandbox helper: exec %s: %v\n", sp.Path, err)
		return 127
	}
	files := make([]uintptr, sp.Files)
	for i := range files {
		files[i] = uintptr(i)
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
	pid, err := syscall.ForkExec(sp.Path, sp.Args, &syscall.ProcAttr{Dir: sp.Dir, Env: os.Environ(), Files: files})
	if err != nil {
		return fail(&os.PathError{Op: "fork/exec", Path: sp.Path, Err: err})
	}
	fmt.Fprintln(report, "ok")
	report.Close()
	go func() {
		for sig := range sigs {
			_ = syscall.Kill(pid, sig.(syscall.Signal))
		}
	}()
	for {
		var ws syscall.WaitStatus
		p, err := syscall.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return 1
		}
		if p != pid {
			continue // an orphan of the command's, reaped
		}
		if ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ws.ExitStatus()
	}
}

// setUp makes the helper's mount namespace what the plan says and brings
// the loopback interface up.
func setUp(sp *Spec) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	// Copies of what stays writable, taken before everything turns
	// read-only; and of the devices, before /dev is replaced.
	clone := func(path string, flags uint) (int, error) {
		fd, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|flags)
		if err != nil {
			return -1, fmt.Errorf("copy the mount of %s: %w", path, err)
		}
		return fd, nil
	}
	bound := append(append([]string{sp.Tmp}, sp.Writable...), sp.Readable...)
	bfds := make([]int, len(bound))
	for i, dir := range bound {
		fd, err := clone(dir, unix.AT_RECURSIVE)
		if err != nil {
			return err
		}
		bfds[i] = fd
	}
	for _, fd := range bfds[len(bound)-len(sp.Readable):] {
		if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}); err != nil {
			return fmt.Errorf("make a copy read-only: %w", err)
		}
	}
	devices := []string{"null", "zero", "full", "random", "urandom", "tty"}
	dfds := make([]int, len(devices))
	for i, d := range devices {
		fd, err := clone("/dev/"+d, 0)
		if err != nil {
			return err
		}
		dfds[i] = fd
	}
	if err := unix.MountSetattr(unix.AT_FDCWD, "/", unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}); err != nil {
		return fmt.Errorf("make / read-only: %w", err)
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	if err := setUpDev(devices, dfds); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", "/tmp", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
		return fmt.Errorf("mount /tmp: %w", err)
	}
	for i, dir := range bound {
		// The plan's paths are clean and absolute.
		if dir == "/tmp" || strings.HasPrefix(dir, "/tmp/") {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return err
			}
		}
		if err := unix.MoveMount(bfds[i], "", unix.AT_FDCWD, dir, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("mount %s: %w", dir, err)
		}
		unix.Close(bfds[i])
	}
	for _, path := range sp.ReadOnly {
		fd, err := clone(path, unix.AT_RECURSIVE)
		if err != nil {
			return err
		}
		err = unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY})
		if err == nil {
			err = unix.MoveMount(fd, "", unix.AT_FDCWD, path, unix.MOVE_MOUNT_F_EMPTY_PATH)
		}
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("mount %s read-only: %w", path, err)
		}
	}
	for _, dir := range sp.HideDirs {
		if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0,size=4k"); err != nil {
			return fmt.Errorf("hide %s: %w", dir, err)
		}
	}
	for _, path := range append(sp.HideFiles, sp.Sockets...) {
		if err := bindReadOnly("/dev/null", path); err != nil {
			return fmt.Errorf("hide %s: %w", path, err)
		}
	}
	// The working directory was resolved before the mounts over it.
	if err := os.Chdir(sp.Dir); err != nil {
		return err
	}
	return loopbackUp()
}

// setUpDev mounts a fresh /dev with only the devices named, whose mounts
// are fds, a private devpts and /dev/shm.
func setUpDev(devices []string, fds []int) error {
	if err := unix.Mount("tmpfs", "/dev", "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=0755"); err != nil {
		return fmt.Errorf("mount /dev: %w", err)
	}
	for i, d := range devices {
		path := "/dev/" + d
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o666)
		if err != nil {
			return err
		}
		f.Close()
		if err := unix.MoveMount(fds[i], "", unix.AT_FDCWD, path, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("mount %s: %w", path, err)
		}
		unix.Close(fds[i])
	}
	for _, dir := range []string{"/dev/pts", "/dev/shm"} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
	}
	if err := unix.Mount("devpts", "/dev/pts", "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620"); err != nil {
		return fmt.Errorf("mount /dev/pts: %w", err)
	}
	if err := unix.Mount("tmpfs", "/dev/shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
		return fmt.Errorf("mount /dev/shm: %w", err)
	}
	for link, target := range map[string]string{"ptmx": "pts/ptmx", "fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		if err := os.Symlink(target, "/dev/"+link); err != nil {
			return err
		}
	}
	return nil
}

// bindReadOnly bind-mounts src over dst, read-only.
func bindReadOnly(src, dst string) error {
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		return err
	}
	return unix.Mount("", dst, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NOEXEC, "")
}

// loopbackUp brings up lo in the new network namespace, so that a
// command can talk to itself over 127.0.0.1 and nothing else.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bring up lo: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring up lo: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring up lo: %w", err)
	}
	return nil
}

// confineThread confines the calling thread, which the command is forked
// from: no capabilities, none to regain by exec, no_new_privs, Landlock,
// then the seccomp filter.
func confineThread(sp *Spec) error {
	if err := dropCapabilities(); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	if err := restrictLandlock(sp); err != nil {
		return err
	}
	return loadFilter()
}

// dropCapabilities empties the calling thread's capability sets, its
// bounding set and ambient set included, and locks the securebits that
// would give them back to a uid 0 that execs.
func dropCapabilities() error {
	// SECBIT_NOROOT, SECBIT_NO_SETUID_FIXUP, SECBIT_NO_CAP_AMBIENT_RAISE,
	// each with its lock, and SECBIT_KEEP_CAPS_LOCKED (linux/securebits.h).
	const bits = 1<<0 | 1<<1 | 1<<2 | 1<<3 | 1<<5 | 1<<6 | 1<<7
	if err := unix.Prctl(unix.PR_SET_SECUREBITS, bits, 0, 0, 0); err != nil {
		return fmt.Errorf("set securebits: %w", err)
	}
	for c := 0; c <= unix.CAP_LAST_CAP; c++ {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("drop capability %d: %w", c, err)
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("drop capabilities: %w", err)
	}
	return nil
}

// restrictLandlock adds a Landlock domain to the calling thread: read
// and execute anywhere, write only in the writable directories, the
// private temporary directory, the fresh /tmp and /dev/shm, and the
// devices of /dev. The mounts draw the same boundary; Landlock is the
// second wall, and the first where a mount could be undone.
func restrictLandlock(sp *Spec) error {
	abi := LandlockABI()
	if abi < 1 {
		return errors.New("the kernel has no Landlock")
	}
	cfg := landlock.Config{HandledAccessFS: landlock.V11.HandledAccessFS, Scoped: landlock.V11.Scoped}.BestEffort()
	write := landlock.RWDirs(append([]string{sp.Tmp, "/tmp", "/dev/shm"}, sp.Writable...)...)
	if abi >= 2 {
		// Asked of a kernel without it, refer turns best effort into
		// no Landlock at all.
		write = write.WithRefer()
	}
	fd, flags, err := cfg.NewRulesetFD(
		landlock.RODirs("/"),
		write.WithResolveUnix(),
		landlock.RWFiles("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/ptmx").WithIoctlDev(),
		landlock.RWDirs("/dev/pts").WithIoctlDev(),
	)
	if err != nil {
		return fmt.Errorf("landlock: %w", err)
	}
	if fd < 0 {
		return errors.New("landlock: nothing to restrict")
	}
	defer unix.Close(fd)
	if _, _, errno := unix.Syscall(unix.SYS_LANDLOCK_RESTRICT_SELF, uintptr(fd), uintptr(flags), 0); errno != 0 {
		return fmt.Errorf("landlock_restrict_self: %w", errno)
	}
	return nil
}

// LandlockABI returns the Landlock ABI version of the kernel, 0 for none.
func LandlockABI() int {
	const createRulesetVersion = 1
	v, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, createRulesetVersion)
	if errno != 0 {
		return 0
	}
	return int(v)
}
