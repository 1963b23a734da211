package llm

import (
	"encoding/json"
	"reflect"
	"sync"
	"testing"
)

func text(s string) Message {
	return Message{Role: RoleUser, Parts: []Part{{Kind: PartText, Text: s}}}
}

func texts(h History) []string {
	var out []string
	for _, m := range h.Messages() {
		out = append(out, m.Text())
	}
	return out
}

// TestHistoryAppend checks that appending extends a lineage and leaves
// every earlier snapshot as it was.
func TestHistoryAppend(t *testing.T) {
	var zero History
	if zero.Len() != 0 || zero.ID() != 0 {
		t.Fatalf("zero History: len %d, id %d", zero.Len(), zero.ID())
	}
	a := NewHistory(text("a"))
	ab := a.Append(text("b"))
	abc := ab.Append(text("c"), text("d"))
	if got := texts(a); !reflect.DeepEqual(got, []string{"a"}) {
		t.Errorf("a = %q after appending to it", got)
	}
	if got := texts(abc); !reflect.DeepEqual(got, []string{"a", "b", "c", "d"}) {
		t.Errorf("abc = %q", got)
	}
	if a.ID() == 0 || a.ID() != ab.ID() || ab.ID() != abc.ID() {
		t.Errorf("ids %d %d %d, want one lineage", a.ID(), ab.ID(), abc.ID())
	}
	if e := ab.Append(); e.ID() != ab.ID() || e.Len() != ab.Len() {
		t.Error("appending nothing changed the history")
	}
	if NewHistory(text("a")).ID() == a.ID() {
		t.Error("a new history has the id of another")
	}
	// A caller appending to the slice it was given must not write into
	// the history.
	_ = append(a.Messages(), text("x"))
	if got := texts(a.Append(text("b2"))); !reflect.DeepEqual(got, []string{"a", "b2"}) {
		t.Errorf("history changed by an append to its slice: %q", got)
	}
}

// TestHistoryBranch checks that appending to an older snapshot copies it
// into a new lineage and leaves the newer one intact.
func TestHistoryBranch(t *testing.T) {
	a := NewHistory(text("a"))
	ab := a.Append(text("b"))
	ax := a.Append(text("x"))
	if ax.ID() == ab.ID() {
		t.Errorf("a branch kept the lineage %d of the snapshot it left", ab.ID())
	}
	if got := texts(ab); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("ab = %q after a branch from a", got)
	}
	if got := texts(ax); !reflect.DeepEqual(got, []string{"a", "x"}) {
		t.Errorf("ax = %q", got)
	}
	if abc := ab.Append(text("c")); abc.ID() != ab.ID() {
		t.Error("the newest snapshot lost its lineage to a branch")
	}
}

// TestHistoryCopies checks that nothing the caller keeps can change a
// message once appended: an in-place edit, which a cache trusting
// message identity would miss, cannot reach a history.
func TestHistoryCopies(t *testing.T) {
	m := Message{Role: RoleAssistant, Parts: []Part{
		{Kind: PartText, Text: "before"},
		{Kind: PartToolCall, CallID: "c1", Name: "Read", Input: json.RawMessage(`{"a":1}`)},
		{Kind: PartThinking, Opaque: json.RawMessage(`{"o":1}`), Origin: "x"},
	}}
	h := NewHistory(m)
	h2 := h.Append(text("next"))
	m.Parts[0].Text = "after"
	m.Parts[1].Input[5] = '2'
	m.Parts[2].Opaque[5] = '2'
	for _, s := range []History{h, h2} {
		got := s.Messages()[0].Parts
		if got[0].Text != "before" || string(got[1].Input) != `{"a":1}` || string(got[2].Opaque) != `{"o":1}` {
			t.Errorf("an edit of the caller's message reached the history: %+v", got)
		}
	}
}

// TestHistoryConcurrentAppend appends to one snapshot from several
// goroutines (run it with -race): one append extends the lineage, the
// others branch, and every result holds what was appended to it.
func TestHistoryConcurrentAppend(t *testing.T) {
	base := NewHistory(text("base"))
	const n = 8
	var out [n]History
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { out[i] = base.Append(text(string(rune('a' + i)))) })
	}
	wg.Wait()
	kept := 0
	for i, h := range out {
		if got := texts(h); !reflect.DeepEqual(got, []string{"base", string(rune('a' + i))}) {
			t.Errorf("append %d = %q", i, got)
		}
		if h.ID() == base.ID() {
			kept++
		}
	}
	if kept != 1 {
		t.Errorf("%d appends extended the lineage, want 1", kept)
	}
}

func TestHistoryJSON(t *testing.T) {
	h := NewHistory(text("a"), Message{Role: RoleAssistant, Parts: []Part{{Kind: PartText, Text: "b"}}})
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var back History
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Messages(), h.Messages()) || back.ID() == h.ID() || back.ID() == 0 {
		t.Errorf("read back %+v (id %d), want %+v in a new lineage", back.Messages(), back.ID(), h.Messages())
	}
	if b, _ := json.Marshal(History{}); string(b) != "[]" {
		t.Errorf("zero History marshals as %s", b)
	}
}
