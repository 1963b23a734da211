package helper

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The seccomp filter of confined processes is written here as classic
// BPF rather than with a filter library: a deny list must kill every
// system call made through another ABI (on amd64, int 0x80 reaches the
// i386 table, where the numbers differ), which the library we looked at
// lets through to its default action, and bwrap takes the same program
// as raw instructions, so both backends load exactly these.
//
// What it refuses, with EPERM: new namespaces and joining others (no
// nested user namespaces), every way of mounting (a process that could
// mount could uncover what the sandbox hides), and kernel interfaces a
// command has no use for that have a history of privilege escalation.
// clone3 gets ENOSYS, as its flags sit behind a pointer the filter
// cannot read, so that C libraries fall back to clone. TIOCSTI and
// TIOCLINUX, which push input into a terminal, are refused too.

// deniedSyscalls are refused with EPERM.
var deniedSyscalls = append([]uintptr{
	unix.SYS_UNSHARE, unix.SYS_SETNS,
	unix.SYS_MOUNT, unix.SYS_UMOUNT2, unix.SYS_PIVOT_ROOT, unix.SYS_CHROOT,
	unix.SYS_MOUNT_SETATTR, unix.SYS_MOVE_MOUNT, unix.SYS_OPEN_TREE, unix.SYS_OPEN_TREE_ATTR,
	unix.SYS_FSOPEN, unix.SYS_FSCONFIG, unix.SYS_FSMOUNT, unix.SYS_FSPICK,
	unix.SYS_KEYCTL, unix.SYS_ADD_KEY, unix.SYS_REQUEST_KEY,
	unix.SYS_BPF, unix.SYS_PERF_EVENT_OPEN, unix.SYS_USERFAULTFD,
	unix.SYS_KEXEC_LOAD, unix.SYS_KEXEC_FILE_LOAD,
	unix.SYS_INIT_MODULE, unix.SYS_FINIT_MODULE, unix.SYS_DELETE_MODULE,
	unix.SYS_REBOOT, unix.SYS_SWAPON, unix.SYS_SWAPOFF, unix.SYS_ACCT, unix.SYS_QUOTACTL,
	unix.SYS_OPEN_BY_HANDLE_AT,
}, archDenied...)

// nsFlags are the clone flags that make a namespace. CLONE_NEWTIME is
// not among them: clone takes it only through clone3, and in clone's
// flags its bit is part of the exit signal.
const nsFlags = unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
	unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET

// Offsets in struct seccomp_data.
const (
	offNr   = 0
	offArch = 4
	offArg0 = 16 // the low half on a little-endian machine
	offArg1 = 24
)

func stmt(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }

func jump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
}

// filterProgram returns the seccomp filter of confined processes.
func filterProgram() ([]unix.SockFilter, error) {
	if auditArch == 0 {
		return nil, fmt.Errorf("no seccomp filter for %s", runtime.GOARCH)
	}
	const (
		ld   = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq  = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jge  = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
		jset = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
		ret  = unix.BPF_RET | unix.BPF_K
	)
	eperm := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM))
	enosys := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS))
	allow := uint32(unix.SECCOMP_RET_ALLOW)
	prog := []unix.SockFilter{
		stmt(ld, offArch),
		jump(jeq, auditArch, 1, 0),
		stmt(ret, unix.SECCOMP_RET_KILL_PROCESS),
		stmt(ld, offNr),
	}
	if x32Bit != 0 {
		prog = append(prog, jump(jge, x32Bit, 0, 1), stmt(ret, enosys))
	}
	for _, nr := range deniedSyscalls {
		prog = append(prog, jump(jeq, uint32(nr), 0, 1), stmt(ret, eperm))
	}
	prog = append(prog,
		jump(jeq, unix.SYS_CLONE3, 0, 1), stmt(ret, enosys),
		jump(jeq, unix.SYS_IOCTL, 0, 5),
		stmt(ld, offArg1),
		jump(jeq, unix.TIOCSTI, 2, 0),
		jump(jeq, unix.TIOCLINUX, 1, 0),
		stmt(ret, allow),
		stmt(ret, eperm),
		jump(jeq, unix.SYS_CLONE, 0, 4),
		stmt(ld, offArg0),
		jump(jset, nsFlags, 0, 1),
		stmt(ret, eperm),
		stmt(ret, allow),
		stmt(ret, allow),
	)
	return prog, nil
}

// Filter returns the filter as bwrap reads it: struct sock_filter
// after struct sock_filter, in the machine's byte order.
func Filter() ([]byte, error) {
	prog, err := filterProgram()
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 8*len(prog))
	for _, ins := range prog {
		b = binary.NativeEndian.AppendUint16(b, ins.Code)
		b = append(b, ins.Jt, ins.Jf)
		b = binary.NativeEndian.AppendUint32(b, ins.K)
	}
	return b, nil
}

// loadFilter installs the filter on the calling thread, which must have
// no_new_privs set; threads and processes it starts afterwards inherit
// it.
func loadFilter() error {
	prog, err := filterProgram()
	if err != nil {
		return err
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&fprog)), 0, 0); err != nil {
		return fmt.Errorf("load the seccomp filter: %w", err)
	}
	return nil
}

// SeccompWorks reports whether this kernel filters system calls.
func SeccompWorks() error {
	if _, err := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0); err != nil {
		if errors.Is(err, unix.EINVAL) {
			return errors.New("the kernel has no seccomp (CONFIG_SECCOMP)")
		}
		return fmt.Errorf("prctl(PR_GET_SECCOMP): %w", err)
	}
	return nil
}
