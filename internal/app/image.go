package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lathe-dev/lathe/internal/config"
	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
)

// Images the user attaches to a prompt: read and checked against the
// provider's limits when attached (ReadImage), sent as image parts to a
// model that takes them, and otherwise as a note with the path, which
// the model can still read or run tools on; the session says why once.

// ImageLimits returns what the session's provider accepts of one image.
func (a *App) ImageLimits() llm.ImageLimits {
	if a.prov.Type == config.TypeAnthropic {
		return llm.AnthropicImageLimits
	}
	return llm.OpenAIImageLimits
}

// TakesImages says whether the session's model takes images: config's
// [models."NAME"] images, else the embedded model table's mark.
func (a *App) TakesImages() bool { return a.limitsOf(a.model).Images }

// ReadImage reads the image file at path, as the user wrote it: absolute,
// under ~/, or relative to the working directory. A file that is not an
// image by its content is an error wrapping [llm.ErrNotImage]; one over
// the provider's limits says so with the figures.
func (a *App) ReadImage(path string) (llm.Part, error) {
	return llm.ReadImage(a.imagePath(path), path, a.ImageLimits())
}

func (a *App) imagePath(path string) string {
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(a.dir, path)
}

// Prompt runs the user's prompt to its end, records the result in the
// session log and publishes the result event. images, [llm.PartImage]
// parts as ReadImage makes them, go with the prompt. Cancelling ctx
// interrupts the run, which still ends with its result recorded and
// published. Background commands the prompt started are stopped before
// the result, which lists them. Each Prompt continues the conversation:
// the resumed session's and the earlier prompts'.
func (a *App) Prompt(ctx context.Context, text string, images ...llm.Part) Result {
	start := time.Now()
	if err := a.retryLog(ctx); err != nil {
		return a.finish(start, failedRun(err))
	}
	return a.finish(start, a.agent.Send(ctx, text, a.attach(images)...))
}

// attach returns images as the model can be sent them: as they are, or,
// for a model that takes no images, as notes with their paths, warning
// once per session.
func (a *App) attach(images []llm.Part) []llm.Part {
	if len(images) == 0 || a.TakesImages() {
		return images
	}
	a.noImages.Do(func() {
		a.emit(event.Event{Type: event.Warning, Text: fmt.Sprintf(
			"model %s does not take images: attached images are sent as their paths; if it does, set images = true under [models.%q] in config.toml",
			a.model, a.model)})
	})
	return a.imageNotes(images)
}

// imageNotes replaces the image parts of parts by notes that give their
// paths, for a model that takes no images.
func (a *App) imageNotes(parts []llm.Part) []llm.Part {
	out := make([]llm.Part, len(parts))
	for i, p := range parts {
		if p.Kind == llm.PartImage {
			p = llm.ImageNote(p, fmt.Sprintf("model %s does not take images", a.model))
		}
		out[i] = p
	}
	return out
}

// withoutImages is a resumed conversation as a model that takes no
// images can be sent it: its images as notes.
func (a *App) withoutImages(msgs []llm.Message) []llm.Message {
	if a.TakesImages() {
		return msgs
	}
	var out []llm.Message
	for i, m := range msgs {
		if !slices.ContainsFunc(m.Parts, func(p llm.Part) bool { return p.Kind == llm.PartImage }) {
			continue
		}
		if out == nil {
			out = slices.Clone(msgs)
		}
		out[i].Parts = a.imageNotes(m.Parts)
	}
	if out == nil {
		return msgs
	}
	return out
}
