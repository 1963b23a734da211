package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/session"
)

// TestCheckPlaceRemounted checks that a session resumes in its own
// directory when only the device number of its file system changed, as a
// reboot or remount changes it for NFS, btrfs subvolumes and overlayfs,
// and is still refused in a directory made again.
func TestCheckPlaceRemounted(t *testing.T) {
	dir := t.TempDir()
	id := session.DirID(dir)
	dev, rest, ok := strings.Cut(id, ":")
	if !ok {
		t.Fatalf("DirID(%s) = %q", dir, id)
	}
	remounted := dev + "7:" + rest
	if err := checkPlace("s", session.Meta{Cwd: dir, CwdID: remounted}, dir, &Options{}); err != nil {
		t.Errorf("same directory, device renumbered: %v", err)
	}
	other := filepath.Join(t.TempDir(), "other")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := checkPlace("s", session.Meta{Cwd: other, CwdID: id}, other, &Options{}); err == nil || !strings.Contains(err.Error(), "made again") {
		t.Errorf("another directory under the session's name: got %v, want a refusal", err)
	}
}
