package llm

import (
	"bytes"
	"errors"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func encoded(t *testing.T, kind string, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	var buf bytes.Buffer
	var err error
	switch kind {
	case "png":
		err = png.Encode(&buf, img)
	case "jpeg":
		err = jpeg.Encode(&buf, img, nil)
	case "gif":
		err = gif.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// webp builds a WebP file whose first chunk is chunk with body.
func webp(chunk string, body []byte) []byte {
	b := []byte("RIFF\x00\x00\x00\x00WEBP" + chunk + "\x00\x00\x00\x00")
	b = append(b, body...)
	return append(b, make([]byte, 16)...)
}

func TestNewImage(t *testing.T) {
	lossy := webp("VP8 ", []byte{0, 0, 0, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00}) // 320×240
	// VP8L: signature, then width-1 (14 bits) and height-1 (14 bits).
	bits := uint32(99) | uint32(49)<<14
	lossless := webp("VP8L", []byte{0x2f, byte(bits), byte(bits >> 8), byte(bits >> 16), byte(bits >> 24)}) // 100×50
	extended := webp("VP8X", []byte{0, 0, 0, 0, 0x3f, 0x1f, 0, 0x0f, 0, 0})                                 // 8000×16
	for _, c := range []struct {
		name      string
		data      []byte
		mediaType string
		w, h      int
	}{
		{"png", encoded(t, "png", 30, 20), "image/png", 30, 20},
		{"jpeg", encoded(t, "jpeg", 16, 8), "image/jpeg", 16, 8},
		{"gif", encoded(t, "gif", 7, 9), "image/gif", 7, 9},
		{"webp lossy", lossy, "image/webp", 320, 240},
		{"webp lossless", lossless, "image/webp", 100, 50},
		{"webp extended", extended, "image/webp", 8000, 16},
	} {
		p, err := NewImage(c.data, "x", AnthropicImageLimits)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if p.Kind != PartImage || p.MediaType != c.mediaType || p.Width != c.w || p.Height != c.h || !bytes.Equal(p.Data, c.data) {
			t.Errorf("%s: got %s %s %d×%d", c.name, p.Kind, p.MediaType, p.Width, p.Height)
		}
	}
}

func TestNewImageRefuses(t *testing.T) {
	small := ImageLimits{API: "the Anthropic API", MaxEncoded: 1 << 20, MaxSide: 8000}
	big := make([]byte, 900_000)
	copy(big, encoded(t, "png", 1, 1))
	for _, c := range []struct {
		name string
		data []byte
		lim  ImageLimits
		want string
	}{
		{"text", []byte("just some text, named .png"), AnthropicImageLimits, "x: not a PNG, JPEG, GIF or WebP image"},
		{"empty", nil, AnthropicImageLimits, "not a PNG"},
		{"too wide", encoded(t, "png", 8001, 1), AnthropicImageLimits, "x is 8001×1 pixels; the Anthropic API takes images of at most 8000 pixels a side"},
		{"too large", big, small, "x is 0.9 MB (1.1 MB base64-encoded); the Anthropic API takes images of at most 1 MB base64-encoded"},
		{"bad header", []byte("\x89PNG\r\n\x1a\nnonsense"), AnthropicImageLimits, "x: a image/png image whose header cannot be read"},
		{"webp cut", []byte("RIFF\x00\x00\x00\x00WEBPVP8 "), AnthropicImageLimits, "WebP header cut short"},
	} {
		_, err := NewImage(c.data, "x", c.lim)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := NewImage([]byte("text"), "x", AnthropicImageLimits); !errors.Is(err, ErrNotImage) {
		t.Errorf("text: %v does not wrap ErrNotImage", err)
	}
}

// TestReadImage reads by content, not by name, and refuses a file too
// large from its size.
func TestReadImage(t *testing.T) {
	dir := t.TempDir()
	pic := filepath.Join(dir, "shot.txt")
	data := encoded(t, "png", 12, 10)
	os.WriteFile(pic, data, 0o644)
	p, err := ReadImage(pic, "shot.txt", AnthropicImageLimits)
	if err != nil || p.MediaType != "image/png" || p.Text != "shot.txt" || !bytes.Equal(p.Data, data) {
		t.Fatalf("ReadImage = %+v, %v", p, err)
	}
	fake := filepath.Join(dir, "fake.png")
	os.WriteFile(fake, []byte("hello"), 0o644)
	if _, err := ReadImage(fake, "fake.png", AnthropicImageLimits); !errors.Is(err, ErrNotImage) {
		t.Errorf("fake.png: %v, want ErrNotImage", err)
	}
	huge := filepath.Join(dir, "huge.png")
	f, _ := os.Create(huge)
	f.Write(data)
	f.Truncate(6 << 20)
	f.Close()
	if _, err := ReadImage(huge, "huge.png", AnthropicImageLimits); err == nil || !strings.Contains(err.Error(), "huge.png is 6 MB (8 MB base64-encoded); the Anthropic API takes images of at most 5 MB") {
		t.Errorf("huge.png: %v", err)
	}
	if _, err := ReadImage(dir, "dir", AnthropicImageLimits); !errors.Is(err, ErrNotImage) {
		t.Errorf("a directory: %v, want ErrNotImage", err)
	}
}

func TestImageTokens(t *testing.T) {
	for _, c := range []struct{ w, h, want int }{
		{1000, 750, 1000},
		{200, 200, 54},
		{4000, 3000, 1600},
		{0, 0, 1600},
	} {
		if got := (Part{Kind: PartImage, Width: c.w, Height: c.h}).ImageTokens(); got != c.want {
			t.Errorf("%d×%d: %d tokens, want %d", c.w, c.h, got, c.want)
		}
	}
}
