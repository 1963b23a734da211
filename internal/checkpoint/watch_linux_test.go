package checkpoint_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/lathe-dev/lathe/internal/checkpoint"
	"github.com/lathe-dev/lathe/internal/sandbox"
)

// inotifyLimitEnv tells the test binary, run again by TestInotifyLimits,
// which of its user namespace's inotify limits to lower.
const inotifyLimitEnv = "LATHE_TEST_INOTIFY_LIMIT"

// TestInotifyLimits pins that a Store whose workspace cannot be watched,
// inotify's per-user limit of instances or of watches being reached,
// says so once, naming the limit, and that its snapshots stay complete.
// The limits are the kernel's own: the test runs itself again in a user
// namespace, whose limits (/proc/sys/user/max_inotify_*) it may lower
// without touching the machine's.
func TestInotifyLimits(t *testing.T) {
	if limit := os.Getenv(inotifyLimitEnv); limit != "" {
		inotifyLimited(t, limit)
		return
	}
	t.Parallel()
	// Out of instances, the first snapshot cannot start the watcher; out
	// of watches, a snapshot after new directories cannot watch them,
	// nor make the watcher again.
	for _, limit := range []string{"max_inotify_instances=0", "max_inotify_watches=fit"} {
		t.Run(limit, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestInotifyLimits$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), inotifyLimitEnv+"="+limit)
			// Root in the namespace, to set its limits; mapped to the
			// user running the test, who owns the files.
			cmd.SysProcAttr = &syscall.SysProcAttr{
				Cloneflags:  syscall.CLONE_NEWUSER,
				UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
				GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
			}
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Skipf("cannot run in a user namespace of its own: %v", err)
			}
			if err != nil || !strings.Contains(string(out), "--- PASS: TestInotifyLimits") {
				t.Fatalf("%v:\n%s", err, out)
			}
		})
	}
}

// inotifyLimited is TestInotifyLimits in the user namespace: limit is
// NAME=VALUE of /proc/sys/user, VALUE "fit" being just the watches the
// workspace needs as it starts.
func inotifyLimited(t *testing.T, limit string) {
	ctx := context.Background()
	dir := newRepo(t)
	name, value, _ := strings.Cut(limit, "=")
	if value == "fit" {
		n := 0
		must(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return err
			case d.IsDir() && d.Name() == ".git":
				return filepath.SkipDir
			case d.IsDir():
				n++
			}
			return nil
		}))
		value = strconv.Itoa(n)
	}
	must(t, os.WriteFile("/proc/sys/user/"+name, []byte(value), 0))
	var warnings []error
	s, err := checkpoint.Open(ctx, dir, t.TempDir(), "s1", sandbox.NewHost(sandbox.Profile{}),
		checkpoint.WithWarn(func(err error) { warnings = append(warnings, err) }))
	must(t, err)
	t.Cleanup(func() { s.Close() })
	_, err = s.Snapshot(ctx, 1)
	must(t, err)
	for step := 2; step <= 4; step++ {
		f := fmt.Sprintf("new%d/sub/f.txt", step)
		write(t, filepath.Join(dir, f), "new\n", 0o644)
		write(t, filepath.Join(dir, "a.txt"), fmt.Sprintf("edit %d\n", step), 0o644)
		_, err := s.Snapshot(ctx, step)
		must(t, err)
		ref := "refs/lathe/s1/" + strconv.Itoa(step)
		if ls := run(t, dir, "ls-tree", "-r", "--name-only", ref); !strings.Contains(ls, f+"\n") {
			t.Errorf("snapshot %d lacks %s:\n%s", step, f, ls)
		}
		if got, want := run(t, dir, "cat-file", "blob", ref+":a.txt"), fmt.Sprintf("edit %d\n", step); got != want {
			t.Errorf("snapshot %d has a.txt %q, want %q", step, got, want)
		}
	}
	want := strings.Replace(name, "max_inotify_", "fs.inotify.max_user_", 1)
	if len(warnings) != 1 || !strings.Contains(warnings[0].Error(), want) || !strings.Contains(warnings[0].Error(), "cannot watch the workspace") {
		t.Errorf("warnings %q: want one, naming %s", warnings, want)
	} else {
		t.Log(warnings[0])
	}
}
