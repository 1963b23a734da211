package sandbox_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// startsAllowed are the only places in Lathe that may start a process
// themselves, each with its reason.
var startsAllowed = map[string]string{
	"internal/sandbox/sandbox.go (*exec.Cmd).Start":     "the executor",
	"internal/sandbox/confine.go (*exec.Cmd).Start":     "the sandbox executor, unconfined",
	"internal/sandbox/start_linux.go (*exec.Cmd).Start": "the sandbox executor, confined",
	// The helper runs inside the namespaces the executor made, and
	// starts the command there.
	"internal/sandbox/helper/helper_linux.go syscall.ForkExec": "the helper of the landlock backend",
	"internal/sandbox/helper/helper_linux.go syscall.Exec":     "the helper, becoming Lathe's supervisor",
	"internal/sandbox/server_linux.go (*exec.Cmd).Start":       "the sandbox executor, starting a sandbox server",
	// A sandbox server runs inside the sandbox the executor made for it,
	// and starts each command there.
	"internal/sandbox/helper/serve_linux.go syscall.ForkExec": "a sandbox server starts a command",
	// It runs in the supervisor process, which the executor started,
	// so whatever confines the supervisor confines the command too.
	"internal/shell/supervise_linux.go syscall.ForkExec": "the supervisor starts its command",
}

// TestNoProcessStartsOutsideTheExecutor reads Lathe's source (not its
// tests, nor bench) and fails on any process started other than through a
// sandbox.Executor: os.StartProcess, syscall.ForkExec or Exec, or a Start,
// Run, Output or CombinedOutput method called in a file that imports
// os/exec. It backs TestEveryProcessStartsThroughTheExecutor in
// internal/tool, which sees only the processes its calls start.
func TestNoProcessStartsOutsideTheExecutor(t *testing.T) {
	root := filepath.Join("..", "..")
	seen := map[string]bool{}
	for _, top := range []string{"cmd", "internal"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			rel = filepath.ToSlash(rel)
			for _, start := range processStarts(t, path) {
				key := rel + " " + start.what
				if _, ok := startsAllowed[key]; ok {
					seen[key] = true
					continue
				}
				t.Errorf("%s:%d: %s starts a process without the sandbox.Executor", rel, start.line, start.what)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for key := range startsAllowed {
		if !seen[key] {
			t.Errorf("allowed start %q no longer exists: remove it from startsAllowed", key)
		}
	}
}

type start struct {
	what string
	line int
}

func processStarts(t *testing.T, path string) []start {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{} // local name -> import path
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		name := p[strings.LastIndexByte(p, '/')+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		names[name] = p
	}
	importsExec := false
	for _, p := range names {
		importsExec = importsExec || p == "os/exec"
	}
	var starts []start
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		line := fset.Position(call.Pos()).Line
		if pkg, ok := sel.X.(*ast.Ident); ok {
			switch names[pkg.Name] + "." + sel.Sel.Name {
			case "os.StartProcess", "syscall.ForkExec", "syscall.Exec", "syscall.StartProcess":
				starts = append(starts, start{names[pkg.Name] + "." + sel.Sel.Name, line})
				return true
			}
		}
		switch sel.Sel.Name {
		case "Start", "Run", "Output", "CombinedOutput":
			if importsExec && len(call.Args) == 0 {
				starts = append(starts, start{"(*exec.Cmd)." + sel.Sel.Name, line})
			}
		}
		return true
	})
	return starts
}
