package policies

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRotationHandoffs(t *testing.T) {
	tests := []struct {
		name     string
		zone     string
		rotation string // one rotation "r" in YAML flow style
		from, to string // wall clock in zone
		want     []ocWant
	}{
		{
			name:     "Tokyo weekly Monday 10:00, the cycle extends before start",
			zone:     "Asia/Tokyo",
			rotation: `{id: r, timezone: Asia/Tokyo, start: "2026-01-05 10:00", shift: 1w, members: [alice, bob, carol]}`,
			from:     "2025-12-29 00:00", to: "2026-01-20 00:00",
			want: []ocWant{
				{user: "bob", start: "2025-12-29 00:00", end: "2025-12-29 10:00"},
				{user: "carol", start: "2025-12-29 10:00", end: "2026-01-05 10:00"},
				{user: "alice", start: "2026-01-05 10:00", end: "2026-01-12 10:00"},
				{user: "bob", start: "2026-01-12 10:00", end: "2026-01-19 10:00"},
				{user: "carol", start: "2026-01-19 10:00", end: "2026-01-20 00:00"},
			},
		},
		{
			name:     "New York daily 09:00 across spring forward: the 7th's shift is 23h",
			zone:     "America/New_York",
			rotation: `{id: r, timezone: America/New_York, start: "2026-01-05 09:00", shift: 1d, members: [alice, bob]}`,
			from:     "2026-03-07 00:00", to: "2026-03-10 00:00",
			want: []ocWant{
				{user: "alice", start: "2026-03-07 00:00", end: "2026-03-07 09:00"},
				{user: "bob", start: "2026-03-07 09:00", end: "2026-03-08 09:00"},
				{user: "alice", start: "2026-03-08 09:00", end: "2026-03-09 09:00"},
				{user: "bob", start: "2026-03-09 09:00", end: "2026-03-10 00:00"},
			},
		},
		{
			name:     "New York daily 09:00 across fall back: the 31st's shift is 25h",
			zone:     "America/New_York",
			rotation: `{id: r, timezone: America/New_York, start: "2026-01-05 09:00", shift: 1d, members: [alice, bob]}`,
			from:     "2026-10-31 09:00", to: "2026-11-02 09:00",
			want: []ocWant{
				{user: "bob", start: "2026-10-31 09:00", end: "2026-11-01 09:00"},
				{user: "alice", start: "2026-11-01 09:00", end: "2026-11-02 09:00"},
			},
		},
		{
			name:     "London daily 09:00 across 2026-03-29",
			zone:     "Europe/London",
			rotation: `{id: r, timezone: Europe/London, start: "2026-01-05 09:00", shift: 1d, members: [alice, bob]}`,
			from:     "2026-03-28 09:00", to: "2026-03-30 09:00",
			want: []ocWant{
				{user: "alice", start: "2026-03-28 09:00", end: "2026-03-29 09:00"},
				{user: "bob", start: "2026-03-29 09:00", end: "2026-03-30 09:00"},
			},
		},
		{
			name:     "London daily 09:00 across 2026-10-25",
			zone:     "Europe/London",
			rotation: `{id: r, timezone: Europe/London, start: "2026-01-05 09:00", shift: 1d, members: [alice, bob]}`,
			from:     "2026-10-24 09:00", to: "2026-10-26 09:00",
			want: []ocWant{
				{user: "alice", start: "2026-10-24 09:00", end: "2026-10-25 09:00"},
				{user: "bob", start: "2026-10-25 09:00", end: "2026-10-26 09:00"},
			},
		},
		{
			name:     "12h shifts keep 09:00 and 21:00 across spring forward",
			zone:     "America/New_York",
			rotation: `{id: r, timezone: America/New_York, start: "2026-01-05 09:00", shift: 12h, members: [alice, bob, carol]}`,
			from:     "2026-03-07 09:00", to: "2026-03-09 09:00",
			want: []ocWant{
				{user: "carol", start: "2026-03-07 09:00", end: "2026-03-07 21:00"},
				{user: "alice", start: "2026-03-07 21:00", end: "2026-03-08 09:00"}, // 11h
				{user: "bob", start: "2026-03-08 09:00", end: "2026-03-08 21:00"},
				{user: "carol", start: "2026-03-08 21:00", end: "2026-03-09 09:00"},
			},
		},
		{
			name:     "36h runs in elapsed time, so handoffs drift an hour with DST",
			zone:     "America/New_York",
			rotation: `{id: r, timezone: America/New_York, start: "2026-03-07 00:00", shift: 36h, members: [alice, bob]}`,
			from:     "2026-03-07 00:00", to: "2026-03-11 00:00",
			want: []ocWant{
				{user: "alice", start: "2026-03-07 00:00", end: "2026-03-08 13:00"},
				{user: "bob", start: "2026-03-08 13:00", end: "2026-03-10 01:00"},
				{user: "alice", start: "2026-03-10 01:00", end: "2026-03-11 00:00"},
			},
		},
		{
			name:     "a one-member rotation is one shift",
			zone:     "UTC",
			rotation: `{id: r, start: "2026-01-05 09:00", shift: 1d, members: [alice]}`,
			from:     "2026-01-01 00:00", to: "2026-02-01 00:00",
			want: []ocWant{{user: "alice", start: "2026-01-01 00:00", end: "2026-02-01 00:00"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ocSet(t, "departments:\n  - id: ops\n    rotations:\n      - "+tt.rotation+"\n")
			loc := ocLoc(t, tt.zone)
			got, err := s.Shifts("r", ocAt(t, loc, tt.from), ocAt(t, loc, tt.to))
			if err != nil {
				t.Fatal(err)
			}
			ocCheck(t, loc, got, tt.want)
		})
	}
}

// TestDSTShiftLengths states the demand in elapsed hours, so a
// mistake in the wall-clock helpers above cannot hide one here.
func TestDSTShiftLengths(t *testing.T) {
	tests := []struct {
		zone, start, shift, at string
		want                   time.Duration
	}{
		{"America/New_York", "2026-01-05 09:00", "1d", "2026-03-07 12:00", 23 * time.Hour},
		{"America/New_York", "2026-01-05 09:00", "1d", "2026-10-31 12:00", 25 * time.Hour},
		{"America/New_York", "2026-01-05 09:00", "1d", "2026-03-09 12:00", 24 * time.Hour},
		{"Europe/London", "2026-01-05 09:00", "1d", "2026-03-28 12:00", 23 * time.Hour},
		{"Europe/London", "2026-01-05 09:00", "1d", "2026-10-24 12:00", 25 * time.Hour},
		{"Europe/London", "2026-01-05 09:00", "1w", "2026-03-27 12:00", 7*24*time.Hour - time.Hour},
		{"Asia/Tokyo", "2026-01-05 10:00", "1w", "2026-03-10 12:00", 7 * 24 * time.Hour},
		{"America/New_York", "2026-01-05 09:00", "12h", "2026-03-07 22:00", 11 * time.Hour},
		{"America/New_York", "2026-01-05 09:00", "12h", "2026-10-31 22:00", 13 * time.Hour},
		{"America/New_York", "2026-01-05 09:00", "36h", "2026-03-08 12:00", 36 * time.Hour},
	}
	for _, tt := range tests {
		s := ocSet(t, "departments:\n  - id: ops\n    rotations:\n      - {id: r, timezone: "+tt.zone+`, start: "`+tt.start+`", shift: `+tt.shift+", members: [alice, bob]}\n")
		loc := ocLoc(t, tt.zone)
		sh, ok := s.OnCall("r", ocAt(t, loc, tt.at))
		if !ok {
			t.Errorf("%s %s at %s: nobody on call", tt.zone, tt.shift, tt.at)
			continue
		}
		if got := sh.End.Sub(sh.Start); got != tt.want {
			t.Errorf("%s %s at %s: shift %s lasts %s, want %s", tt.zone, tt.shift, tt.at, ocFmt(sh, loc), got, tt.want)
		}
	}
}

func TestRosterChange(t *testing.T) {
	const before = `departments:
  - id: ops
    rotations:
      - {id: r, timezone: Asia/Tokyo, start: "2026-01-05 09:00", shift: 1d, members: [alice, bob, carol]}
`
	const after = `departments:
  - id: ops
    rotations:
      - id: r
        timezone: Asia/Tokyo
        start: "2026-01-05 09:00"
        shift: 1d
        members: [alice, bob, carol]
        changes:
          - {at: "2026-01-10 09:00", members: [dave, erin]}
          - {at: "2026-01-12 21:00", members: [frank]}
`
	loc := ocLoc(t, "Asia/Tokyo")
	from, change, to := ocAt(t, loc, "2026-01-01 00:00"), ocAt(t, loc, "2026-01-10 09:00"), ocAt(t, loc, "2026-01-14 00:00")
	old, changed := ocSet(t, before), ocSet(t, after)
	pastOld, _ := old.Shifts("r", from, change)
	pastNew, _ := changed.Shifts("r", from, change)
	if len(pastOld) == 0 || ocDump(pastOld, loc) != ocDump(pastNew, loc) {
		t.Errorf("the past changed:\nbefore:\n%s\nafter:\n%s", ocDump(pastOld, loc), ocDump(pastNew, loc))
	}
	future, _ := changed.Shifts("r", ocAt(t, loc, "2026-01-09 00:00"), to)
	ocCheck(t, loc, future, []ocWant{
		{user: "alice", start: "2026-01-09 00:00", end: "2026-01-09 09:00"}, // the 8th's shift
		{user: "bob", start: "2026-01-09 09:00", end: "2026-01-10 09:00"},
		{user: "dave", start: "2026-01-10 09:00", end: "2026-01-11 09:00"},
		{user: "erin", start: "2026-01-11 09:00", end: "2026-01-12 09:00"},
		{user: "dave", start: "2026-01-12 09:00", end: "2026-01-12 21:00"},  // cut short: the restart wins
		{user: "frank", start: "2026-01-12 21:00", end: "2026-01-14 00:00"}, // one member: merged
	})
	// A change at 21:00 moves later handoffs to 21:00: the pattern is anchored at the change.
	sh, ok := changed.OnCall("r", ocAt(t, loc, "2026-01-13 22:00"))
	if !ok || !sh.Start.Equal(ocAt(t, loc, "2026-01-13 21:00")) || !sh.End.Equal(ocAt(t, loc, "2026-01-14 21:00")) {
		t.Errorf("OnCall after the 21:00 change = %s, %v; want frank 01-13 21:00–01-14 21:00", ocFmt(sh, loc), ok)
	}
}

func TestOverrides(t *testing.T) {
	// Weekly handoff on Wednesday 10:00; frank covers Tue 12:00 – Thu 12:00 across it.
	const rot = `departments:
  - id: ops
    rotations:
      - id: r
        timezone: Asia/Tokyo
        start: "2026-01-07 10:00"
        shift: 1w
        members: [alice, bob]
        overrides:
          - {user: frank, start: "2026-01-06 12:00", end: "2026-01-08 12:00"}
`
	loc := ocLoc(t, "Asia/Tokyo")
	tests := []struct {
		name  string
		extra string
		want  []ocWant
	}{
		{
			name: "one override over a handoff",
			want: []ocWant{
				{user: "bob", start: "2026-01-05 00:00", end: "2026-01-06 12:00"},
				{user: "frank", start: "2026-01-06 12:00", end: "2026-01-08 12:00", override: true},
				{user: "alice", start: "2026-01-08 12:00", end: "2026-01-09 00:00"},
			},
		},
		{
			name:  "a later override wins where they overlap",
			extra: `          - {user: grace, start: "2026-01-07 00:00", end: "2026-01-07 06:00"}` + "\n",
			want: []ocWant{
				{user: "bob", start: "2026-01-05 00:00", end: "2026-01-06 12:00"},
				{user: "frank", start: "2026-01-06 12:00", end: "2026-01-07 00:00", override: true},
				{user: "grace", start: "2026-01-07 00:00", end: "2026-01-07 06:00", override: true},
				{user: "frank", start: "2026-01-07 06:00", end: "2026-01-08 12:00", override: true},
				{user: "alice", start: "2026-01-08 12:00", end: "2026-01-09 00:00"},
			},
		},
		{
			name:  "an override for the member already on call still shows as an override",
			extra: `          - {user: alice, start: "2026-01-08 18:00", end: "2026-01-08 20:00"}` + "\n",
			want: []ocWant{
				{user: "bob", start: "2026-01-05 00:00", end: "2026-01-06 12:00"},
				{user: "frank", start: "2026-01-06 12:00", end: "2026-01-08 12:00", override: true},
				{user: "alice", start: "2026-01-08 12:00", end: "2026-01-08 18:00"},
				{user: "alice", start: "2026-01-08 18:00", end: "2026-01-08 20:00", override: true},
				{user: "alice", start: "2026-01-08 20:00", end: "2026-01-09 00:00"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ocSet(t, rot+tt.extra)
			got, err := s.Shifts("r", ocAt(t, loc, "2026-01-05 00:00"), ocAt(t, loc, "2026-01-09 00:00"))
			if err != nil {
				t.Fatal(err)
			}
			ocCheck(t, loc, got, tt.want)
		})
	}
	s := ocSet(t, rot)
	sh, ok := s.OnCall("r", ocAt(t, loc, "2026-01-07 10:30"))
	if !ok || sh.User != "frank" || !sh.Override || !sh.Start.Equal(ocAt(t, loc, "2026-01-06 12:00")) || !sh.End.Equal(ocAt(t, loc, "2026-01-08 12:00")) {
		t.Errorf("OnCall during the override = %s, %v; want frank's whole override", ocFmt(sh, loc), ok)
	}
	sh, ok = s.OnCall("r", ocAt(t, loc, "2026-01-10 10:30"))
	if !ok || sh.User != "alice" || !sh.Start.Equal(ocAt(t, loc, "2026-01-08 12:00")) || !sh.End.Equal(ocAt(t, loc, "2026-01-14 10:00")) {
		t.Errorf("OnCall after the override = %s, %v; want alice from the override's end to her handoff", ocFmt(sh, loc), ok)
	}
}

// Property tests: random rotations in zones with unusual DST rules
// (Lord Howe moves 30 minutes, Chatham has a :45 offset), with lengths of
// every layout, checked against rules rather than against expected lists.

var propZones = []string{"UTC", "Asia/Tokyo", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Chatham", "America/Santiago", "Asia/Kolkata"}

var propShifts = []string{"15m", "30m", "1h", "90m", "5h", "8h", "12h", "1d", "2d", "1w", "36h", "2w"}

// randomRotations writes n rotations r0…r(n-1); with extras, some get
// windows, overrides and roster changes, and schedules s0… layer them.
func randomRotations(rng *rand.Rand, n int, extras bool) string {
	var b strings.Builder
	b.WriteString(`time_intervals:
  - name: office
    time_intervals:
      - weekdays: ["monday:friday"]
        times: [{start_time: "08:30", end_time: "17:45"}]
        location: Europe/London
  - name: nights
    time_intervals:
      - times: [{start_time: "20:00", end_time: "24:00"}, {start_time: "00:00", end_time: "02:30"}]
        location: America/New_York
      - weekdays: ["saturday"]
        location: Australia/Lord_Howe
departments:
  - id: ops
    rotations:
`)
	base := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	stamp := func() string {
		return base.Add(time.Duration(rng.IntN(2*365*24*60)) * time.Minute).Format("2006-01-02 15:04")
	}
	for i := range n {
		fmt.Fprintf(&b, "      - id: r%d\n        timezone: %s\n        start: %q\n        shift: %s\n        members: [", i, propZones[rng.IntN(len(propZones))], stamp(), propShifts[rng.IntN(len(propShifts))])
		for j := range 1 + rng.IntN(4) {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(ocUsers[rng.IntN(len(ocUsers))])
		}
		b.WriteString("]\n")
		if !extras {
			continue
		}
		if rng.IntN(2) == 0 {
			b.WriteString("        active: [" + []string{"office", "nights", "office, nights"}[rng.IntN(3)] + "]\n")
		}
		if rng.IntN(2) == 0 {
			b.WriteString("        overrides:\n")
			for range 1 + rng.IntN(3) {
				start := base.Add(time.Duration(rng.IntN(2*365*24*60)) * time.Minute)
				end := start.Add(time.Duration(1+rng.IntN(10*24*60)) * time.Minute)
				fmt.Fprintf(&b, "          - {user: %s, start: %q, end: %q}\n", ocUsers[rng.IntN(len(ocUsers))], start.Format(time.RFC3339), end.Format(time.RFC3339))
			}
		}
	}
	if extras {
		b.WriteString("    schedules:\n")
		for i := range n / 2 {
			fmt.Fprintf(&b, "      - {id: s%d, layers: [r%d, r%d, r%d]}\n", i, rng.IntN(n), rng.IntN(n), rng.IntN(n))
		}
	}
	return b.String()
}

// checkTiling asserts shifts are non-empty, in order, without overlaps,
// inside [from, to), and never two touching shifts of one user and source.
func checkTiling(t *testing.T, id string, shifts []Shift, from, to time.Time) {
	t.Helper()
	for i, s := range shifts {
		if !s.Start.Before(s.End) || s.Start.Before(from) || s.End.After(to) {
			t.Fatalf("%s: shift %d %v–%v is empty or outside %v–%v", id, i, s.Start, s.End, from, to)
		}
		if i > 0 {
			p := shifts[i-1]
			if s.Start.Before(p.End) {
				t.Fatalf("%s: shifts %d and %d overlap: %v–%v, %v–%v", id, i-1, i, p.Start, p.End, s.Start, s.End)
			}
			if s.Start.Equal(p.End) && s.User == p.User && s.Rotation == p.Rotation && s.Override == p.Override {
				t.Fatalf("%s: shifts %d and %d should have been merged", id, i-1, i)
			}
		}
	}
}

func TestPropertyExactlyOneOnCall(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		s := ocSet(t, randomRotations(rng, 10, false))
		for i := range 10 {
			id := fmt.Sprintf("r%d", i)
			from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(3 * 365 * oneDay))))
			to := from.Add(time.Duration(1 + rng.Int64N(int64(60*oneDay))))
			got, err := s.Shifts(id, from, to)
			if err != nil {
				t.Fatal(err)
			}
			checkTiling(t, id, got, from, to)
			if len(got) == 0 || !got[0].Start.Equal(from) || !got[len(got)-1].End.Equal(to) {
				t.Fatalf("round %d %s: shifts do not cover %v–%v", round, id, from, to)
			}
			for j := 1; j < len(got); j++ {
				if !got[j].Start.Equal(got[j-1].End) {
					t.Fatalf("round %d %s: nobody on call %v–%v", round, id, got[j-1].End, got[j].Start)
				}
			}
		}
	}
}

func TestPropertySplitAndOnCall(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 20 {
		s := ocSet(t, randomRotations(rng, 10, true))
		ids := make([]string, 0, 15)
		for i := range 10 {
			ids = append(ids, fmt.Sprintf("r%d", i))
		}
		for i := range 5 {
			ids = append(ids, fmt.Sprintf("s%d", i))
		}
		for _, id := range ids {
			a := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(2 * 365 * oneDay))))
			c := a.Add(time.Duration(1 + rng.Int64N(int64(30*oneDay))))
			b := a.Add(time.Duration(rng.Int64N(int64(c.Sub(a)))))
			whole, _ := s.Shifts(id, a, c)
			left, _ := s.Shifts(id, a, b)
			right, _ := s.Shifts(id, b, c)
			checkTiling(t, id, whole, a, c)
			joined := merge(append(append([]Shift{}, left...), right...))
			if !slices.EqualFunc(whole, joined, shiftEqual) {
				t.Fatalf("round %d %s: Shifts(a,c) != Shifts(a,b) ∪ Shifts(b,c)\nwhole:\n%s\njoined:\n%s", round, id, ocDump(whole, time.UTC), ocDump(joined, time.UTC))
			}
			for range 20 {
				at := a.Add(time.Duration(rng.Int64N(int64(c.Sub(a)))))
				piece, inShifts := covering(whole, at)
				sh, onCall := s.OnCall(id, at)
				if inShifts != onCall {
					t.Fatalf("round %d %s at %v: OnCall says %v, Shifts says %v", round, id, at, onCall, inShifts)
				}
				if !onCall {
					continue
				}
				if !sh.contains(at) || sh.User != piece.User || sh.Rotation != piece.Rotation || sh.Override != piece.Override {
					t.Fatalf("round %d %s at %v: OnCall %s, Shifts %s", round, id, at, ocFmt(sh, time.UTC), ocFmt(piece, time.UTC))
				}
				// Both describe the same stretch: clipped to [a, c), OnCall's shift lies within Shifts' piece.
				if later(sh.Start, a).Before(piece.Start) || earlier(sh.End, c).After(piece.End) {
					t.Fatalf("round %d %s at %v: OnCall %s spills out of Shifts' %s", round, id, at, ocFmt(sh, time.UTC), ocFmt(piece, time.UTC))
				}
			}
		}
	}
}

func shiftEqual(a, b Shift) bool {
	return a.User == b.User && a.Rotation == b.Rotation && a.Override == b.Override && a.Start.Equal(b.Start) && a.End.Equal(b.End)
}

// FuzzRotationTiling feeds arbitrary zones, lengths and starts to the
// handoff math and checks the one rule that must always hold: without
// windows or overrides, one member is on call at every instant.
func FuzzRotationTiling(f *testing.F) {
	f.Add(uint8(2), uint16(24*60), int32(0), int32(61*24*60), uint16(3*24*60))     // New York daily, spring forward
	f.Add(uint8(4), uint16(30), int32(5), int32(-400*24*60), uint16(2*24*60))      // Lord Howe 30m before start
	f.Add(uint8(5), uint16(36*60), int32(777), int32(300*24*60), uint16(9*24*60))  // Chatham 36h
	f.Add(uint8(3), uint16(8*60), int32(60), int32(292*24*60+1234), uint16(24*60)) // London 8h, fall back
	f.Fuzz(func(t *testing.T, zone uint8, shiftMin uint16, startMin, fromMin int32, spanMin uint16) {
		if shiftMin == 0 || spanMin == 0 {
			t.Skip()
		}
		base := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
		start := base.Add(time.Duration(startMin%(366*24*60)) * time.Minute)
		s := ocSet(t, fmt.Sprintf("departments:\n  - id: ops\n    rotations:\n      - {id: r, timezone: %s, start: %q, shift: %dm, members: [alice, bob, carol]}\n",
			propZones[int(zone)%len(propZones)], start.Format("2006-01-02 15:04"), shiftMin))
		from := base.Add(time.Duration(fromMin%(3*366*24*60)) * time.Minute)
		to := from.Add(time.Duration(spanMin) * time.Minute)
		got, err := s.Shifts("r", from, to)
		if err != nil {
			t.Fatal(err)
		}
		checkTiling(t, "r", got, from, to)
		if len(got) == 0 || !got[0].Start.Equal(from) || !got[len(got)-1].End.Equal(to) {
			t.Fatalf("shifts do not cover %v–%v:\n%s", from, to, ocDump(got, time.UTC))
		}
		for i := 1; i < len(got); i++ {
			if !got[i].Start.Equal(got[i-1].End) {
				t.Fatalf("nobody on call %v–%v", got[i-1].End, got[i].Start)
			}
		}
	})
}
