package policies

import (
	"time"

	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/internal/wallclock"
)

// NextDrill is the first time d's drill runs after after (strictly), in
// loc: the drill's week's weekday of a month at its wall-clock time. A time
// the clock skips that day (a DST gap) runs when the clock jumps past it,
// one it shows twice runs the first time (wallclock). False for no drill.
func NextDrill(d *config.Drill, loc *time.Location, after time.Time) (time.Time, bool) {
	if d == nil || d.Nth == 0 {
		return time.Time{}, false
	}
	if loc == nil {
		loc = time.UTC
	}
	local := after.In(loc)
	// This month's run may be still to come; a month always has each
	// weekday at least four times, so next month's is certainly after.
	y, m := local.Year(), local.Month()
	for i := 0; i < 3; i++ {
		day := nthWeekday(y, m+time.Month(i), d.Nth, d.Day)
		at := wallclock.Date(y, m+time.Month(i), day, d.Hour, d.Minute, 0, 0, loc)
		if at.After(after) {
			return at, true
		}
	}
	return time.Time{}, false // unreachable: next month's run is after
}

// nthWeekday is the day of month (normalized by time.Date) of the n-th
// (1-4, or -1 for the last) wd of month m of year y.
func nthWeekday(y int, m time.Month, n int, wd time.Weekday) int {
	first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	if n < 0 {
		last := first.AddDate(0, 1, -1)
		return last.Day() - (int(last.Weekday())-int(wd)+7)%7
	}
	return 1 + (int(wd)-int(first.Weekday())+7)%7 + 7*(n-1)
}
