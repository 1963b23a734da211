package tool

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/llm"
	"github.com/lathe-dev/lathe/internal/patch"
	"github.com/lathe-dev/lathe/internal/policy"
)

// applyPatchGrammar is Codex's Lark grammar for the freeform tool, which
// OpenAI uses to constrain the model's output to a well-formed patch.
//
//go:embed desc/apply_patch.lark
var applyPatchGrammar string

var applyPatchSchema = json.RawMessage(`{"type":"object","properties":{"input":{"type":"string","description":"The entire contents of the apply_patch command"}},"required":["input"],"additionalProperties":false}`)

type applyPatch struct{ freeform bool }

// NewApplyPatch returns Codex's apply_patch tool. freeform offers it as a
// grammar-constrained custom tool whose input is the patch text itself;
// otherwise it is a function taking the patch as {"input": "..."}.
func NewApplyPatch(freeform bool) Tool { return applyPatch{freeform} }

func (t applyPatch) Def() llm.ToolDef {
	def := llm.ToolDef{Name: "apply_patch", Description: describe("apply_patch")}
	if t.freeform {
		def.Grammar = applyPatchGrammar
	} else {
		def.Schema = applyPatchSchema
	}
	return def
}

func (applyPatch) ReadOnly() bool { return false }

// patchText extracts the patch from a call's input.
func (t applyPatch) patchText(input json.RawMessage) (string, error) {
	var text string
	if t.freeform {
		if err := json.Unmarshal(input, &text); err != nil {
			return "", fmt.Errorf("invalid tool input: expected the patch text as a JSON string: %v", err)
		}
		return text, nil
	}
	var args struct {
		Input string `json:"input"`
	}
	if err := decodeArgs(input, &args, "input"); err != nil {
		return "", err
	}
	return args.Input, nil
}

func (t applyPatch) Run(ctx context.Context, env *Env, input json.RawMessage) (Result, error) {
	p, err := t.Prepare(env, input)
	return runPrepared(ctx, p, err)
}

// Prepare decodes and parses an apply_patch call, and lists every file the
// patch adds, updates, deletes or moves to.
func (t applyPatch) Prepare(env *Env, input json.RawMessage) (Prepared, error) {
	text, err := t.patchText(input)
	if err != nil {
		return Prepared{}, err
	}
	return preparePatch(env, workDir(env), text)
}

// preparePatch parses the patch text, to be applied in dir, and lists the
// files it writes as policyPath names them for the workspace of env. A
// patch that does not parse cannot run, as Codex checks a patch before it
// asks about it.
func preparePatch(env *Env, dir, text string) (Prepared, error) {
	p, err := patch.Parse(text)
	if err != nil {
		return Prepared{}, err
	}
	lexical := p.Paths(dir)
	paths := make([]string, len(lexical))
	for i, path := range lexical {
		paths[i] = policyPath(env, canonical(path))
	}
	return Prepared{
		Access: policy.Call{Kind: policy.Edit, Dir: dir, Writes: paths, LexicalWrites: lexical},
		Run: func(ctx context.Context) (Result, error) {
			return applyParsed(ctx, dir, p)
		},
	}, nil
}

// applyParsed runs an apply_patch call: it applies p in dir.
func applyParsed(ctx context.Context, dir string, p *patch.Patch) (Result, error) {
	res, err := p.Apply(ctx, dir)
	var perr *patch.Error
	switch {
	case errors.As(err, &perr):
		return Errorf("%s", perr), nil
	case err != nil:
		return Result{}, fmt.Errorf("apply_patch: %w", err)
	}
	var changes []event.FileChange
	for _, set := range []struct {
		paths []string
		kind  event.ChangeKind
	}{{res.Added, event.ChangeAdd}, {res.Modified, event.ChangeUpdate}, {res.Deleted, event.ChangeDelete}} {
		for _, p := range set.paths {
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			changes = append(changes, event.FileChange{Path: p, Kind: set.kind})
		}
	}
	return Result{Content: res.String(), Summary: strings.Join(res.Changes(), ", "), Changes: changes}, nil
}
