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
