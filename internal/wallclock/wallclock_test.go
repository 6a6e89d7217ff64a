package wallclock

import (
	"testing"
	"time"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestResolveAtDSTChanges states every expectation as a literal UTC instant,
// worked out by hand from the 2026 transitions in tzdata (comments), so
// nothing here leans on time.Date's reading of a local time.
func TestResolveAtDSTChanges(t *testing.T) {
	tests := []struct {
		zone, wall, want string
	}{
		// Europe/London, spring: 2026-03-29T01:00Z, 01:00 GMT -> 02:00 BST (01:00–01:59 skipped).
		{"Europe/London", "2026-03-29 00:59", "2026-03-29T00:59:00Z"},
		{"Europe/London", "2026-03-29 01:00", "2026-03-29T01:00:00Z"},
		{"Europe/London", "2026-03-29 01:30", "2026-03-29T01:00:00Z"},
		{"Europe/London", "2026-03-29 02:00", "2026-03-29T01:00:00Z"},
		{"Europe/London", "2026-03-29 02:30", "2026-03-29T01:30:00Z"},
		// Europe/London, autumn: 2026-10-25T01:00Z, 02:00 BST -> 01:00 GMT (01:00–01:59 twice).
		{"Europe/London", "2026-10-25 00:59", "2026-10-24T23:59:00Z"},
		{"Europe/London", "2026-10-25 01:00", "2026-10-25T00:00:00Z"},
		{"Europe/London", "2026-10-25 01:30", "2026-10-25T00:30:00Z"},
		{"Europe/London", "2026-10-25 01:59", "2026-10-25T00:59:00Z"},
		{"Europe/London", "2026-10-25 02:00", "2026-10-25T02:00:00Z"},
		// Australia/Lord_Howe, autumn: 2026-04-04T15:00Z, 02:00 +11 -> 01:30 +1030 (01:30–01:59 twice).
		{"Australia/Lord_Howe", "2026-04-05 01:29", "2026-04-04T14:29:00Z"},
		{"Australia/Lord_Howe", "2026-04-05 01:30", "2026-04-04T14:30:00Z"},
		{"Australia/Lord_Howe", "2026-04-05 01:45", "2026-04-04T14:45:00Z"},
		{"Australia/Lord_Howe", "2026-04-05 02:00", "2026-04-04T15:30:00Z"},
		// Australia/Lord_Howe, spring: 2026-10-03T15:30Z, 02:00 +1030 -> 02:30 +11 (02:00–02:29 skipped).
		{"Australia/Lord_Howe", "2026-10-04 01:59", "2026-10-03T15:29:00Z"},
		{"Australia/Lord_Howe", "2026-10-04 02:00", "2026-10-03T15:30:00Z"},
		{"Australia/Lord_Howe", "2026-10-04 02:15", "2026-10-03T15:30:00Z"},
		{"Australia/Lord_Howe", "2026-10-04 02:30", "2026-10-03T15:30:00Z"},
		{"Australia/Lord_Howe", "2026-10-04 02:45", "2026-10-03T15:45:00Z"},
		// Pacific/Chatham, autumn: 2026-04-04T14:00Z, 03:45 +1345 -> 02:45 +1245 (02:45–03:44 twice).
		{"Pacific/Chatham", "2026-04-05 02:44", "2026-04-04T12:59:00Z"},
		{"Pacific/Chatham", "2026-04-05 02:45", "2026-04-04T13:00:00Z"},
		{"Pacific/Chatham", "2026-04-05 03:00", "2026-04-04T13:15:00Z"},
		{"Pacific/Chatham", "2026-04-05 03:45", "2026-04-04T15:00:00Z"},
		// Pacific/Chatham, spring: 2026-09-26T14:00Z, 02:45 +1245 -> 03:45 +1345 (02:45–03:44 skipped).
		{"Pacific/Chatham", "2026-09-27 02:44", "2026-09-26T13:59:00Z"},
		{"Pacific/Chatham", "2026-09-27 02:45", "2026-09-26T14:00:00Z"},
		{"Pacific/Chatham", "2026-09-27 03:00", "2026-09-26T14:00:00Z"},
		{"Pacific/Chatham", "2026-09-27 03:45", "2026-09-26T14:00:00Z"},
		{"Pacific/Chatham", "2026-09-27 04:00", "2026-09-26T14:15:00Z"},
		// America/New_York, spring: 2026-03-08T07:00Z, 02:00 EST -> 03:00 EDT (02:00–02:59 skipped).
		{"America/New_York", "2026-03-08 01:59", "2026-03-08T06:59:00Z"},
		{"America/New_York", "2026-03-08 02:00", "2026-03-08T07:00:00Z"},
		{"America/New_York", "2026-03-08 02:30", "2026-03-08T07:00:00Z"},
		{"America/New_York", "2026-03-08 03:00", "2026-03-08T07:00:00Z"},
		{"America/New_York", "2026-03-08 03:30", "2026-03-08T07:30:00Z"},
		// America/New_York, autumn: 2026-11-01T06:00Z, 02:00 EDT -> 01:00 EST (01:00–01:59 twice).
		{"America/New_York", "2026-11-01 00:59", "2026-11-01T04:59:00Z"},
		{"America/New_York", "2026-11-01 01:00", "2026-11-01T05:00:00Z"},
		{"America/New_York", "2026-11-01 01:30", "2026-11-01T05:30:00Z"},
		{"America/New_York", "2026-11-01 02:00", "2026-11-01T07:00:00Z"},
		// America/Santiago, autumn: 2026-04-05T03:00Z, 04-05 00:00 -03 -> 04-04 23:00 -04 (23:00–23:59 twice).
		{"America/Santiago", "2026-04-04 22:59", "2026-04-05T01:59:00Z"},
		{"America/Santiago", "2026-04-04 23:00", "2026-04-05T02:00:00Z"},
		{"America/Santiago", "2026-04-04 23:30", "2026-04-05T02:30:00Z"},
		{"America/Santiago", "2026-04-05 00:00", "2026-04-05T04:00:00Z"},
		// America/Santiago, spring: 2026-09-06T04:00Z, 00:00 -04 -> 01:00 -03 (midnight is skipped).
		{"America/Santiago", "2026-09-05 23:59", "2026-09-06T03:59:00Z"},
		{"America/Santiago", "2026-09-06 00:00", "2026-09-06T04:00:00Z"},
		{"America/Santiago", "2026-09-06 00:30", "2026-09-06T04:00:00Z"},
		{"America/Santiago", "2026-09-06 01:00", "2026-09-06T04:00:00Z"},
		{"America/Santiago", "2026-09-06 01:30", "2026-09-06T04:30:00Z"},
		// America/Havana, spring: 2026-03-08T05:00Z, 00:00 CST -> 01:00 CDT; autumn: 2026-11-01T05:00Z, 01:00 CDT -> 00:00 CST.
		{"America/Havana", "2026-03-08 00:30", "2026-03-08T05:00:00Z"},
		{"America/Havana", "2026-11-01 00:30", "2026-11-01T04:30:00Z"},
		{"America/Havana", "2026-11-01 01:00", "2026-11-01T06:00:00Z"},
		// No DST: the plain reading.
		{"Asia/Tokyo", "2026-03-08 02:30", "2026-03-07T17:30:00Z"},
		{"UTC", "2026-10-25 01:30", "2026-10-25T01:30:00Z"},
	}
	for _, tt := range tests {
		loc := mustLoc(t, tt.zone)
		wall, err := time.Parse("2006-01-02 15:04", tt.wall)
		if err != nil {
			t.Fatal(err)
		}
		want, err := time.Parse(time.RFC3339, tt.want)
		if err != nil {
			t.Fatal(err)
		}
		got := Resolve(wall, loc)
		if !got.Equal(want) {
			t.Errorf("%s %s = %s (%s), want %s", tt.zone, tt.wall, got.UTC().Format(time.RFC3339), got.Format("15:04 MST"), tt.want)
		}
		if got.Location() != loc {
			t.Errorf("%s %s: result in %s, want the zone itself", tt.zone, tt.wall, got.Location())
		}
		if d := Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), 0, 0, loc); !d.Equal(got) {
			t.Errorf("%s %s: Date = %s, Resolve = %s", tt.zone, tt.wall, d.UTC(), got.UTC())
		}
	}
}

func TestDateNormalizesLikeTimeDate(t *testing.T) {
	loc := mustLoc(t, "Europe/London")
	// 2026-10-24 24:90 is 2026-10-25 01:30, the repeated hour: first occurrence.
	if got, want := Date(2026, time.October, 24, 24, 90, 0, 0, loc), "2026-10-25T00:30:00Z"; got.UTC().Format(time.RFC3339) != want {
		t.Errorf("Date(2026-10-24 24:90) = %s, want %s", got.UTC().Format(time.RFC3339), want)
	}
	if got, want := Date(2026, time.February, 30, 9, 0, 0, 0, loc), "2026-03-02T09:00:00Z"; got.UTC().Format(time.RFC3339) != want {
		t.Errorf("Date(2026-02-30 09:00) = %s, want %s", got.UTC().Format(time.RFC3339), want)
	}
	fixed := time.FixedZone("X", 5*3600+45*60)
	if got, want := Date(2026, time.January, 1, 0, 0, 0, 0, fixed), "2025-12-31T18:15:00Z"; got.UTC().Format(time.RFC3339) != want {
		t.Errorf("fixed zone: %s, want %s", got.UTC().Format(time.RFC3339), want)
	}
	if got, want := Resolve(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), nil), "2026-01-01T00:00:00Z"; got.UTC().Format(time.RFC3339) != want {
		t.Errorf("nil zone: %s, want %s", got.UTC().Format(time.RFC3339), want)
	}
}
