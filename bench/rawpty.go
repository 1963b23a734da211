package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lathe-dev/lathe/internal/fakeapi"
)

// rawFigures are keystroke → first echoed byte on a raw pty, no tmux, the
// way keylat.py measures it, and the bytes lathe wrote to it while idle.
type rawFigures struct {
	lat       []float64 // ms, sorted
	idleBytes int
}

func (f rawFigures) String() string {
	if len(f.lat) == 0 {
		return "no echo"
	}
	return fmt.Sprintf("p50=%.1fms p90=%.1fms max=%.1fms", median(f.lat), f.lat[len(f.lat)*9/10], f.lat[len(f.lat)-1])
}

// chunk is what one read of the pty's master side returned, and when.
type chunk struct {
	at   time.Time
	data []byte
}

// openPTY opens a pseudo-terminal of w×h; the caller closes both ends.
func openPTY(w, h int) (master, slave *os.File, err error) {
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("pty number: %w", err)
	}
	if err := unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(h), Col: uint16(w)}); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("pty size: %w", err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	return master, slave, nil
}

// rawRun starts lathe on a raw pty with a finished small task and, when
// lines > 0, a transcript of that many lines, then measures keystroke
// latency as keylat.py does and the bytes written over 10 s of idle. With
// no lines it also runs keylat.py itself, on a lathe of its own, as a
// check that both measure the same thing.
func rawRun(bin, dir string, o tuiOptions, lines int) (rawFigures, string, error) {
	var f rawFigures
	repo, home, err := tuiHome(dir, false)
	if err != nil {
		return f, "", err
	}
	steps := taskSteps("notes read")
	if lines > 0 {
		steps = append(steps, fakeapi.Step{Reply: &fakeapi.Reply{Text: paragraphs("fill", lines) + "fill finished", TextDeltas: 100}})
	}
	srv := fakeapi.NewServer(&fakeapi.Script{Steps: steps})
	defer srv.Close()
	master, slave, err := openPTY(paneW, paneH)
	if err != nil {
		return f, "", err
	}
	defer master.Close()
	cmd := exec.Command(bin, "--permission-mode", "bypassPermissions", "read the notes")
	cmd.Dir = repo
	cmd.Env = append(latheEnv(home, srv.URL()), "TERM=xterm-256color")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		slave.Close()
		return f, "", err
	}
	slave.Close()
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	chunks := make(chan chunk, 1024)
	go func() {
		defer close(chunks)
		buf := make([]byte, 1<<16)
		for {
			n, err := master.Read(buf)
			if n > 0 {
				data := slices.Clone(buf[:n])
				// Answer the queries a terminal answers, as keylat.py does.
				if bytes.Contains(data, []byte("\x1b[6n")) {
					_, _ = master.Write([]byte("\x1b[1;1R"))
				}
				if bytes.Contains(data, []byte("\x1b[c")) {
					_, _ = master.Write([]byte("\x1b[?62;22c"))
				}
				chunks <- chunk{time.Now(), data}
			}
			if err != nil {
				return
			}
		}
	}()
	// quiet reads until nothing came for d, or until limit; it returns
	// the bytes read.
	quiet := func(d, limit time.Duration) (int, error) {
		n := 0
		end := time.Now().Add(limit)
		t := time.NewTimer(d)
		defer t.Stop()
		for {
			select {
			case c, ok := <-chunks:
				if !ok {
					return n, fmt.Errorf("lathe closed the pty: %v", cmd.Wait())
				}
				n += len(c.data)
				if time.Now().After(end) {
					return n, nil
				}
				t.Reset(d)
			case <-t.C:
				return n, nil
			}
		}
	}
	wantRequests := 2
	if lines > 0 {
		if _, err := quiet(2*time.Second, 2*time.Minute); err != nil {
			return f, "", err
		}
		if !waitAnswered(srv, 2, 2*time.Minute) {
			return f, "", fmt.Errorf("the task's requests were not answered")
		}
		if _, err := quiet(2*time.Second, 2*time.Minute); err != nil {
			return f, "", err
		}
		if _, err := master.Write([]byte("fill\r")); err != nil {
			return f, "", err
		}
		wantRequests = 3
	}
	if !waitAnswered(srv, wantRequests, 10*time.Minute) {
		return f, "", fmt.Errorf("%d requests not answered: %v", wantRequests, srv.Failures())
	}
	if _, err := quiet(2*time.Second, 10*time.Minute); err != nil {
		return f, "", err
	}
	// Idle bytes: everything read in 10 s.
	f.idleBytes, err = quiet(10*time.Second+time.Millisecond, 10*time.Second)
	if err != nil {
		return f, "", err
	}
	rng := rand.New(rand.NewPCG(1, uint64(lines)))
	for i := range 80 {
		ch := []byte{"QXZJKVWY"[i%8]}
		t0 := time.Now()
		if _, err := master.Write(ch); err != nil {
			return f, "", err
		}
		var seen []byte
		timeout := time.After(2 * time.Second)
	wait:
		for {
			select {
			case c, ok := <-chunks:
				if !ok {
					return f, "", fmt.Errorf("lathe closed the pty")
				}
				seen = append(seen, c.data...)
				if bytes.Contains(seen, ch) {
					f.lat = append(f.lat, float64(c.at.Sub(t0).Microseconds())/1000)
					break wait
				}
			case <-timeout:
				break wait
			}
		}
		if _, err := quiet(time.Duration(20+rng.IntN(50))*time.Millisecond, time.Second); err != nil {
			return f, "", err
		}
		if i%20 == 19 {
			if _, err := master.Write(bytes.Repeat([]byte{0x7f}, 20)); err != nil {
				return f, "", err
			}
			if _, err := quiet(100*time.Millisecond, time.Second); err != nil {
				return f, "", err
			}
		}
	}
	slices.Sort(f.lat)
	if lines > 0 {
		return f, "", nil
	}
	py, err := keylatPy(bin, filepath.Join(dir, "keylat.py"), o)
	return f, py, err
}

// waitAnswered polls the fake until n requests have their answers.
func waitAnswered(srv *fakeapi.Server, n int, limit time.Duration) bool {
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		reqs := srv.Requests()
		if len(reqs) >= n && !reqs[n-1].Answered.IsZero() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// keylatPy runs keylat.py on a lathe of its own that has finished a small
// task as its first prompt (keylat.py waits a second, then types).
func keylatPy(bin, dir string, o tuiOptions) (string, error) {
	repo, home := filepath.Join(dir, "repo"), filepath.Join(dir, "home")
	for _, d := range []string{repo, home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", err
		}
	}
	srv := fakeapi.NewServer(&fakeapi.Script{Steps: []fakeapi.Step{{Reply: &fakeapi.Reply{Text: "Hello."}}}})
	defer srv.Close()
	args := append([]string{filepath.Join(o.tools, "keylat.py"), "--", "env"}, latheEnv(home, srv.URL())...)
	args = append(args, bin, "--permission-mode", "bypassPermissions", "hello")
	cmd := exec.Command("python3", args...)
	cmd.Dir = repo
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("keylat.py: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out)), nil
}
