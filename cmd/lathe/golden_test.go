package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/lathe-dev/lathe/internal/fakeapi"
)

// goldenFrom re-records testdata/golden from a lathe binary instead of
// checking the built one against it. It takes a path, never a default, so
// that nobody re-records the goldens from the binary under test by
// accident: that would make the test pass whatever the binary does.
var goldenFrom = flag.String("golden-from", "", "re-record testdata/golden from this lathe `binary` (see TestStreamJSONGolden)")

// goldenCase is one headless run whose stream-json is pinned: an e2e
// script's model replies and files, run with the flags the bench uses
// (bench/tasks.go and bench/main.go for the pager task).
type goldenCase struct {
	script string   // in testdata/script: its script.json and files
	dir    string   // lathe's working directory among the script's files
	flags  []string // choosing the provider and model
	prompt string   // the first stream-json run's prompt in the script
	steps  int      // how many of the script's steps that run takes; 0: all
}

// goldenCases are the pager task in every API dialect, the calls scripts
// (malformed, duplicate-id and cut-off calls, a malformed stream event
// retried, a cut answer continued), a background command killed at the
// end, and a call with a large input. Their calls run one at a time
// (sequentialCalls checks), so their events come in one order. Scripts
// with consecutive read-only calls (events_schema) are left out: those run
// concurrently and their tool.start and tool.end events may interleave.
// The bench's long session is left out too: its generator is bench's
// package main, which a test here cannot import.
var goldenCases = []goldenCase{
	{"task_anthropic.txtar", "repo", nil, "the tests in pager/ fail, fix them", 0},
	{"task_openai.txtar", "repo", []string{"--provider", "openai"}, "the tests in pager/ fail, fix them", 0},
	{"task_chat.txtar", "repo", []string{"--provider", "openai-chat", "--model", "qwen3-coder"}, "the tests in pager/ fail, fix them", 0},
	{"calls_anthropic.txtar", ".", nil, "go", 5},
	{"calls_openai.txtar", ".", []string{"--provider", "openai"}, "go", 5},
	{"calls_chat.txtar", ".", []string{"--provider", "openai-chat", "--model", "qwen3-coder"}, "go", 5},
	{"process_background.txtar", ".", nil, "start a server", 3},
	{"session_digest.txtar", ".", nil, "write the big file", 0},
}

// TestStreamJSONGolden checks issue 6's promise: a headless stream-json
// run prints the events it printed before the issue, byte for byte, apart
// from the fields the issue added (seq, time, agent_id) and the
// command.output events, which come only with --include-partial-messages.
// Each case runs with and without --include-partial-messages.
//
// The goldens were recorded from commit 72d15a1, the last before issue 6:
//
//	git worktree add /tmp/lathe-72d15a1 72d15a1
//	(cd /tmp/lathe-72d15a1 && CGO_ENABLED=0 go build -o /tmp/lathe-72d15a1.bin ./cmd/lathe)
//	go test ./cmd/lathe -run TestStreamJSONGolden -golden-from /tmp/lathe-72d15a1.bin
//
// Re-record them only from a binary whose stream you have checked by
// other means; each golden's first line names the version it came from.
// A golden also records a hash of the files of the script it ran, so a
// change to a script's replies or files says so instead of failing as a
// difference in lathe.
//
// Both sides are normalised by normalizeStream, which removes only what
// differs from run to run of the same binary: see its rules. The pager
// task runs go test, whose output the goldens hold: a Go release that
// changes it calls for re-recording them as above.
func TestStreamJSONGolden(t *testing.T) {
	bin := filepath.Join(binDir, "lathe")
	if *goldenFrom != "" {
		bin = *goldenFrom
	}
	for _, c := range goldenCases {
		for _, partial := range []bool{false, true} {
			name := strings.TrimSuffix(c.script, ".txtar")
			if partial {
				name += "_partial"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				golden := filepath.Join("testdata", "golden", name+".jsonl")
				files, digest := goldenScript(t, c.script)
				out, work := runGolden(t, bin, c, files, partial)
				if err := sequentialCalls(out); err != nil {
					t.Fatalf("%v: unfit for a golden, since the order of concurrent calls' events varies", err)
				}
				got, version := normalizeStream(t, out, work, partial)
				if *goldenFrom != "" {
					header := fmt.Sprintf("# %s, recorded with -golden-from %s (version %s); %s\n", c.script, bin, version, digest)
					if err := os.WriteFile(golden, append([]byte(header), got...), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v; record it with -golden-from (see the test's doc comment)", err)
				}
				header, want, _ := bytes.Cut(want, []byte("\n"))
				if !bytes.HasSuffix(header, []byte("; "+digest)) {
					t.Fatalf("%s has changed since %s was recorded (%s); re-record it from a binary you trust (see the test's doc comment)", c.script, golden, header)
				}
				if d := diffLines(want, got); d != "" {
					t.Errorf("stream-json differs from %s (%s), normalised (- golden, + this binary):\n%s", golden, header, d)
				}
			})
		}
	}
}

// goldenScript reads an e2e script's files: script.json and what lathe
// works on. The digest covers those files, not the script's commands.
func goldenScript(t *testing.T, name string) ([]txtar.File, string) {
	a, err := txtar.ParseFile(filepath.Join("testdata", "script", name))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, f := range a.Files {
		fmt.Fprintf(h, "%q %d\n", f.Name, len(f.Data))
		h.Write(f.Data)
	}
	return a.Files, "files sha256:" + hex.EncodeToString(h.Sum(nil))
}

// runGolden runs a case with bin against the fake API and returns its
// stdout and the directory it ran under.
func runGolden(t *testing.T, bin string, c goldenCase, files []txtar.File, partial bool) (stdout []byte, work string) {
	work = fixedLengthDir(t)
	var script *fakeapi.Script
	for _, f := range files {
		if f.Name == "script.json" {
			var err error
			if script, err = fakeapi.ParseScript(f.Data); err != nil {
				t.Fatalf("%s: %v", c.script, err)
			}
		}
		path := filepath.Join(work, "files", f.Name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if script == nil {
		t.Fatalf("%s has no script.json", c.script)
	}
	if c.steps > 0 {
		// The later steps are for the script's later runs.
		script.Steps = script.Steps[:c.steps]
	}
	dir := filepath.Join(work, "files", c.dir)
	if out, err := exec.Command("git", "init", "-q", dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v: %s", err, out)
	}
	home := filepath.Join(work, "home")
	cfg := filepath.Join(home, "config", "lathe")
	if err := os.MkdirAll(cfg, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg, "config.toml"), []byte(fastRetries), 0o644); err != nil {
		t.Fatal(err)
	}

	srv := fakeapi.NewServer(script)
	defer srv.Close()
	args := append([]string{"-p", "--permission-mode", "bypassPermissions", "--output-format", "stream-json"}, c.flags...)
	if partial {
		args = append(args, "--include-partial-messages")
	}
	cmd := exec.Command(bin, append(args, c.prompt)...)
	cmd.Dir = dir
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_STATE_HOME=" + filepath.Join(home, "state"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
		"ANTHROPIC_BASE_URL=" + srv.URL(),
		"ANTHROPIC_API_KEY=sk-ant-test",
		"OPENAI_BASE_URL=" + srv.URL() + "/v1",
		"OPENAI_API_KEY=sk-test",
	}, goEnv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run %s: %v", bin, err)
	}
	if f := srv.Failures(); len(f) > 0 {
		t.Errorf("the fake API's expectations failed:\n%s\nstderr:\n%s", strings.Join(f, "\n"), stderr.Bytes())
	}
	return stdout, work
}

// sequentialCalls reports a call that started while another was running.
func sequentialCalls(stream []byte) error {
	running := ""
	for line := range bytes.Lines(stream) {
		var e struct {
			Type   string `json:"type"`
			CallID string `json:"call_id"`
		}
		if err := json.Unmarshal(line, &e); err != nil {
			return err
		}
		switch {
		case e.Type == "tool.start" && running != "":
			return fmt.Errorf("call %s started while call %s ran", e.CallID, running)
		case e.Type == "tool.start":
			running = e.CallID
		case e.Type == "tool.end":
			running = ""
		}
	}
	return nil
}

// fixedLengthDir makes a directory whose path has the same length on every
// run and machine. The fake API counts tokens by bytes, and the working
// directory is in the system prompt and in tool results, so a path of
// another length would change the usage and costs in the stream.
func fixedLengthDir(t *testing.T) string {
	for {
		dir := fmt.Sprintf("/tmp/lathe-golden-%08x", rand.Uint32())
		err := os.Mkdir(dir, 0o700)
		if err == nil {
			t.Cleanup(func() {
				if err := os.RemoveAll(dir); err != nil {
					t.Error(err)
				}
			})
			return dir
		}
		if !errors.Is(err, fs.ErrExist) {
			t.Fatal(err)
		}
	}
}

// Run-to-run noise in a command's result: the command's wall time in its
// summary ("exit 1, 5 lines, 1.2s"), in the Codex shell tool's output
// ("Wall time: 1.2 seconds"), and go test's timings of a package ("ok  \t
// example.com/pager\t0.003s", or "(cached)") and of a test ("--- FAIL:
// TestPageCount (0.00s)"). They are matched in the JSON text of a string.
var (
	summaryTime = regexp.MustCompile(`^("(?:exit -?\d+|timed out after [^,"]+), \d+ lines?, )[^,"]+"$`)
	outputTimes = []struct {
		re   *regexp.Regexp
		with string
	}{
		{regexp.MustCompile(`(Wall time: )\d+\.\d+( seconds)`), "${1}$$T${2}"},
		{regexp.MustCompile(`((?:ok  |FAIL)\\t[^\\"]+\\t)(?:\d+\.\d+s|\(cached\))`), "${1}$$T"},
		{regexp.MustCompile(`(--- (?:PASS|FAIL|SKIP): [^ \\"]+ \()\d+\.\d+s\)`), "${1}$$T)"},
	}
)

// madeUpID is a call id Lathe made up for a call the server sent without
// one: "call_" and crypto/rand.Text (internal/provider/internal/toolcall).
var madeUpID = regexp.MustCompile(`call_[A-Z2-7]{26}\b`)

// normalizeStream rewrites a stream-json stream into the form the goldens
// hold, and returns the version of lathe that wrote it. Every rule removes
// something that differs between two runs of the same binary, or that
// issue 6 added; nothing else changes, and the fields keep their order and
// bytes:
//   - seq, time and agent_id are dropped: issue 6 added them.
//   - command.output events are dropped from a stream with
//     --include-partial-messages: issue 6 added them there, and only there.
//   - checkpoint events are dropped: issue 7 added them.
//   - work, the directory the run was under, becomes $WORK.
//   - session_id becomes $SESSION, and session.start's version $VERSION.
//   - a call id Lathe made up becomes $MADE_UP_ID_N, N counting the ids
//     from 1 in the order they first appear.
//   - duration_ms (wall times, absent under 1 ms) is dropped, and so is
//     retry's delay_ms (a random backoff).
//   - a tool.end's summary and output lose the timings above.
func normalizeStream(t *testing.T, stream []byte, work string, partial bool) (out []byte, version string) {
	var b bytes.Buffer
	madeUp := map[string]string{}
	for i, line := range bytes.SplitAfter(stream, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if !bytes.HasSuffix(line, []byte("\n")) {
			t.Fatalf("line %d has no newline: %s", i+1, line)
		}
		line = bytes.ReplaceAll(line, []byte(work), []byte("$WORK"))
		line = madeUpID.ReplaceAllFunc(line, func(id []byte) []byte {
			if madeUp[string(id)] == "" {
				madeUp[string(id)] = fmt.Sprintf("$MADE_UP_ID_%d", len(madeUp)+1)
			}
			return []byte(madeUp[string(id)])
		})
		fields, err := parseObject(line)
		if err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, line)
		}
		var typ string
		if err := json.Unmarshal(fields.get("type"), &typ); err != nil {
			t.Fatalf("line %d: type: %v", i+1, err)
		}
		if typ == "command.output" && partial || typ == "checkpoint" {
			continue
		}
		var kept objectFields
		for _, f := range fields {
			switch {
			case f.key == "seq" || f.key == "time" || f.key == "agent_id" || f.key == "duration_ms":
				continue
			case f.key == "delay_ms" && typ == "retry":
				continue
			case f.key == "session_id":
				f.val = json.RawMessage(`"$SESSION"`)
			case f.key == "version" && typ == "session.start":
				if err := json.Unmarshal(f.val, &version); err != nil {
					t.Fatalf("line %d: version: %v", i+1, err)
				}
				f.val = json.RawMessage(`"$VERSION"`)
			case f.key == "summary" && typ == "tool.end":
				f.val = summaryTime.ReplaceAll(f.val, []byte("${1}$$T\""))
			case f.key == "output" && typ == "tool.end":
				for _, r := range outputTimes {
					f.val = r.re.ReplaceAll(f.val, []byte(r.with))
				}
			}
			kept = append(kept, f)
		}
		b.Write(kept.marshal())
		b.WriteByte('\n')
	}
	return b.Bytes(), version
}

// member is a member of a JSON object, its value as it was written.
type member struct {
	key string
	val json.RawMessage
}

// objectFields is a JSON object's members in their order.
type objectFields []member

func parseObject(line []byte) (objectFields, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object (%v)", err)
	}
	var fields objectFields
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		m := member{key: tok.(string)}
		if err := dec.Decode(&m.val); err != nil {
			return nil, err
		}
		fields = append(fields, m)
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more after the object")
	}
	return fields, nil
}

func (o objectFields) get(key string) json.RawMessage {
	for _, f := range o {
		if f.key == key {
			return f.val
		}
	}
	return nil
}

// marshal writes the object back as lathe does: compact, members in order.
func (o objectFields) marshal() []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.key) // a string always marshals
		b.Write(k)
		b.WriteByte(':')
		b.Write(f.val)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// diffLines shows the lines that differ between two normalised streams,
// with the members that differ on each pair of lines at the same place.
func diffLines(want, got []byte) string {
	w := strings.Split(strings.TrimSuffix(string(want), "\n"), "\n")
	g := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	var b strings.Builder
	shown, differ := 0, 0
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl == gl {
			continue
		}
		if differ++; shown == 5 {
			continue
		}
		shown++
		fmt.Fprintf(&b, "line %d:\n- %s\n+ %s\n", i+1, wl, gl)
		wf, werr := parseObject([]byte(wl))
		gf, gerr := parseObject([]byte(gl))
		if werr != nil || gerr != nil {
			continue
		}
		for _, f := range wf {
			if v := gf.get(f.key); !bytes.Equal(v, f.val) {
				fmt.Fprintf(&b, "  %s: %s → %s\n", f.key, f.val, orAbsent(v))
			}
		}
		for _, f := range gf {
			if wf.get(f.key) == nil {
				fmt.Fprintf(&b, "  %s: (absent) → %s\n", f.key, f.val)
			}
		}
	}
	if differ == 0 {
		return ""
	}
	if differ > shown {
		fmt.Fprintf(&b, "… %d more lines differ\n", differ-shown)
	}
	if len(w) != len(g) {
		fmt.Fprintf(&b, "%d lines in the golden, %d now\n", len(w), len(g))
	}
	return b.String()
}

func orAbsent(v json.RawMessage) string {
	if v == nil {
		return "(absent)"
	}
	return string(v)
}

// TestNormalizeStream pins each rule of normalizeStream, and that it
// leaves everything else as it was: a text that looks like a timing, a
// path outside the run's directory, the order of the members.
func TestNormalizeStream(t *testing.T) {
	const work = "/tmp/lathe-golden-0000abcd"
	stream := strings.Join([]string{
		`{"type":"session.start","seq":1,"time":"2026-12-07T01:02:03.041Z","session_id":"20261207T010203-54c150","cwd":"/tmp/lathe-golden-0000abcd/files/repo","version":"v1.2.3"}`,
		`{"type":"retry","seq":2,"time":"2026-12-07T01:02:03.042Z","session_id":"20261207T010203-54c150","turn":1,"attempt":1,"delay_ms":37,"status":429,"error":"x"}`,
		`{"type":"command.output","seq":3,"time":"2026-12-07T01:02:03.043Z","session_id":"20261207T010203-54c150","turn":1,"call_id":"call_ABCDEFGHIJKLMNOPQRSTUVWXYZ","text":"ok"}`,
		`{"type":"tool.end","seq":4,"time":"2026-12-07T01:02:03.044Z","agent_id":"a1","session_id":"20261207T010203-54c150","turn":1,"call_id":"call_ABCDEFGHIJKLMNOPQRSTUVWXYZ","name":"shell","output":"--- FAIL: TestX (0.01s)\nok  \texample.com/p\t0.003s\nFAIL\texample.com/q\t(cached)\nWall time: 12.5 seconds","summary":"exit 0, 1 line, 1.234s","duration_ms":1234,"exit_code":0}`,
		`{"type":"tool.end","seq":5,"time":"2026-12-07T01:02:03.045Z","session_id":"20261207T010203-54c150","turn":1,"call_id":"call_BBCDEFGHIJKLMNOPQRSTUVWXYZ","name":"Read","output":"took 0.003s, 2 lines, 1.2s","summary":"read a (2 lines)"}`,
		`{"type":"result","seq":6,"time":"2026-12-07T01:02:03.046Z","session_id":"20261207T010203-54c150","duration_ms":14568,"answer":"ran in 1.2s in /tmp/lathe-golden-0000abce","exit_code":0}`,
		"",
	}, "\n")
	want := []string{
		`{"type":"session.start","session_id":"$SESSION","cwd":"$WORK/files/repo","version":"$VERSION"}`,
		`{"type":"retry","session_id":"$SESSION","turn":1,"attempt":1,"status":429,"error":"x"}`,
		`{"type":"command.output","session_id":"$SESSION","turn":1,"call_id":"$MADE_UP_ID_1","text":"ok"}`,
		`{"type":"tool.end","session_id":"$SESSION","turn":1,"call_id":"$MADE_UP_ID_1","name":"shell","output":"--- FAIL: TestX ($T)\nok  \texample.com/p\t$T\nFAIL\texample.com/q\t$T\nWall time: $T seconds","summary":"exit 0, 1 line, $T","exit_code":0}`,
		`{"type":"tool.end","session_id":"$SESSION","turn":1,"call_id":"$MADE_UP_ID_2","name":"Read","output":"took 0.003s, 2 lines, 1.2s","summary":"read a (2 lines)"}`,
		`{"type":"result","session_id":"$SESSION","answer":"ran in 1.2s in /tmp/lathe-golden-0000abce","exit_code":0}`,
	}
	for _, partial := range []bool{false, true} {
		got, version := normalizeStream(t, []byte(stream), work, partial)
		w := slices.Clone(want)
		if partial {
			w = slices.Delete(w, 2, 3) // command.output
		}
		if d := diffLines([]byte(strings.Join(w, "\n")+"\n"), got); d != "" || version != "v1.2.3" {
			t.Errorf("partial %v: version %q, diff (- want, + got):\n%s", partial, version, d)
		}
	}
}

func TestSequentialCalls(t *testing.T) {
	start := func(id string) string { return `{"type":"tool.start","call_id":"` + id + `"}` + "\n" }
	end := func(id string) string { return `{"type":"tool.end","call_id":"` + id + `"}` + "\n" }
	if err := sequentialCalls([]byte(start("a") + end("a") + start("b") + end("b"))); err != nil {
		t.Errorf("calls one after the other: %v", err)
	}
	if err := sequentialCalls([]byte(start("a") + start("b") + end("a") + end("b"))); err == nil {
		t.Error("interleaved calls: no error")
	}
}
