package pkgguard_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/lathe-dev/lathe/internal/pkgguard"
	"github.com/lathe-dev/lathe/internal/pkgguard/pkgguardtest"
	"github.com/lathe-dev/lathe/internal/policy"
	"github.com/lathe-dev/lathe/internal/sandbox"
)

// fixed is a policy that decides every call the same.
type fixed policy.Decision

func (f fixed) Decide(context.Context, *policy.Call) policy.Decision { return policy.Decision(f) }

func exec(cmd string) *policy.Call {
	return &policy.Call{Tool: "Bash", Kind: policy.Exec, Command: cmd, Script: policy.ParseCommand(cmd)}
}

func TestGuardDecide(t *testing.T) {
	r := fake(t)
	c := checker(t, pkgguard.Config{Registries: r.URLs(), MinAgeDays: 30})
	profile := sandbox.Profile{HideEnv: []string{"SECRET"}}
	allow := fixed{Verdict: policy.Allow, Profile: profile}
	ask := fixed{Verdict: policy.Ask, Reason: "Bash runs commands, which needs approval", Rule: "Bash(npm:*)", Source: ".lathe/config.toml", Profile: profile}
	deny := fixed{Verdict: policy.Deny, Reason: "denied by a rule", Rule: "Bash(pip:*)", Source: "~/.config/lathe/config.toml"}
	for _, tc := range []struct {
		name   string
		policy fixed
		call   *policy.Call
		want   policy.Decision
	}{
		{"a package that exists keeps the policy's decision", allow, exec("pip install requests && npm i left-pad"), policy.Decision(allow)},
		{"and so does an ask", ask, exec("pip install requests"), policy.Decision(ask)},
		{"a command that installs nothing", allow, exec("pip show reqeusts"), policy.Decision(allow)},
		{"a missing package is denied", allow, exec("cd app && sudo pip install -U reqeusts==2.0"), policy.Decision{
			Verdict: policy.Deny, Rule: "package_guard.enabled", Source: pkgguard.Source, Profile: profile,
			Reason: `package "reqeusts" does not exist on PyPI (` + r.URLs()[pkgguard.PyPI] + `/reqeusts/json returned 404); check the name`,
		}},
		{"the strictest finding decides, every reason is given", allow, exec("npm i fresh-pkg; pip install reqeusts"), policy.Decision{
			Verdict: policy.Deny, Rule: "package_guard.enabled", Source: pkgguard.Source, Profile: profile,
			Reason: `package "fresh-pkg" was first published on 2026-12-05, 1 day ago, less than package_guard.min_age_days = 30; ` +
				`package "reqeusts" does not exist on PyPI (` + r.URLs()[pkgguard.PyPI] + `/reqeusts/json returned 404); check the name`,
		}},
		{"an allowed call may become an ask", allow, exec("npm install fresh-pkg"), policy.Decision{
			Verdict: policy.Ask, Rule: "package_guard.min_age_days", Source: pkgguard.Source, Profile: profile,
			Reason: `package "fresh-pkg" was first published on 2026-12-05, 1 day ago, less than package_guard.min_age_days = 30`,
		}},
		{"an ask keeps its own reason too", ask, exec("npm install fresh-pkg"), policy.Decision{
			Verdict: policy.Ask, Rule: "package_guard.min_age_days", Source: pkgguard.Source, Profile: profile,
			Reason: `package "fresh-pkg" was first published on 2026-12-05, 1 day ago, less than package_guard.min_age_days = 30; and Bash runs commands, which needs approval`,
		}},
		{"an install the guard cannot see into asks", allow, exec(`pip install "$PKG"`), policy.Decision{
			Verdict: policy.Ask, Rule: "package_guard.enabled", Source: pkgguard.Source, Profile: profile,
			Reason: `pip install is given "$PKG", which is known only when the command runs`,
		}},
		{"a denial is left alone", deny, exec("pip install reqeusts"), policy.Decision(deny)},
		{"a call that runs no command is left alone", allow, &policy.Call{Tool: "Write", Kind: policy.Edit, Writes: []string{"/w/pip install reqeusts"}}, policy.Decision(allow)},
		// The policy asks about a command that does not parse.
		{"a command that does not parse is left to the policy", ask, &policy.Call{Tool: "Bash", Kind: policy.Exec, Command: "pip install reqeusts 'x"}, policy.Decision(ask)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(r.Requests())
			got := pkgguard.Wrap(tc.policy, c).Decide(context.Background(), tc.call)
			if !sameDecision(got, tc.want) {
				t.Errorf("Decide(%q):\n got %+v\nwant %+v", tc.call.Command, got, tc.want)
			}
			if tc.policy.Verdict == policy.Deny && len(r.Requests()) != before {
				t.Errorf("a denied call was looked up: %q", r.Requests()[before:])
			}
		})
	}
}

// A decision names the file of the setting that made it, where a file
// set it, and the guard where the setting is at its default.
func TestGuardNamesTheSettingsFile(t *testing.T) {
	r := fake(t)
	const user = "/home/u/.config/lathe/config.toml"
	c := checker(t, pkgguard.Config{Registries: r.URLs(), MinAgeDays: 30, Sources: map[string]string{"min_age_days": user}})
	g := pkgguard.Wrap(fixed{Verdict: policy.Allow}, c)
	if d := g.Decide(context.Background(), exec("npm install fresh-pkg")); d.Rule != "package_guard.min_age_days" || d.Source != user {
		t.Errorf("too young: rule %q from %q, want package_guard.min_age_days from %s", d.Rule, d.Source, user)
	}
	if d := g.Decide(context.Background(), exec("pip install reqeusts")); d.Rule != "package_guard.enabled" || d.Source != pkgguard.Source {
		t.Errorf("missing: rule %q from %q, want package_guard.enabled from %q", d.Rule, d.Source, pkgguard.Source)
	}
}

func sameDecision(a, b policy.Decision) bool {
	return a.Verdict == b.Verdict && a.Reason == b.Reason && a.Rule == b.Rule && a.Source == b.Source &&
		strings.Join(a.Profile.HideEnv, ",") == strings.Join(b.Profile.HideEnv, ",")
}

// A registry that cannot be reached asks, and never allows, whatever
// the policy said.
func TestGuardUnreachableAsks(t *testing.T) {
	regs := map[pkgguard.Registry]string{}
	for _, reg := range pkgguard.Registries {
		regs[reg] = "http://127.0.0.1:1"
	}
	c := checker(t, pkgguard.Config{Registries: regs})
	d := pkgguard.Wrap(fixed{Verdict: policy.Allow}, c).Decide(context.Background(), exec("cargo add serde"))
	if d.Verdict != policy.Ask || d.Source != pkgguard.Source || d.Reason != (`could not check crate "serde" (GET http://127.0.0.1:1/serde: dial tcp 127.0.0.1:1: connect: connection refused)`) {
		t.Errorf("decision %+v, want an ask saying the registry could not be reached", d)
	}
}

// BenchmarkGuardDecide measures what the guard adds to the decision on a
// command: finding the installs of a typical command line that has none,
// and checking one whose package is cached, as every look-up after the
// first in a session is.
func BenchmarkGuardDecide(b *testing.B) {
	r := pkgguardtest.Serve(os.DirFS("testdata/registry"))
	defer r.Close()
	c, err := pkgguard.New(pkgguard.Config{Registries: r.URLs()})
	if err != nil {
		b.Fatal(err)
	}
	g := pkgguard.Wrap(fixed{Verdict: policy.Allow}, c)
	for _, bc := range []struct{ name, cmd string }{
		{"no install", `cd internal/app && go test -run 'TestSteer|TestResume' ./... 2>&1 | tail -20`},
		{"cached install", `cd app && sudo -E pip install -U "requests[socks]>=2.31" && npm i -D left-pad`},
	} {
		call := exec(bc.cmd)
		g.Decide(context.Background(), call)
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if d := g.Decide(context.Background(), call); d.Verdict != policy.Allow {
					b.Fatal(d.Reason)
				}
			}
		})
	}
}
