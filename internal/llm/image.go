package llm

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"os"

	// The decoders DecodeConfig needs for the headers; the image itself
	// is never decoded.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"
)

// ImageTypes are the media types of the images every provider accepts.
var ImageTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp"}

// ErrNotImage is wrapped by the error of a file that is not an image of
// one of [ImageTypes], by its content: such a path stays text.
var ErrNotImage = errors.New("not a PNG, JPEG, GIF or WebP image")

// ImageLimits are what a provider accepts of one image.
type ImageLimits struct {
	// API names the provider's API in errors ("the Anthropic API").
	API string
	// MaxEncoded bounds the image's size base64-encoded, as it is sent.
	MaxEncoded int64
	// MaxSide bounds its width and its height, in pixels; 0 is no bound.
	MaxSide int
}

// The limits of the APIs Lathe speaks. Anthropic's 5 MB counts the
// base64 text, so a file of about 3.75 MB is the largest it takes.
// OpenAI's are looser; 20 MB keeps a request well under its 50 MB
// payload limit.
var (
	AnthropicImageLimits = ImageLimits{API: "the Anthropic API", MaxEncoded: 5 << 20, MaxSide: 8000}
	OpenAIImageLimits    = ImageLimits{API: "the OpenAI API", MaxEncoded: 20 << 20}
)

// SniffImage returns the media type of the image data begins with, by
// its magic bytes, or "" when it is none of [ImageTypes]. 12 bytes are
// enough to tell.
func SniffImage(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return "image/jpeg"
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return "image/gif"
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return "image/webp"
	}
	return ""
}

// ReadImage reads the image file at path as an image part, its Text
// name (the path as the user gave it). It reads only the header of a
// file that is not an image (the error wraps [ErrNotImage]) or is larger
// than lim allows, and never decodes the image: its size comes from the
// header.
func ReadImage(path, name string, lim ImageLimits) (Part, error) {
	f, err := os.Open(path)
	if err != nil {
		return Part{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Part{}, err
	}
	if !fi.Mode().IsRegular() {
		return Part{}, fmt.Errorf("%s: %w", name, ErrNotImage)
	}
	head := make([]byte, 12)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Part{}, fmt.Errorf("read %s: %w", name, err)
	}
	if SniffImage(head[:n]) == "" {
		return Part{}, fmt.Errorf("%s: %w", name, ErrNotImage)
	}
	if err := lim.checkSize(name, fi.Size()); err != nil {
		return Part{}, err
	}
	// Read through a limit, in case the file grew since Stat.
	rest, err := io.ReadAll(io.LimitReader(f, lim.maxRaw()+1-int64(n)))
	if err != nil {
		return Part{}, fmt.Errorf("read %s: %w", name, err)
	}
	return NewImage(append(head[:n:n], rest...), name, lim)
}

// NewImage makes an image part of data, checking it against lim.
func NewImage(data []byte, name string, lim ImageLimits) (Part, error) {
	mt := SniffImage(data)
	if mt == "" {
		return Part{}, fmt.Errorf("%s: %w", name, ErrNotImage)
	}
	if err := lim.checkSize(name, int64(len(data))); err != nil {
		return Part{}, err
	}
	w, h, err := imageSize(mt, data)
	if err != nil {
		return Part{}, fmt.Errorf("%s: a %s image whose header cannot be read: %w", name, mt, err)
	}
	if lim.MaxSide > 0 && (w > lim.MaxSide || h > lim.MaxSide) {
		return Part{}, fmt.Errorf("%s is %d×%d pixels; %s takes images of at most %d pixels a side", name, w, h, lim.API, lim.MaxSide)
	}
	return Part{Kind: PartImage, Text: name, MediaType: mt, Data: data, Width: w, Height: h}, nil
}

// maxRaw is the largest file whose encoding fits MaxEncoded.
func (lim ImageLimits) maxRaw() int64 { return lim.MaxEncoded / 4 * 3 }

func (lim ImageLimits) checkSize(name string, size int64) error {
	if size <= lim.maxRaw() {
		return nil
	}
	enc := int64(base64.StdEncoding.EncodedLen(int(min(size, 1<<40))))
	return fmt.Errorf("%s is %s (%s base64-encoded); %s takes images of at most %s base64-encoded",
		name, megabytes(size), megabytes(enc), lim.API, megabytes(lim.MaxEncoded))
}

// megabytes writes n bytes in MB of 2^20 bytes, as the APIs count them.
func megabytes(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

// imageSize reads the width and height from the image's header.
func imageSize(mediaType string, data []byte) (w, h int, err error) {
	if mediaType == "image/webp" {
		return webpSize(data)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return 0, 0, err
	}
	return cfg.Width, cfg.Height, nil
}

// webpSize reads a WebP image's canvas size from its first chunk: a
// lossy (VP8), lossless (VP8L) or extended (VP8X) header, as RFC 9649
// lays them out. The standard library has no WebP decoder.
func webpSize(data []byte) (w, h int, err error) {
	if len(data) < 30 {
		return 0, 0, errors.New("WebP header cut short")
	}
	chunk := data[20:]
	switch string(data[12:16]) {
	case "VP8 ":
		// A 3-byte frame tag, the start code, then 14-bit sizes.
		if chunk[3] != 0x9d || chunk[4] != 0x01 || chunk[5] != 0x2a {
			return 0, 0, errors.New("VP8 frame without its start code")
		}
		w = int(binary.LittleEndian.Uint16(chunk[6:]) & 0x3fff)
		h = int(binary.LittleEndian.Uint16(chunk[8:]) & 0x3fff)
	case "VP8L":
		if chunk[0] != 0x2f {
			return 0, 0, errors.New("VP8L bitstream without its signature")
		}
		bits := binary.LittleEndian.Uint32(chunk[1:])
		w = int(bits&0x3fff) + 1
		h = int(bits>>14&0x3fff) + 1
	case "VP8X":
		// Flags and reserved bytes, then 24-bit sizes less one.
		w = int(uint32(chunk[4])|uint32(chunk[5])<<8|uint32(chunk[6])<<16) + 1
		h = int(uint32(chunk[7])|uint32(chunk[8])<<8|uint32(chunk[9])<<16) + 1
	default:
		return 0, 0, fmt.Errorf("unknown WebP chunk %q", data[12:16])
	}
	if w == 0 || h == 0 {
		return 0, 0, errors.New("WebP image of no size")
	}
	return w, h, nil
}

// maxImageTokens is about what the largest image costs: Anthropic scales
// an image down until it costs at most about 1,600 tokens, and OpenAI's
// tiles cost less at its default detail.
const maxImageTokens = 1600

// ImageTokens estimates the tokens an image part fills in the context
// window: width×height/750, Anthropic's rule, at most [maxImageTokens],
// which is also the estimate of an image of unknown size.
func (p Part) ImageTokens() int {
	if p.Width <= 0 || p.Height <= 0 {
		return maxImageTokens
	}
	return min((p.Width*p.Height+749)/750, maxImageTokens)
}

// DataURL returns the image as a data: URL, as the OpenAI APIs take it.
func (p Part) DataURL() string {
	return "data:" + p.MediaType + ";base64," + base64.StdEncoding.EncodeToString(p.Data)
}

// ImageNote is the text that stands for an image part that is not sent
// (a model without image input, an image whose blob is gone): why, and
// where it came from.
func ImageNote(p Part, why string) Part {
	return Part{Kind: PartText, Text: fmt.Sprintf("[image %s not attached: %s]", p.Text, why)}
}
