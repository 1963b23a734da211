package frontmatter

import (
	"errors"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		name, in    string
		front, body string
		ok          bool
		err         string
	}{
		{name: "none", in: "just text\n", body: "just text\n"},
		{name: "bom", in: "\ufeff---\na: 1\n---\nbody\n", front: "a: 1\n", body: "body\n", ok: true},
		{name: "crlf", in: "---\r\na: 1\r\n---\r\nbody", front: "a: 1\r\n", body: "body", ok: true},
		{name: "no body", in: "---\na: 1\n---", front: "a: 1\n", ok: true},
		{name: "unclosed", in: "---\na: 1\n", ok: true, err: `no closing "---"`},
		{name: "dashes later", in: "text\n---\na: 1\n---\n", body: "text\n---\na: 1\n---\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			front, body, ok, err := Split([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || ok != tc.ok || string(front) != tc.front || string(body) != tc.body {
				t.Fatalf("Split = %q, %q, %v, %v; want %q, %q, %v", front, body, ok, err, tc.front, tc.body, tc.ok)
			}
		})
	}
}

func TestEntries(t *testing.T) {
	front := "# comment\ndescription: Use it when: tests fail\nallowed-tools:\n  - Read\n  - Bash(go test:*)\nbad: [unclosed\n"
	es, err := Entries([]byte(front))
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 || es[0].Key != "description" || es[0].Line != 3 || es[1].Key != "allowed-tools" || es[1].Line != 4 || es[2].Line != 7 {
		t.Fatalf("entries = %+v", es)
	}
	v, err := es[0].Value()
	if s, ok := Scalar(v); err != nil || !ok || s != "Use it when: tests fail" {
		t.Errorf("description = %q, %v, %v", s, ok, err)
	}
	v, err = es[1].Value()
	if err != nil || len(v.Content) != 2 || v.Content[1].Value != "Bash(go test:*)" {
		t.Errorf("allowed-tools = %+v, %v", v, err)
	}
	if _, ok := Scalar(v); ok {
		t.Error("a list is a scalar")
	}
	if _, err := es[2].Value(); err == nil {
		t.Error("an unclosed flow list decoded")
	}
	if raw, ok := es[0].Raw(); !ok || raw != "Use it when: tests fail" {
		t.Errorf("raw description = %q, %v", raw, ok)
	}
	if _, ok := es[1].Raw(); ok {
		t.Error("a value on the lines below its key has a raw form")
	}
	if raw, ok := es[2].Raw(); !ok || raw != "[unclosed" {
		t.Errorf("raw bad = %q, %v", raw, ok)
	}
	if _, err := Entries([]byte("  indented: first\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("indented first key: %v", err)
	}
	if _, err := Entries([]byte("no colon here\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("no colon: %v", err)
	}
}

func TestReadRefusesAKeyTwice(t *testing.T) {
	_, _, _, err := Read([]byte("---\nname: a\ndescription: b\nname: c\n---\nbody\n"), "agent")
	var fe *FileError
	if !errors.As(err, &fe) || fe.Kind != "agent" || fe.Key != "name" || !strings.Contains(err.Error(), "line 4: defined twice") {
		t.Fatalf("Read = %v, want the agent file's key \"name\" defined twice on line 4", err)
	}
	es, body, ok, err := Read([]byte("---\nname: a\n---\nbody\n"), "command")
	if err != nil || !ok || len(es) != 1 || string(body) != "body\n" {
		t.Fatalf("Read = %v, %q, %v, %v", es, body, ok, err)
	}
	if err := es[0].Errorf("want %s", "more"); err.Error() != `command file : key "name": line 2: want more` {
		t.Errorf("Errorf = %q", err)
	}
}
