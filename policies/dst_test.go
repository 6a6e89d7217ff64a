package policies

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// utc reads a literal UTC instant; expectations in this file are written as
// such instants, worked out by hand from the 2026 transitions, never computed
// from a wall-clock time (which would share any mistake of the code under test).
func utc(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// utcWant is an expected shift: user and literal UTC bounds.
type utcWant struct{ user, start, end string }

func utcCheck(t *testing.T, loc *time.Location, got []Shift, want []utcWant) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = got[i].User == want[i].user && got[i].Start.Equal(utc(t, want[i].start)) && got[i].End.Equal(utc(t, want[i].end))
	}
	if ok {
		return
	}
	var w strings.Builder
	for _, x := range want {
		fmt.Fprintf(&w, "  %s %s–%s\n", x.user, x.start, x.end)
	}
	var g strings.Builder
	for _, s := range got {
		fmt.Fprintf(&g, "  %s %s–%s (%s)\n", s.User, s.Start.UTC().Format(time.RFC3339), s.End.UTC().Format(time.RFC3339), ocFmt(s, loc))
	}
	t.Errorf("got:\n%swant:\n%s", g.String(), w.String())
}

// TestDSTHandoffs places handoffs inside the hour a DST change skips or
// repeats, in zones east and west of UTC, north and south, with 60-, 30- and
// 45-minute offsets, at both 2026 transitions. The rule (docs/oncall.md): a
// wall time is at the first instant the clock shows it or later, so a
// repeated time is its first occurrence and a skipped one is the moment the
// clock jumps past it.
func TestDSTHandoffs(t *testing.T) {
	tests := []struct {
		name, zone, start, shift string
		from, to                 string
		members                  string
		want                     []utcWant
	}{
		// Europe/London: 2026-03-29T01:00Z 01:00 GMT -> 02:00 BST; 2026-10-25T01:00Z 02:00 BST -> 01:00 GMT.
		{"London spring, daily 01:30 in the gap", "Europe/London", "2026-03-28 01:30", "1d",
			"2026-03-28T01:30:00Z", "2026-03-30T00:30:00Z", "alice, bob", []utcWant{
				{"alice", "2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z"},
				{"bob", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}}},
		{"London spring, 8h from 01:00", "Europe/London", "2026-03-28 01:00", "8h",
			"2026-03-28T17:00:00Z", "2026-03-29T16:00:00Z", "alice, bob, carol", []utcWant{
				{"carol", "2026-03-28T17:00:00Z", "2026-03-29T01:00:00Z"},
				{"alice", "2026-03-29T01:00:00Z", "2026-03-29T08:00:00Z"},
				{"bob", "2026-03-29T08:00:00Z", "2026-03-29T16:00:00Z"}}},
		{"London spring, 12h slot at 01:30", "Europe/London", "2026-03-28 01:30", "12h",
			"2026-03-28T13:30:00Z", "2026-03-29T12:30:00Z", "alice, bob", []utcWant{
				{"bob", "2026-03-28T13:30:00Z", "2026-03-29T01:00:00Z"},
				{"alice", "2026-03-29T01:00:00Z", "2026-03-29T12:30:00Z"}}},
		{"London autumn, daily 01:30 at its first occurrence", "Europe/London", "2026-10-24 01:30", "1d",
			"2026-10-24T00:30:00Z", "2026-10-26T01:30:00Z", "alice, bob", []utcWant{
				{"alice", "2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z"},
				{"bob", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}}},
		{"London autumn, a start with an offset still only sets the wall-clock time", "Europe/London", "2026-10-25T01:30:00+00:00", "1d",
			"2026-10-25T00:00:00Z", "2026-10-26T02:00:00Z", "alice, bob", []utcWant{
				{"bob", "2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z"},
				{"alice", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"},
				{"bob", "2026-10-26T01:30:00Z", "2026-10-26T02:00:00Z"}}},
		{"London autumn, the 01:00–09:00 shift lasts 9h", "Europe/London", "2026-10-24 01:00", "8h",
			"2026-10-24T16:00:00Z", "2026-10-25T17:00:00Z", "alice, bob, carol", []utcWant{
				{"carol", "2026-10-24T16:00:00Z", "2026-10-25T00:00:00Z"},
				{"alice", "2026-10-25T00:00:00Z", "2026-10-25T09:00:00Z"},
				{"bob", "2026-10-25T09:00:00Z", "2026-10-25T17:00:00Z"}}},
		{"London autumn, 12h slot at 01:30", "Europe/London", "2026-10-24 01:30", "12h",
			"2026-10-24T12:30:00Z", "2026-10-25T13:30:00Z", "alice, bob", []utcWant{
				{"bob", "2026-10-24T12:30:00Z", "2026-10-25T00:30:00Z"},
				{"alice", "2026-10-25T00:30:00Z", "2026-10-25T13:30:00Z"}}},

		// Australia/Lord_Howe: 2026-04-04T15:00Z 02:00 +11 -> 01:30 +1030; 2026-10-03T15:30Z 02:00 +1030 -> 02:30 +11.
		{"Lord Howe autumn, daily 01:45 at its first occurrence", "Australia/Lord_Howe", "2026-04-04 01:45", "1d",
			"2026-04-03T14:45:00Z", "2026-04-05T15:15:00Z", "alice, bob", []utcWant{
				{"alice", "2026-04-03T14:45:00Z", "2026-04-04T14:45:00Z"},
				{"bob", "2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"}}},
		{"Lord Howe autumn, the 01:00–09:00 shift lasts 8h30", "Australia/Lord_Howe", "2026-04-04 01:00", "8h",
			"2026-04-04T06:00:00Z", "2026-04-05T06:30:00Z", "alice, bob, carol", []utcWant{
				{"carol", "2026-04-04T06:00:00Z", "2026-04-04T14:00:00Z"},
				{"alice", "2026-04-04T14:00:00Z", "2026-04-04T22:30:00Z"},
				{"bob", "2026-04-04T22:30:00Z", "2026-04-05T06:30:00Z"}}},
		{"Lord Howe autumn, 12h slot at 01:45", "Australia/Lord_Howe", "2026-04-04 01:45", "12h",
			"2026-04-04T02:45:00Z", "2026-04-05T03:15:00Z", "alice, bob", []utcWant{
				{"bob", "2026-04-04T02:45:00Z", "2026-04-04T14:45:00Z"},
				{"alice", "2026-04-04T14:45:00Z", "2026-04-05T03:15:00Z"}}},
		{"Lord Howe spring, daily 02:15 in the gap", "Australia/Lord_Howe", "2026-10-03 02:15", "1d",
			"2026-10-02T15:45:00Z", "2026-10-04T15:15:00Z", "alice, bob", []utcWant{
				{"alice", "2026-10-02T15:45:00Z", "2026-10-03T15:30:00Z"},
				{"bob", "2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"}}},
		{"Lord Howe spring, the 01:00–09:00 shift lasts 7h30", "Australia/Lord_Howe", "2026-10-03 01:00", "8h",
			"2026-10-03T06:30:00Z", "2026-10-04T06:00:00Z", "alice, bob, carol", []utcWant{
				{"carol", "2026-10-03T06:30:00Z", "2026-10-03T14:30:00Z"},
				{"alice", "2026-10-03T14:30:00Z", "2026-10-03T22:00:00Z"},
				{"bob", "2026-10-03T22:00:00Z", "2026-10-04T06:00:00Z"}}},
		{"Lord Howe spring, 12h slot at 02:15", "Australia/Lord_Howe", "2026-10-03 02:15", "12h",
			"2026-10-03T03:45:00Z", "2026-10-04T03:15:00Z", "alice, bob", []utcWant{
				{"bob", "2026-10-03T03:45:00Z", "2026-10-03T15:30:00Z"},
				{"alice", "2026-10-03T15:30:00Z", "2026-10-04T03:15:00Z"}}},

		// Pacific/Chatham: 2026-04-04T14:00Z 03:45 +1345 -> 02:45 +1245; 2026-09-26T14:00Z 02:45 +1245 -> 03:45 +1345.
		{"Chatham autumn, daily 03:00 at its first occurrence", "Pacific/Chatham", "2026-04-04 03:00", "1d",
			"2026-04-03T13:15:00Z", "2026-04-05T14:15:00Z", "alice, bob", []utcWant{
				{"alice", "2026-04-03T13:15:00Z", "2026-04-04T13:15:00Z"},
				{"bob", "2026-04-04T13:15:00Z", "2026-04-05T14:15:00Z"}}},
		{"Chatham autumn, the 01:00–09:00 shift lasts 9h", "Pacific/Chatham", "2026-04-04 01:00", "8h",
			"2026-04-04T03:15:00Z", "2026-04-05T04:15:00Z", "alice, bob, carol", []utcWant{
				{"carol", "2026-04-04T03:15:00Z", "2026-04-04T11:15:00Z"},
				{"alice", "2026-04-04T11:15:00Z", "2026-04-04T20:15:00Z"},
				{"bob", "2026-04-04T20:15:00Z", "2026-04-05T04:15:00Z"}}},
		{"Chatham autumn, 12h slot at 03:00", "Pacific/Chatham", "2026-04-04 03:00", "12h",
			"2026-04-04T01:15:00Z", "2026-04-05T02:15:00Z", "alice, bob", []utcWant{
				{"bob", "2026-04-04T01:15:00Z", "2026-04-04T13:15:00Z"},
				{"alice", "2026-04-04T13:15:00Z", "2026-04-05T02:15:00Z"}}},
		{"Chatham spring, daily 03:00 in the gap", "Pacific/Chatham", "2026-09-26 03:00", "1d",
			"2026-09-25T14:15:00Z", "2026-09-27T13:15:00Z", "alice, bob", []utcWant{
				{"alice", "2026-09-25T14:15:00Z", "2026-09-26T14:00:00Z"},
				{"bob", "2026-09-26T14:00:00Z", "2026-09-27T13:15:00Z"}}},
		{"Chatham spring, the 01:00–09:00 shift lasts 7h", "Pacific/Chatham", "2026-09-26 01:00", "8h",
			"2026-09-26T04:15:00Z", "2026-09-27T03:15:00Z", "alice, bob, carol", []utcWant{
				{"carol", "2026-09-26T04:15:00Z", "2026-09-26T12:15:00Z"},
				{"alice", "2026-09-26T12:15:00Z", "2026-09-26T19:15:00Z"},
				{"bob", "2026-09-26T19:15:00Z", "2026-09-27T03:15:00Z"}}},
		{"Chatham spring, 12h slot at 03:00", "Pacific/Chatham", "2026-09-26 03:00", "12h",
			"2026-09-26T02:15:00Z", "2026-09-27T01:15:00Z", "alice, bob", []utcWant{
				{"bob", "2026-09-26T02:15:00Z", "2026-09-26T14:00:00Z"},
				{"alice", "2026-09-26T14:00:00Z", "2026-09-27T01:15:00Z"}}},

		// America/New_York: 2026-03-08T07:00Z 02:00 EST -> 03:00 EDT; 2026-11-01T06:00Z 02:00 EDT -> 01:00 EST.
		{"New York spring, daily 02:30 in the gap", "America/New_York", "2026-03-07 02:30", "1d",
			"2026-03-07T07:30:00Z", "2026-03-09T06:30:00Z", "alice, bob", []utcWant{
				{"alice", "2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z"},
				{"bob", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"}}},
		{"New York spring, the 01:00–09:00 shift lasts 7h", "America/New_York", "2026-03-07 01:00", "8h",
			"2026-03-07T22:00:00Z", "2026-03-08T21:00:00Z", "alice, bob, carol", []utcWant{
				{"carol", "2026-03-07T22:00:00Z", "2026-03-08T06:00:00Z"},
				{"alice", "2026-03-08T06:00:00Z", "2026-03-08T13:00:00Z"},
				{"bob", "2026-03-08T13:00:00Z", "2026-03-08T21:00:00Z"}}},
		{"New York spring, 12h slot at 02:30", "America/New_York", "2026-03-07 02:30", "12h",
			"2026-03-07T19:30:00Z", "2026-03-08T18:30:00Z", "alice, bob", []utcWant{
				{"bob", "2026-03-07T19:30:00Z", "2026-03-08T07:00:00Z"},
				{"alice", "2026-03-08T07:00:00Z", "2026-03-08T18:30:00Z"}}},
		{"New York autumn, daily 01:30 at its first occurrence", "America/New_York", "2026-10-31 01:30", "1d",
			"2026-10-31T05:30:00Z", "2026-11-02T06:30:00Z", "alice, bob", []utcWant{
				{"alice", "2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z"},
				{"bob", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}}},
		{"New York autumn, the 01:00–09:00 shift lasts 9h", "America/New_York", "2026-10-31 01:00", "8h",
			"2026-10-31T21:00:00Z", "2026-11-01T22:00:00Z", "alice, bob, carol", []utcWant{
				{"carol", "2026-10-31T21:00:00Z", "2026-11-01T05:00:00Z"},
				{"alice", "2026-11-01T05:00:00Z", "2026-11-01T14:00:00Z"},
				{"bob", "2026-11-01T14:00:00Z", "2026-11-01T22:00:00Z"}}},
		{"New York autumn, 12h slot at 01:30", "America/New_York", "2026-10-31 01:30", "12h",
			"2026-10-31T17:30:00Z", "2026-11-01T18:30:00Z", "alice, bob", []utcWant{
				{"bob", "2026-10-31T17:30:00Z", "2026-11-01T05:30:00Z"},
				{"alice", "2026-11-01T05:30:00Z", "2026-11-01T18:30:00Z"}}},

		{"New York spring, 30m: turns inside the gap are skipped", "America/New_York", "2026-03-07 00:00", "30m",
			"2026-03-08T06:00:00Z", "2026-03-08T08:00:00Z", "alice, bob, carol, dave", []utcWant{
				{"carol", "2026-03-08T06:00:00Z", "2026-03-08T06:30:00Z"}, // 01:00 EST
				{"dave", "2026-03-08T06:30:00Z", "2026-03-08T07:00:00Z"},  // 01:30 EST; alice's 02:00 and bob's 02:30 are empty
				{"carol", "2026-03-08T07:00:00Z", "2026-03-08T07:30:00Z"}, // 03:00 EDT
				{"dave", "2026-03-08T07:30:00Z", "2026-03-08T08:00:00Z"}}},

		{"Santiago spring, a start on the skipped midnight keeps midnight handoffs", "America/Santiago", "2026-09-06", "1d",
			"2026-09-05T12:00:00Z", "2026-09-08T12:00:00Z", "alice, bob, carol", []utcWant{
				{"carol", "2026-09-05T12:00:00Z", "2026-09-06T04:00:00Z"}, // 01:00 -03: the clock jumps past midnight
				{"alice", "2026-09-06T04:00:00Z", "2026-09-07T03:00:00Z"}, // then 00:00 -03 again, not 01:00
				{"bob", "2026-09-07T03:00:00Z", "2026-09-08T03:00:00Z"},
				{"carol", "2026-09-08T03:00:00Z", "2026-09-08T12:00:00Z"}}},

		// America/Santiago: 2026-04-05T03:00Z 04-05 00:00 -03 -> 04-04 23:00 -04; 2026-09-06T04:00Z 00:00 -04 -> 01:00 -03.
		{"Santiago autumn, daily 23:30 at its first occurrence", "America/Santiago", "2026-04-03 23:30", "1d",
			"2026-04-04T02:30:00Z", "2026-04-06T03:30:00Z", "alice, bob", []utcWant{
				{"alice", "2026-04-04T02:30:00Z", "2026-04-05T02:30:00Z"},
				{"bob", "2026-04-05T02:30:00Z", "2026-04-06T03:30:00Z"}}},
		{"Santiago autumn, the 17:00–01:00 shift lasts 9h", "America/Santiago", "2026-04-04 01:00", "8h",
			"2026-04-04T20:00:00Z", "2026-04-05T13:00:00Z", "alice, bob, carol", []utcWant{
				{"carol", "2026-04-04T20:00:00Z", "2026-04-05T05:00:00Z"},
				{"alice", "2026-04-05T05:00:00Z", "2026-04-05T13:00:00Z"}}},
		{"Santiago autumn, 12h slot at 23:30", "America/Santiago", "2026-04-03 23:30", "12h",
			"2026-04-04T14:30:00Z", "2026-04-05T15:30:00Z", "alice, bob", []utcWant{
				{"bob", "2026-04-04T14:30:00Z", "2026-04-05T02:30:00Z"},
				{"alice", "2026-04-05T02:30:00Z", "2026-04-05T15:30:00Z"}}},
		{"Santiago spring, daily 00:30 in the gap", "America/Santiago", "2026-09-05 00:30", "1d",
			"2026-09-05T04:30:00Z", "2026-09-07T03:30:00Z", "alice, bob", []utcWant{
				{"alice", "2026-09-05T04:30:00Z", "2026-09-06T04:00:00Z"},
				{"bob", "2026-09-06T04:00:00Z", "2026-09-07T03:30:00Z"}}},
		{"Santiago spring, 8h slot at midnight, which is skipped", "America/Santiago", "2026-09-05 00:00", "8h",
			"2026-09-05T20:00:00Z", "2026-09-06T11:00:00Z", "alice, bob, carol", []utcWant{
				{"carol", "2026-09-05T20:00:00Z", "2026-09-06T04:00:00Z"},
				{"alice", "2026-09-06T04:00:00Z", "2026-09-06T11:00:00Z"}}},
		{"Santiago spring, 12h slot at 00:30", "America/Santiago", "2026-09-05 00:30", "12h",
			"2026-09-05T16:30:00Z", "2026-09-06T15:30:00Z", "alice, bob", []utcWant{
				{"bob", "2026-09-05T16:30:00Z", "2026-09-06T04:00:00Z"},
				{"alice", "2026-09-06T04:00:00Z", "2026-09-06T15:30:00Z"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ocSet(t, fmt.Sprintf("departments:\n  - id: ops\n    rotations:\n      - {id: r, timezone: %s, start: %q, shift: %s, members: [%s]}\n",
				tt.zone, tt.start, tt.shift, tt.members))
			loc := ocLoc(t, tt.zone)
			got, err := s.Shifts("r", utc(t, tt.from), utc(t, tt.to))
			if err != nil {
				t.Fatal(err)
			}
			utcCheck(t, loc, got, tt.want)
			// OnCall must agree with Shifts at each handoff instant.
			for _, w := range tt.want {
				sh, ok := s.OnCall("r", utc(t, w.start))
				if !ok || sh.User != w.user || !sh.Start.Equal(utc(t, w.start)) && w.start != tt.from {
					t.Errorf("OnCall(%s) = %s, %v; want %s from %s", w.start, ocFmt(sh, loc), ok, w.user, w.start)
				}
			}
		})
	}
}

// TestConfigWallTimesInDSTHours: a roster change, rotation and schedule
// overrides and a maintenance window written as wall-clock times inside a
// skipped or repeated hour follow the same rule as handoffs.
func TestConfigWallTimesInDSTHours(t *testing.T) {
	s := ocSet(t, `global:
  timezone: Pacific/Chatham
departments:
  - id: ops
    rotations:
      - id: r
        timezone: Europe/London
        start: "2026-01-05 09:00"
        shift: 1d
        members: [alice]
        changes:
          - {at: "2026-10-25 01:30", members: [bob]}
        overrides:
          - {user: carol, start: "2026-03-29 01:15", end: "2026-03-29 02:45"}
          - {user: erin, start: "2026-10-25T01:30:00+00:00", end: "2026-10-25T01:45:00+00:00"}
      - id: ny
        timezone: America/New_York
        start: "2026-01-05 09:00"
        shift: 1d
        members: [alice]
        changes:
          - {at: "2026-03-08 02:30", members: [bob, carol]}
    schedules:
      - id: s
        layers: [r]
        overrides:
          - {user: dave, start: "2026-04-05 03:00", end: "2026-04-05 03:30"}
maintenance_windows:
  - {name: m, departments: [ops], start: "2026-09-27 03:00", end: "2026-09-27 04:30"}
`)
	london, chatham, ny := ocLoc(t, "Europe/London"), ocLoc(t, "Pacific/Chatham"), ocLoc(t, "America/New_York")
	tests := []struct {
		name, id, from, to string
		loc                *time.Location
		want               []utcWant
	}{
		{"a roster change at a repeated 01:30 is its first occurrence", "r", "2026-10-24T12:00:00Z", "2026-10-25T12:00:00Z", london, []utcWant{
			{"alice", "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z"},
			{"bob", "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"},
			{"erin", "2026-10-25T01:30:00Z", "2026-10-25T01:45:00Z"}, // the second 01:30, by its offset
			{"bob", "2026-10-25T01:45:00Z", "2026-10-25T12:00:00Z"}}},
		{"a roster change at a skipped 02:30 keeps 02:30 handoffs after it", "ny", "2026-03-08T06:00:00Z", "2026-03-10T12:00:00Z", ny, []utcWant{
			{"alice", "2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z"}, // 09:00 handoffs until the change
			{"bob", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"},   // from 03:00 EDT, the moment 02:30 is passed
			{"carol", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"}, // 02:30 EDT
			{"bob", "2026-03-10T06:30:00Z", "2026-03-10T12:00:00Z"}}},
		{"an override from a skipped 01:15 starts when the clock jumps", "r", "2026-03-29T00:00:00Z", "2026-03-29T03:00:00Z", london, []utcWant{
			{"alice", "2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z"},
			{"carol", "2026-03-29T01:00:00Z", "2026-03-29T01:45:00Z"},
			{"alice", "2026-03-29T01:45:00Z", "2026-03-29T03:00:00Z"}}},
		{"a schedule override in global.timezone's repeated hour", "s", "2026-04-04T13:00:00Z", "2026-04-04T14:00:00Z", chatham, []utcWant{
			{"alice", "2026-04-04T13:00:00Z", "2026-04-04T13:15:00Z"},
			{"dave", "2026-04-04T13:15:00Z", "2026-04-04T13:45:00Z"},
			{"alice", "2026-04-04T13:45:00Z", "2026-04-04T14:00:00Z"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Shifts(tt.id, utc(t, tt.from), utc(t, tt.to))
			if err != nil {
				t.Fatal(err)
			}
			utcCheck(t, tt.loc, got, tt.want)
		})
	}
	// 03:00–04:30 on 2026-09-27 in Chatham: 03:00 is skipped (02:45 +1245 -> 03:45 +1345),
	// so the window opens when the clock jumps, 14:00Z, and closes at 04:30 +1345.
	for at, want := range map[string]bool{
		"2026-09-26T13:59:00Z": false, "2026-09-26T14:00:00Z": true, "2026-09-26T14:44:00Z": true, "2026-09-26T14:45:00Z": false,
	} {
		if _, got := s.InMaintenance("ops", "", utc(t, at)); got != want {
			t.Errorf("InMaintenance at %s = %v, want %v", at, got, want)
		}
	}
}

// clockOracle gives, for sorted wall times (read as UTC), the first UTC
// minute at which loc's clock shows each of them or later, by reading the
// clock (t.In(loc), the direction with one answer) minute by minute from 16h
// before the first: no zone is 16h ahead of UTC, so the scan starts before it.
func clockOracle(walls []time.Time, loc *time.Location) []time.Time {
	out := make([]time.Time, 0, len(walls))
	for u := walls[0].Add(-16 * time.Hour); len(out) < len(walls); u = u.Add(time.Minute) {
		_, off := u.In(loc).Zone()
		clock := u.Add(time.Duration(off) * time.Second)
		for len(out) < len(walls) && !clock.Before(walls[len(out)]) {
			out = append(out, u)
		}
	}
	return out
}

// TestPropertyHandoffsMatchClockOracle: for a shift that is whole days or
// divides a day, handoff k's wall time is start's wall time + k×shift
// (counting a wall-clock day as 24h), so the handoffs are the oracle's first
// instants for those wall times. Checked around every 2026 offset change of
// the property zones, for random starts and every such length.
func TestPropertyHandoffsMatchClockOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 4))
	members := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace"} // 7: no merges across empty turns
	shifts := []struct {
		name string
		d    time.Duration
	}{{"15m", 15 * time.Minute}, {"30m", 30 * time.Minute}, {"45m", 45 * time.Minute}, {"1h", time.Hour}, {"90m", 90 * time.Minute},
		{"3h", 3 * time.Hour}, {"8h", 8 * time.Hour}, {"12h", 12 * time.Hour}, {"1d", 24 * time.Hour}, {"2d", 48 * time.Hour}, {"1w", 168 * time.Hour}}
	year := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	checked := 0
	for _, zone := range propZones {
		loc := ocLoc(t, zone)
		var changes []time.Time // the hours of 2026 whose offset differs from the hour before
		_, prev := year.In(loc).Zone()
		for u := year; u.Year() == 2026; u = u.Add(time.Hour) {
			if _, off := u.In(loc).Zone(); off != prev {
				changes, prev = append(changes, u), off
			}
		}
		for _, change := range changes {
			for _, sh := range shifts {
				name, shift := sh.name, sh.d
				// A start wall time within a week before the change, on any minute.
				start := change.Add(-time.Duration(rng.Int64N(int64(7*24*60))) * time.Minute).Truncate(time.Minute)
				start = start.Add(time.Duration(rng.IntN(12)-6) * time.Hour) // read as wall time: near, not at, the UTC hour
				from, to := change.Add(-36*time.Hour), change.Add(36*time.Hour)
				s := ocSet(t, fmt.Sprintf("departments:\n  - id: ops\n    rotations:\n      - {id: r, timezone: %s, start: %q, shift: %s, members: [%s]}\n",
					zone, start.Format("2006-01-02 15:04"), name, strings.Join(members, ", ")))
				// Wall times of handoffs k0…k1: a wall time is within 16h of its instant.
				k0 := int(from.Add(-16*time.Hour).Sub(start)/shift) - 1
				k1 := int(to.Add(16*time.Hour).Sub(start)/shift) + 1
				var walls []time.Time
				for k := k0; k <= k1; k++ {
					walls = append(walls, start.Add(time.Duration(k)*shift))
				}
				at := clockOracle(walls, loc)
				var want []utcWant
				for i := 0; i+1 < len(at); i++ {
					lo, hi := later(at[i], from), earlier(at[i+1], to)
					if !lo.Before(hi) {
						continue
					}
					k := k0 + i
					want = append(want, utcWant{members[((k%7)+7)%7], lo.Format(time.RFC3339), hi.Format(time.RFC3339)})
				}
				got, err := s.Shifts("r", from, to)
				if err != nil {
					t.Fatal(err)
				}
				t.Run(fmt.Sprintf("%s %s from %s", zone, name, start.Format("2006-01-02 15:04")), func(t *testing.T) {
					utcCheck(t, loc, got, want)
				})
				checked++
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d rotations checked: the zones' 2026 changes were not found", checked)
	}
}
