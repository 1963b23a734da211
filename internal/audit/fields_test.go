package audit

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/lathe-dev/lathe/internal/event"
)

// fill sets every string reachable in v — fields, slice elements, map
// keys and values, through pointers — to s, and every raw JSON value to
// s as a JSON string, so that a test sees each exported field carry a
// secret, whichever fields are added later.
func fill(v reflect.Value, s string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fill(v.Elem(), s)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), s)
			}
		}
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			q, _ := json.Marshal(s)
			v.SetBytes(q)
			return
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, s)
		fill(e, s)
		m.SetMapIndex(k, e)
		v.Set(m)
	}
}

// TestEveryFieldRedacted: a secret in any exported field of an audit
// record, of a report row, or of an event as the stream prints it (which
// redacts with RedactJSON too) is redacted, in every output.
func TestEveryFieldRedacted(t *testing.T) {
	var rec Record
	fill(reflect.ValueOf(&rec).Elem(), "key "+awsKey)
	line, _, err := encode(&rec)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(line, []byte(awsKey)) {
		t.Errorf("an audit record holds the key:\n%s", line)
	}

	var row Row
	fill(reflect.ValueOf(&row).Elem(), "key "+awsKey)
	var buf bytes.Buffer
	if err := WriteJSON(&buf, []Row{row}); err != nil {
		t.Fatal(err)
	}
	if err := WriteCSV(&buf, []Row{row}); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte(awsKey)) {
		t.Errorf("a report holds the key:\n%s", buf.Bytes())
	}

	var e event.Event
	fill(reflect.ValueOf(&e).Elem(), "key "+awsKey)
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(awsKey)) {
		t.Fatal("the event was not filled")
	}
	if out := RedactJSON(b); bytes.Contains(out, []byte(awsKey)) || !json.Valid(out) {
		t.Errorf("an event as the stream prints it holds the key:\n%s", out)
	}
}

// A log written before members were redacted by name is redacted so in
// its report: the summary of its arguments is text, where a multi-word
// value no longer reads as a secret's.
func TestReportRedactsOldInput(t *testing.T) {
	r := &Record{Input: json.RawMessage(`{"user":"me","password":"correct horse battery"}`)}
	if got, want := arguments(r), `{"user":"me","password":"[REDACTED:assigned-secret]"}`; got != want {
		t.Errorf("arguments = %s, want %s", got, want)
	}
}
