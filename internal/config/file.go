package config

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"

	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/pricing"
	"github.com/lathe-dev/lathe/internal/tool"
)

// fileConfig is one file as written. Pointers tell a key that is absent,
// and so inherited from the layers below, from one set to its zero value.
// Enumerations and durations are strings here and checked when merged, so
// that their errors read in the file's terms.
type fileConfig struct {
	Provider       *string                  `toml:"provider"`
	Model          *string                  `toml:"model"`
	PermissionMode *string                  `toml:"permission_mode"`
	MaxTurns       *int64                   `toml:"max_turns"`
	MaxBudgetUSD   *float64                 `toml:"max_budget_usd"`
	MaxDuration    *string                  `toml:"max_duration"`
	Shell          fileShell                `toml:"shell"`
	Retry          fileRetry                `toml:"retry"`
	Providers      map[string]*fileProvider `toml:"providers"`
	Prices         map[string]*filePrice    `toml:"prices"`
	Models         map[string]*fileModel    `toml:"models"`
	PackageGuard   filePackageGuard         `toml:"package_guard"`
	Permissions    filePermissions          `toml:"permissions"`
	Sandbox        fileSandbox              `toml:"sandbox"`
	Compaction     fileCompaction           `toml:"compaction"`
	Subagents      fileSubagents            `toml:"subagents"`
	UI             fileUI                   `toml:"ui"`
}

type fileUI struct {
	Animations *bool `toml:"animations"`
}

type fileSubagents struct {
	Concurrent *int64  `toml:"concurrent"`
	Total      *int64  `toml:"total"`
	Timeout    *string `toml:"timeout"`
	MaxTurns   *int64  `toml:"max_turns"`
	MaxTokens  *int64  `toml:"max_tokens"`
}

type fileCompaction struct {
	Budget *int64 `toml:"budget"`
	Auto   *bool  `toml:"auto"`
}

type fileSandbox struct {
	IsolateCaches *bool `toml:"isolate_caches"`
}

// fileModel holds settings of one model, whichever provider serves it.
type fileModel struct {
	Dialect       *string `toml:"dialect"`
	FreeformTools *bool   `toml:"freeform_tools"`
	ContextWindow *int64  `toml:"context_window"`
	MaxOutput     *int64  `toml:"max_output"`
	Images        *bool   `toml:"images"`
}

type fileShell struct {
	Timeout *string `toml:"timeout"`
}

type fileRetry struct {
	MaxRetries        *int64  `toml:"max_retries"`
	BaseDelay         *string `toml:"base_delay"`
	MaxDelay          *string `toml:"max_delay"`
	StreamIdleTimeout *string `toml:"stream_idle_timeout"`
}

type fileProvider struct {
	Type          *string           `toml:"type"`
	BaseURL       *string           `toml:"base_url"`
	APIKeyEnv     *string           `toml:"api_key_env"`
	Headers       map[string]string `toml:"headers"`
	Model         *string           `toml:"model"`
	ContextWindow *int64            `toml:"context_window"`
	Dialect       *string           `toml:"dialect"`
	FreeformTools *bool             `toml:"freeform_tools"`
	MaxTokens     *int64            `toml:"max_tokens"`
	// ThinkingBudget and ReasoningEffort are per provider, as the APIs
	// that take them are.
	ThinkingBudget  *int64  `toml:"thinking_budget"`
	ReasoningEffort *string `toml:"reasoning_effort"`
	// CacheTTL (Anthropic) and PromptCacheRetention (OpenAI) keep the
	// prompt cache longer than the APIs' default few minutes.
	CacheTTL             *string `toml:"cache_ttl"`
	PromptCacheRetention *string `toml:"prompt_cache_retention"`
	Compaction           *string `toml:"compaction"`
}

type filePrice struct {
	Input      *float64 `toml:"input"`
	Output     *float64 `toml:"output"`
	CacheRead  *float64 `toml:"cache_read"`
	CacheWrite *float64 `toml:"cache_write"`
	// CacheWriteLong is absent where it is twice the input price.
	CacheWriteLong *float64 `toml:"cache_write_1h"`
}

// Error is a problem in a configuration file.
type Error struct {
	// File is the file's path, with the home directory shown as ~.
	File string
	// Line and Column locate the problem, counting from 1; they are 0
	// when the problem has no single place, such as a missing key.
	Line, Column int
	// Key is the dotted key at fault, if any.
	Key string
	// Msg describes the problem.
	Msg string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// loader merges files into a Config.
type loader struct {
	c *Config
	// defined records the file that first defined each provider table,
	// for errors about the merged provider.
	defined map[string]*layer
}

// layer is one file being merged.
type layer struct {
	file   string // path for messages
	source string // path for rules' Source
	doc    []byte
	kind   kind
	// project marks a file from the working tree, which may come from
	// anyone who can push to the repository.
	project bool
	// modeKey is the key of the permission mode, as the file spells it.
	modeKey  []string
	claude   bool
	errs     []error
	warnings []string
}

func (ld *loader) merge(src source) error {
	c := ld.c
	if src.path == "" {
		return flagRules(c, src)
	}
	// Editors on Windows save UTF-8 with a byte order mark, which TOML
	// does not allow but which means nothing.
	doc := bytes.TrimPrefix(src.doc, []byte("\uFEFF"))
	l := &layer{file: displayPath(src.path), source: src.path, doc: doc, kind: src.kind, project: src.kind == kindProject, modeKey: []string{"permission_mode"}}
	defer func() { c.Warnings = append(c.Warnings, l.warnings...) }()
	var f fileConfig
	if src.claude {
		l.modeKey, l.claude = []string{"permissions", "defaultMode"}, true
		if err := l.decodeClaude(doc, &f); err != nil {
			return err
		}
	} else if err := toml.NewDecoder(bytes.NewReader(doc)).DisallowUnknownFields().Decode(&f); err != nil {
		return l.decodeError(err)
	}
	if src.kind == kindManaged {
		l.checkManagedKeys(doc)
		l.permissions(c, f.Permissions)
		l.managed(c, &f)
		return errors.Join(l.errs...)
	}

	before := grantsOf(c)
	setTo(&c.ProviderName, f.Provider)
	setTo(&c.Model, f.Model)
	if f.PermissionMode != nil {
		if m, err := policy.ParseMode(*f.PermissionMode); err != nil {
			l.fail(err.Error(), l.modeKey...)
		} else {
			c.PermissionMode, c.ModeSource = m, src.path
		}
	}
	l.permissions(c, f.Permissions)
	l.count(&c.MaxTurns, f.MaxTurns, "max_turns")
	l.amount(&c.MaxBudgetUSD, f.MaxBudgetUSD, "max_budget_usd")
	l.duration(&c.MaxDuration, f.MaxDuration, 0, "max_duration")
	l.duration(&c.Shell.Timeout, f.Shell.Timeout, MaxShellTimeout, "shell", "timeout")
	setTo(&c.Sandbox.IsolateCaches, f.Sandbox.IsolateCaches)
	l.count(&c.Compaction.Budget, f.Compaction.Budget, "compaction", "budget")
	setTo(&c.Compaction.Auto, f.Compaction.Auto)
	l.subagents(&c.Subagents, &f.Subagents)
	l.ui(&c.UI, &f.UI)
	l.count(&c.Retry.MaxRetries, f.Retry.MaxRetries, "retry", "max_retries")
	l.duration(&c.Retry.BaseDelay, f.Retry.BaseDelay, 0, "retry", "base_delay")
	l.duration(&c.Retry.MaxDelay, f.Retry.MaxDelay, 0, "retry", "max_delay")
	l.duration(&c.Retry.StreamIdleTimeout, f.Retry.StreamIdleTimeout, 0, "retry", "stream_idle_timeout")
	l.packageGuard(&c.PackageGuard, &f.PackageGuard)

	// Sorted, so that errors come out in a stable order.
	for _, name := range slices.Sorted(maps.Keys(f.Providers)) {
		if _, ok := ld.defined[name]; !ok {
			ld.defined[name] = l
		}
		c.Providers[name] = l.provider(c.Providers[name], name, f.Providers[name])
	}
	for _, name := range slices.Sorted(maps.Keys(f.Models)) {
		c.Models[name] = l.model(c.Models[name], name, f.Models[name])
	}
	for _, name := range slices.Sorted(maps.Keys(f.Prices)) {
		if p, ok := l.price(name, f.Prices[name]); ok {
			c.Prices[name] = p
		}
	}
	if ws := widened(before, grantsOf(c), l); l.project && len(ws) > 0 {
		t := &c.Trust
		for _, w := range ws {
			if t.Trusted {
				t.Granted = append(t.Granted, Widening{File: src.path, What: w})
			} else {
				t.Ignored = append(t.Ignored, Widening{File: src.path, What: w})
			}
		}
		if !t.Trusted {
			before.restore(c)
		}
	}
	return errors.Join(l.errs...)
}

// grants is what a configuration lets the model do without asking. Only
// the user's own config, flags and the managed policy may widen them: a
// project file comes from anyone who can push to the repository, and a
// cloned repository must not be able to give itself more power over the
// machine, so a project's widening settings take effect only in a trusted
// workspace ([Trust]). A project may always narrow them. Every setting
// that grants something — the permission mode and allow rules today,
// writable roots, network domains, hooks and servers as they come —
// belongs here, so that it falls under the same check. The package guard
// is one: a project that turns it off, lowers a minimum, trusts more
// packages or chooses the registry that vouches for them lets more
// packages through unasked.
type grants struct {
	mode, effective policy.Mode
	modeSource      string
	allow           []policy.Rule
	guard           PackageGuard
	// isolateCaches: the sandbox's private caches, which a project must
	// not trade for the user's shared ones.
	isolateCaches bool
}

func grantsOf(c *Config) grants {
	// No mode set is the widest default a session may choose.
	return grants{mode: c.PermissionMode, effective: cmp.Or(c.PermissionMode, policy.Auto), modeSource: c.ModeSource,
		allow: slices.Clip(c.Rules.Allow), guard: c.PackageGuard, isolateCaches: c.Sandbox.IsolateCaches}
}

// restore puts g back into c, so that nothing a project tried to widen
// takes effect; what it made stricter in the package guard stays.
func (g grants) restore(c *Config) {
	c.PermissionMode, c.ModeSource = g.mode, g.modeSource
	c.Rules.Allow = g.allow
	c.PackageGuard = stricterGuard(g.guard, c.PackageGuard)
	c.Sandbox.IsolateCaches = g.isolateCaches
}

// widened lists the grants of after that are wider than those of before,
// in the terms of l, the file that widened them.
func widened(before, after grants, l *layer) []string {
	var ws []string
	if after.effective.Wider(before.effective) {
		ws = append(ws, fmt.Sprintf("%s = %q (wider than %s)", formatKey(l.modeKey), after.mode, before.effective))
	}
	for _, r := range after.allow[len(before.allow):] {
		ws = append(ws, "allow rule "+r.Text)
	}
	if before.isolateCaches && !after.isolateCaches {
		ws = append(ws, "sandbox.isolate_caches = false (commands would write your own language caches)")
	}
	return append(ws, guardWidened(before.guard, after.guard)...)
}

// check reports what is wrong with the merged configuration as a whole.
func (ld *loader) check() []error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(ld.c.Providers)) {
		if ld.c.Providers[name].Type == "" {
			msg := fmt.Sprintf("no type set (want %s)", strings.Join(providerTypes, ", "))
			errs = append(errs, ld.defined[name].errorAt(msg, "providers", name))
		}
	}
	return errs
}

// model applies f, the table of model name in this file, to m.
func (l *layer) model(m ModelConfig, name string, f *fileModel) ModelConfig {
	if f == nil {
		return m
	}
	if f.Dialect != nil {
		if d, err := tool.ParseDialect(*f.Dialect); err != nil {
			l.fail(err.Error(), "models", name, "dialect")
		} else {
			m.Dialect = d
		}
	}
	if f.FreeformTools != nil {
		m.FreeformTools = f.FreeformTools
	}
	if f.Images != nil {
		m.Images = f.Images
	}
	l.count(&m.ContextWindow, f.ContextWindow, "models", name, "context_window")
	l.count(&m.MaxOutput, f.MaxOutput, "models", name, "max_output")
	return m
}

// provider applies f, the table of provider name in this file, to p.
// Providers merge key by key like everything else, so a project can change
// one setting of a provider the user defined.
func (l *layer) provider(p ProviderConfig, name string, f *fileProvider) ProviderConfig {
	if f == nil {
		f = &fileProvider{}
	}
	p.Name = name
	if f.Type != nil {
		if !slices.Contains(providerTypes, *f.Type) {
			l.fail(fmt.Sprintf("unknown provider type %q (want %s)", *f.Type, strings.Join(providerTypes, ", ")), "providers", name, "type")
		}
		// Kept even when unknown, so that check does not also say that no
		// type is set; Load fails either way.
		p.Type = *f.Type
	}
	// Where a request goes and which secret it carries are the user's
	// choice alone: a cloned repository must not be able to send the
	// user's API key to a server of its choosing.
	if l.project && f.BaseURL != nil {
		l.fail(userOnly, "providers", name, "base_url")
	}
	if l.project && f.APIKeyEnv != nil {
		l.fail(userOnly, "providers", name, "api_key_env")
	}
	setTo(&p.BaseURL, f.BaseURL)
	if f.APIKeyEnv != nil {
		if envName.MatchString(*f.APIKeyEnv) {
			p.APIKeyEnv = *f.APIKeyEnv
		} else {
			l.fail("want the name of the environment variable holding the key, not the key itself", "providers", name, "api_key_env")
		}
	}
	if len(f.Headers) > 0 {
		p.Headers = maps.Clone(p.Headers)
		if p.Headers == nil {
			p.Headers = map[string]string{}
		}
		maps.Copy(p.Headers, f.Headers)
	}
	setTo(&p.Model, f.Model)
	l.count(&p.ContextWindow, f.ContextWindow, "providers", name, "context_window")
	if f.Dialect != nil {
		if d, err := tool.ParseDialect(*f.Dialect); err != nil {
			l.fail(err.Error(), "providers", name, "dialect")
		} else {
			p.Dialect = d
		}
	}
	setTo(&p.FreeformTools, f.FreeformTools)
	l.count(&p.MaxTokens, f.MaxTokens, "providers", name, "max_tokens")
	l.count(&p.ThinkingBudget, f.ThinkingBudget, "providers", name, "thinking_budget")
	l.choice(&p.ReasoningEffort, f.ReasoningEffort, []string{"minimal", "low", "medium", "high"}, "providers", name, "reasoning_effort")
	l.choice(&p.CacheTTL, f.CacheTTL, []string{"5m", "1h"}, "providers", name, "cache_ttl")
	l.choice(&p.PromptCacheRetention, f.PromptCacheRetention, []string{"in_memory", "24h"}, "providers", name, "prompt_cache_retention")
	l.choice(&p.Compaction, f.Compaction, []string{CompactionLocal, CompactionNative}, "providers", name, "compaction")
	return p
}

// choice sets *dst to v, which must be one of the choices.
func (l *layer) choice(dst *string, v *string, choices []string, key ...string) {
	switch {
	case v == nil:
	case slices.Contains(choices, *v):
		*dst = *v
	default:
		last := len(choices) - 1
		l.fail(fmt.Sprintf("want %s or %s, not %q", strings.Join(choices[:last], ", "), choices[last], *v), key...)
	}
}

const userOnly = "may only be set in the user config, so that a repository cannot redirect your API key"

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// price checks the price entry of model name. An entry is replaced whole
// rather than merged key by key: a price is one fact, and halves of two
// would be a price nobody wrote. Cache prices default to the input price,
// which never understates a cost.
func (l *layer) price(name string, f *filePrice) (pricing.Price, bool) {
	if f == nil || f.Input == nil || f.Output == nil {
		l.fail("want at least input and output prices", "prices", name)
		return pricing.Price{}, false
	}
	p := pricing.Price{Input: *f.Input, Output: *f.Output, CacheRead: *f.Input, CacheWrite: *f.Input}
	setTo(&p.CacheRead, f.CacheRead)
	setTo(&p.CacheWrite, f.CacheWrite)
	setTo(&p.CacheWriteLong, f.CacheWriteLong)
	ok := true
	// The prices as written: a cache price taken from input was checked
	// there.
	for _, v := range []struct {
		key   string
		price *float64
	}{{"input", f.Input}, {"output", f.Output}, {"cache_read", f.CacheRead}, {"cache_write", f.CacheWrite}, {"cache_write_1h", f.CacheWriteLong}} {
		switch {
		case v.price == nil:
		case !finite(*v.price):
			l.fail(notFinite, "prices", name, v.key)
			ok = false
		case *v.price < 0:
			l.fail("must not be negative", "prices", name, v.key)
			ok = false
		}
	}
	return p, ok
}

func setTo[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func (l *layer) subagents(dst *Subagents, f *fileSubagents) {
	l.count(&dst.Concurrent, f.Concurrent, "subagents", "concurrent")
	l.count(&dst.Total, f.Total, "subagents", "total")
	l.duration(&dst.Timeout, f.Timeout, 0, "subagents", "timeout")
	l.count(&dst.MaxTurns, f.MaxTurns, "subagents", "max_turns")
	l.count(&dst.MaxTokens, f.MaxTokens, "subagents", "max_tokens")
}

// ui merges a [ui] table.
func (l *layer) ui(dst *UI, f *fileUI) {
	setTo(&dst.Animations, f.Animations)
}

func (l *layer) count(dst *int, v *int64, key ...string) {
	if v == nil {
		return
	}
	if *v < 0 {
		l.fail("must not be negative", key...)
		return
	}
	*dst = int(*v)
}

func (l *layer) amount(dst *float64, v *float64, key ...string) {
	if v == nil {
		return
	}
	if !finite(*v) {
		l.fail(notFinite, key...)
		return
	}
	if *v < 0 {
		l.fail("must not be negative", key...)
		return
	}
	*dst = *v
}

// notFinite is the error for TOML's nan and inf, which no amount can be.
const notFinite = "must be a finite number, not nan or inf"

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// duration parses a Go duration such as "90s", which must be positive and,
// when limit is not 0, at most limit.
func (l *layer) duration(dst *time.Duration, v *string, limit time.Duration, key ...string) {
	if v == nil {
		return
	}
	d, err := time.ParseDuration(*v)
	switch {
	case err != nil:
		l.fail(fmt.Sprintf("invalid duration %q (want a number and a unit, such as \"90s\" or \"2m\")", *v), key...)
	case d <= 0:
		l.fail(fmt.Sprintf("duration %q must be positive", *v), key...)
	case limit > 0 && d > limit:
		l.fail(fmt.Sprintf("duration %q exceeds the maximum of %s", *v, shortDuration(limit)), key...)
	default:
		*dst = d
	}
}

// shortDuration formats d without zero units: 10m rather than 10m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// fail records a problem with the value of key.
func (l *layer) fail(msg string, key ...string) {
	l.errs = append(l.errs, l.errorAt(msg, key...))
}

// failElem records a problem with element i, text, of the array at key.
func (l *layer) failElem(msg string, i int, text string, key ...string) {
	e := l.errorAt(msg, key...)
	if line, col, ok := l.locateElem(key, i); ok {
		e.Line, e.Column = line, col
	} else if quoted, err := json.Marshal(text); l.claude && err == nil {
		// In JSON, the first place the element's string appears.
		if off := bytes.Index(l.doc, quoted); off >= 0 {
			e.Line, e.Column = lineCol(l.doc, int64(off))
		}
	}
	l.errs = append(l.errs, e)
}

// locateElem returns the line and column of element i of the array at
// key.
func (l *layer) locateElem(key []string, i int) (line, col int, ok bool) {
	var p unstable.Parser
	p.Reset(l.doc)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = keyParts(e.Key())
		case unstable.KeyValue:
			v := findIn(e, table, key)
			if v == nil || v.Kind != unstable.Array {
				continue
			}
			n := 0
			for it := v.Children(); it.Next(); {
				if c := it.Node(); c.Kind != unstable.Comment {
					if n == i {
						pos := p.Shape(c.Raw).Start
						return pos.Line, pos.Column, true
					}
					n++
				}
			}
		}
	}
	return 0, 0, false
}

// errorAt returns an Error about the value of key.
func (l *layer) errorAt(msg string, key ...string) *Error {
	line, col := locate(l.doc, key)
	k := formatKey(key)
	return &Error{File: l.file, Line: line, Column: col, Key: k, Msg: k + ": " + msg}
}

// decodeError turns go-toml's errors into Errors. Strict mode reports every
// unknown key at once, and all of them are passed on.
func (l *layer) decodeError(err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		errs := make([]error, len(strict.Errors))
		for i := range strict.Errors {
			e := &strict.Errors[i]
			line, col := e.Position()
			k := formatKey(e.Key())
			errs[i] = &Error{File: l.file, Line: line, Column: col, Key: k, Msg: fmt.Sprintf("unknown key %q", k)}
		}
		return errors.Join(errs...)
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, col := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if m := typeMismatch.FindStringSubmatch(msg); m != nil {
			msg = fmt.Sprintf("want %s, not a TOML %s", goTypeInTOML(m[2]), m[1])
		}
		k := formatKey(de.Key())
		if first, ok := firstDefinition(l.doc, line); ok && duplicate.MatchString(msg) {
			msg = fmt.Sprintf("defined twice, on lines %d and %d; keep one", first, line)
		}
		if k != "" {
			msg = k + ": " + msg
		}
		return &Error{File: l.file, Line: line, Column: col, Key: k, Msg: msg}
	}
	return fmt.Errorf("%s: %w", l.file, err)
}

// duplicate matches go-toml's messages for a key or table defined twice.
var duplicate = regexp.MustCompile(`is already defined$|already exists$`)

// firstDefinition returns the line that first defined the key or table
// that the expression on line defines again. go-toml reports only the
// second definition, and the user needs both to choose.
func firstDefinition(doc []byte, line int) (int, bool) {
	var p unstable.Parser
	p.Reset(doc)
	seen := map[string]int{}
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		var full []string
		switch e.Kind {
		case unstable.Table:
			table = keyParts(e.Key())
			full = table
		case unstable.ArrayTable:
			// Each [[x]] is a new element, never a redefinition.
			table = keyParts(e.Key())
			continue
		case unstable.KeyValue:
			full = slices.Concat(table, keyParts(e.Key()))
		default:
			continue
		}
		it := e.Key()
		if !it.Next() {
			continue
		}
		at := p.Shape(it.Node().Raw).Start.Line
		k := strings.Join(full, "\x00")
		if first, ok := seen[k]; ok && at == line {
			return first, true
		}
		if _, ok := seen[k]; !ok {
			seen[k] = at
		}
	}
	return 0, false
}

// typeMismatch matches go-toml's message for a value of the wrong type,
// which names Go types that mean nothing to someone editing the file.
var typeMismatch = regexp.MustCompile(`^cannot decode TOML (.+?) into (?:struct field .+ of type )?\*?(\S+)$`)

// goTypeInTOML names a Go type of fileConfig the way the file spells it.
func goTypeInTOML(goType string) string {
	switch {
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "an integer"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	default:
		return "a table"
	}
}

// locate returns the line and column of the value of key in doc, or of the
// header of the table named key; 0, 0 if it is not found. go-toml does not
// report the positions of the values it decodes, so the document is parsed
// a second time, only when there is an error to report.
func locate(doc []byte, key []string) (line, col int) {
	var p unstable.Parser
	p.Reset(doc)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = keyParts(e.Key())
			if slices.Equal(table, key) {
				pos := p.Shape(e.Child().Raw).Start
				return pos.Line, pos.Column
			}
		case unstable.KeyValue:
			if pos, ok := locateIn(&p, e, table, key); ok {
				return pos.Line, pos.Column
			}
		}
	}
	return 0, 0
}

// locateIn looks for key in the key-value kv, under the table prefix,
// descending into inline tables. An array has no position of its own, so
// its key's is returned.
func locateIn(p *unstable.Parser, kv *unstable.Node, prefix, key []string) (unstable.Position, bool) {
	v := findIn(kv, prefix, key)
	if v == nil {
		return unstable.Position{}, false
	}
	if v.Kind == unstable.Array {
		// An array has no text of its own: its first element stands for
		// it, or its key when it is empty.
		if it := v.Children(); it.Next() {
			return p.Shape(it.Node().Raw).Start, true
		}
		it := kv.Key()
		it.Next()
		return p.Shape(it.Node().Raw).Start, true
	}
	return p.Shape(v.Raw).Start, true
}

// findIn returns the value of key in the key-value kv, under the table
// prefix, descending into inline tables, or nil.
func findIn(kv *unstable.Node, prefix, key []string) *unstable.Node {
	full := slices.Concat(prefix, keyParts(kv.Key()))
	if len(full) > len(key) || !slices.Equal(full, key[:len(full)]) {
		return nil
	}
	v := kv.Value()
	if len(full) == len(key) {
		return v
	}
	if v.Kind == unstable.InlineTable {
		for it := v.Children(); it.Next(); {
			if n := findIn(it.Node(), full, key); n != nil {
				return n
			}
		}
	}
	return nil
}

func keyParts(it unstable.Iterator) []string {
	var parts []string
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return parts
}

var bareKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// formatKey writes a key as TOML would: dotted, with parts that are not
// bare keys quoted.
func formatKey(key []string) string {
	parts := make([]string, len(key))
	for i, k := range key {
		if bareKey.MatchString(k) {
			parts[i] = k
		} else {
			parts[i] = strconv.Quote(k)
		}
	}
	return strings.Join(parts, ".")
}

// displayPath shows a path under the home directory as ~/..., as users
// think of their config files.
func displayPath(path string) string {
	home := os.Getenv("HOME")
	if home == "" || home == "/" {
		return path
	}
	if rel, err := filepath.Rel(home, path); err == nil && filepath.IsLocal(rel) {
		return filepath.Join("~", rel)
	}
	return path
}
