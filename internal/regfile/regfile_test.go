package regfile

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestOpenRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	link := filepath.Join(dir, "link")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, want string
	}{
		{fifo, "a FIFO (named pipe)"},
		{link, "a FIFO (named pipe)"},
		{sock, "a socket"},
		{"/dev/zero", "a character device"},
		{"/dev/null", "a character device"},
		{dir, "a directory"},
	}
	for _, tt := range tests {
		done := make(chan error, 1)
		go func() {
			f, _, err := Open(tt.path)
			if f != nil {
				f.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if !IsNotRegular(err) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open(%s) = %v, want a NotRegularError saying %q", tt.path, err, tt.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Open(%s) blocked", tt.path)
		}
	}
}

func TestReadFileLimit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		limit   int64
		wantErr bool
	}{{10, false}, {100, false}, {9, true}, {0, true}}
	for _, tt := range tests {
		b, err := ReadFile(path, tt.limit)
		var tl *TooLargeError
		switch {
		case tt.wantErr && !errors.As(err, &tl):
			t.Errorf("ReadFile(limit %d) = %q, %v; want a TooLargeError", tt.limit, b, err)
		case !tt.wantErr && (err != nil || string(b) != "0123456789"):
			t.Errorf("ReadFile(limit %d) = %q, %v", tt.limit, b, err)
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), 10); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFile(missing) = %v, want ErrNotExist", err)
	}
}

// TestReadFileOneBuffer checks that a file is read into one buffer of
// its size: the editing tools load files of megabytes, and a buffer grown
// by doubling would allocate about twice that.
func TestReadFileOneBuffer(t *testing.T) {
	const size = 4 << 20
	path := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(path, bytes.Repeat([]byte("0123456789abcde\n"), size/16), 0o644); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b, err := ReadFile(path, size)
	runtime.ReadMemStats(&after)
	if err != nil || len(b) != size {
		t.Fatalf("ReadFile = %d bytes, %v; want %d", len(b), err, size)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > size+64<<10 {
		t.Errorf("ReadFile of %d bytes allocated %d bytes, want at most one buffer of the file's size", size, got)
	}
}

// TestReadFileUnsized checks that a regular file that reports a size of
// 0, as those under /proc do, is still read whole.
func TestReadFileUnsized(t *testing.T) {
	fi, err := os.Stat("/proc/self/status")
	if err != nil || fi.Size() != 0 {
		t.Skipf("no unsized /proc file here: %v", err)
	}
	b, err := ReadFile("/proc/self/status", 1<<20)
	if err != nil || !bytes.Contains(b, []byte("VmRSS")) {
		t.Errorf("ReadFile(/proc/self/status) = %q, %v; want the whole status", b, err)
	}
}

func TestFormatSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"}, {50 << 20, "50.0 MiB"}, {3 << 30, "3.0 GiB"}}
	for _, tt := range tests {
		if got := FormatSize(tt.n); got != tt.want {
			t.Errorf("FormatSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

// TestOpenListed checks that the type a listing reported is honoured, and
// that a FIFO put where the listing saw a regular file is refused by the
// check of the descriptor, without blocking.
func TestOpenListed(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := OpenListed(fifo, os.ModeNamedPipe); !IsNotRegular(err) {
		t.Errorf("listed as a FIFO: got %v, want a NotRegularError", err)
	}
	if _, _, err := OpenListed(fifo, 0); !IsNotRegular(err) {
		t.Errorf("a FIFO listed as regular: got %v, want a NotRegularError", err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, fi, err := OpenListed(file, 0)
	if err != nil || fi.Size() != 1 {
		t.Fatalf("regular file: %v, %v", fi, err)
	}
	f.Close()
}
