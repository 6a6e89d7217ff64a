package reply

import (
	"testing"
	"unicode/utf8"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in     string
		action Action
		id     int64
		ok     bool
	}{
		{"ack", Ack, 0, true},
		{"ACK", Ack, 0, true},
		{"a", Ack, 0, true},
		{"ack 1234", Ack, 1234, true},
		{"1234 ack", Ack, 1234, true},
		{"#1234 ack", Ack, 1234, true},
		{"  Ack   1234  ", Ack, 1234, true},
		{"1234a", Ack, 1234, true},
		{"1234A", Ack, 1234, true},
		{"1234r", Resolve, 1234, true},
		{"1234e", Escalate, 1234, true},
		{"res 7", Resolve, 7, true},
		{"resolve", Resolve, 0, true},
		{"esc 9", Escalate, 9, true},
		{"escalate 9", Escalate, 9, true},
		{"了解", Ack, 0, true},
		{"了解 1234", Ack, 1234, true},
		{"1234 了解", Ack, 1234, true},
		{"1234了解", Ack, 1234, true},
		{"解決 12", Resolve, 12, true},
		{"エスカレ", Escalate, 0, true},
		{"１２３４ ＡＣＫ", Ack, 1234, true}, // full-width from a Japanese keyboard
		{"了解。", Ack, 0, true},
		{"help", Help, 0, true},
		{"?", Help, 0, true},
		{"STOP", Stop, 0, true},
		{"start", Start, 0, true},
		{"ack\n> [hikyaku #12] CRITICAL …", Ack, 0, true},
		{"> quoted\n\nack 12", Ack, 12, true},
		{"", "", 0, false},
		{"hello there", "", 0, false},
		{"ack 12 34", "", 0, false},
		{"ack -3", "", 0, false},
		{"ack 0", "", 0, false},
		{"1234", "", 0, false},
		{"1234x", "", 0, false},
		{"stop 1234", "", 0, false},
		{"ack 99999999999999999999", "", 0, false},
	}
	for _, c := range cases {
		got, ok := Parse(c.in)
		if ok != c.ok || got.Action != c.action || got.IncidentID != c.id {
			t.Errorf("Parse(%q) = %+v, %v; want %s %d, %v", c.in, got, ok, c.action, c.id, c.ok)
		}
	}
}

// FuzzParse: never panics; an accepted reply has a known action and, when it
// names an incident, a positive id.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"ack 1234", "1234r", "了解", "1234了解", "> x\nesc 3", "１２３４ ＡＣＫ", "\xff\xfe", "stop"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := Parse(s)
		if !ok {
			if c != (Command{}) {
				t.Fatalf("rejected %q but returned %+v", s, c)
			}
			return
		}
		switch c.Action {
		case Ack, Resolve, Escalate, Help, Stop, Start:
		default:
			t.Fatalf("unknown action %q from %q", c.Action, s)
		}
		if c.IncidentID < 0 || (c.IncidentID > 0 && (c.Action == Stop || c.Action == Start || c.Action == Help)) {
			t.Fatalf("bad id %d for %s from %q", c.IncidentID, c.Action, s)
		}
		_ = utf8.ValidString(s)
	})
}
