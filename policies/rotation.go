package policies

import (
	"time"

	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/internal/wallclock"
)

// layout is how a shift length maps onto the calendar (docs/oncall.md, "Daylight saving time").
type layout int

const (
	// layoutDays: whole days, counted in calendar days of the rotation's zone.
	layoutDays layout = iota
	// layoutDayParts: lengths that divide 24h, laid out on the wall clock of each local day.
	layoutDayParts
	// layoutElapsed: anything else runs in elapsed time from the anchor.
	layoutElapsed
)

const oneDay = 24 * time.Hour

// rotation is a compiled config.Rotation.
type rotation struct {
	id        string
	loc       *time.Location
	shift     time.Duration
	layout    layout
	eras      []era
	win       *windows // nil: always active
	overrides []Shift  // layered: later overrides already cut earlier ones
}

// era is one roster, from its anchor (start or a roster change) until the
// next change; its handoffs are anchored at its own start.
type era struct {
	start, end time.Time // zero start: since forever; zero end: for ever
	anchor     time.Time
	members    []string
	wall       int64 // the anchor's wall clock, as Unix seconds
	y          int
	mo         time.Month
	d, h, mi   int
	sec        int
}

func compileRotation(c *config.Config, cr *config.Rotation) *rotation {
	r := &rotation{id: cr.ID, loc: cr.Location, shift: cr.Shift.D()}
	if r.loc == nil {
		r.loc = time.UTC
	}
	switch {
	case r.shift%oneDay == 0:
		r.layout = layoutDays
	case oneDay%r.shift == 0:
		r.layout = layoutDayParts
	default:
		r.layout = layoutElapsed
	}
	r.eras = append(r.eras, newEra(cr.StartTime, cr.Start, cr.Members, r.loc))
	for _, ch := range cr.Changes {
		r.eras[len(r.eras)-1].end = ch.Time
		e := newEra(ch.Time, ch.At, ch.Members, r.loc)
		e.start = ch.Time
		r.eras = append(r.eras, e)
	}
	r.win = compileWindows(c, cr.Active)
	r.overrides = compileOverrides(cr.Overrides, cr.ID)
	return r
}

// newEra anchors handoffs at the wall-clock time as written, when it was
// written as one: a start or change at a time the clock skips happens when
// the clock jumps past it, but the handoffs after it keep the written time
// (docs/oncall.md). With an offset given, the anchor's own reading counts.
func newEra(anchor time.Time, written config.Timestamp, members []string, loc *time.Location) era {
	w, ok := written.Wall()
	if !ok {
		l := anchor.In(loc)
		w = time.Unix(wallUnix(l), 0).UTC()
	}
	y, mo, d := w.Date()
	h, mi, sec := w.Clock()
	return era{anchor: anchor, members: members, wall: w.Unix(), y: y, mo: mo, d: d, h: h, mi: mi, sec: sec}
}

// wallUnix is t's wall clock in its own zone, read as if it were UTC.
func wallUnix(t time.Time) int64 {
	_, off := t.Zone()
	return t.Unix() + int64(off)
}

// boundary is handoff k of e. Wall-clock layouts go through wallclock.Date,
// not time.Date: a handoff the clock skips or repeats must land the same way
// in every zone (docs/oncall.md), and wallclock.Date being monotone keeps
// handoffs in order (a turn squeezed to nothing by a gap is skipped by turns).
func (r *rotation) boundary(e *era, k int) time.Time {
	switch r.layout {
	case layoutDays:
		return wallclock.Date(e.y, e.mo, e.d+k*int(r.shift/oneDay), e.h, e.mi, e.sec, 0, r.loc)
	case layoutDayParts:
		per := int(oneDay / r.shift)
		q := floorDiv(k, per)
		return wallclock.Date(e.y, e.mo, e.d+q, e.h, e.mi+(k-q*per)*int(r.shift/time.Minute), e.sec, 0, r.loc)
	}
	return e.anchor.Add(time.Duration(k) * r.shift)
}

// turn finds k with boundary(k) <= t < boundary(k+1): an estimate from the
// wall clock (exact but for DST), then a step or two of correction.
func (r *rotation) turn(e *era, t time.Time) int {
	var k int
	switch r.layout {
	case layoutDays, layoutDayParts:
		k = int(floorDiv64(wallUnix(t.In(r.loc))-e.wall, int64(r.shift/time.Second)))
	default:
		k = int(floorDiv64(int64(t.Sub(e.anchor)), int64(r.shift)))
	}
	for r.boundary(e, k).After(t) {
		k--
	}
	for !r.boundary(e, k+1).After(t) {
		k++
	}
	return k
}

func (e *era) member(k int) string {
	n := len(e.members)
	return e.members[((k%n)+n)%n]
}

// turns are the regular shifts overlapping [from, to), clipped, ignoring
// windows and overrides.
func (r *rotation) turns(from, to time.Time) []Shift {
	var out []Shift
	for i := range r.eras {
		e := &r.eras[i]
		lo, hi := from, to
		if !e.start.IsZero() && e.start.After(lo) {
			lo = e.start
		}
		if !e.end.IsZero() && e.end.Before(hi) {
			hi = e.end
		}
		if !lo.Before(hi) {
			continue
		}
		k := r.turn(e, lo)
		b := r.boundary(e, k)
		for b.Before(hi) {
			nb := r.boundary(e, k+1)
			if nb.After(b) {
				out = append(out, Shift{User: e.member(k), Start: later(b, lo), End: earlier(nb, hi), Rotation: r.id})
			}
			b = nb
			k++
		}
	}
	return out
}

// turnAt is the regular turn holding t, unclipped except by roster changes.
func (r *rotation) turnAt(t time.Time) (from, to time.Time) {
	for i := range r.eras {
		e := &r.eras[i]
		if !e.end.IsZero() && !t.Before(e.end) {
			continue
		}
		k := r.turn(e, t)
		from, to = r.boundary(e, k), r.boundary(e, k+1)
		if !e.start.IsZero() {
			from = later(from, e.start)
		}
		if !e.end.IsZero() {
			to = earlier(to, e.end)
		}
		return from, to
	}
	return t, t
}

func (r *rotation) shifts(from, to time.Time) []Shift {
	out := r.turns(from, to)
	if r.win != nil {
		out = intersect(out, r.win.spans(from, to))
	}
	if len(r.overrides) > 0 {
		out = overlay(out, clip(r.overrides, from, to))
	}
	return merge(out)
}

func (r *rotation) extent(t time.Time) (from, to time.Time, ok bool) {
	if o, found := covering(r.overrides, t); found {
		return o.Start, o.End, true
	}
	from, to = r.turnAt(t)
	return from, to, from.Before(to)
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorDiv64(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
