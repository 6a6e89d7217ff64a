package policies

import (
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/config"
)

// TestNextDrill checks drill times against instants worked out by hand
// from the 2026 calendar and its DST transitions (New York: 2026-03-08
// 02:00 EST→03:00 EDT, 2026-11-01 02:00 EDT→01:00 EST; London: 2026-03-29
// 01:00 GMT→02:00 BST).
func TestNextDrill(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	london, _ := time.LoadLocation("Europe/London")
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	for _, tt := range []struct {
		name        string
		drill       config.Drill
		loc         *time.Location
		after, want string
	}{
		// March 1 2026 is a Sunday: the first Tuesday is the 3rd, still EST.
		{"first tuesday in EST", config.Drill{Nth: 1, Day: time.Tuesday, Hour: 14}, ny, "2026-03-01T00:00:00Z", "2026-03-03T19:00:00Z"},
		// Strictly after: the run itself moves on to April 7 (April 1 is a Wednesday), EDT.
		{"next month in EDT", config.Drill{Nth: 1, Day: time.Tuesday, Hour: 14}, ny, "2026-03-03T19:00:00Z", "2026-04-07T18:00:00Z"},
		{"later the same month", config.Drill{Nth: 1, Day: time.Tuesday, Hour: 14}, ny, "2026-03-03T18:59:00Z", "2026-03-03T19:00:00Z"},
		// The second Sunday of March is the change itself: 02:30 is skipped, it runs at 03:00 EDT.
		{"in the spring gap", config.Drill{Nth: 2, Day: time.Sunday, Hour: 2, Minute: 30}, ny, "2026-03-01T00:00:00Z", "2026-03-08T07:00:00Z"},
		// November 1 is the first Sunday: 01:30 comes twice, the first (EDT) counts.
		{"in the autumn repeat", config.Drill{Nth: 1, Day: time.Sunday, Hour: 1, Minute: 30}, ny, "2026-10-31T00:00:00Z", "2026-11-01T05:30:00Z"},
		{"after the first of a repeat", config.Drill{Nth: 1, Day: time.Sunday, Hour: 1, Minute: 30}, ny, "2026-11-01T05:30:00Z", "2026-12-06T06:30:00Z"},
		// London's last Sunday of March (the 29th) skips 01:00–02:00.
		{"london's gap", config.Drill{Nth: -1, Day: time.Sunday, Hour: 1, Minute: 30}, london, "2026-03-01T00:00:00Z", "2026-03-29T01:00:00Z"},
		// December 25 2026 is the last Friday; January 29 2027 the next.
		{"last friday", config.Drill{Nth: -1, Day: time.Friday, Hour: 9}, tokyo, "2026-12-01T00:00:00Z", "2026-12-25T00:00:00Z"},
		{"over the year's end", config.Drill{Nth: -1, Day: time.Friday, Hour: 9}, tokyo, "2026-12-25T00:00:01Z", "2027-01-29T00:00:00Z"},
		// February 2026 starts on a Sunday: its fourth Saturday is the 28th.
		{"fourth saturday", config.Drill{Nth: 4, Day: time.Saturday, Hour: 23, Minute: 59}, time.UTC, "2026-02-01T00:00:00Z", "2026-02-28T23:59:00Z"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := NextDrill(&tt.drill, tt.loc, utc(t, tt.after))
			if !ok || !got.Equal(utc(t, tt.want)) {
				t.Errorf("NextDrill after %s = %s %v, want %s", tt.after, got.UTC().Format(time.RFC3339), ok, tt.want)
			}
		})
	}
	if _, ok := NextDrill(nil, ny, utc(t, "2026-03-01T00:00:00Z")); ok {
		t.Error("no drill has a next run")
	}
}
