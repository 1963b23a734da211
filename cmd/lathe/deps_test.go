package main

import (
	"bufio"
	"bytes"
	"os/exec"
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
	for _, banned := range []string{"text/template", "html/template"} {
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
