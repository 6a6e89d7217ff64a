package reply

import (
	"strings"
	"testing"
	"unicode"

	"github.com/hikyaku/hikyaku/catalog"
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
		{"decision:", "", true, false},
		{"  \n\t ", "", false, false},
		{"", "", false, false},
	} {
		n, ok := ParseNote(tc.in)
		if ok != tc.ok || n.Text != tc.text || n.Decision != tc.decision || !n.Fields.IsZero() {
			t.Errorf("ParseNote(%q) = %+v %v, want {%q %v no fields} %v", tc.in, n, ok, tc.text, tc.decision, tc.ok)
		}
	}
}

func TestParseNoteFields(t *testing.T) {
	for _, tc := range []struct {
		in       string
		text     string
		decision bool
		fields   Fields
	}{
		{"failed over to db-2\nimpact: checkout\ncause: disk full", "failed over to db-2",
			false, Fields{Impact: "checkout", Cause: "disk full"}},
		{"decision: fail over to db-2\r\nAction: failed over to db-2\r\n", "fail over to db-2",
			true, Fields{ActionProvisional: "failed over to db-2"}},
		{"切り戻しました\n影響範囲：決済\n原因: ディスク満杯\n暫定対応: 切り戻し\n恒久対応: 容量監視\n再発防止: OPS-123",
			"切り戻しました", false, Fields{Impact: "決済", Cause: "ディスク満杯", ActionProvisional: "切り戻し",
				ActionPermanent: "容量監視", Prevention: "OPS-123"}},
		// The report's own labels, as a person copies them from a report.
		{"note\nAction taken (provisional): restart\nAction taken (permanent): bigger disk\nPrevention ticket: OPS-9",
			"note", false, Fields{ActionProvisional: "restart", ActionPermanent: "bigger disk", Prevention: "OPS-9"}},
		{"メモ\n対応（暫定）：再起動\n対応 (恒久): 増設\n再発防止 (チケット): OPS-9\n影響: 一部",
			"メモ", false, Fields{Impact: "一部", ActionProvisional: "再起動", ActionPermanent: "増設", Prevention: "OPS-9"}},
		// Width and case are folded, the API's names are words too.
		{"x\nＩＭＰＡＣＴ：all\naction_permanent: y\nPERMANENT: z", "x", false, Fields{Impact: "all", ActionPermanent: "z"}},
		// A field line without a value, and other words, stay text.
		{"impact:\nroot cause: unknown\nnote: later\nhttps://example.com/x", "impact:\nroot cause: unknown\nnote: later\nhttps://example.com/x",
			false, Fields{}},
		// Field lines only: they are the text too.
		{"cause: disk full", "cause: disk full", false, Fields{Cause: "disk full"}},
		{"決定:\n原因: ディスク満杯\n\n", "原因: ディスク満杯", true, Fields{Cause: "ディスク満杯"}},
		// The text between field lines keeps its own lines.
		{"impact: a\nline one\n\nline two\ncause: b", "line one\n\nline two", false, Fields{Impact: "a", Cause: "b"}},
		{"impact: first\nimpact: second", "impact: first\nimpact: second", false, Fields{Impact: "second"}},
	} {
		n, ok := ParseNote(tc.in)
		if !ok || n.Text != tc.text || n.Decision != tc.decision || n.Fields != tc.fields {
			t.Errorf("ParseNote(%q) = %+v %v, want {%q %v %+v} true", tc.in, n, ok, tc.text, tc.decision, tc.fields)
		}
	}
}

func TestParseNoteSeverity(t *testing.T) {
	for _, tc := range []struct {
		in, text, severity, reason string
	}{
		{"severity: major (only retries fail)\nfailed over", "failed over", "major", "only retries fail"},
		{"retries fail only\nCurrent severity: major", "retries fail only", "major", "retries fail only"},
		{"現在のSeverity：minor（一部のみ）\n原因: 満杯", "現在のSeverity：minor（一部のみ）\n原因: 満杯", "minor", "一部のみ"},
		{"x\n重大度: P2 - 影響は限定的", "x", "P2", "影響は限定的"},
		{"severity: major", "severity: major", "major", ""},
		{"decision: fail over\nseverity: critical", "fail over", "critical", "fail over"},
		{"provisional severity: major", "provisional severity: major", "", ""},
	} {
		n, ok := ParseNote(tc.in)
		if !ok || n.Text != tc.text || n.Severity != tc.severity || n.SeverityReason != tc.reason {
			t.Errorf("ParseNote(%q) = %+v, want text %q severity %q reason %q", tc.in, n, tc.text, tc.severity, tc.reason)
		}
	}
}

// TestFieldWordsCoverCatalog: every label a report gives a field, in every
// language of the catalog, is a word of that field, so a person may write
// what they read.
func TestFieldWordsCoverCatalog(t *testing.T) {
	for _, lang := range catalog.Languages() {
		for _, field := range []string{"impact", "cause", "action_provisional", "action_permanent", "prevention"} {
			label := catalog.For(lang).T(catalog.Key("incident.field." + field))
			n, _ := ParseNote("x\n" + label + ": v")
			want := Fields{}
			want.set(field, "v")
			if n.Fields != want {
				t.Errorf("%s label %q of %s: fields %+v, want %+v", lang, label, field, n.Fields, want)
			}
		}
		label := catalog.For(lang).T("incident.field.current_severity")
		if n, _ := ParseNote("x\n" + label + ": major"); n.Severity != "major" {
			t.Errorf("%s label %q: severity %q, want major", lang, label, n.Severity)
		}
	}
}

// FuzzParseNote: whatever a person writes, the note's text is made of its
// lines, trimmed; only a leading decision word is taken off; a field is a
// trimmed piece of one line; ok says whether any text is left.
func FuzzParseNote(f *testing.F) {
	for _, s := range []string{"db-1 is full", "decision: fail over", "決定：切り戻す", "ＤＥＣＩＳＩＯＮ：x", ":", "decision:", "\xff:x",
		"x\nimpact: checkout", "原因：満杯", "decision: impact: x\ncause: y", "impact:\n", "対応（暫定）：再起動\r\n", "severity: major (x)\ny", "重大度：P2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n, ok := ParseNote(in)
		if ok != (n.Text != "") {
			t.Fatalf("ParseNote(%q): ok %v with text %q", in, ok, n.Text)
		}
		if n.Text != strings.TrimFunc(n.Text, unicode.IsSpace) {
			t.Fatalf("ParseNote(%q): text %q not trimmed", in, n.Text)
		}
		for _, l := range strings.Split(n.Text, "\n") {
			if !strings.Contains(in, l) {
				t.Fatalf("ParseNote(%q): text line %q is not from the input", in, l)
			}
		}
		if n.Severity == "" && n.SeverityReason != "" || strings.ContainsFunc(n.Severity, unicode.IsSpace) {
			t.Fatalf("ParseNote(%q): severity %q with reason %q", in, n.Severity, n.SeverityReason)
		}
		for _, v := range []string{n.Fields.Impact, n.Fields.Cause, n.Fields.ActionProvisional, n.Fields.ActionPermanent, n.Fields.Prevention, n.Severity} {
			if v != "" && (strings.Contains(v, "\n") || v != strings.TrimFunc(v, unicode.IsSpace) || !strings.Contains(in, v)) {
				t.Fatalf("ParseNote(%q): field %q is no trimmed piece of one line of the input", in, v)
			}
		}
		// The text holds field lines only when it is nothing else.
		lines, fieldLines := 0, 0
		for _, l := range strings.Split(n.Text, "\n") {
			if strings.TrimFunc(l, unicode.IsSpace) == "" {
				continue
			}
			lines++
			if _, _, ok := fieldLine(l); ok {
				fieldLines++
			}
		}
		if fieldLines > 0 && fieldLines < lines {
			t.Fatalf("ParseNote(%q): text %q keeps %d field lines among %d", in, n.Text, fieldLines, lines)
		}
		if n.Fields.IsZero() && n.Severity == "" && fieldLines > 0 {
			t.Fatalf("ParseNote(%q): text %q has field lines, yet no field is set", in, n.Text)
		}
		if n.Fields.IsZero() && n.Severity == "" && !n.Decision && n.Text != strings.TrimFunc(in, unicode.IsSpace) {
			t.Fatalf("ParseNote(%q): no decision nor field, yet the text %q is not the input trimmed", in, n.Text)
		}
	})
}
