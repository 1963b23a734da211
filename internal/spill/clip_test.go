package spill

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClip(t *testing.T) {
	const limit = 10
	marker := func(n string) string { return "\n\n... [" + n + " characters truncated] ...\n\n" }
	tests := []struct {
		name       string
		head, tail string
		gap        int64
		want       string
		wantCut    int64
	}{
		{"short", "abc", "", 0, "abc", 0},
		{"exactly the limit", "0123456789", "", 0, "0123456789", 0},
		{"split pieces joined", "01234", "56789", 0, "0123456789", 0},
		{"middle cut", "abcdefghijklmnopqrstuvwxyz", "", 0, "abcde" + marker("16") + "vwxyz", 16},
		{"characters not bytes", "ééééééééééüüüüüüüüüü", "", 0, "ééééé" + marker("10") + "üüüüü", 10},
		{"gap with short pieces", "ab", "yz", 100, "ab" + marker("100") + "yz", 100},
		{"gap with long pieces", "abcdefgh", "stuvwxyz", 5, "abcde" + marker("11") + "vwxyz", 11},
		{"gap with short head gives tail more", "a", "qrstuvwxyz", 3, "a" + marker("4") + "rstuvwxyz", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cut := Clip(tt.head, tt.tail, tt.gap, limit, Where{})
			if got != tt.want || cut != tt.wantCut {
				t.Errorf("Clip = %q, %d; want %q, %d", got, cut, tt.want, tt.wantCut)
			}
		})
	}
}

func TestClipKeepsLimitCharacters(t *testing.T) {
	s := strings.Repeat("x", Limit*3)
	got, cut := Clip(s, "", 0, Limit, Where{})
	if kept := strings.Count(got, "x"); kept != Limit || cut != int64(2*Limit) {
		t.Errorf("kept %d characters, cut %d; want %d and %d", kept, cut, Limit, 2*Limit)
	}
}

func TestClipNamesWhereTheWholeIs(t *testing.T) {
	s := strings.Repeat("x", 30)
	if got, _ := Clip(s, "", 0, 10, Where{Path: "/s/1.txt"}); got != "xxxxx\n\n... [20 characters truncated; the full output is in /s/1.txt] ...\n\nxxxxx" {
		t.Errorf("with a path: %q", got)
	}
	if got, _ := Clip(s, "", 0, 10, Where{Err: errors.New("disk full")}); !strings.Contains(got, "[20 characters truncated; the full output could not be saved: disk full]") {
		t.Errorf("with an error: %q", got)
	}
}

func TestCapSavesTheWhole(t *testing.T) {
	d := New(filepath.Join(t.TempDir(), "sess", "outputs"))
	short := strings.Repeat("a", Limit)
	if got, saved := d.Cap(short); got != short || saved != "" {
		t.Errorf("Cap of %d characters cut it or saved it (%q)", Limit, saved)
	}
	long := strings.Repeat("é", Limit) + strings.Repeat("b", 10)
	got, saved := d.Cap(long)
	if saved != filepath.Join(d.Path(), "1.txt") {
		t.Fatalf("saved at %q, want 1.txt in %s", saved, d.Path())
	}
	if b, err := os.ReadFile(saved); err != nil || string(b) != long {
		t.Errorf("saved file holds %d bytes (%v), want the whole output", len(b), err)
	}
	if fi, err := os.Stat(saved); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("saved file mode %v (%v), want 0600", fi.Mode(), err)
	}
	if !strings.Contains(got, "; the full output is in "+saved+"]") || !strings.HasSuffix(got, strings.Repeat("b", 10)) || utf8.RuneCountInString(got) > Limit+200 {
		t.Errorf("Cap returned %d characters without the marker or the tail", utf8.RuneCountInString(got))
	}
	// A resumed session's Dir continues after the files already there.
	if _, saved := New(d.Path()).Cap(long); filepath.Base(saved) != "2.txt" {
		t.Errorf("a second Dir saved at %q, want 2.txt", saved)
	}
}

func TestCapWithoutDir(t *testing.T) {
	var d *Dir
	got, saved := d.Cap(strings.Repeat("x", Limit+1))
	if saved != "" || !strings.Contains(got, "... [1 characters truncated] ...") {
		t.Errorf("nil Dir: saved %q, text %q...", saved, got[Limit/2:Limit/2+40])
	}
}

func TestCapReportsAFailedSave(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	got, saved := New(filepath.Join(file, "outputs")).Cap(strings.Repeat("x", Limit+1))
	if saved != "" || !strings.Contains(got, "the full output could not be saved: save output:") {
		t.Errorf("saved %q; marker missing the failure", saved)
	}
}
