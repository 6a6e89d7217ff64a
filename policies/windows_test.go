package policies

import (
	"testing"
	"time"
)

const nightsYAML = `time_intervals:
  - name: nights
    time_intervals:
      - weekdays: ["monday:friday"]
        times: [{start_time: "18:00", end_time: "24:00"}, {start_time: "00:00", end_time: "09:00"}]
        location: Asia/Tokyo
      - weekdays: ["saturday", "sunday"]
        location: Asia/Tokyo
departments:
  - id: ops
    rotations:
      - id: night
        timezone: Asia/Tokyo
        start: "2026-01-05 18:00"
        shift: 1w
        members: [alice, bob]
        active: [nights]
`

func TestWindowsAcrossMidnight(t *testing.T) {
	loc := ocLoc(t, "Asia/Tokyo")
	s := ocSet(t, nightsYAML)
	got, err := s.Shifts("night", ocAt(t, loc, "2026-01-05 00:00"), ocAt(t, loc, "2026-01-12 12:00"))
	if err != nil {
		t.Fatal(err)
	}
	ocCheck(t, loc, got, []ocWant{
		{user: "bob", start: "2026-01-05 00:00", end: "2026-01-05 09:00"}, // before start: the last member
		{user: "alice", start: "2026-01-05 18:00", end: "2026-01-06 09:00"},
		{user: "alice", start: "2026-01-06 18:00", end: "2026-01-07 09:00"},
		{user: "alice", start: "2026-01-07 18:00", end: "2026-01-08 09:00"},
		{user: "alice", start: "2026-01-08 18:00", end: "2026-01-09 09:00"},
		{user: "alice", start: "2026-01-09 18:00", end: "2026-01-12 09:00"}, // Friday night through the weekend
	})
	for _, daytime := range []string{"2026-01-05 09:00", "2026-01-06 12:00", "2026-01-09 17:59"} {
		if sh, ok := s.OnCall("night", ocAt(t, loc, daytime)); ok {
			t.Errorf("OnCall(%s) = %s, want nobody in the daytime", daytime, ocFmt(sh, loc))
		}
	}
	sh, ok := s.OnCall("night", ocAt(t, loc, "2026-01-10 12:00"))
	if !ok || sh.User != "alice" || !sh.Start.Equal(ocAt(t, loc, "2026-01-09 18:00")) || !sh.End.Equal(ocAt(t, loc, "2026-01-12 09:00")) {
		t.Errorf("OnCall(Saturday) = %s, %v; want alice Fri 18:00 – Mon 09:00", ocFmt(sh, loc), ok)
	}
}

func TestOverrideWhereWindowsLeaveNobody(t *testing.T) {
	loc := ocLoc(t, "Asia/Tokyo")
	s := ocSet(t, nightsYAML+`        overrides:
          - {user: carol, start: "2026-01-06 08:00", end: "2026-01-06 12:00"}
`)
	got, _ := s.Shifts("night", ocAt(t, loc, "2026-01-06 00:00"), ocAt(t, loc, "2026-01-06 20:00"))
	ocCheck(t, loc, got, []ocWant{
		{user: "alice", start: "2026-01-06 00:00", end: "2026-01-06 08:00"},
		{user: "carol", start: "2026-01-06 08:00", end: "2026-01-06 12:00", override: true},
		{user: "alice", start: "2026-01-06 18:00", end: "2026-01-06 20:00"},
	})
}

// TestWindowsAcrossDST checks that a window's edges follow its own zone's
// wall clock, including in a fall-back hour that the clock shows twice.
func TestWindowsAcrossDST(t *testing.T) {
	ny := ocLoc(t, "America/New_York")
	s := ocSet(t, `time_intervals:
  - name: early
    time_intervals:
      - times: [{start_time: "01:15", end_time: "01:45"}, {start_time: "09:00", end_time: "17:00"}]
        location: America/New_York
departments:
  - id: ops
    rotations:
      - {id: r, timezone: UTC, start: "2026-01-05 00:00", shift: 1w, members: [alice], active: [early]}
`)
	// 2026-11-01: 01:00–02:00 EDT, then 01:00–02:00 EST again.
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, ny)
	got, _ := s.Shifts("r", from, from.Add(24*time.Hour))
	edt, est := time.FixedZone("EDT", -4*3600), time.FixedZone("EST", -5*3600)
	wantSpans := [][2]time.Time{
		{time.Date(2026, 11, 1, 1, 15, 0, 0, edt), time.Date(2026, 11, 1, 1, 45, 0, 0, edt)},
		{time.Date(2026, 11, 1, 1, 15, 0, 0, est), time.Date(2026, 11, 1, 1, 45, 0, 0, est)},
		{time.Date(2026, 11, 1, 9, 0, 0, 0, est), time.Date(2026, 11, 1, 17, 0, 0, 0, est)},
	}
	if len(got) != len(wantSpans) {
		t.Fatalf("got %d shifts, want %d:\n%s", len(got), len(wantSpans), ocDump(got, ny))
	}
	for i, w := range wantSpans {
		if !got[i].Start.Equal(w[0]) || !got[i].End.Equal(w[1]) {
			t.Errorf("shift %d = %s, want %s–%s", i, ocFmt(got[i], ny), w[0], w[1])
		}
	}
	// On 2026-03-08 01:15–01:45 EST exists and 02:00–03:00 does not.
	from = time.Date(2026, 3, 8, 0, 0, 0, 0, ny)
	got, _ = s.Shifts("r", from, from.Add(23*time.Hour))
	utcCheck(t, ny, got, []utcWant{
		{"alice", "2026-03-08T06:15:00Z", "2026-03-08T06:45:00Z"}, // 01:15–01:45 EST
		{"alice", "2026-03-08T13:00:00Z", "2026-03-08T21:00:00Z"}, // 09:00–17:00 EDT
	})
}

func TestWindowsWithoutLocationAreUTC(t *testing.T) {
	s := ocSet(t, `time_intervals:
  - name: utc-morning
    time_intervals:
      - times: [{start_time: "06:00", end_time: "07:00"}]
departments:
  - id: ops
    rotations:
      - {id: r, timezone: Asia/Tokyo, start: "2026-01-05 00:00", shift: 1d, members: [alice], active: [utc-morning]}
`)
	from := time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC)
	got, _ := s.Shifts("r", from, from.Add(24*time.Hour))
	ocCheck(t, time.UTC, got, []ocWant{{user: "alice", start: "2026-01-06 06:00", end: "2026-01-06 07:00"}})
}
