package policy

import "testing"

// The read-only set is an allowlist of options per command: each case
// that runs code or writes files has a benign neighbour that stays
// read-only.
func TestReadOnly(t *testing.T) {
	for cmd, want := range map[string]bool{
		"ls -la":                          true,
		"ls --color=auto -R src":          true,
		"cat -n a b":                      true,
		"head -20 a":                      true,
		"head -n 5 a | tail -n +2":        true,
		"wc -l *.go":                      true,
		"grep -rn foo --include=*.go .":   true,
		"rg -n foo -g '*.go'":             true,
		"rg --pre=sh foo":                 false,
		"rg --pre sh foo":                 false,
		"rg -z foo":                       false,
		"find . -name '*.go' -type f":     true,
		"find . -exec rm {} ;":            false,
		"find . -delete":                  false,
		"find . -fprint out":              false,
		"find . -fls out":                 false,
		"git status --short":              true,
		"git diff --stat HEAD~1":          true,
		"git log --oneline -n 5":          true,
		"git show HEAD:a.go":              true,
		"git branch --list":               true,
		"git branch -a":                   true,
		"git branch newbranch":            false,
		"git -c core.pager=sh log":        false,
		"git --no-pager log":              true,
		"git diff --output=patch":         false,
		"git diff --ext-diff":             false,
		"git log --output=x":              false,
		"git push":                        false,
		"git tag -l":                      true,
		"git tag v1":                      false,
		"pwd":                             true,
		"echo hi > /dev/null":             true,
		"echo hi > out":                   false,
		"echo hi >> out":                  false,
		"sed -n 1,10p a":                  true,
		"sed 's/a/b/g' a":                 true,
		"sed -i s/a/b/ a":                 false,
		"sed 's/a/b/e' a":                 false,
		"sed 'w out' a":                   false,
		"sed -e 1d -e 's/x/y/w out' a":    false,
		"sort -u a":                       true,
		"sort -o out a":                   false,
		"sort --compress-program=sh a":    false,
		"uniq a":                          true,
		"uniq a out":                      false,
		"date +%s":                        true,
		"date -s tomorrow":                false,
		"tree -L 2":                       true,
		"tree -o out":                     false,
		"xxd a":                           true,
		"xxd -r a b":                      false,
		"printf '%s' x":                   true,
		"printf -v X x":                   false,
		"cd sub && ls":                    true,
		"echo $(rm x)":                    false,
		"ls; rm x":                        false,
		"go test ./...":                   false,
		"echo 'unterminated":              false,
		"env ls":                          true,
		"timeout 5 cat a":                 true,
		"LD_PRELOAD=x ls":                 false,
		"hostname newname":                false,
		"stat -c %s a":                    true,
		"diff -u a b":                     true,
		"jq -r .x a.json":                 true,
		"jq --rawfile x /etc/passwd . a":  false,
		"command -v go":                   true,
		"which go":                        true,
		"true && false":                   true,
		"test -f a && echo yes":           true,
		"cat a | grep b | sort | uniq -c": true,
	} {
		c := execCall(cmd)
		if got := ReadOnly(&c); got != want {
			t.Errorf("ReadOnly(%q) = %v, want %v", cmd, got, want)
		}
	}
	if !ReadOnly(&Call{Tool: "Read", Kind: Read}) || ReadOnly(&Call{Tool: "Edit", Kind: Edit}) || ReadOnly(&Call{Tool: "WebFetch", Kind: Fetch}) {
		t.Error("ReadOnly of a file tool call is its kind's")
	}
}
