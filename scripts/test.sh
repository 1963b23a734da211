#!/usr/bin/env bash
# Runs Lathe's whole test suite. On a fresh machine it first installs what
# the tests need that Go does not bring: ripgrep, for the Grep tool's rg path,
# bubblewrap, for the sandbox's bwrap backend (its tests fail under CI
# without it), tmux, for the terminal UI's end-to-end tests, and the pinned
# peer agents from npm that internal/fakeapi/peertest runs.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v rg >/dev/null 2>&1; then
	echo "scripts/test.sh: installing ripgrep" >&2
	if [ "$(id -u)" -eq 0 ]; then
		apt-get update -qq && apt-get install -y -qq ripgrep >/dev/null
	else
		sudo apt-get update -qq && sudo apt-get install -y -qq ripgrep >/dev/null
	fi
fi

# The peer agents internal/fakeapi/peertest runs against the fake API (Claude
# Code, Codex CLI), pinned in test/peers/package-lock.json and installed again
# only when that file changes; their tests run them in a network namespace
# made with unshare and ip. Without them those tests skip, except under CI.
missing=
command -v bwrap >/dev/null 2>&1 || missing="$missing bubblewrap"
command -v ip >/dev/null 2>&1 || missing="$missing iproute2"
command -v tmux >/dev/null 2>&1 || missing="$missing tmux"
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
	echo "scripts/test.sh: installing$missing" >&2
	sudo=; [ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq && $sudo apt-get install -y -qq $missing >/dev/null
fi
if ! cmp -s test/peers/package-lock.json test/peers/node_modules/.installed-lock.json; then
	echo "scripts/test.sh: installing the peer agents in test/peers (npm ci)" >&2
	if npm ci --prefix test/peers --no-audit --no-fund --loglevel=error >/dev/null; then
		cp test/peers/package-lock.json test/peers/node_modules/.installed-lock.json
	else
		echo "scripts/test.sh: npm ci failed; the peer agent tests will skip (or fail under CI)" >&2
	fi
fi

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt needed:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
# The core packages, where goroutines meet (the loop's concurrent calls, the
# shell's output pumps and jobs, the session log's appends, a session's bus
# and approver, the terminal UI's feed and link), run under the race
# detector instead of plainly; the rest run plainly.
core="./internal/agent ./internal/app ./internal/audit ./internal/session ./internal/shell ./internal/tool ./internal/policy ./internal/grep ./internal/ignore ./internal/tui"
go test -race -count=1 $core
go test -count=1 $(go list ./... | grep -v -x -F "$(go list $core)")

# A short fuzzing run of each parser of what a model sends: the three
# adapters' stream parsers (arbitrary SSE bytes through the SDK and the
# accumulator) and tool-argument decoding. Crashers land in the package's
# testdata/fuzz, which the plain run above replays from then on. Runs are
# bounded by a count, not a time: a timed run can fail at its deadline
# with no crasher (go.dev/issue/75804, unfixed in Go 1.26). Inputs are
# not minimized: with the SDKs instrumented, minimizing one stalls a run
# for a minute. About a minute in all on CI's 2 cores.
fuzz() { go test -run '^$' -fuzz="$1" -fuzztime="$2" -fuzzminimizetime=0s "$3"; }
fuzz FuzzInput 100000x ./internal/provider/internal/toolcall
fuzz FuzzStream 8000x ./internal/provider/anthropic
fuzz FuzzStream 4000x ./internal/provider/openai
fuzz FuzzStream 4000x ./internal/provider/openaichat
# The permission matcher and rule parser, from seed corpora of every
# bypass family; each run stays under about 10 s.
fuzz FuzzDecideCommand 50000x ./internal/policy
fuzz FuzzParseRule 50000x ./internal/policy
fuzz FuzzRedact 20000x ./internal/secret
fuzz FuzzVerify 20000x ./internal/audit
fuzz FuzzRedactJSON 20000x ./internal/audit
# The package guard's reading of install commands, about 10 s.
fuzz FuzzInstalls 30000x ./internal/pkgguard
