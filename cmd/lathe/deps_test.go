package main

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDeadCodeElimination fails when something reachable from main stops
// the linker from dropping unused methods. A call of reflect's Method or
// MethodByName with a name not known at compile time (text/template makes
// one) makes the linker keep every exported method of every reachable
// type: the binary doubled in size the last time that happened.
func TestDeadCodeElimination(t *testing.T) {
	if testing.Short() {
		t.Skip("links the binary once more")
	}
	list, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	// text/template's dynamic method calls defeat the linker's dead code
	// elimination. Chroma (highlighting) and bluemonday (HTML
	// sanitising), which glamour brought, cost every run, headless ones
	// too, milliseconds and megabytes of package initialisation: the
	// terminal UI renders Markdown with its own renderer over goldmark.
	for _, banned := range []string{"html/template", "text/template",
		"github.com/alecthomas/chroma/v2", "github.com/microcosm-cc/bluemonday"} {
		if bytes.Contains(append([]byte("\n"), list...), []byte("\n"+banned+"\n")) {
			t.Errorf("%s is in the binary's import graph; find who imports it with `go mod why %s`", banned, banned)
		}
	}

	// -dumpdep prints every reachable symbol with the linker's flags;
	// <ReflectMethod> marks a function that defeats method elimination.
	build := exec.Command("go", "build", "-o", t.TempDir()+"/lathe", "-ldflags=-dumpdep", ".")
	build.Env = append(build.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	build.Stderr = &stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build -ldflags=-dumpdep: %v\n%.2000s", err, stderr.String())
	}
	var culprits []string
	sawMain := false
	sc := bufio.NewScanner(&stderr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		from, _, ok := strings.Cut(sc.Text(), " -> ")
		if !ok {
			continue
		}
		sawMain = sawMain || from == "main.main"
		if strings.Contains(from, "<ReflectMethod>") {
			culprits = append(culprits, from)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(culprits) > 0 {
		t.Errorf("reachable functions call reflect.Method or MethodByName with a dynamic name, so the linker keeps every exported method:\n%s", strings.Join(culprits, "\n"))
	}
	if !sawMain {
		t.Errorf("go build -ldflags=-dumpdep printed no dependency graph with main.main in it; the check above saw nothing")
	}
}

// TestLayers checks the layering of Lathe's packages in the module's
// import graph: the command line is a front end on top of internal/app,
// which builds sessions for every front end and so must not depend on
// one.
func TestLayers(t *testing.T) {
	if testing.Short() {
		t.Skip("lists the module's packages")
	}
	list := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...")
	list.Dir = "../.."
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list -deps ./...: %v", err)
	}
	imports := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) > 0 {
			imports[fields[0]] = fields[1:]
		}
	}
	if imports[modulePath+"/cmd/lathe"] == nil {
		t.Fatalf("go list printed no cmd/lathe:\n%.2000s", out)
	}
	for _, problem := range layerProblems(imports) {
		t.Error(problem)
	}
}

// TestLayerProblems checks that layerProblems finds each violation, so
// that TestLayers cannot pass by checking nothing.
func TestLayerProblems(t *testing.T) {
	const m = modulePath + "/"
	good := map[string][]string{
		m + "cmd/lathe":       {m + "internal/cli"},
		m + "internal/cli":    {m + "internal/app", m + "internal/event"},
		m + "internal/app":    {m + "internal/agent"},
		m + "internal/agent":  {m + "internal/event"},
		m + "internal/event":  nil,
		m + "internal/shell":  nil,
		m + "internal/policy": nil,
	}
	if p := layerProblems(good); len(p) > 0 {
		t.Errorf("a good graph has problems: %q", p)
	}
	tests := []struct {
		name string
		edit func(g map[string][]string)
		want string
	}{
		{"cli without app", func(g map[string][]string) { g[m+"internal/cli"] = []string{m + "internal/event"} },
			"internal/cli does not import internal/app"},
		{"app imports cli", func(g map[string][]string) { g[m+"internal/app"] = append(g[m+"internal/app"], m+"internal/cli") },
			"internal/app imports internal/cli"},
		{"below app imports cli", func(g map[string][]string) { g[m+"internal/event"] = []string{m + "internal/cli"} },
			"internal/event, which internal/app depends on, imports internal/cli"},
		{"another importer of cli", func(g map[string][]string) { g[m+"internal/shell"] = []string{m + "internal/cli"} },
			"internal/shell imports internal/cli"},
	}
	for _, tt := range tests {
		g := map[string][]string{}
		for k, v := range good {
			g[k] = slices.Clone(v)
		}
		tt.edit(g)
		p := layerProblems(g)
		if !slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, tt.want) }) {
			t.Errorf("%s: problems %q, want one saying %q", tt.name, p, tt.want)
		}
	}
}

const modulePath = "github.com/lathe-dev/lathe"

// layerProblems lists how the import graph imports (package to the
// packages it imports) breaks the layering: internal/cli must import
// internal/app; nothing internal/app depends on, itself included, may
// import internal/cli; and only cmd/lathe may import internal/cli.
func layerProblems(imports map[string][]string) []string {
	const (
		cli = modulePath + "/internal/cli"
		app = modulePath + "/internal/app"
		cmd = modulePath + "/cmd/lathe"
	)
	short := func(p string) string { return strings.TrimPrefix(p, modulePath+"/") }
	var problems []string
	if !slices.Contains(imports[cli], app) {
		problems = append(problems, "internal/cli does not import internal/app: the command line must build its session with internal/app")
	}
	// below is what internal/app depends on, itself included.
	below := map[string]bool{}
	var walk func(p string)
	walk = func(p string) {
		if below[p] {
			return
		}
		below[p] = true
		for _, q := range imports[p] {
			walk(q)
		}
	}
	walk(app)
	for _, p := range slices.Sorted(maps.Keys(imports)) {
		if p == cmd || !slices.Contains(imports[p], cli) {
			continue
		}
		switch {
		case p == app:
			problems = append(problems, "internal/app imports internal/cli: app is built for every front end, so it cannot depend on one")
		case below[p]:
			problems = append(problems, fmt.Sprintf("%s, which internal/app depends on, imports internal/cli: nothing below app may depend on a front end", short(p)))
		default:
			problems = append(problems, fmt.Sprintf("%s imports internal/cli: only cmd/lathe may; share what it needs through internal/app", short(p)))
		}
	}
	return problems
}
