package policies

import (
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/config"
)

func TestNextHealthReport(t *testing.T) {
	zone := func(name string) *time.Location {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	weekly := func(wd time.Weekday, h, m int) *config.HealthReport {
		return &config.HealthReport{Every: "weekly", SendWeekday: wd, Hour: h, Minute: m}
	}
	monthly := func(day, h, m int) *config.HealthReport {
		return &config.HealthReport{Every: "monthly", Monthly: true, Day: day, Hour: h, Minute: m}
	}
	for _, tc := range []struct {
		name           string
		h              *config.HealthReport
		zone           string
		after          string
		send, from, to string
	}{
		{"weekly, just before the time", weekly(time.Monday, 9, 0), "Asia/Tokyo", "2026-11-22T23:59:00Z",
			"2026-11-23T00:00:00Z", "2026-11-15T15:00:00Z", "2026-11-22T15:00:00Z"},
		{"weekly, at the time: the next week", weekly(time.Monday, 9, 0), "Asia/Tokyo", "2026-11-23T00:00:00Z",
			"2026-11-30T00:00:00Z", "2026-11-22T15:00:00Z", "2026-11-29T15:00:00Z"},
		{"weekly, mid-week", weekly(time.Friday, 17, 30), "Asia/Tokyo", "2026-11-25T03:00:00Z",
			"2026-11-27T08:30:00Z", "2026-11-19T15:00:00Z", "2026-11-26T15:00:00Z"},
		// New York springs forward on Sunday 2026-03-08: the week before
		// Monday the 9th is 167 hours, and 09:00 is 13:00 UTC, not 14:00.
		{"weekly across the spring DST change", weekly(time.Monday, 9, 0), "America/New_York", "2026-03-03T00:00:00Z",
			"2026-03-09T13:00:00Z", "2026-03-02T05:00:00Z", "2026-03-09T04:00:00Z"},
		// 02:30 does not exist that Sunday in New York: read as 03:30 EDT.
		{"weekly at a time the change skips", weekly(time.Sunday, 2, 30), "America/New_York", "2026-03-07T12:00:00Z",
			"2026-03-08T07:30:00Z", "2026-03-01T05:00:00Z", "2026-03-08T05:00:00Z"},
		// London falls back on 2026-10-25: October starts in BST, November in GMT.
		{"monthly across the autumn DST change", monthly(1, 9, 0), "Europe/London", "2026-10-15T12:00:00Z",
			"2026-11-01T09:00:00Z", "2026-09-30T23:00:00Z", "2026-11-01T00:00:00Z"},
		{"monthly, at the time: the next month, across the year", monthly(28, 23, 30), "Asia/Tokyo", "2026-12-28T14:30:00Z",
			"2027-01-28T14:30:00Z", "2026-11-30T15:00:00Z", "2026-12-31T15:00:00Z"},
		{"monthly, later the same month", monthly(3, 8, 0), "UTC", "2026-02-01T00:00:00Z",
			"2026-02-03T08:00:00Z", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := NextHealthReport(tc.h, zone(tc.zone), utc(tc.after))
			want := HealthReportRun{Send: utc(tc.send), From: utc(tc.from), To: utc(tc.to)}
			if !got.Send.Equal(want.Send) || !got.From.Equal(want.From) || !got.To.Equal(want.To) {
				t.Errorf("got send %s from %s to %s\nwant send %s from %s to %s",
					got.Send.UTC().Format(time.RFC3339), got.From.UTC().Format(time.RFC3339), got.To.UTC().Format(time.RFC3339),
					tc.send, tc.from, tc.to)
			}
		})
	}
}
