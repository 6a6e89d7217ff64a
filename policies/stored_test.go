package policies

import (
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/config"
)

const storedBody = `departments:
  - id: ops
    rotations:
      - id: r
        timezone: UTC
        start: "2026-01-05 09:00"
        shift: 1d
        members: [alice, bob, carol]
        overrides:
          - {user: erin, start: "2026-01-06 12:00", end: "2026-01-06 14:00"}
    schedules:
      - {id: s, layers: [r]}
  - id: eng
routes:
  - name: payments
    matchers: ['service="pay"']
    department: eng
    escalation_policy: p
`

func utcAt(d, h, m int) time.Time { return time.Date(2026, 1, d, h, m, 0, 0, time.UTC) }

// storedCovers are oldest first, as the store lists them.
var storedCovers = []Cover{
	{ID: "c1", For: "alice", By: "dave", Start: utcAt(5, 12, 0), End: utcAt(5, 15, 0)},
	{ID: "c2", For: "bob", By: "frank", Start: utcAt(6, 10, 0), End: utcAt(6, 20, 0)},
	{ID: "c3", For: "alice", By: "grace", Start: utcAt(5, 14, 0), End: utcAt(5, 16, 0)}, // newer: wins over c1
	{ID: "c4", For: "dave", By: "heidi", Start: utcAt(5, 13, 0), End: utcAt(5, 13, 30)}, // covers the cover
	{ID: "c5", For: "carol", By: "ivan", Rotation: "x", Start: utcAt(7, 9, 0), End: utcAt(8, 9, 0)},
}

func TestCoversReplaceFinalShifts(t *testing.T) {
	s := ocSet(t, storedBody).WithStored(storedCovers, nil)
	want := []Shift{
		{User: "alice", Start: utcAt(5, 9, 0), End: utcAt(5, 12, 0), Rotation: "r"},
		{User: "dave", Start: utcAt(5, 12, 0), End: utcAt(5, 13, 0), Rotation: "r", Override: true},
		{User: "heidi", Start: utcAt(5, 13, 0), End: utcAt(5, 13, 30), Rotation: "r", Override: true},
		{User: "dave", Start: utcAt(5, 13, 30), End: utcAt(5, 14, 0), Rotation: "r", Override: true},
		{User: "grace", Start: utcAt(5, 14, 0), End: utcAt(5, 16, 0), Rotation: "r", Override: true},
		{User: "alice", Start: utcAt(5, 16, 0), End: utcAt(6, 9, 0), Rotation: "r"},
		{User: "bob", Start: utcAt(6, 9, 0), End: utcAt(6, 10, 0), Rotation: "r"},
		{User: "frank", Start: utcAt(6, 10, 0), End: utcAt(6, 12, 0), Rotation: "r", Override: true},
		{User: "erin", Start: utcAt(6, 12, 0), End: utcAt(6, 14, 0), Rotation: "r", Override: true},
		{User: "frank", Start: utcAt(6, 14, 0), End: utcAt(6, 20, 0), Rotation: "r", Override: true},
		{User: "bob", Start: utcAt(6, 20, 0), End: utcAt(7, 9, 0), Rotation: "r"},
		{User: "carol", Start: utcAt(7, 9, 0), End: utcAt(8, 9, 0), Rotation: "r"},
	}
	for _, id := range []string{"r", "s"} {
		got, err := s.Shifts(id, utcAt(5, 9, 0), utcAt(8, 9, 0))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d shifts, want %d:\n%+v", id, len(got), len(want), got)
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.User != w.User || !g.Start.Equal(w.Start) || !g.End.Equal(w.End) || g.Rotation != w.Rotation || g.Override != w.Override {
				t.Errorf("%s: shift %d = %+v, want %+v", id, i, g, w)
			}
		}
	}
	for _, tc := range []struct {
		at         time.Time
		user       string
		start, end time.Time
	}{
		{utcAt(5, 13, 15), "heidi", utcAt(5, 13, 0), utcAt(5, 13, 30)},
		{utcAt(6, 15, 0), "frank", utcAt(6, 14, 0), utcAt(6, 20, 0)},
		{utcAt(6, 12, 30), "erin", utcAt(6, 12, 0), utcAt(6, 14, 0)},
		{utcAt(7, 10, 0), "carol", utcAt(7, 9, 0), utcAt(8, 9, 0)},
	} {
		for _, id := range []string{"r", "s"} {
			sh, ok := s.OnCall(id, tc.at)
			if !ok || sh.User != tc.user || !sh.Start.Equal(tc.start) || !sh.End.Equal(tc.end) {
				t.Errorf("OnCall(%s, %s) = %+v, %v; want %s from %s to %s", id, tc.at, sh, ok, tc.user, tc.start, tc.end)
			}
		}
	}
	if res := s.Resolve(config.Targets{Rotations: []string{"r"}}, utcAt(6, 15, 0)); len(res.Users) != 1 || res.Users[0] != "frank" {
		t.Errorf("Resolve at 15:00 on the 6th = %+v, want frank (covering bob)", res)
	}
}

func TestCoverScopedToARotation(t *testing.T) {
	s := ocSet(t, storedBody).WithStored([]Cover{{ID: "c", For: "carol", By: "ivan", Rotation: "r", Start: utcAt(7, 9, 0), End: utcAt(7, 10, 0)}}, nil)
	for _, id := range []string{"r", "s"} { // s shows r as its layer: the cover applies there too
		if sh, ok := s.OnCall(id, utcAt(7, 9, 30)); !ok || sh.User != "ivan" {
			t.Errorf("OnCall(%s) = %+v, %v; want ivan", id, sh, ok)
		}
	}
}

func TestWithStoredLeavesTheSetAlone(t *testing.T) {
	base := ocSet(t, storedBody)
	_ = base.WithStored(storedCovers, []Mute{{ID: "m", Department: "ops", Start: utcAt(5, 0, 0), End: utcAt(9, 0, 0)}})
	if sh, _ := base.OnCall("r", utcAt(5, 13, 15)); sh.User != "alice" {
		t.Errorf("the base set's OnCall = %+v, want alice: WithStored changed it", sh)
	}
	if _, ok := base.InMaintenance("ops", "", utcAt(5, 13, 0)); ok {
		t.Error("the base set is in maintenance: WithStored changed it")
	}
}

func TestMutesDecideMaintenance(t *testing.T) {
	mutes := []Mute{
		{ID: "m1", Route: "payments", Start: utcAt(5, 10, 0), End: utcAt(5, 10, 30)},
		{ID: "m2", Department: "ops", Start: utcAt(5, 11, 0), End: utcAt(5, 11, 30)},
	}
	s := ocSet(t, storedBody).WithStored(nil, mutes)
	pay := map[string]string{"service": "pay"}
	other := map[string]string{"service": "db"}
	for _, tc := range []struct {
		lbls   map[string]string
		at     time.Time
		window string
		until  time.Time
	}{
		{pay, utcAt(5, 9, 59), "", time.Time{}},
		{pay, utcAt(5, 10, 0), "mute:m1", utcAt(5, 10, 30)},
		{pay, utcAt(5, 10, 29), "mute:m1", utcAt(5, 10, 30)},
		{pay, utcAt(5, 10, 30), "", time.Time{}},
		{other, utcAt(5, 10, 10), "", time.Time{}},             // default route: ops, not muted then
		{other, utcAt(5, 11, 10), "mute:m2", utcAt(5, 11, 30)}, // ops muted
		{pay, utcAt(5, 11, 10), "", time.Time{}},               // payments is eng's
	} {
		ds := s.Route(tc.lbls, tc.at)
		d := ds[0]
		if tc.window == "" {
			if d.Action == ActionMaintenance {
				t.Errorf("%v at %s: muted by %s, want paging", tc.lbls, tc.at, d.Maintenance)
			}
			continue
		}
		if d.Action != ActionMaintenance || d.Maintenance != tc.window {
			t.Errorf("%v at %s: %s %q, want maintenance %s", tc.lbls, tc.at, d.Action, d.Maintenance, tc.window)
			continue
		}
		if until, ok := s.MutedUntil(d, tc.at); !ok || !until.Equal(tc.until) {
			t.Errorf("%v at %s: muted until %s, want %s", tc.lbls, tc.at, until, tc.until)
		}
	}
	// Ended early (the store set End to when): the recheck ends then.
	ended := s.WithStored(nil, []Mute{{ID: "m1", Route: "payments", Start: utcAt(5, 10, 0), End: utcAt(5, 10, 12)}})
	d := Decision{Action: ActionMaintenance, Maintenance: "mute:m1"}
	if until, _ := ended.MutedUntil(d, utcAt(5, 10, 5)); !until.Equal(utcAt(5, 10, 12)) {
		t.Errorf("an ended mute is muted until %s, want its end 10:12", until)
	}
	if until, _ := ended.MutedUntil(d, utcAt(5, 10, 20)); !until.Equal(utcAt(5, 10, 20)) {
		t.Errorf("after the mute's end MutedUntil = %s, want now: decide again", until)
	}
}
