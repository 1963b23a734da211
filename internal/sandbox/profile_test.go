package sandbox_test

import (
	"errors"
	"os/exec"
	"reflect"
	"testing"

	"github.com/lathe-dev/lathe/internal/sandbox"
)

// TestNarrow checks that narrowing keeps what both profiles allow, and
// that an Unconfined profile leaves the other's confinement as it is.
func TestNarrow(t *testing.T) {
	ws := sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: "/proj", WritableRoots: []string{"/cache", "/data"}, AllowDomains: []string{"a.com", "b.com"}, PassEnv: []string{"GH_TOKEN", "NPM_TOKEN"}}
	tests := []struct {
		name string
		p, q sandbox.Profile
		want sandbox.Profile
	}{
		{"both zero", sandbox.Profile{}, sandbox.Profile{}, sandbox.Profile{}},
		{"hidden from both", sandbox.Profile{HideEnv: []string{"B", "A"}}, sandbox.Profile{HideEnv: []string{"A", "C"}}, sandbox.Profile{HideEnv: []string{"A", "B", "C"}}},
		{"unconfined base keeps the call's confinement", sandbox.Profile{HideEnv: []string{"K"}}, ws,
			sandbox.Profile{HideEnv: []string{"K"}, Confine: sandbox.WorkspaceWrite, Workspace: "/proj", WritableRoots: []string{"/cache", "/data"}, AllowDomains: []string{"a.com", "b.com"}, PassEnv: []string{"GH_TOKEN", "NPM_TOKEN"}}},
		{"unconfined call keeps the base's confinement", ws, sandbox.Profile{HideEnv: []string{"K"}},
			sandbox.Profile{HideEnv: []string{"K"}, Confine: sandbox.WorkspaceWrite, Workspace: "/proj", WritableRoots: []string{"/cache", "/data"}, AllowDomains: []string{"a.com", "b.com"}, PassEnv: []string{"GH_TOKEN", "NPM_TOKEN"}}},
		{"read-only wins", ws, sandbox.Profile{Confine: sandbox.ReadOnly, Workspace: "/proj"},
			sandbox.Profile{Confine: sandbox.ReadOnly, Workspace: "/proj"}},
		{"read-only wins either way", sandbox.Profile{Confine: sandbox.ReadOnly, Workspace: "/proj"}, ws,
			sandbox.Profile{Confine: sandbox.ReadOnly, Workspace: "/proj"}},
		{"domains, roots and passed variables in both", ws,
			sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: "/proj", WritableRoots: []string{"/data", "/other"}, AllowDomains: []string{"b.com", "c.com"}, PassEnv: []string{"NPM_TOKEN"}},
			sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: "/proj", WritableRoots: []string{"/data"}, AllowDomains: []string{"b.com"}, PassEnv: []string{"NPM_TOKEN"}}},
		{"a root inside the other's workspace stays", sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: "/proj", WritableRoots: []string{"/proj/out", "/elsewhere"}},
			sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: "/proj"},
			sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: "/proj", WritableRoots: []string{"/proj/out"}}},
		{"the inner workspace", sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: "/proj"}, sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: "/proj/sub"},
			sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: "/proj/sub"}},
		{"the inner workspace either way", sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: "/proj/sub"}, sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: "/proj"},
			sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: "/proj/sub"}},
		{"disjoint workspaces write nowhere", sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: "/proj"}, sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: "/proj-secrets"},
			sandbox.Profile{Confine: sandbox.ReadOnly, Workspace: "/proj"}},
		{"no domains in one is no network", ws, sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: "/proj"},
			sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: "/proj"}},
	}
	for _, tt := range tests {
		if got := tt.p.Narrow(tt.q); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}

// TestNarrowSharesNothing checks that the narrowed profile does not alias
// the slices of the profiles it came from.
func TestNarrowSharesNothing(t *testing.T) {
	q := sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: "/p", WritableRoots: []string{"/r"}, AllowDomains: []string{"d"}, PassEnv: []string{"E"}}
	r := sandbox.Profile{}.Narrow(q)
	r.WritableRoots[0], r.AllowDomains[0], r.PassEnv[0] = "x", "x", "x"
	if q.WritableRoots[0] != "/r" || q.AllowDomains[0] != "d" || q.PassEnv[0] != "E" {
		t.Errorf("narrowing aliased q: %+v", q)
	}
}

func TestParseLevel(t *testing.T) {
	for _, l := range []sandbox.Level{sandbox.Unconfined, sandbox.WorkspaceWrite, sandbox.ReadOnly} {
		got, err := sandbox.ParseLevel(l.String())
		if err != nil || got != l {
			t.Errorf("ParseLevel(%q) = %v, %v", l.String(), got, err)
		}
	}
	if _, err := sandbox.ParseLevel("write"); err == nil {
		t.Error("ParseLevel(write) did not fail")
	}
}

func TestProfileCheck(t *testing.T) {
	tests := []struct {
		p  sandbox.Profile
		ok bool
	}{
		{sandbox.Profile{}, true},
		{sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: "/p", WritableRoots: []string{"/r"}}, true},
		{sandbox.Profile{Confine: sandbox.ReadOnly}, true},
		{sandbox.Profile{Confine: sandbox.WorkspaceWrite}, false},
		{sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: "p"}, false},
		{sandbox.Profile{Confine: sandbox.WorkspaceWrite, Workspace: "/p", WritableRoots: []string{"r"}}, false},
		{sandbox.Profile{Confine: 7}, false},
	}
	for _, tt := range tests {
		if err := tt.p.Check(); (err == nil) != tt.ok {
			t.Errorf("%+v: Check = %v", tt.p, err)
		}
	}
}

// TestHostRefusesConfinement checks that the Host, which confines
// nothing, refuses to start a process whose profile asks for
// confinement rather than running it unconfined.
func TestHostRefusesConfinement(t *testing.T) {
	for _, l := range []sandbox.Level{sandbox.WorkspaceWrite, sandbox.ReadOnly} {
		cmd := exec.Command("true")
		ctx := sandbox.WithProfile(t.Context(), sandbox.Profile{Confine: l, Workspace: t.TempDir()})
		err := sandbox.NewHost(sandbox.Profile{}).Start(ctx, cmd)
		var nc *sandbox.NotConfinedError
		if !errors.As(err, &nc) {
			t.Errorf("%v: Start = %v, want a NotConfinedError", l, err)
		}
		if cmd.Process != nil {
			t.Errorf("%v: a process was started", l)
		}
	}
	cmd := exec.Command("true")
	if err := sandbox.NewHost(sandbox.Profile{Confine: sandbox.ReadOnly}).Start(t.Context(), cmd); err == nil {
		_ = cmd.Wait()
		t.Error("a Host with a confining base profile started a process")
	}
}
