package composer

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/lathe-dev/lathe/internal/llm"
)

const png1x1 = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00:~\x9bU\x00\x00\x00\nIDATx\x9ccb\x00\x00\x00\x06\x00\x03\x36\x37|\xa8\x00\x00\x00\x00IEND\xaeB`\x82"

// imageDir makes a workspace with an image whose name has a space, a
// text file named like an image, and returns it with an Image option
// reading paths relative to it.
func imageDir(t *testing.T) (string, func(string) (llm.Part, error)) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "my shot.png"), []byte(png1x1), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.png"), []byte("text"), 0o644)
	return dir, func(p string) (llm.Part, error) {
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		return llm.ReadImage(p, p, llm.AnthropicImageLimits)
	}
}

func TestPastedPaths(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{`/a/my shot.png`, []string{"/a/my", "shot.png"}},
		{`'/a/my shot.png'`, []string{"/a/my shot.png"}},
		{`"/a/my shot.png" /b/c.gif`, []string{"/a/my shot.png", "/b/c.gif"}},
		{`/a/my\ shot.png `, []string{"/a/my shot.png"}},
		{`file:///a/x.png`, []string{"/a/x.png"}},
		{`'/a/unclosed`, nil},
		{"two\nlines", nil},
		{"  ", nil},
	} {
		if got := pastedPaths(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("pastedPaths(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestTeaImageChip: a dropped path, quoted, with a space, becomes a chip;
// the prompt sent holds the chip and carries the image's bytes.
func TestTeaImageChip(t *testing.T) {
	dir, read := imageDir(t)
	path := filepath.Join(dir, "my shot.png")
	got := run(t, New(Options{Image: read}), "what is ", tea.PasteMsg{Content: "'" + path + "'"}, "?", "<enter>")
	sub, ok := got.(Submitted)
	if !ok {
		t.Fatalf("sent %#v, want Submitted", got)
	}
	if sub.Text != "what is [Image #1 my shot.png] ?" {
		t.Errorf("text %q", sub.Text)
	}
	if len(sub.Images) != 1 || string(sub.Images[0].Data) != png1x1 || sub.Images[0].MediaType != "image/png" {
		t.Errorf("images %+v", sub.Images)
	}
}

// TestTeaImageChipBackspace: Backspace takes the chip whole, and the
// image with it.
func TestTeaImageChipBackspace(t *testing.T) {
	dir, read := imageDir(t)
	got := run(t, New(Options{Image: read}), "look ", tea.PasteMsg{Content: strings.ReplaceAll(filepath.Join(dir, "my shot.png"), " ", `\ `)}, "<backspace>", "<backspace>", "here", "<enter>")
	sub := got.(Submitted)
	if sub.Text != "look here" || len(sub.Images) != 0 {
		t.Errorf("sent %q with %d images, want the chip gone", sub.Text, len(sub.Images))
	}
}

// TestPasteNotAnImage: a path to a file that is not an image, or to no
// file, is pasted as text; one too large says why under the input.
func TestPasteNotAnImage(t *testing.T) {
	dir, read := imageDir(t)
	c := New(Options{Image: read})
	for _, p := range []string{filepath.Join(dir, "notes.png"), filepath.Join(dir, "gone.png")} {
		c = c.Reset()
		c, _ = c.Update(tea.PasteMsg{Content: p})
		if c.Value() != p || len(c.images(c.ta.Value())) != 0 {
			t.Errorf("paste %s: composer holds %q", p, c.Value())
		}
	}
	big := filepath.Join(dir, "big.png")
	os.WriteFile(big, append([]byte(png1x1), make([]byte, 6<<20)...), 0o644)
	c, _ = c.Reset().Update(tea.PasteMsg{Content: big})
	if c.Value() != big || !strings.Contains(c.View(), "base64-encoded") {
		t.Errorf("too large an image: composer holds %q, shows\n%s", c.Value(), c.View())
	}
}
