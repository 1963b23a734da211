package policy

import (
	"strings"
	"testing"
)

// TestExplain checks that Explain decides a call as Decide does and
// names the commands of the line that need approval by where they are,
// so that a front end can mark them: a command another runs is marked
// as the one that runs it, and every part is judged, even after a
// denial.
func TestExplain(t *testing.T) {
	tests := []struct {
		name        string
		mode        Mode
		allow, deny []string
		cmd         string
		// marked are the texts of the parts that are not allowed, each
		// with its verdict.
		marked []string
	}{
		{"one command", Default, nil, nil, "npm test", []string{"ask npm test"}},
		{"read-only parts pass", Default, nil, nil, "ls -la && npm install left-pad | tee /dev/null; git status", []string{"ask npm install left-pad", "ask tee /dev/null"}},
		{"an allow rule covers one", Default, []string{"Bash(npm test)"}, nil, "npm test && make", []string{"ask make"}},
		{"wrappers are part of the text", Default, nil, nil, "cat x && FOO=1 timeout 5 make all", []string{"ask FOO=1 timeout 5 make all"}},
		{"bash -c is marked as itself", Default, nil, nil, `ls; bash -c "make && ls"`, []string{`ask bash -c "make && ls"`, `ask bash -c "make && ls"`}},
		{"a deny does not hide the rest", Default, nil, []string{"Bash(rm:*)"}, "rm -rf x; make", []string{"deny rm -rf x", "ask make"}},
		{"a substitution's command", Default, nil, nil, "echo $(make)", []string{"ask echo $(make)", "ask make"}},
		{"several lines", Default, nil, nil, "ls\nmake\n", []string{"ask make"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Policy{Mode: tt.mode, Workspace: "/w", Rules: rules(t, tt.allow, nil, tt.deny)}
			call := execCall(tt.cmd)
			d, parts := p.Explain(t.Context(), &call)
			if want := p.Decide(t.Context(), &call); d.Verdict != want.Verdict || d.Reason != want.Reason {
				t.Errorf("Explain decided %v (%s), Decide %v (%s)", d.Verdict, d.Reason, want.Verdict, want.Reason)
			}
			var marked []string
			for _, pt := range parts {
				if pt.Decision.Verdict == Allow {
					continue
				}
				if pt.End <= pt.Start || pt.End > len(tt.cmd) {
					t.Errorf("part %q at [%d, %d) of a %d-byte line", pt.What, pt.Start, pt.End, len(tt.cmd))
					continue
				}
				if pt.Decision.Reason == "" {
					t.Errorf("part %q: no reason", pt.What)
				}
				v := "ask"
				if pt.Decision.Verdict == Deny {
					v = "deny"
				}
				marked = append(marked, v+" "+tt.cmd[pt.Start:pt.End])
			}
			if strings.Join(marked, "|") != strings.Join(tt.marked, "|") {
				t.Errorf("marked %q, want %q", marked, tt.marked)
			}
		})
	}
	// A file's part has no place in a command line, and an allowed
	// part says which rule allowed it.
	p := &Policy{Mode: Default, Workspace: "/w", Rules: rules(t, []string{"Edit(a.go)"}, nil, nil)}
	_, parts := p.Explain(t.Context(), &Call{Tool: "Edit", Kind: Edit, Writes: []string{"/w/a.go"}, LexicalWrites: []string{"/w/a.go"}})
	if len(parts) != 1 || parts[0].Start != 0 || parts[0].End != 0 || parts[0].Decision.Verdict != Allow || parts[0].Decision.Rule != "Edit(a.go)" {
		t.Errorf("parts %+v", parts)
	}
}
