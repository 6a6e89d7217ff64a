package policies

import (
	"slices"
	"time"

	"github.com/hikyaku/hikyaku/config"
)

// schedule is a compiled config.Schedule: layers highest first, then its
// own overrides on top.
type schedule struct {
	id        string
	layers    []*rotation
	overrides []Shift
}

func compileSchedule(s *Set, cs *config.Schedule) *schedule {
	sc := &schedule{id: cs.ID, overrides: compileOverrides(cs.Overrides, cs.ID)}
	for _, id := range cs.Layers {
		if r := s.rotations[id]; r != nil {
			sc.layers = append(sc.layers, r)
		}
	}
	return sc
}

// shifts paints the layers from the lowest up, so a higher layer wins
// wherever it has someone, and a lower one shows through its gaps.
func (sc *schedule) shifts(from, to time.Time) []Shift {
	var out []Shift
	for i := len(sc.layers) - 1; i >= 0; i-- {
		out = overlay(out, sc.layers[i].shifts(from, to))
	}
	if len(sc.overrides) > 0 {
		out = overlay(out, clip(sc.overrides, from, to))
	}
	return merge(out)
}

// extent is the winning layer's own shift at t: higher layers can only cut it.
func (sc *schedule) extent(t time.Time) (from, to time.Time, ok bool) {
	if o, found := covering(sc.overrides, t); found {
		return o.Start, o.End, true
	}
	for _, r := range sc.layers {
		lo, hi, ok := r.extent(t)
		if !ok {
			continue
		}
		for _, sh := range r.shifts(lo, hi) {
			if sh.contains(t) {
				return sh.Start, sh.End, true
			}
		}
	}
	return t, t, false
}

// compileOverrides turns overrides into shifts in time order, each later
// override already cut out of the earlier ones, so the list can be laid
// over regular shifts in one pass.
func compileOverrides(os []config.Override, rotation string) []Shift {
	var out []Shift
	for _, o := range os {
		if !o.StartTime.Before(o.EndTime) {
			continue
		}
		out = overlay(out, []Shift{{User: o.User, Start: o.StartTime, End: o.EndTime, Rotation: rotation, Override: true}})
	}
	return out
}

// overlay lays top over base: top's shifts stand whole, base shows only
// where top has nobody. Both must be in time order without overlaps.
func overlay(base, top []Shift) []Shift {
	if len(top) == 0 {
		return base
	}
	rest := subtract(base, top)
	out := make([]Shift, 0, len(rest)+len(top))
	i, j := 0, 0
	for i < len(rest) || j < len(top) {
		if j == len(top) || (i < len(rest) && rest[i].Start.Before(top[j].Start)) {
			out = append(out, rest[i])
			i++
		} else {
			out = append(out, top[j])
			j++
		}
	}
	return out
}

// subtract cuts every range of top out of base.
func subtract(base, top []Shift) []Shift {
	var out []Shift
	j := 0
	for _, b := range base {
		for j < len(top) && !top[j].End.After(b.Start) {
			j++
		}
		start := b.Start
		for k := j; k < len(top) && top[k].Start.Before(b.End); k++ {
			if top[k].Start.After(start) {
				p := b
				p.Start, p.End = start, top[k].Start
				out = append(out, p)
			}
			start = later(start, top[k].End)
		}
		if start.Before(b.End) {
			p := b
			p.Start = start
			out = append(out, p)
		}
	}
	return out
}

// merge joins touching shifts of the same user from the same source.
func merge(shifts []Shift) []Shift {
	out := shifts[:0:0]
	for _, s := range shifts {
		if n := len(out); n > 0 {
			p := &out[n-1]
			if p.End.Equal(s.Start) && p.User == s.User && p.Rotation == s.Rotation && p.Override == s.Override {
				p.End = s.End
				continue
			}
		}
		out = append(out, s)
	}
	return out
}

// clip returns the shifts overlapping [from, to), cut to it.
func clip(shifts []Shift, from, to time.Time) []Shift {
	i, _ := slices.BinarySearchFunc(shifts, from, func(s Shift, t time.Time) int {
		if s.End.After(t) {
			return 1
		}
		return -1
	})
	var out []Shift
	for ; i < len(shifts) && shifts[i].Start.Before(to); i++ {
		s := shifts[i]
		s.Start, s.End = later(s.Start, from), earlier(s.End, to)
		out = append(out, s)
	}
	return out
}

// covering finds the shift holding t.
func covering(shifts []Shift, t time.Time) (Shift, bool) {
	for _, s := range shifts {
		if s.contains(t) {
			return s, true
		}
	}
	return Shift{}, false
}
