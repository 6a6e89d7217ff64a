// Package wallclock turns a wall-clock reading in a time zone into the
// instant it names, with one rule for every zone: the first instant at which
// the zone's clock shows that reading or later.
//
// time.Date leaves the choice open for a reading that a DST change skips or
// repeats, and in practice picks differently east and west of UTC: a
// repeated 01:30 is the first occurrence in New York but the second in
// London, and a skipped time lands an hour early in New York (02:30 at 01:30
// EST) but an hour late in London (01:30 at 02:30 BST). A handoff or an override must not depend on which side of
// Greenwich its rotation lives, so hikyaku resolves wall times here.
//
// The rule gives, for a reading the clock shows twice, its first occurrence
// (the earlier instant); for a reading the clock skips, the instant the clock
// jumps past it (02:30 in a 02:00→03:00 gap happens at 03:00). It is monotone:
// a later reading never resolves to an earlier instant, so handoffs stay in
// order without any fix-up.
package wallclock

import "time"

// reach bounds how far a zone's offset can move an instant from its wall
// reading read as UTC; tzdata's largest offsets (local mean times included)
// are under 16h.
const reach = 25 * time.Hour

// Date is time.Date with the rule above: the first instant at which loc's
// clock shows y-mo-d h:mi:s.ns or later, returned in loc. Out-of-range fields
// are normalized as time.Date normalizes them (October 32 is November 1).
func Date(y int, mo time.Month, d, h, mi, s, ns int, loc *time.Location) time.Time {
	wall := time.Date(y, mo, d, h, mi, s, ns, time.UTC) // UTC has no gaps or repeats
	return Resolve(wall, loc)
}

// Resolve reads wall's clock fields (in UTC) as a wall-clock time in loc and
// returns the first instant at which loc's clock shows that or later.
//
// It walks the zone's periods of constant offset, in time order, from an
// instant whose clock is certainly before wall: within one period the clock
// runs evenly, so the period either shows wall at wall-offset, or starts
// already past it (wall fell in the gap before it), or ends before it.
// The first period that reaches wall holds the answer.
func Resolve(wall time.Time, loc *time.Location) time.Time {
	wall = wall.UTC()
	if loc == nil {
		loc = time.UTC
	}
	t := wall.Add(-reach)
	for {
		lt := t.In(loc)
		_, off := lt.Zone()
		start, end := lt.ZoneBounds()
		at := wall.Add(-time.Duration(off) * time.Second)
		if !start.IsZero() && at.Before(start) {
			// The clock jumped from before wall to past it when this period began.
			return start.In(loc)
		}
		if end.IsZero() || at.Before(end) {
			return at.In(loc)
		}
		t = end
	}
}
