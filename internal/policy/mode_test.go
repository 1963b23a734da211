package policy

import (
	"reflect"
	"testing"
)

// TestWithModeCopiesEveryField fails when Policy gains a field WithMode
// does not carry over: a policy after --then must decide as the first did
// but for its mode.
func TestWithModeCopiesEveryField(t *testing.T) {
	p := &Policy{Mode: Plan, Workspace: "/w", Home: "/h", Sandboxed: true, Network: true,
		Rules: Rules{Allow: []Rule{{Tool: "Bash", Specifier: "npm test", Source: "--allow"}}}}
	q := p.WithMode(AcceptEdits)
	if q.Mode != AcceptEdits || p.Mode != Plan {
		t.Fatalf("modes: new %s, old %s", q.Mode, p.Mode)
	}
	pv, qv := reflect.ValueOf(p).Elem(), reflect.ValueOf(q).Elem()
	for i := range pv.NumField() {
		f := pv.Type().Field(i)
		if !f.IsExported() || f.Name == "Mode" {
			continue
		}
		if !reflect.DeepEqual(pv.Field(i).Interface(), qv.Field(i).Interface()) {
			t.Errorf("WithMode does not copy %s", f.Name)
		}
	}
}

// TestWithAllow checks that WithAllow adds allow rules to a copy, which
// decides with them, and leaves the policy as it was.
func TestWithAllow(t *testing.T) {
	p := &Policy{Mode: Default, Workspace: "/w", Rules: rules(t, []string{"Bash(ls)"}, nil, nil)}
	call := execCall("npm test")
	r, err := ParseRule("Bash(npm test)")
	if err != nil {
		t.Fatal(err)
	}
	q := p.WithAllow(r)
	if d := q.Decide(t.Context(), &call); d.Verdict != Allow {
		t.Errorf("with the rule: %v (%s)", d.Verdict, d.Reason)
	}
	if d := p.Decide(t.Context(), &call); d.Verdict != Ask || len(p.Rules.Allow) != 1 {
		t.Errorf("the policy changed: %v, allow %v", d.Verdict, p.Rules.Allow)
	}
	// A protected path asks whatever the rules say.
	edit := Call{Tool: "Edit", Kind: Edit, Writes: []string{"/w/.lathe/config.toml"}}
	r, _ = ParseRule("Edit(.lathe/config.toml)")
	if d := p.WithAllow(r).Decide(t.Context(), &edit); d.Verdict != Ask {
		t.Errorf("protected path with an allow rule: %v", d.Verdict)
	}
}
