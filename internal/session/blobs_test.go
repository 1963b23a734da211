package session

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/llm"
)

func imageMessage(data string) llm.Message {
	return llm.Message{Role: llm.RoleUser, Parts: []llm.Part{
		{Kind: llm.PartImage, Text: "shot.png", MediaType: "image/png", Data: []byte(data), Width: 3, Height: 2},
		{Kind: llm.PartText, Text: "[Image #1 shot.png] what is this?"},
	}}
}

// TestImagesBesideTheLog: an image's bytes go to a file named by their
// hash, once however often they are recorded, the log line refers to it,
// and resuming and forking read it back.
func TestImagesBesideTheLog(t *testing.T) {
	store := NewStore(filepath.Join(t.TempDir(), "sessions"))
	log, err := store.Create(Meta{Cwd: "/src/x"})
	must(t, err)
	img := imageMessage("\x89PNG\r\n\x1a\nthe pixels")
	kept := img.Parts[0].Data
	must(t, log.AppendMessage(img))
	must(t, log.AppendMessage(text(llm.RoleAssistant, "A screenshot.")))
	must(t, log.AppendMessage(imageMessage("\x89PNG\r\n\x1a\nthe pixels")))
	must(t, log.Close())
	if img.Parts[0].Data == nil || img.Parts[0].Blob != "" {
		t.Error("AppendMessage changed the message it was given")
	}

	dir := filepath.Join(store.Dir(log.ID()), "images")
	files, _ := os.ReadDir(dir)
	if len(files) != 1 || len(files[0].Name()) != 64 {
		t.Fatalf("images kept: %v, want one file named by its SHA-256", files)
	}
	blob := files[0].Name()
	if data, _ := os.ReadFile(filepath.Join(dir, blob)); string(data) != string(kept) {
		t.Errorf("kept %q", data)
	}
	logText, _ := os.ReadFile(log.Path())
	if strings.Contains(string(logText), `"data"`) || strings.Count(string(logText), `"blob":"`+blob+`"`) != 2 {
		t.Errorf("log does not refer to the image by name, or holds its bytes:\n%s", logText)
	}

	tr := reopen(t, store, log.ID())
	want := []llm.Message{imageMessage("\x89PNG\r\n\x1a\nthe pixels"), text(llm.RoleAssistant, "A screenshot."), imageMessage("\x89PNG\r\n\x1a\nthe pixels")}
	if !reflect.DeepEqual(tr.Messages, want) {
		t.Errorf("resumed:\n%+v\nwant\n%+v", tr.Messages, want)
	}

	fork, ftr, err := store.Fork(log.ID(), Meta{Cwd: "/src/x"}, false)
	must(t, err)
	must(t, fork.Close())
	if !reflect.DeepEqual(ftr.Messages, want) {
		t.Errorf("forked:\n%+v\nwant\n%+v", ftr.Messages, want)
	}
	if _, err := os.Stat(filepath.Join(store.Dir(fork.ID()), "images", blob)); err != nil {
		t.Errorf("the fork has no copy of the image: %v", err)
	}
}

// TestMissingImage: an image whose file is gone, or was changed, is a
// note on resume, and the rest of the conversation loads.
func TestMissingImage(t *testing.T) {
	for _, c := range []struct {
		name string
		harm func(path string)
		want string
	}{
		{"gone", func(path string) { os.Remove(path) }, "the file is gone"},
		{"changed", func(path string) { os.WriteFile(path, []byte("other"), 0o600) }, "the file was changed"},
	} {
		store := NewStore(filepath.Join(t.TempDir(), "sessions"))
		log, err := store.Create(Meta{Cwd: "/src/x"})
		must(t, err)
		must(t, log.AppendMessage(imageMessage("\x89PNG\r\n\x1a\nbytes")))
		must(t, log.Close())
		dir := filepath.Join(store.Dir(log.ID()), "images")
		files, _ := os.ReadDir(dir)
		c.harm(filepath.Join(dir, files[0].Name()))

		tr := reopen(t, store, log.ID())
		parts := tr.Messages[0].Parts
		if len(parts) != 2 || parts[0].Kind != llm.PartText || parts[1].Text != "[Image #1 shot.png] what is this?" {
			t.Fatalf("%s: resumed %+v", c.name, parts)
		}
		if note := parts[0].Text; !strings.HasPrefix(note, "[image shot.png not attached: its copy beside the session log cannot be read") || !strings.Contains(note, c.want) {
			t.Errorf("%s: note %q", c.name, note)
		}
	}
}
