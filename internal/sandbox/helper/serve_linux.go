package helper

import (
	"encoding/json"
	"errors"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// A sandbox server is the helper run with Spec.Serve: once its sandbox
// is set up, instead of starting one command it starts each command
// Lathe asks for, over a SOCK_SEQPACKET socket, one message per
// Request and per Reply, and reports when each exits. A command costs a
// fork and an exec in a sandbox made once, instead of a new sandbox.
//
// It forks every command from the one thread that is confined (the
// landlock backend: Landlock, seccomp, no capabilities; under bwrap the
// whole server is confined by bwrap), so that every command inherits the
// confinement, and with a parent-death signal, so that a server that
// dies takes its commands with it. It exits when the socket closes:
// Lathe is gone, or done with this server.

// MaxFiles is the most descriptors a Request may carry, and MaxRequest
// the most bytes.
const (
	MaxFiles   = 16
	MaxRequest = 1 << 20
)

// Request is one message from Lathe to a server: start a command, with
// the message's descriptors as its descriptors 0, 1, 2, …, or, with
// Signal set, send a signal to the command started as ID.
type Request struct {
	ID     uint64 `json:"id"`
	Signal int    `json:"signal,omitempty"`

	Path      string   `json:"path,omitempty"`
	Args      []string `json:"args,omitempty"`
	Env       []string `json:"env,omitempty"`
	Dir       string   `json:"dir,omitempty"`
	Setpgid   bool     `json:"setpgid,omitempty"`
	Setsid    bool     `json:"setsid,omitempty"`
	Pdeathsig int      `json:"pdeathsig,omitempty"`
}

// Reply is one message from a server to Lathe about the command ID:
// started, failed to start (Errno, or Error for a request it could not
// read), or exited with wait status Status. A command's "started" comes
// before its "exited".
type Reply struct {
	ID      uint64 `json:"id"`
	Started bool   `json:"started,omitempty"`
	Errno   int    `json:"errno,omitempty"`
	Error   string `json:"error,omitempty"`
	Exited  bool   `json:"exited,omitempty"`
	Status  uint32 `json:"status,omitempty"`
}

// serve runs the server on socket fd, on the calling thread, which is
// locked and confined, until the socket closes.
func serve(fd int) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGCHLD)
	// The server is its pid namespace's init: the kernel keeps SIGKILL
	// and SIGSTOP from its commands away from it, and drops any other
	// signal they send it that it does not handle. Handled here, and
	// dropped, none ends it (Go's runtime would exit on SIGTERM, say),
	// and each is back to its default in the commands, once they exec.
	signal.Notify(make(chan os.Signal, 1))
	// mu orders each command's "started" before its "exited" and guards
	// pids and ids.
	var mu sync.Mutex
	pids := map[int]uint64{}
	ids := map[uint64]int{}
	reply := func(r Reply) {
		b, _ := json.Marshal(r)
		// A failed send means Lathe is gone; the read below sees it.
		_ = unix.Sendto(fd, b, 0, nil)
	}
	go func() {
		// The reaper: of every child, those the commands left behind
		// included where the server is the namespace's init.
		for range sigs {
			for {
				var ws syscall.WaitStatus
				pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
				if errors.Is(err, syscall.EINTR) {
					continue
				}
				if pid <= 0 {
					break
				}
				mu.Lock()
				if id, ok := pids[pid]; ok {
					delete(pids, pid)
					delete(ids, id)
					reply(Reply{ID: id, Exited: true, Status: uint32(ws)})
				}
				mu.Unlock()
			}
		}
	}()
	buf := make([]byte, MaxRequest)
	oob := make([]byte, unix.CmsgSpace(4*MaxFiles))
	for {
		n, oobn, flags, _, err := unix.Recvmsg(fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil || n == 0 {
			return 0
		}
		files, ferr := rights(oob[:oobn])
		var req Request
		jerr := json.Unmarshal(buf[:n], &req)
		switch {
		case flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0:
			reply(Reply{ID: req.ID, Error: "request truncated"})
		case ferr != nil:
			reply(Reply{ID: req.ID, Error: ferr.Error()})
		case jerr != nil:
			reply(Reply{ID: req.ID, Error: "unreadable request"})
		case req.Signal != 0:
			mu.Lock()
			if pid, ok := ids[req.ID]; ok {
				_ = syscall.Kill(pid, syscall.Signal(req.Signal))
			}
			mu.Unlock()
		default:
			start(req, files, &mu, pids, ids, reply)
		}
		for _, f := range files {
			unix.Close(f)
		}
	}
}

// start starts req's command with files as its descriptors and replies.
func start(req Request, files []int, mu *sync.Mutex, pids map[int]uint64, ids map[uint64]int, reply func(Reply)) {
	fds := make([]uintptr, len(files))
	for i, f := range files {
		fds[i] = uintptr(f)
	}
	// Should the server die, so do its commands: they are confined by
	// what it holds up (under the landlock backend, its namespaces).
	death := syscall.Signal(req.Pdeathsig)
	if death == 0 {
		death = syscall.SIGKILL
	}
	mu.Lock()
	defer mu.Unlock()
	pid, err := syscall.ForkExec(req.Path, req.Args, &syscall.ProcAttr{
		Dir: req.Dir, Env: req.Env, Files: fds,
		Sys: &syscall.SysProcAttr{Setpgid: req.Setpgid, Setsid: req.Setsid, Pdeathsig: death},
	})
	if err != nil {
		var errno syscall.Errno
		if !errors.As(err, &errno) {
			errno = syscall.EINVAL
		}
		reply(Reply{ID: req.ID, Errno: int(errno)})
		return
	}
	pids[pid], ids[req.ID] = req.ID, pid
	reply(Reply{ID: req.ID, Started: true})
}

// rights returns the descriptors an SCM_RIGHTS message carried.
func rights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	for _, m := range msgs {
		f, err := unix.ParseUnixRights(&m)
		if err != nil {
			return fds, err
		}
		fds = append(fds, f...)
	}
	return fds, nil
}
