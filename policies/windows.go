package policies

import (
	"slices"
	"time"

	"github.com/hikyaku/hikyaku/config"
	"github.com/prometheus/alertmanager/timeinterval"
)

// windows are a rotation's active time intervals. Membership is always
// Alertmanager's own TimeInterval.ContainsTime; this file only works out
// where membership can change, so ranges are walked in a few steps a day.
type windows struct {
	intervals []timeinterval.TimeInterval
	zones     []zoneMarks
}

// zoneMarks are the seconds of a local day, in one zone, at which an
// interval of that zone can switch: midnight and every start and end minute.
type zoneMarks struct {
	loc   *time.Location
	marks []int64
}

// span is an active range [start, end).
type span struct{ start, end time.Time }

// compileWindows returns nil when names is empty: no windows means always active.
func compileWindows(c *config.Config, names []string) *windows {
	if len(names) == 0 {
		return nil
	}
	w := &windows{}
	byZone := map[*time.Location]map[int64]bool{}
	var order []*time.Location
	for _, name := range names {
		ivs, _ := c.TimeInterval(name)
		for _, iv := range ivs {
			w.intervals = append(w.intervals, iv)
			loc := time.UTC
			if iv.Location != nil && iv.Location.Location != nil {
				loc = iv.Location.Location
			}
			m := byZone[loc]
			if m == nil {
				m = map[int64]bool{0: true}
				byZone[loc] = m
				order = append(order, loc)
			}
			for _, tr := range iv.Times {
				m[int64(tr.StartMinute)*60] = true
				m[int64(tr.EndMinute)*60] = true
			}
		}
	}
	for _, loc := range order {
		z := zoneMarks{loc: loc}
		for s := range byZone[loc] {
			z.marks = append(z.marks, s)
		}
		slices.Sort(z.marks)
		w.zones = append(w.zones, z)
	}
	return w
}

// contains tells whether t is inside at least one interval. Like
// Alertmanager's Intervener it passes UTC, so an interval without a location is read in UTC.
func (w *windows) contains(t time.Time) bool {
	t = t.UTC()
	for _, iv := range w.intervals {
		if iv.ContainsTime(t) {
			return true
		}
	}
	return false
}

// spans are the active ranges within [from, to), merged, in order.
func (w *windows) spans(from, to time.Time) []span {
	points := []time.Time{from}
	for _, z := range w.zones {
		points = z.switches(points, from, to)
	}
	slices.SortFunc(points, func(a, b time.Time) int { return a.Compare(b) })
	points = slices.CompactFunc(points, func(a, b time.Time) bool { return a.Equal(b) })
	var out []span
	for i, p := range points {
		if !w.contains(p) {
			continue
		}
		end := to
		if i+1 < len(points) {
			end = points[i+1]
		}
		if n := len(out); n > 0 && out[n-1].end.Equal(p) {
			out[n-1].end = end
			continue
		}
		out = append(out, span{p, end})
	}
	return out
}

// switches appends the instants strictly inside (from, to) where the wall
// clock of z reaches a mark, plus the zone's own offset changes. Walking
// each stretch of constant UTC offset separately finds a mark twice in a
// fall-back hour and not at all in a spring-forward gap, as the clock does.
func (z zoneMarks) switches(points []time.Time, from, to time.Time) []time.Time {
	for t := from; t.Before(to); {
		lt := t.In(z.loc)
		_, off := lt.Zone()
		_, zoneEnd := lt.ZoneBounds()
		segEnd := to
		if !zoneEnd.IsZero() && zoneEnd.Before(to) {
			segEnd = zoneEnd
			points = append(points, zoneEnd)
		}
		offset := int64(off)
		wallLo, wallHi := t.Unix()+offset, segEnd.Unix()+offset
		for dayStart := floorDiv64(wallLo, 86400) * 86400; dayStart <= wallHi; dayStart += 86400 {
			for _, m := range z.marks {
				p := time.Unix(dayStart+m-offset, 0)
				if p.After(t) && p.Before(segEnd) {
					points = append(points, p)
				}
			}
		}
		t = segEnd
	}
	return points
}

// intersect keeps the parts of shifts inside spans; both are in time order.
func intersect(shifts []Shift, spans []span) []Shift {
	var out []Shift
	j := 0
	for _, s := range shifts {
		for j < len(spans) && !spans[j].end.After(s.Start) {
			j++
		}
		for k := j; k < len(spans) && spans[k].start.Before(s.End); k++ {
			p := s
			p.Start, p.End = later(s.Start, spans[k].start), earlier(s.End, spans[k].end)
			if p.Start.Before(p.End) {
				out = append(out, p)
			}
		}
	}
	return out
}
