package config

import (
	"testing"
	"time"
)

const drillDept = `departments:
  - id: ops
    escalation_policy: page
    timezone: America/New_York
    rotations: [{id: primary, start: "2026-01-05 09:00", shift: 1w, members: [alice]}]
`

func TestDrillParsed(t *testing.T) {
	cfg, err := Parse([]byte(complete(drillDept+`    drill: {week: First, weekday: tuesday, at: "14:00"}
`)), "hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Department("ops")
	dr := d.Drill
	if dr == nil || dr.Nth != 1 || dr.Day != time.Tuesday || dr.Hour != 14 || dr.Minute != 0 {
		t.Fatalf("drill = %+v", dr)
	}
	if got := d.DrillAnswerWithin(); got != 30*time.Minute {
		t.Errorf("answer_within = %s, want the default 30m", got)
	}
	if got := cfg.Global.ContactsVerifiedWithin.D(); got != 35*24*time.Hour {
		t.Errorf("contacts_verified_within = %s, want the default 35d", got)
	}
	cfg, err = Parse([]byte(complete("global: {contacts_verified_within: 10d}\n"+drillDept+`    drill: {week: last, weekday: sunday, at: "03:30", answer_within: 1h}
`)), "hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	if dr := cfg.Department("ops").Drill; dr.Nth != -1 || dr.Day != time.Sunday || dr.Hour != 3 || dr.Minute != 30 || dr.AnswerWithin.D() != time.Hour {
		t.Errorf("drill = %+v", dr)
	}
	if got := cfg.Global.ContactsVerifiedWithin.D(); got != 240*time.Hour {
		t.Errorf("contacts_verified_within = %s, want 10d", got)
	}
	if got := cfg.Department("ops").DrillAnswerWithin(); got != time.Hour {
		t.Errorf("answer_within = %s", got)
	}
}

// brokenDrills are the mistakes in a drill, each reported at its key.
var brokenDrills = []struct {
	name, yaml string
	want       []want
}{
	{"everything missing", drillDept + "    drill: {answer_within: 30m}\n", []want{
		{6, 13, "drill needs a week"}, {6, 13, "drill needs a weekday"}, {6, 13, "drill needs at"}}},
	{"bad values", drillDept + `    drill:
      week: fifth
      weekday: tue
      at: "2pm"
      answer_within: 5s
`, []want{
		{7, 13, `week "fifth": want first, second, third, fourth or last`},
		{8, 16, `weekday "tue"`},
		{9, 11, `at "2pm": want a 24-hour time HH:MM`},
		{10, 22, "answer_within 5s: want 10s to 1d"},
	}},
	{"hour out of range", drillDept + "    drill: {week: first, weekday: monday, at: \"25:00\"}\n", []want{{6, 47, `at "25:00"`}}},
	{"unknown key", drillDept + "    drill: {week: first, weekday: monday, at: \"09:00\", every: month}\n", []want{{6, 56, `unknown key "every"`}}},
	{"verified window too short", "global: {contacts_verified_within: 2h}\n", []want{{1, 36, "contacts_verified_within 2h is too short"}}},
}

func TestDrillMistakesArePositioned(t *testing.T) {
	for _, tt := range brokenDrills {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(complete(tt.yaml)), "hikyaku.yml")
			checkErrors(t, err, tt.want)
		})
	}
}
