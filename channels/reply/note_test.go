package reply

import (
	"strings"
	"testing"
	"unicode"
)

func TestParseNote(t *testing.T) {
	for _, tc := range []struct {
		in       string
		text     string
		decision bool
		ok       bool
	}{
		{"db-1 is full", "db-1 is full", false, true},
		{"\n  db-1 is full\nsecond line \n\n", "db-1 is full\nsecond line", false, true},
		{"decision: fail over to db-2", "fail over to db-2", true, true},
		{"Decision : fail over", "fail over", true, true},
		{"DECISION:fail over", "fail over", true, true},
		{"決定: 切り戻す", "切り戻す", true, true},
		{"決定：切り戻す\n理由: 影響大", "切り戻す\n理由: 影響大", true, true},
		{"ＤＥＣＩＳＩＯＮ：roll back", "roll back", true, true},
		{"decisions: none yet", "decisions: none yet", false, true},
		{"the decision: later", "the decision: later", false, true},
		{"cause: disk full", "cause: disk full", false, true},
		{"decision:", "", true, false},
		{"  \n\t ", "", false, false},
		{"", "", false, false},
	} {
		n, ok := ParseNote(tc.in)
		if ok != tc.ok || n.Text != tc.text || n.Decision != tc.decision {
			t.Errorf("ParseNote(%q) = %+v %v, want {%q %v} %v", tc.in, n, ok, tc.text, tc.decision, tc.ok)
		}
	}
}

// FuzzParseNote: whatever a person writes, the note's text is a piece of
// it, trimmed; only a leading decision word is taken off; ok says whether
// any text is left.
func FuzzParseNote(f *testing.F) {
	for _, s := range []string{"db-1 is full", "decision: fail over", "決定：切り戻す", "ＤＥＣＩＳＩＯＮ：x", ":", "decision:", "\xff:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n, ok := ParseNote(in)
		if ok != (n.Text != "") {
			t.Fatalf("ParseNote(%q): ok %v with text %q", in, ok, n.Text)
		}
		if !strings.Contains(in, n.Text) {
			t.Fatalf("ParseNote(%q): text %q is not from the input", in, n.Text)
		}
		if n.Text != strings.TrimFunc(n.Text, unicode.IsSpace) {
			t.Fatalf("ParseNote(%q): text %q not trimmed", in, n.Text)
		}
		if !n.Decision && n.Text != strings.TrimFunc(in, unicode.IsSpace) {
			t.Fatalf("ParseNote(%q): no decision, yet the text %q is not the input trimmed", in, n.Text)
		}
	})
}
