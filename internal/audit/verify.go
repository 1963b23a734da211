package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Problem is the first record of a log that fails verification: its line
// (from 1) and what is wrong with it.
type Problem struct {
	Line int
	Msg  string
	// Unended says that all that is wrong is the last run's missing
	// session.end: records were removed from the end, or the run was
	// killed, or it is still going. Verify then returns the summary too.
	Unended bool
}

func (p *Problem) Error() string { return fmt.Sprintf("line %d: %s", p.Line, p.Msg) }

// Summary describes a log that verified.
type Summary struct {
	SessionID string
	Records   int
	Runs      int
	// Calls counts the decisions; Denied those that denied the call.
	Calls, Denied int
	// Network counts the connections; Refused those refused.
	Network, Refused int
	First, Last      string
	// Starts are the times of the runs' session.start records.
	Starts []string
}

// maxLine bounds a record's line; a longer one is not a record Lathe
// wrote (inputs past 4 KiB are digests, outputs always are).
const maxLine = 1 << 20

// Verify reads a whole audit log and checks its chain: every line a
// record whose hash matches its bytes, numbered from 1 without gaps, each
// naming the hash of the one before, the first naming the session's
// [Genesis], and the runs each opened by session.start and closed by
// session.end. sessionID, if not empty, is the session the log must be
// of. The first record that fails is returned as a *Problem, without a
// summary unless the Problem is Unended; an error reading r is returned
// as it is. Records of types it does not know are
// accepted, as a newer Lathe may write them.
func Verify(r io.Reader, sessionID string) (*Summary, error) {
	var (
		sum     = &Summary{SessionID: sessionID}
		br      = bufio.NewReader(r)
		prev    string
		runLine int // the line of the open run's session.start, or 0
		n       int
	)
	for {
		line, err := readLine(br)
		if err == io.EOF {
			break
		}
		n++
		if err != nil {
			if p, ok := err.(*Problem); ok {
				p.Line = n
				return nil, p
			}
			return nil, err
		}
		bad := func(format string, args ...any) (*Summary, error) {
			return nil, &Problem{Line: n, Msg: fmt.Sprintf(format, args...)}
		}
		claimed, actual, ok := bodyHash(line)
		if !ok {
			return bad("not an audit record: it does not end with its hash")
		}
		if claimed != actual {
			return bad("its hash does not match its content: the record was edited")
		}
		var rec Record
		if err := json.Unmarshal(line, &rec); err != nil {
			return bad("not an audit record: %v", err)
		}
		switch {
		case rec.Seq != uint64(n):
			return bad("record number %d where %d belongs: records before it were removed, inserted or reordered", rec.Seq, n)
		case n == 1 && rec.Type != TypeStart:
			return bad("the log begins with a %s record, not session.start: its beginning was removed", rec.Type)
		case n == 1 && sum.SessionID == "":
			sum.SessionID = rec.SessionID
		}
		if n == 1 {
			prev = Genesis(sum.SessionID)
			if rec.Prev != prev {
				return bad("prev is not the start of session %s's chain: the log is another session's, or its beginning was removed", sum.SessionID)
			}
		} else if rec.Prev != prev {
			return bad("prev does not match the hash of record %d: records were removed, inserted or reordered here", n-1)
		}
		switch rec.Type {
		case TypeStart:
			if runLine != 0 {
				return bad("a run starts, but the run that started at line %d has no session.end: records were removed before this one, or that run was killed", runLine)
			}
			if rec.SessionID != sum.SessionID {
				return bad("a run of session %q in the log of session %s", rec.SessionID, sum.SessionID)
			}
			runLine = n
			sum.Runs++
			sum.Starts = append(sum.Starts, rec.Time)
		case TypeEnd:
			if runLine == 0 {
				return bad("session.end outside a run")
			}
			runLine = 0
		default:
			if runLine == 0 {
				return bad("a %s record outside a run: the run's session.start was removed", rec.Type)
			}
		}
		switch rec.Type {
		case TypeDecision:
			sum.Calls++
			if rec.Verdict != "allow" {
				sum.Denied++
			}
		case TypeNetwork:
			sum.Network++
			if rec.Allowed == nil || !*rec.Allowed {
				sum.Refused++
			}
		}
		if sum.First == "" {
			sum.First = rec.Time
		}
		sum.Last = rec.Time
		sum.Records = n
		prev = claimed
	}
	switch {
	case n == 0:
		return nil, &Problem{Line: 1, Msg: "the log is empty"}
	case runLine != 0:
		return sum, &Problem{Line: n, Unended: true, Msg: fmt.Sprintf("the log ends inside the run that started at line %d, without its session.end: records were removed from the end, or the run is still going or was killed", runLine)}
	}
	return sum, nil
}

// readLine returns the next line without its newline, a *Problem (without
// its line number) for a line that is cut short, empty or too long, and
// io.EOF at the end.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > maxLine {
			return nil, &Problem{Msg: fmt.Sprintf("longer than %d bytes: not an audit record", maxLine)}
		}
		line = append(line, chunk...)
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(line) == 0:
			return nil, io.EOF
		case err == io.EOF:
			return nil, &Problem{Msg: "cut short: the log does not end with a newline, so it was truncated"}
		case err != nil:
			return nil, err
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		if len(line) == 0 {
			return nil, &Problem{Msg: "an empty line, which no record is"}
		}
		return line, nil
	}
}
