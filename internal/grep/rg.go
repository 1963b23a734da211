package grep

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
)

// errNoRG means ripgrep could not be started, so the Go engine runs.
var errNoRG = errors.New("ripgrep could not be started")

// rgFlags make ripgrep behave like the Go engine: every file that is not
// ignored, hidden ones included, with no user configuration, no global
// gitignore, no BOM sniffing (so UTF-16 files are binary, as they are to
// the Go engine) and no memory maps (which would check only the start of
// a file for NUL bytes).
var rgFlags = []string{
	"--json", "--no-config", "--no-mmap", "--hidden", "--no-ignore-global",
	"--no-messages", "--encoding", "none",
}

// searchRG runs ripgrep and reads its JSON output. wholeText says whether
// ripgrep will use its multiline searcher, which counts matches rather
// than lines.
func searchRG(ctx context.Context, o Options, isDir, wholeText bool) ([]File, error) {
	args := append([]string(nil), rgFlags...)
	if o.IgnoreCase {
		args = append(args, "--ignore-case")
	}
	if o.Multiline {
		args = append(args, "--multiline", "--multiline-dotall")
	}
	if wholeText {
		args = append(args, "--max-filesize", strconv.Itoa(maxMultilineFile))
	}
	if o.Lines && o.Before > 0 {
		args = append(args, "--before-context", strconv.Itoa(o.Before))
	}
	if o.Lines && o.After > 0 {
		args = append(args, "--after-context", strconv.Itoa(o.After))
	}
	if o.Type != "" {
		// Our own table rather than ripgrep's, which varies by version.
		globs, _ := typeGlobs(o.Type)
		for _, g := range globs {
			args = append(args, "--type-add", "lathe:"+g)
		}
		args = append(args, "--type", "lathe")
	}
	for _, g := range o.Globs {
		args = append(args, "--glob", g)
	}
	args = append(args, "--glob", "!.git", "--regexp", o.Pattern, "--", o.Path)

	cmd := exec.CommandContext(ctx, o.RG, args...)
	if isDir {
		// ripgrep anchors globs to its working directory.
		cmd.Dir = o.Path
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("run ripgrep: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: %v", errNoRG, err)
	}
	files, decodeErr := decodeRG(stdout, o.Lines, wholeText)
	if decodeErr != nil {
		// Drain so that ripgrep is not blocked writing when we wait for it.
		_, _ = io.Copy(io.Discard, stdout)
	}
	waitErr := cmd.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if decodeErr != nil {
		return nil, fmt.Errorf("read ripgrep output: %w", decodeErr)
	}
	var exit *exec.ExitError
	switch {
	case waitErr == nil:
	case errors.As(waitErr, &exit) && exit.ExitCode() == 1:
		// No match.
	case errors.As(waitErr, &exit) && exit.ExitCode() == 2 && stderr.Len() == 0:
		// Some files could not be read; --no-messages kept quiet about them
		// and the Go engine skips them too.
	case errors.As(waitErr, &exit) && exit.ExitCode() == 2:
		// A pattern that Go's regexp accepts but Rust's does not.
		return nil, inputErrorf("ripgrep: %s", strings.TrimSpace(stderr.String()))
	default:
		return nil, fmt.Errorf("ripgrep: %w: %s", waitErr, strings.TrimSpace(stderr.String()))
	}
	return files, nil
}

// rgMessage is one line of `rg --json` output.
type rgMessage struct {
	Type string `json:"type"`
	Data struct {
		Path         rgText            `json:"path"`
		Lines        rgText            `json:"lines"`
		LineNumber   int               `json:"line_number"`
		Submatches   []json.RawMessage `json:"submatches"`
		BinaryOffset *int64            `json:"binary_offset"`
	} `json:"data"`
}

// rgText is text that ripgrep sends as a string when it is valid UTF-8
// and as base64 bytes otherwise.
type rgText struct {
	Text  *string `json:"text"`
	Bytes []byte  `json:"bytes"`
}

func (t rgText) String() string {
	if t.Text != nil {
		return *t.Text
	}
	return string(t.Bytes)
}

func decodeRG(r io.Reader, lines, wholeText bool) ([]File, error) {
	dec := json.NewDecoder(r)
	var files []File
	var cur File
	for {
		var m rgMessage
		if err := dec.Decode(&m); err == io.EOF {
			return files, nil
		} else if err != nil {
			return nil, err
		}
		switch m.Type {
		case "begin":
			cur = File{Path: m.Data.Path.String()}
		case "match", "context":
			match := m.Type == "match"
			if match && wholeText {
				cur.Matches += len(m.Data.Submatches)
			} else if match {
				cur.Matches++
			}
			if !lines {
				continue
			}
			text := strings.TrimSuffix(m.Data.Lines.String(), "\n")
			for i, line := range strings.Split(text, "\n") {
				cur.Lines = append(cur.Lines, Line{Number: m.Data.LineNumber + i, Text: strings.Clone(line[:min(len(line), MaxLineText)]), Match: match})
			}
		case "end":
			// ripgrep stops at the first NUL byte but reports what it
			// matched before it; the Go engine skips such files whole.
			if m.Data.BinaryOffset == nil && cur.Matches > 0 {
				files = append(files, cur)
			}
			cur = File{}
		}
	}
}
