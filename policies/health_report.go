package policies

import (
	"time"

	"github.com/hikyaku/hikyaku/config"
)

// HealthReportRun is one sending of a department's health report: when it
// goes out, and the period [From, To) it covers.
type HealthReportRun struct {
	Send, From, To time.Time
}

// NextHealthReport is the first sending of h strictly after after, in loc
// (the department's zone). A weekly report covers the seven days before
// its sending day, midnight to midnight; a monthly one the calendar month
// before its sending month. Times are wall-clock in loc, so a DST change
// moves the UTC instant, not the hour; a sending time that does not exist
// that day (in the hour a spring change skips) is read as time.Date does,
// as that wall-clock time after the change (02:30 on a day that skips from
// 02:00 to 03:00 is 03:30).
func NextHealthReport(h *config.HealthReport, loc *time.Location, after time.Time) HealthReportRun {
	l := after.In(loc)
	y, m, d := l.Date()
	if h.Monthly {
		for k := 0; ; k++ {
			send := wallClock(y, m+time.Month(k), h.Day, h.Hour, h.Minute, loc)
			if send.After(after) {
				return HealthReportRun{Send: send,
					From: time.Date(y, m+time.Month(k)-1, 1, 0, 0, 0, 0, loc),
					To:   time.Date(y, m+time.Month(k), 1, 0, 0, 0, 0, loc)}
			}
		}
	}
	for k := 0; ; k++ {
		day := time.Date(y, m, d+k, 0, 0, 0, 0, loc)
		if day.Weekday() != h.SendWeekday {
			continue
		}
		send := wallClock(y, m, d+k, h.Hour, h.Minute, loc)
		if send.After(after) {
			return HealthReportRun{Send: send, From: time.Date(y, m, d+k-7, 0, 0, 0, 0, loc), To: day}
		}
	}
}

// wallClock is hour:minute of that day in loc. time.Date leaves the instant
// of a time a DST change skips unspecified; this reads it past the change.
func wallClock(y int, m time.Month, d, hour, minute int, loc *time.Location) time.Time {
	t := time.Date(y, m, d, hour, minute, 0, 0, loc)
	if got := t.Hour()*60 + t.Minute(); got != hour*60+minute {
		t = t.Add(time.Duration(hour*60+minute-got) * time.Minute)
	}
	return t
}
