package textfile

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func TestDecodeEncodeRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   string
		text string
		f    Format
	}{
		{"lf", "a\nb\n", "a\nb\n", Format{}},
		{"crlf", "a\r\nb\r\n", "a\nb\n", Format{CRLF: true}},
		{"mixed keeps CR", "a\r\nb\n", "a\r\nb\n", Format{}},
		{"bom", "\xEF\xBB\xBFx\n", "x\n", Format{BOM: true}},
		{"bom crlf", "\xEF\xBB\xBFx\r\ny", "x\ny", Format{BOM: true, CRLF: true}},
		{"empty", "", "", Format{}},
		{"latin-1", "caf\xe9\r\nna\xefve \xff\r\n", "café\nnaïve ÿ\n", Format{CRLF: true, Latin1: true}},
		{"valid utf-8 is not latin-1", "caf\xc3\xa9", "café", Format{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, f := Decode([]byte(tt.in))
			if text != tt.text || f != tt.f {
				t.Fatalf("Decode(%q) = %q, %+v; want %q, %+v", tt.in, text, f, tt.text, tt.f)
			}
			if got, err := f.Encode(text); err != nil || !bytes.Equal(got, []byte(tt.in)) {
				t.Fatalf("Encode round trip = %q, %v; want %q", got, err, tt.in)
			}
		})
	}
}

func TestWriteAtomicKeepsModeAndFollowsLinks(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(script, []byte("old"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.sh")
	if err := os.Symlink("run.sh", link); err != nil {
		t.Fatal(err)
	}
	if err := WriteAtomic(link, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("link was replaced by a regular file: %v %v", fi.Mode(), err)
	}
	fi, err := os.Stat(script)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("mode = %v, want 0755", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(script); string(b) != "new" {
		t.Errorf("content = %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestWriteAtomicNewFileInNewDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "c.txt")
	if err := WriteAtomic(path, []byte("x"), 0o666); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := 0o666 &^ umask; fi.Mode().Perm() != want {
		t.Errorf("mode = %v, want %v (umask applied)", fi.Mode().Perm(), want)
	}
}

func TestWriteAtomicRefusesDirectory(t *testing.T) {
	if err := WriteAtomic(t.TempDir(), []byte("x"), 0o644); err == nil {
		t.Fatal("writing over a directory succeeded")
	}
}

func TestWriterEncodes(t *testing.T) {
	for _, f := range []Format{{}, {CRLF: true}, {BOM: true}, {BOM: true, CRLF: true}} {
		for _, text := range []string{"", "a", "a\nb\n", "\n\n", "a\r\nb\n\nc", "x\ny"} {
			// Written in pieces of every size, as a caller streaming
			// from several buffers does.
			for size := 1; size <= len(text)+1; size++ {
				var buf bytes.Buffer
				w, err := f.Writer(&buf)
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < len(text); i += size {
					p := text[i:min(i+size, len(text))]
					// Both ways in: as bytes, and as a string
					// written without converting it.
					var n int
					var err error
					if size%2 == 0 {
						n, err = w.Write([]byte(p))
					} else {
						n, err = io.WriteString(w, p)
					}
					if n != len(p) || err != nil {
						t.Fatalf("Write = %d, %v", n, err)
					}
				}
				if want, _ := f.Encode(text); !bytes.Equal(buf.Bytes(), want) {
					t.Errorf("%+v, %q in pieces of %d: wrote %q, want %q", f, text, size, buf.Bytes(), want)
				}
			}
		}
	}
}

func TestWriteAtomicFuncFailing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteAtomicFunc(path, 0o644, func(w io.Writer) error {
		w.Write([]byte("half of the new"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the write's error", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("content = %q, want the old content", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// TestToLF checks ToLF against bytes.ReplaceAll on fixed and random
// texts of CR, LF and letters.
func TestToLF(t *testing.T) {
	texts := []string{"", "a", "\r\n", "\r\r\n", "\r\n\r\n", "a\r\nb\rc\n\r", "\n\r", "x\r\n\r\r\n\ny"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = "\r\na"[rng.IntN(3)]
		}
		texts = append(texts, string(b))
	}
	for _, text := range texts {
		want := bytes.ReplaceAll([]byte(text), []byte("\r\n"), []byte("\n"))
		if got := ToLF([]byte(text)); !bytes.Equal(got, want) {
			t.Errorf("ToLF(%q) = %q, want %q", text, got, want)
		}
	}
}
