package approve

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/lathe-dev/lathe/internal/agent"
	"github.com/lathe-dev/lathe/internal/patch"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/regfile"
	"github.com/lathe-dev/lathe/internal/tui/cells"
)

// maxDiffFile is the largest file whose change the dialog works out: a
// diff of a larger one costs more than a person can read.
const maxDiffFile = 4 << 20

// Change is what a call would do to one file, for the dialog's diff.
type Change struct {
	// Path is the file's absolute path.
	Path string
	// Diff is the change, numbered by the file's lines where they are
	// known; it has no hunks when there is nothing to show.
	Diff cells.Diff
	// Created and Deleted say that the file is new, or goes.
	Created, Deleted bool
	// Note says why there is no diff to show, or what to know about it
	// (the edit will not apply), or is "".
	Note string
}

// wholeChange is the change of the file at path from old to new.
func wholeChange(path, old, new string) Change {
	return Change{Path: path, Diff: cells.NewDiff(path, old, new, 1)}
}

// Changes works out what an edit call would do to each file it writes,
// reading the files as they are now: Claude Code's Edit and Write by
// their arguments, apply_patch by its patch. It reads files, so call it
// off the UI goroutine (in the Approver) and pass the result to [New];
// nil for a call that edits nothing or whose arguments it cannot read.
func Changes(req *agent.Approval) []Change {
	if req == nil || req.Call == nil || req.Call.Kind != policy.Edit {
		return nil
	}
	paths := req.Call.LexicalWrites
	if len(paths) == 0 {
		paths = req.Call.Writes
	}
	switch req.Name {
	case "Edit":
		var args struct {
			OldString  string `json:"old_string"`
			NewString  string `json:"new_string"`
			ReplaceAll bool   `json:"replace_all"`
		}
		if len(paths) != 1 || json.Unmarshal(req.Input, &args) != nil {
			return nil
		}
		return []Change{editChange(paths[0], args.OldString, args.NewString, args.ReplaceAll)}
	case "Write":
		var args struct {
			Content string `json:"content"`
		}
		if len(paths) != 1 || json.Unmarshal(req.Input, &args) != nil {
			return nil
		}
		old, note, exists := current(paths[0])
		if note != "" {
			return []Change{{Path: paths[0], Note: note}}
		}
		ch := wholeChange(paths[0], old, args.Content)
		ch.Created = !exists
		return []Change{ch}
	case "apply_patch":
		return patchChanges(req.Input, req.Call.Dir, paths)
	}
	return pathsOnly(paths)
}

// current reads the file at path as it is now, with LF line endings as
// the edit tools match it, and says whether it exists; note says why it
// cannot be shown.
func current(path string) (text, note string, exists bool) {
	b, err := regfile.ReadFile(path, maxDiffFile)
	var big *regfile.TooLargeError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", "", false
	case errors.As(err, &big):
		return "", fmt.Sprintf("larger than %d MiB: no diff shown", maxDiffFile>>20), true
	case err != nil:
		return "", fmt.Sprintf("cannot read it: %v", err), true
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n"), "", true
}

// editChange is what an Edit of old to new does to the file at path,
// as the Edit tool would make it (on the file's text as Read shows it:
// line endings and encoding aside).
func editChange(path, old, new string, all bool) Change {
	text, note, exists := current(path)
	if note != "" {
		return Change{Path: path, Note: note}
	}
	old, new = strings.ReplaceAll(old, "\r\n", "\n"), strings.ReplaceAll(new, "\r\n", "\n")
	switch n := strings.Count(text, old); {
	case old == "":
		ch := wholeChange(path, text, new)
		ch.Created = !exists
		return ch
	case n == 0 || n > 1 && !all:
		// The edit will fail; show what it asks for, unnumbered.
		ch := Change{Path: path, Diff: cells.NewDiff(path, old, new, 0)}
		ch.Note = "the text to replace is not in the file: the edit will fail"
		if n > 1 {
			ch.Note = fmt.Sprintf("the text to replace is in the file %d times: the edit will fail", n)
		}
		return ch
	case all:
		return wholeChange(path, text, strings.ReplaceAll(text, old, new))
	}
	return wholeChange(path, text, strings.Replace(text, old, new, 1))
}

// patchChanges works out what an apply_patch call's patch does to each
// file: an added file's text, a deleted file's, and an updated file's
// changed lines (an excerpt, as the patch gives them).
func patchChanges(input []byte, dir string, paths []string) []Change {
	var text string
	if json.Unmarshal(input, &text) != nil {
		var args struct {
			Input string `json:"input"`
		}
		if json.Unmarshal(input, &args) != nil || args.Input == "" {
			return pathsOnly(paths)
		}
		text = args.Input
	}
	p, err := patch.Parse(text)
	if err != nil {
		return pathsOnly(paths)
	}
	var out []Change
	for _, h := range p.Hunks {
		path := h.Path
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		switch h.Op {
		case patch.OpAdd:
			old, note, exists := current(path)
			ch := wholeChange(path, old, h.Contents)
			ch.Created, ch.Note = !exists, note
			out = append(out, ch)
		case patch.OpDelete:
			old, note, _ := current(path)
			ch := wholeChange(path, old, "")
			ch.Deleted, ch.Note = true, note
			out = append(out, ch)
		case patch.OpUpdate:
			// A chunk finds its lines by context: its hunk is shown
			// unnumbered, under its @@ anchor.
			ch := Change{Path: path, Diff: cells.Diff{Path: path}}
			for _, c := range h.Chunks {
				d := cells.NewDiff(path, lines(c.Old), lines(c.New), 0)
				if len(d.Hunks) > 0 && c.Anchor != "" {
					d.Hunks[0].Header = c.Anchor
				}
				ch.Diff.Hunks = append(ch.Diff.Hunks, d.Hunks...)
			}
			if h.MoveTo != "" {
				ch.Note = "moved to " + h.MoveTo
			}
			out = append(out, ch)
		}
	}
	return out
}

func lines(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return strings.Join(l, "\n") + "\n"
}

func pathsOnly(paths []string) []Change {
	var out []Change
	for _, p := range paths {
		out = append(out, Change{Path: p, Note: "no diff to show"})
	}
	return out
}
