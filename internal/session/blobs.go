package session

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/lathe-dev/lathe/internal/llm"
)

// Images are kept beside the log, not in it: each image part's bytes go
// to a file named by their SHA-256 in <id>/images/, written whole (a
// temporary file synced and renamed) before the record that refers to it
// by that name, which leaves the bytes out. Inline base64 would make the
// log a third larger than the images, and every later load, listing and
// `grep` of it read them again; by name, an image sent on many turns and
// kept through a fork is stored once per session, and a log stays a log
// of text. A blob that is gone when the session is resumed leaves a note
// in the image's place: the conversation goes on without it.

// imagesDir is where the images of the session whose log is at path are
// kept: in the session's directory beside the log (see [Store.Dir]).
func imagesDir(path, id string) string {
	return filepath.Join(filepath.Dir(path), id, "images")
}

// storeImages writes the images of msgs to the session's directory and
// returns msgs with each image part referring to its file instead of
// holding its bytes. msgs is not modified; without images it is returned
// as it is.
func (l *Log) storeImages(msgs []llm.Message) ([]llm.Message, error) {
	var out []llm.Message
	for i, m := range msgs {
		if !slices.ContainsFunc(m.Parts, inline) {
			continue
		}
		if out == nil {
			out = slices.Clone(msgs)
		}
		parts := slices.Clone(m.Parts)
		for j, p := range parts {
			if !inline(p) {
				continue
			}
			name, err := l.writeBlob(p.Data)
			if err != nil {
				return nil, err
			}
			parts[j].Data, parts[j].Blob = nil, name
		}
		out[i].Parts = parts
	}
	if out == nil {
		return msgs, nil
	}
	return out, nil
}

// inline says p is an image that holds its bytes.
func inline(p llm.Part) bool { return p.Kind == llm.PartImage && p.Data != nil }

// writeBlob stores data under its hash, unless it is there already, and
// returns the name.
func (l *Log) writeBlob(data []byte) (string, error) {
	sum := sha256.Sum256(data)
	name := hex.EncodeToString(sum[:])
	dir := imagesDir(l.path, l.id)
	path := filepath.Join(dir, name)
	if fi, err := os.Stat(path); err == nil && fi.Size() == int64(len(data)) {
		return name, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("session %s: keep image: %w", l.id, err)
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("session %s: keep image: %w", l.id, err)
	}
	_, err = f.Write(data)
	if err == nil {
		// Synced before it is named: the log line that refers to it may
		// reach the disk first.
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("session %s: keep image: %w", l.id, err)
	}
	return name, nil
}

// loadImages reads back the images the messages of t refer to, from the
// directory of the session whose log is at path. An image whose file is
// gone or does not hold what it was becomes a text note saying so.
func loadImages(t *Transcript, path, id string) {
	dir := imagesDir(path, id)
	for i := range t.Messages {
		parts := t.Messages[i].Parts
		for j, p := range parts {
			if p.Kind != llm.PartImage || p.Data != nil {
				continue
			}
			data, err := readBlob(dir, p.Blob)
			if err != nil {
				parts[j] = llm.ImageNote(p, fmt.Sprintf("its copy beside the session log cannot be read (%v)", err))
				continue
			}
			parts[j].Data, parts[j].Blob = data, ""
		}
	}
}

func readBlob(dir, name string) ([]byte, error) {
	if len(name) != 2*sha256.Size || filepath.Base(name) != name {
		return nil, fmt.Errorf("bad image name %q", name)
	}
	data, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errors.New("the file is gone")
	}
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != name {
		return nil, errors.New("the file was changed")
	}
	return data, nil
}
