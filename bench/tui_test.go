package main

import (
	"math"
	"strings"
	"testing"
)

func TestSlopePer100(t *testing.T) {
	flat := []int64{900, 900, 50_000, 50_000, 50_000, 50_000}
	if got := slopePer100(flat, 2); got != 0 {
		t.Errorf("flat from sample 2: slope %v, want 0", got)
	}
	var rising []int64
	for i := range 50 {
		rising = append(rising, int64(40_000+i*1024/10)) // 0.1 MiB a sample
	}
	if got := slopePer100(rising, 20); math.Abs(got-10) > 0.01 {
		t.Errorf("0.1 MiB a sample: slope %v per 100, want 10", got)
	}
	if got := slopePer100(rising[:21], 20); !math.IsNaN(got) {
		t.Errorf("one sample: slope %v, want NaN", got)
	}
}

// The transcript's text must never contain a letter keylat types, or a
// redraw would pass for its echo.
func TestParagraphsAvoidKeystrokeLetters(t *testing.T) {
	text := paragraphs("fill", 500) + streamReply("stream0", 40, 5).Text + taskSteps("notes read")[1].Reply.Text
	if i := strings.IndexAny(strings.ToUpper(text), "QXZJKVWY"); i >= 0 {
		t.Errorf("text has %q at %d", text[i], i)
	}
	lines := strings.Count(paragraphs("fill", 100), "fill line ")
	if lines != 100 {
		t.Errorf("%d numbered lines, want 100", lines)
	}
}
