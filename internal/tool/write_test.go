package tool

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// BenchmarkWrite5MiB replaces a 5 MiB file with 5 MiB of new content.
// Its allocations are what a Write costs in memory beyond the old file
// and the content, which the call's arguments hold anyway.
func BenchmarkWrite5MiB(b *testing.B) {
	for _, tc := range []struct{ name, eol string }{{"lf", "\n"}, {"crlf", "\r\n"}} {
		b.Run(tc.name, func(b *testing.B) {
			env := &Env{Dir: b.TempDir(), Reads: NewReadTracker()}
			path := filepath.Join(env.Dir, "big.go")
			if err := os.WriteFile(path, []byte(bigText(5<<20, tc.eol, "marker")), 0o644); err != nil {
				b.Fatal(err)
			}
			input, err := json.Marshal(map[string]string{"file_path": "big.go", "content": bigText(5<<20, "\n", "new")})
			if err != nil {
				b.Fatal(err)
			}
			env.Reads.Record(canonical(path), []byte(bigText(5<<20, tc.eol, "marker")))
			b.SetBytes(5 << 20)
			b.ReportAllocs()
			for b.Loop() {
				res, err := NewWrite().Run(context.Background(), env, input)
				if err != nil || res.IsError {
					b.Fatal(res, err)
				}
			}
		})
	}
}

// TestDecodeArgs pins what decodeArgs accepts and refuses, as
// encoding/json's Decoder with DisallowUnknownFields did before it.
func TestDecodeArgs(t *testing.T) {
	tests := []struct {
		input, err string
	}{
		{`{"file_path": "a", "content": "b"}`, ""},
		{`{"file_path": "a", "content": "x", "CONTENT": "b"}`, ""}, // encoding/json ignores case
		{`{"file_path": "a", "content": "b", "mode": 1, "extra": 2}`, `invalid tool arguments: unknown field "extra"`},
		{`{"file_path": "a"}`, `invalid tool arguments: required parameter "content" is missing`},
		{`{"file_path": "a", "content": null}`, `invalid tool arguments: required parameter "content" is missing`},
		{`{"file_path": 1, "content": "b"}`, `invalid tool arguments: parameter "file_path" must be of type string, not number`},
		{`["a"]`, "invalid tool arguments: expected a JSON object"},
	}
	for _, tt := range tests {
		var args struct {
			FilePath string `json:"file_path"`
			Content  string `json:"content"`
			Skipped  int    `json:"-"`
		}
		err := decodeArgs(json.RawMessage(tt.input), &args, "file_path", "content")
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("decodeArgs(%s) = %v", tt.input, err)
		case tt.err == "" && (args.FilePath != "a" || args.Content != "b"):
			t.Errorf("decodeArgs(%s) decoded %+v", tt.input, args)
		case tt.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.err)):
			t.Errorf("decodeArgs(%s) = %v, want %q", tt.input, err, tt.err)
		}
	}
}

// TestDecodeArgsCopies checks that decoding a Write of megabytes copies
// its content only as decoding a JSON string must (the unquoted bytes and
// the string), not the whole input besides.
func TestDecodeArgsCopies(t *testing.T) {
	content := bigText(4<<20, "\n", "x")
	input, err := json.Marshal(map[string]string{"file_path": "a", "content": content})
	if err != nil {
		t.Fatal(err)
	}
	var args struct {
		FilePath string `json:"file_path"`
		Content  string `json:"content"`
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err = decodeArgs(input, &args, "file_path", "content")
	runtime.ReadMemStats(&after)
	if err != nil || args.Content != content {
		t.Fatalf("decodeArgs: %v", err)
	}
	if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(len(input))*5/2; got > limit {
		t.Errorf("decoding %d bytes of arguments allocated %d bytes, want at most %d", len(input), got, limit)
	}
}
