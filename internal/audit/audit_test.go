package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lathe-dev/lathe/internal/event"
	"github.com/lathe-dev/lathe/internal/netproxy"
)

const sid = "20261207T081200-abc123"

func ptr[T any](v T) *T { return &v }

// run emits a run's events to l as the bus would: a start, an allowed
// edit of path, a command denied by nobody, an interrupted call, the
// result.
func run(t *testing.T, l *Log, path string) {
	t.Helper()
	l.Emit(event.Event{Type: event.SessionStart, Time: "2026-12-07T08:12:00.000Z", SessionID: sid, PermissionMode: "acceptEdits", Cwd: filepath.Dir(path), Model: "m"})
	l.Emit(event.Event{Type: event.ToolStart, CallID: "c1", Name: "Write", Input: json.RawMessage(`{"file_path": "` + path + `", "content": "new"}`)})
	l.Emit(event.Event{Type: event.Decision, CallID: "c1", Name: "Write", Verdict: event.Allowed, DecidedBy: event.ByMode, Kind: "edit", Writes: []string{path}})
	if err := os.WriteFile(path, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	l.Emit(event.Event{Type: event.ToolEnd, CallID: "c1", Name: "Write", Output: "Wrote it.", Changes: []event.FileChange{{Path: path, Kind: event.ChangeUpdate}}})
	l.Emit(event.Event{Type: event.Usage})
	l.Emit(event.Event{Type: event.ToolStart, CallID: "c2", Name: "Bash", Input: json.RawMessage(`{"command":"rm -rf /"}`)})
	l.Emit(event.Event{Type: event.Decision, CallID: "c2", Name: "Bash", Verdict: event.Denied, DecidedBy: event.ByNobody, Kind: "exec", Reason: "commands need approval", Message: "Nobody can approve it."})
	l.Emit(event.Event{Type: event.ToolEnd, CallID: "c2", Name: "Bash", Output: "Permission denied", IsError: true, Denied: true, Summary: "denied"})
	l.Emit(event.Event{Type: event.ToolStart, CallID: "c3", Name: "Read", Input: json.RawMessage(`{"file_path":"x"}`)})
	l.Emit(event.Event{Type: event.ToolEnd, CallID: "c3", Name: "Read", Output: "Interrupted", IsError: true, Summary: "interrupted"})
	l.Emit(event.Event{Type: event.Result, Outcome: event.Success, ExitCode: ptr(5)})
}

// newLog writes one run to a new log and returns the log's bytes.
func newLog(t *testing.T) (dir string, data []byte) {
	t.Helper()
	dir = t.TempDir()
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(work, "notes.txt")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Open(filepath.Join(dir, "audit"), sid, Info{Sandbox: "bwrap", RuleSources: []string{"/home/u/.config/lathe/config.toml"}})
	if err != nil {
		t.Fatal(err)
	}
	run(t, l, path)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	data, err = os.ReadFile(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	return dir, data
}

func records(t *testing.T, data []byte) []Record {
	t.Helper()
	var recs []Record
	for _, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestLogRecordsARun(t *testing.T) {
	dir, data := newLog(t)
	recs := records(t, data)
	var types []string
	for _, r := range recs {
		types = append(types, r.Type)
	}
	want := "session.start decision result decision result result session.end"
	if got := strings.Join(types, " "); got != want {
		t.Fatalf("records %s, want %s", got, want)
	}
	start := recs[0]
	if start.Prev != Genesis(sid) || start.SessionID != sid || start.Mode != "acceptEdits" || start.Sandbox != "bwrap" || len(start.RuleSources) != 1 {
		t.Errorf("session.start = %+v", start)
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].Prev != recs[i-1].Hash || recs[i].Seq != uint64(i+1) {
			t.Errorf("record %d: seq %d, prev %s, want %d, %s", i+1, recs[i].Seq, recs[i].Prev, i+1, recs[i-1].Hash)
		}
	}
	edit := recs[1]
	if edit.Verdict != "allow" || edit.DecidedBy != "mode" || edit.Mode != "acceptEdits" || !strings.Contains(string(edit.Input), `"content":"new"`) {
		t.Errorf("edit decision = %+v", edit)
	}
	res := recs[2]
	path := filepath.Join(dir, "work", "notes.txt")
	if len(res.Files) != 1 || res.Files[0] != (File{Path: path, Kind: "update", Before: sha("old"), After: sha("new")}) {
		t.Errorf("edit files = %+v", res.Files)
	}
	if res.OutputSHA256 != sha("Wrote it.") || res.OutputBytes != len("Wrote it.") || res.FilesUnknown {
		t.Errorf("edit result = %+v", res)
	}
	if denied := recs[3]; denied.Verdict != "deny" || denied.DecidedBy != "nobody" || denied.Message == "" || denied.Mode != "" {
		t.Errorf("denied decision = %+v", denied)
	}
	if r := recs[4]; !r.Denied || r.FilesUnknown || r.Files != nil {
		t.Errorf("denied result = %+v", r)
	}
	// The interrupted call was never decided: its result has its input.
	if r := recs[5]; string(r.Input) != `{"file_path":"x"}` {
		t.Errorf("undecided result = %+v", r)
	}
	if end := recs[6]; end.Outcome != "success" {
		t.Errorf("session.end = %+v", end)
	}
	sum, err := Verify(bytes.NewReader(data), sid)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Records != 7 || sum.Runs != 1 || sum.Calls != 2 || sum.Denied != 1 {
		t.Errorf("summary = %+v", sum)
	}
	fi, err := os.Stat(Path(filepath.Join(dir, "audit"), sid))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("log mode %v, want 0600", fi.Mode())
	}
	di, err := os.Stat(filepath.Join(dir, "audit"))
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", di.Mode())
	}
}

// TestLogCommandFilesUnknown: a command's result says its files are not
// tracked, and names the checkpoint taken before it ran; a rule a person
// added for it is recorded.
func TestLogCommandFilesUnknown(t *testing.T) {
	l, err := Open(t.TempDir(), sid, Info{})
	if err != nil {
		t.Fatal(err)
	}
	l.Emit(event.Event{Type: event.SessionStart, SessionID: sid})
	l.Emit(event.Event{Type: event.ToolStart, CallID: "c", Name: "Bash", Input: json.RawMessage(`{"command":"make"}`)})
	l.Emit(event.Event{Type: event.Decision, CallID: "c", Name: "Bash", Verdict: event.Allowed, DecidedBy: event.ByRule, Rule: "Bash(make)", RuleSource: "/p/.lathe/config.toml", Kind: "exec"})
	l.Emit(event.Event{Type: event.RuleAdded, CallID: "c", Name: "Bash", Rule: "Bash(make)", RuleSource: "/p/.lathe/config.local.toml"})
	l.Emit(event.Event{Type: event.Checkpoint, CallID: "c", Name: "Bash", Step: 3, CheckpointID: "4b825dc642cb6eb9a060e54bf8d69288fbee4904"})
	l.Emit(event.Event{Type: event.ToolEnd, CallID: "c", Name: "Bash", Output: "ok", ExitCode: ptr(0)})
	l.Close()
	data, _ := os.ReadFile(l.Path())
	recs := records(t, data)
	if r := recs[2]; r.Type != TypeRuleAdded || r.Rule != "Bash(make)" || r.RuleSource != "/p/.lathe/config.local.toml" || r.CallID != "c" {
		t.Errorf("rule added = %+v", r)
	}
	recs = append(recs[:2], recs[3:]...)
	if r := recs[2]; r.Step != 3 || r.Checkpoint != "4b825dc642cb6eb9a060e54bf8d69288fbee4904" {
		t.Errorf("result's checkpoint = %d %q", r.Step, r.Checkpoint)
	}
	if d := recs[1]; d.DecidedBy != "rule" || d.Rule != "Bash(make)" || d.RuleSource != "/p/.lathe/config.toml" || d.Mode != "" {
		t.Errorf("decision = %+v", d)
	}
	if r := recs[2]; !r.FilesUnknown || r.ExitCode == nil || *r.ExitCode != 0 {
		t.Errorf("result = %+v", r)
	}
}

func TestLogLargeInputIsDigested(t *testing.T) {
	l, err := Open(t.TempDir(), sid, Info{})
	if err != nil {
		t.Fatal(err)
	}
	big := `{"file_path":"a","content":"` + strings.Repeat("x", 5000) + `"}`
	l.Emit(event.Event{Type: event.SessionStart, SessionID: sid})
	l.Emit(event.Event{Type: event.ToolStart, CallID: "c", Name: "Write", Input: json.RawMessage(big)})
	l.Emit(event.Event{Type: event.Decision, CallID: "c", Name: "Write", Verdict: event.Denied, DecidedBy: event.ByMode})
	l.Close()
	data, _ := os.ReadFile(l.Path())
	d := records(t, data)[1]
	if d.Input != nil || d.InputSHA256 != sha(big) || d.InputBytes != len(big) {
		t.Errorf("decision = %+v", d)
	}
}

// TestLogResumes checks that a second run on the session continues the
// chain, and that a line cut short by a crash stays visible to Verify.
func TestLogResumes(t *testing.T) {
	dir, _ := newLog(t)
	l, err := Open(filepath.Join(dir, "audit"), sid, Info{})
	if err != nil {
		t.Fatal(err)
	}
	run(t, l, filepath.Join(dir, "work", "notes.txt"))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Verify(f, sid)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Runs != 2 || sum.Records != 14 {
		t.Errorf("summary = %+v", sum)
	}

	// A crash cuts the last record short; the next run starts on a line
	// of its own, chained to the last whole record.
	data, _ := os.ReadFile(l.Path())
	if err := os.WriteFile(l.Path(), data[:len(data)-10], 0o600); err != nil {
		t.Fatal(err)
	}
	l, err = Open(filepath.Join(dir, "audit"), sid, Info{})
	if err != nil {
		t.Fatal(err)
	}
	l.Emit(event.Event{Type: event.SessionStart, SessionID: sid})
	l.Close()
	data, _ = os.ReadFile(l.Path())
	_, err = Verify(bytes.NewReader(data), sid)
	var p *Problem
	if !errors.As(err, &p) || p.Line != 14 || !strings.Contains(p.Msg, "not an audit record") {
		t.Fatalf("Verify after a crash: %v, want line 14 not a record", err)
	}
}

// lines splits a log into its lines, newlines kept.
func lines(data []byte) [][]byte {
	return bytes.SplitAfter(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}

func join(ls [][]byte) []byte {
	var b []byte
	for _, l := range ls {
		b = append(b, l...)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	return b
}

// TestVerifyFindsTampering edits, removes, inserts, reorders and cuts
// records, and checks that Verify names the first bad line.
func TestVerifyFindsTampering(t *testing.T) {
	_, data := newLog(t)
	ls := lines(data)
	if len(ls) != 7 {
		t.Fatalf("%d lines", len(ls))
	}
	edit := func(i int, old, new string) []byte {
		c := make([][]byte, len(ls))
		copy(c, ls)
		if !bytes.Contains(c[i], []byte(old)) {
			t.Fatalf("line %d has no %q", i+1, old)
		}
		c[i] = bytes.Replace(c[i], []byte(old), []byte(new), 1)
		return join(c)
	}
	without := func(i int) []byte {
		c := append([][]byte{}, ls[:i]...)
		return join(append(c, ls[i+1:]...))
	}
	swap := func(i, j int) []byte {
		c := append([][]byte{}, ls...)
		c[i], c[j] = c[j], c[i]
		return join(c)
	}
	insert := func(i int, line []byte) []byte {
		c := append([][]byte{}, ls[:i]...)
		c = append(c, line)
		return join(append(c, ls[i:]...))
	}
	for _, tc := range []struct {
		name string
		data []byte
		sid  string
		line int
		msg  string
	}{
		{"edited verdict", edit(3, `"verdict":"deny"`, `"verdict":"allow"`), sid, 4, "the record was edited"},
		{"edited first", edit(0, `"mode":"acceptEdits"`, `"mode":"bypassPermissions"`), sid, 1, "edited"},
		{"edited last", edit(6, `"outcome":"success"`, `"outcome":"error"`), sid, 7, "edited"},
		{"edited hash", edit(2, `"hash":"`, `"hash":"0`), sid, 3, "does not end with its hash"},
		{"removed", without(3), sid, 4, "record number 5 where 4 belongs"},
		{"removed first", without(0), sid, 1, "record number 2"},
		{"removed last", without(6), sid, 6, "without its session.end"},
		{"swapped", swap(3, 4), sid, 4, "record number 5 where 4 belongs"},
		{"duplicated", insert(3, ls[2]), sid, 4, "record number 3 where 4 belongs"},
		{"inserted garbage", insert(2, []byte("{}\n")), sid, 3, "not an audit record"},
		{"cut short", data[:len(data)-5], sid, 7, "cut short"},
		{"empty line", insert(2, []byte("\n")), sid, 3, "empty line"},
		{"empty", nil, sid, 1, "empty"},
		{"other session", data, "20261207T000000-000000", 1, "not the start of session 20261207T000000-000000's chain"},
		{"appended after the end", append(append([]byte{}, data...), ls[1]...), sid, 8, "record number 2 where 8 belongs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(bytes.NewReader(tc.data), tc.sid)
			var p *Problem
			if !errors.As(err, &p) {
				t.Fatalf("Verify = %v, want a *Problem", err)
			}
			if p.Line != tc.line || !strings.Contains(p.Msg, tc.msg) {
				t.Errorf("Verify = %v, want line %d: …%s…", err, tc.line, tc.msg)
			}
		})
	}
}

// TestVerifyRechainedForgery: a forger who rewrites a record and
// recomputes every hash after it still cannot move the chain's start.
func TestVerifyRechainedForgery(t *testing.T) {
	_, data := newLog(t)
	recs := records(t, data)
	var forged []byte
	prev := Genesis("20261207T000000-ffffff")
	for _, r := range recs {
		r.Prev, r.Hash = prev, ""
		line, hash, err := encode(&r)
		if err != nil {
			t.Fatal(err)
		}
		forged, prev = append(forged, line...), hash
	}
	if _, err := Verify(bytes.NewReader(forged), sid); err == nil || !strings.Contains(err.Error(), "line 1:") {
		t.Errorf("Verify of a log chained to another session = %v, want line 1", err)
	}
}

func FuzzVerify(f *testing.F) {
	dir := f.TempDir()
	l, err := Open(dir, sid, Info{})
	if err != nil {
		f.Fatal(err)
	}
	l.Emit(event.Event{Type: event.SessionStart, SessionID: sid})
	l.Emit(event.Event{Type: event.Decision, CallID: "c", Name: "Bash", Verdict: event.Allowed, DecidedBy: event.ByMode})
	l.Emit(event.Event{Type: event.ToolEnd, CallID: "c", Name: "Bash", Output: "ok"})
	l.Network(netproxy.Conn{Host: "example.com", Port: 443, Method: "CONNECT", Allowed: true, Rule: "example.com"})
	l.Close()
	good, err := os.ReadFile(l.Path())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("{}\n"))
	f.Add([]byte("\n\n"))
	f.Add([]byte(`{"seq":1,"hash":"` + strings.Repeat("0", 64) + `"}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sum, err := Verify(bytes.NewReader(data), "")
		var p *Problem
		if err != nil && (!errors.As(err, &p) || p.Line < 1) {
			t.Fatalf("Verify error %v is not a *Problem with a line", err)
		}
		if (sum == nil) == (err == nil || p.Unended) {
			t.Fatalf("Verify = %v, %v: want a summary exactly when it verifies, but for a missing end", sum, err)
		}
		if _, err := Rows(bytes.NewReader(data)); err != nil && !errors.As(err, &p) {
			t.Fatalf("Rows error %v is not a *Problem", err)
		}
	})
}

// TestLogNetwork: the proxy's reports become network records, which
// verify counts and the export shows as rows.
func TestLogNetwork(t *testing.T) {
	l, err := Open(t.TempDir(), sid, Info{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 7, 8, 30, 0, 0, time.UTC)
	l.Emit(event.Event{Type: event.SessionStart, SessionID: sid})
	l.Network(netproxy.Conn{Host: "proxy.golang.org", Port: 443, Method: "CONNECT", Allowed: true, Rule: "proxy.golang.org",
		RuleSource: "/home/u/.config/lathe/config.toml", Addr: "142.250.1.1:443", Status: 200, Sent: 10, Received: 20, Start: start, Duration: 1500 * time.Millisecond})
	l.Network(netproxy.Conn{Host: "evil.example", Port: 80, Method: "GET", Reason: "evil.example is not an allowed domain", Status: 403, Start: start})
	l.Close()
	data, _ := os.ReadFile(l.Path())
	recs := records(t, data)
	if r := recs[1]; r.Type != TypeNetwork || r.Time != "2026-12-07T08:30:00.000Z" || r.Allowed == nil || !*r.Allowed || r.Addr != "142.250.1.1:443" || r.DurationMS != 1500 || r.RuleSource != "/home/u/.config/lathe/config.toml" {
		t.Errorf("allowed connection = %+v", r)
	}
	if r := recs[2]; r.Allowed == nil || *r.Allowed || r.Reason == "" {
		t.Errorf("refused connection = %+v", r)
	}
	sum, err := Verify(bytes.NewReader(data), sid)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Network != 2 || sum.Refused != 1 {
		t.Errorf("summary = %+v", sum)
	}
	rows, err := Rows(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{
		{Time: recs[0].Time, Action: "session start", Arguments: "mode , workspace "},
		{Time: "2026-12-07T08:30:00.000Z", Action: "network", Arguments: "CONNECT proxy.golang.org:443", Decision: "allow", DecidedBy: "network rule proxy.golang.org in /home/u/.config/lathe/config.toml",
			Result: "status 200, to 142.250.1.1:443, 10 bytes sent, 20 received"},
		{Time: "2026-12-07T08:30:00.000Z", Action: "network", Arguments: "GET evil.example:80", Decision: "deny", DecidedBy: "network rules",
			Reason: "evil.example is not an allowed domain", Result: "status 403"},
		{Time: recs[3].Time, Action: "session end"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows:\n got %+v\nwant %+v", rows, want)
	}
}

// TestWriteCSV: a cell the model controls cannot become a formula in the
// reviewer's spreadsheet, and secrets are redacted in the report.
func TestWriteCSV(t *testing.T) {
	rows := []Row{{Time: "t", Action: "call", Tool: "Bash", Arguments: `=HYPERLINK("http://x")`, Decision: "allow", DecidedBy: "mode auto",
		Result: "ok", Reason: "-1", Files: []File{{Path: "/w/a", Kind: "update", Before: sha("a"), After: ""}}},
		{Time: "t", Action: "call", Tool: "Bash", Arguments: "echo " + awsKey, FilesUnknown: true}}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	want := "time,action,call_id,tool,arguments,decision,decided_by,reason,result,output_sha256,files_changed\n" +
		`t,call,,Bash,"'=HYPERLINK(""http://x"")",allow,mode auto,'-1,ok,,update /w/a ` + sha("a")[:12] + "→none\n" +
		"t,call,,Bash,echo [REDACTED:aws-access-key],,,,,,not tracked (commands)\n"
	if buf.String() != want {
		t.Errorf("CSV:\n%s\nwant\n%s", buf.String(), want)
	}
	buf.Reset()
	if err := WriteJSON(&buf, rows[1:]); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), awsKey) || !json.Valid(buf.Bytes()) {
		t.Errorf("JSON report:\n%s", buf.String())
	}
}

// TestLogConcurrent: the proxy reports connections from its own
// goroutines while the bus's hook records calls; every record is whole
// and the chain holds.
func TestLogConcurrent(t *testing.T) {
	l, err := Open(t.TempDir(), sid, Info{})
	if err != nil {
		t.Fatal(err)
	}
	l.Emit(event.Event{Type: event.SessionStart, SessionID: sid})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				l.Network(netproxy.Conn{Host: "example.com", Port: 443, Allowed: true})
			}
		})
	}
	for i := range 50 {
		id := fmt.Sprint("c", i)
		l.Emit(event.Event{Type: event.ToolStart, CallID: id, Name: "Read", Input: json.RawMessage(`{"file_path":"a"}`)})
		l.Emit(event.Event{Type: event.Decision, CallID: id, Name: "Read", Verdict: event.Allowed, DecidedBy: event.ByMode, Kind: "read"})
		l.Emit(event.Event{Type: event.ToolEnd, CallID: id, Name: "Read", Output: "x"})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(l.Path())
	sum, err := Verify(bytes.NewReader(data), sid)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Records != 1+200+100+1 || sum.Network != 200 || sum.Calls != 50 {
		t.Errorf("summary = %+v", sum)
	}
}

// BenchmarkCall is the audit log's cost per call on the agent's
// goroutine: a decision and a result, each a hashed record written with
// one write(2) (syncs happen once a turn, not here).
func BenchmarkCall(b *testing.B) {
	l, err := Open(b.TempDir(), sid, Info{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	l.Emit(event.Event{Type: event.SessionStart, SessionID: sid})
	in := json.RawMessage(`{"command":"go test ./... 2>&1 | tail -20"}`)
	out := strings.Repeat("ok  \texample.com/pkg\t0.012s\n", 40)
	for b.Loop() {
		l.Emit(event.Event{Type: event.ToolStart, CallID: "c", Name: "Bash", Input: in})
		l.Emit(event.Event{Type: event.Decision, CallID: "c", Name: "Bash", Verdict: event.Allowed, DecidedBy: event.ByMode, Kind: "exec"})
		l.Emit(event.Event{Type: event.ToolEnd, CallID: "c", Name: "Bash", Output: out, ExitCode: ptr(0), Summary: "exit 0, 40 lines"})
	}
}

// TestLogStopsOnAFailedWrite: a write the file does not take stops the
// log: Err says so and every later record fails, so the session denies
// the calls it could no longer record; the file keeps whole records.
func TestLogStopsOnAFailedWrite(t *testing.T) {
	l, err := Open(t.TempDir(), sid, Info{})
	if err != nil {
		t.Fatal(err)
	}
	l.Emit(event.Event{Type: event.SessionStart, SessionID: sid})
	// A descriptor that cannot write stands in for a full disk.
	ro, err := os.Open(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	w := l.f
	l.f = ro
	l.Emit(event.Event{Type: event.Decision, CallID: "c", Name: "Bash", Verdict: event.Allowed, DecidedBy: event.ByMode})
	if l.Err() == nil || !strings.Contains(l.Err().Error(), "append to audit log") {
		t.Fatalf("Err = %v, want the failed append", l.Err())
	}
	l.f = w
	l.Emit(event.Event{Type: event.ToolEnd, CallID: "c", Name: "Bash"})
	ro.Close()
	if err := l.Close(); err == nil {
		t.Error("Close after a failed write returned no error")
	}
	data, _ := os.ReadFile(l.Path())
	if n := bytes.Count(data, []byte("\n")); n != 1 {
		t.Errorf("%d records after the failure, want only the first:\n%s", n, data)
	}
}

// TestLogWhoDecided pins that each decision record says who decided, as
// completely as the decision event does — the rule and its file, the
// mode, the person's answer and message, the call whose approval granted
// a session's call, or why nobody could — that the run's start names
// the person, and that the report says the same in words.
func TestLogWhoDecided(t *testing.T) {
	l, err := Open(t.TempDir(), sid, Info{User: "ada (uid 1000)"})
	if err != nil {
		t.Fatal(err)
	}
	l.Emit(event.Event{Type: event.SessionStart, SessionID: sid, PermissionMode: "auto"})
	decisions := []event.Event{
		{CallID: "c1", DecidedBy: event.ByRule, Verdict: event.Allowed, Rule: "Bash(npm test)", RuleSource: "/w/.lathe/config.toml"},
		{CallID: "c2", DecidedBy: event.ByMode, Verdict: event.Allowed},
		{CallID: "c3", DecidedBy: event.ByPerson, Verdict: event.Allowed, Approval: event.ApproveSession, Rule: "Bash", RuleSource: "/w/.lathe/config.toml", Reason: "a rule asks"},
		{CallID: "c4", DecidedBy: event.BySession, Verdict: event.Allowed, GrantedBy: "c3", Rule: "Bash", RuleSource: "/w/.lathe/config.toml"},
		{CallID: "c5", DecidedBy: event.ByPerson, Verdict: event.Denied, Approval: event.ApproveDeny, Message: "use make"},
		{CallID: "c6", DecidedBy: event.ByNobody, Verdict: event.Denied, Message: "nobody can approve it"},
	}
	for _, d := range decisions {
		l.Emit(event.Event{Type: event.ToolStart, CallID: d.CallID, Name: "Bash", Input: json.RawMessage(`{"command":"npm test"}`)})
		d.Type, d.Name, d.Kind = event.Decision, "Bash", "exec"
		l.Emit(d)
		l.Emit(event.Event{Type: event.ToolEnd, CallID: d.CallID, Name: "Bash", Denied: d.Verdict == event.Denied})
	}
	l.Emit(event.Event{Type: event.Result, Outcome: event.Success})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	recs := records(t, data)
	if recs[0].User != "ada (uid 1000)" {
		t.Errorf("session.start = %+v, want the user", recs[0])
	}
	type who struct{ by, rule, source, mode, answer, message, grantedBy string }
	var got []who
	for _, r := range recs {
		if r.Type == TypeDecision {
			got = append(got, who{r.DecidedBy, r.Rule, r.RuleSource, r.Mode, r.Answer, r.Message, r.GrantedBy})
		}
	}
	want := []who{
		{by: "rule", rule: "Bash(npm test)", source: "/w/.lathe/config.toml"},
		{by: "mode", mode: "auto"},
		{by: "person", rule: "Bash", source: "/w/.lathe/config.toml", answer: "session"},
		{by: "session", rule: "Bash", source: "/w/.lathe/config.toml", grantedBy: "c3"},
		{by: "person", answer: "deny", message: "use make"},
		{by: "nobody", message: "nobody can approve it"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("decisions:\n got %+v\nwant %+v", got, want)
	}

	rows, err := Rows(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rows[0].Arguments, "user ada (uid 1000)") {
		t.Errorf("start row %+v, want the user", rows[0])
	}
	var words []string
	for _, r := range rows[1 : len(rows)-1] {
		words = append(words, r.DecidedBy)
	}
	wantWords := []string{"rule Bash(npm test) in /w/.lathe/config.toml", "mode auto", "person: session",
		"person, earlier in the session (call c3)", "person: deny (use make)", "nobody: nobody can approve it"}
	if !slices.Equal(words, wantWords) {
		t.Errorf("report says:\n got %q\nwant %q", words, wantWords)
	}
}
