// Package tool holds the tools Lathe offers the model. Each capability has
// one implementation and is surfaced in the dialect each model family was
// trained on: Claude Code's names and schemas (Bash, Read, Edit, ...) or
// Codex's (shell, apply_patch, read_file, ...).
//
// Tools report failures the model should see and fix (a missing file, an
// ambiguous edit, bad arguments) as a Result with IsError set and a nil
// error. A non-nil error means the harness itself failed (the disk, a
// cancelled context) and is handled by the agent loop, not the model.
package tool

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
)

// Tool is one tool offered to the model.
//
// Concurrency: Def and ReadOnly may be called from any goroutine at any
// time. The agent runs consecutive calls of read-only tools concurrently,
// so Run of a ReadOnly tool must be safe for concurrent use; a tool that
// may change something is run alone, but from any goroutine, so it must
// not rely on goroutine-local state. Run blocks until the call is done;
// a cancelled ctx must make it return promptly, having stopped whatever
// it started (commands included), with ctx's error or a Result saying it
// was interrupted.
//
// A tool whose calls read, write or run something named in their
// arguments also prepares them: its Prepare method (see [Prepared])
// decodes the arguments once, validates them and resolves the paths, and
// may be called concurrently, changing nothing. The agent decides on the
// Prepared call and runs exactly it; such a tool's Run is Prepare and
// then the Prepared's Run, so that the two ways in take one path.
type Tool interface {
	// Def is the name, description and input schema sent to the model.
	Def() llm.ToolDef
	// ReadOnly reports whether the tool never changes anything, so calls to
	// it may run concurrently with each other and need no approval to
	// write.
	ReadOnly() bool
	// Run executes one call. input is the call's raw arguments: a JSON
	// object, or for a freeform tool a JSON string holding the text.
	Run(ctx context.Context, env *Env, input json.RawMessage) (Result, error)
}

// Result is what a tool call returns to the model.
type Result struct {
	// Content is exactly what the model sees, once [Env.Cap] has capped
	// it.
	Content string
	// Capped says that Content is already sized for the model by the
	// tool, as a command's output cut by the shell or a page of a file
	// that says how to read on, so that Env.Cap leaves it as it is.
	Capped bool
	// Saved is the file that holds the whole output when Content shows
	// only its head and tail (see package spill): where the model, and
	// a person, can read the rest. Empty when nothing was cut or the
	// whole could not be saved.
	Saved string
	// IsError marks a failure the model should act on.
	IsError bool
	// Summary is a one-line description for logs and displays, such as
	// "exit 1, 240 lines" or "edited main.go (+3 -1)".
	Summary string
	// ExitCode is the exit status of the command a call ran, if it ran
	// one to completion.
	ExitCode *int
	// Changes are the files the call changed, for displays and event
	// consumers that show a diff per file.
	Changes []event.FileChange
	// Plan is the plan a plan-mode call submitted (ExitPlanMode,
	// exit_plan), which the agent acts on once the response's calls are
	// done.
	Plan string
	// Spend is what the call's own agents spent (a subagent's), which
	// the run counts as its own; nil for a call that ran none.
	Spend *Spend
}

// Spend is what agents a call ran spent: their models' usage and cost,
// and the calls of theirs the policy denied.
type Spend struct {
	Usage   llm.Usage
	CostUSD float64
	// CostKnown is false when a model's price is unknown.
	CostKnown bool
	Denied    []event.DeniedCall
}

// Errorf returns an error Result for the model.
func Errorf(format string, args ...any) Result {
	return Result{Content: sprintf(format, args...), IsError: true, Summary: "error"}
}

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

//go:embed desc/*.md
var descriptions embed.FS

// describe returns the embedded description of the named tool, from
// desc/NAME.md. Descriptions are files so that they are reviewed as text and
// their token cost is measured by the benchmark.
func describe(name string) string {
	b, err := descriptions.ReadFile("desc/" + name + ".md")
	if err != nil {
		panic("tool: no description for " + name)
	}
	return strings.TrimSpace(string(b))
}

// decodeArgs decodes a call's JSON arguments into v, a pointer to a struct
// whose json tags name the fields. It rejects invalid JSON, unknown fields,
// mistyped values and missing required fields with a message the model can
// act on.
func decodeArgs(input json.RawMessage, v any, required ...string) error {
	var present map[string]presence
	if err := json.Unmarshal(input, &present); err != nil {
		return fmt.Errorf("invalid tool arguments: expected a JSON object: %v", err)
	}
	for _, name := range required {
		if !present[name] {
			return fmt.Errorf("invalid tool arguments: required parameter %q is missing", name)
		}
	}
	if name, ok := unknownField(present, reflect.TypeOf(v).Elem()); ok {
		return fmt.Errorf("invalid tool arguments: unknown field %q", name)
	}
	// json.Unmarshal, not a Decoder, which would first copy the whole
	// input into a buffer it grows by doubling: a Write's content can be
	// megabytes.
	if err := json.Unmarshal(input, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return fmt.Errorf("invalid tool arguments: parameter %q must be of type %s, not %s", typeErr.Field, typeErr.Type, typeErr.Value)
		}
		return fmt.Errorf("invalid tool arguments: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// unknownField returns the first name in present, in sorted order, that
// no field of the struct type t takes, matched as encoding/json matches
// them: the json tag's name, or else the field's, regardless of case.
func unknownField(present map[string]presence, t reflect.Type) (string, bool) {
	names := fieldNames(t, nil)
	for _, key := range slices.Sorted(maps.Keys(present)) {
		if !slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, key) }) {
			return key, true
		}
	}
	return "", false
}

// fieldNames appends to names the JSON names of the fields of the struct
// type t, those of an untagged embedded struct included.
func fieldNames(t reflect.Type, names []string) []string {
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		switch {
		case tag == "-" || !f.IsExported() && !f.Anonymous:
			continue
		case f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct:
			names = fieldNames(f.Type, names)
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
	}
	return names
}

// presence records whether a JSON value is there and not null without
// keeping a copy of it: the content of a Write can be megabytes.
type presence bool

func (p *presence) UnmarshalJSON(b []byte) error {
	*p = string(b) != "null"
	return nil
}
