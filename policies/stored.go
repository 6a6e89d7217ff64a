package policies

import (
	"slices"
	"strings"
	"time"
)

// Cover is an override made at run time (store.Override): By is on call
// instead of For wherever For's final shifts fall in [Start, End), in
// Rotation only when it is set, else in every rotation and schedule.
type Cover struct {
	ID       string
	For, By  string
	Rotation string
	Start    time.Time
	End      time.Time
}

// Mute is a maintenance window started at run time (store.Mute): the
// route's, or the department's, incidents page nobody in [Start, End).
type Mute struct {
	ID         string
	Route      string
	Department string
	Start      time.Time
	End        time.Time
}

// MuteWindow is the maintenance window name a mute decides under, in the
// decision and on the timeline, so it is told from the configuration's.
func MuteWindow(id string) string { return mutePrefix + id }

const mutePrefix = "mute:"

// WithStored is s with the stored covers (oldest first) and mutes applied
// on top of the configuration. s is unchanged; the result shares its
// compiled rotations, so this is cheap enough for every decision.
//
// Precedence: the configuration's layers, then its overrides, give the
// final shifts; covers then replace For by By in them, oldest first, so a
// newer cover of the same person wins where two overlap, and a cover of
// the person covering applies to what they took over (bob covers alice,
// then carol covers bob: carol). A cover never opens or closes a gap: it
// changes who, not whether.
func (s *Set) WithStored(covers []Cover, mutes []Mute) *Set {
	if len(covers) == 0 && len(mutes) == 0 {
		return s
	}
	c := *s
	c.covers = effectiveCovers(covers)
	c.mutes = mutes
	return &c
}

// effectiveCovers cuts out of each cover the ranges that a newer cover of
// the same person, in an overlapping scope, takes: newest wins.
func effectiveCovers(covers []Cover) []Cover {
	var out []Cover
	for i, c := range covers {
		parts := []Shift{{Start: c.Start, End: c.End}}
		var newer []Shift
		for _, n := range covers[i+1:] {
			if n.For == c.For && (n.Rotation == "" || c.Rotation == "" || n.Rotation == c.Rotation) && n.Start.Before(n.End) {
				newer = overlay(newer, []Shift{{Start: n.Start, End: n.End}})
			}
		}
		if c.Start.Before(c.End) {
			for _, p := range subtract(parts, newer) {
				e := c
				e.Start, e.End = p.Start, p.End
				out = append(out, e)
			}
		}
	}
	return out
}

// covered is a source with the stored covers applied to its final shifts.
type covered struct {
	source
	id     string
	covers []Cover
}

func (c covered) shifts(from, to time.Time) []Shift {
	out := c.source.shifts(from, to)
	for _, cv := range c.covers {
		out = applyCover(out, cv, c.id)
	}
	return merge(out)
}

// applyCover gives By the parts of For's shifts of source id inside the
// cover. A cover scoped to a rotation applies to it also where a schedule
// shows it as a layer, so paging through the schedule agrees.
func applyCover(shifts []Shift, cv Cover, id string) []Shift {
	out := make([]Shift, 0, len(shifts))
	for _, sh := range shifts {
		inScope := cv.Rotation == "" || cv.Rotation == id || cv.Rotation == sh.Rotation
		if !inScope || sh.User != cv.For || !sh.Start.Before(cv.End) || !cv.Start.Before(sh.End) {
			out = append(out, sh)
			continue
		}
		if sh.Start.Before(cv.Start) {
			before := sh
			before.End = cv.Start
			out = append(out, before)
		}
		in := sh
		in.Start, in.End = later(sh.Start, cv.Start), earlier(sh.End, cv.End)
		in.User, in.Override = cv.By, true
		out = append(out, in)
		if cv.End.Before(sh.End) {
			after := sh
			after.Start = cv.End
			out = append(out, after)
		}
	}
	return out
}

// inMute is the first stored mute, oldest first, covering department or
// route at at.
func (s *Set) inMute(department, route string, at time.Time) (string, bool) {
	for _, m := range s.mutes {
		if at.Before(m.Start) || !at.Before(m.End) {
			continue
		}
		if (m.Route != "" && m.Route == route) || (m.Department != "" && m.Department == department) {
			return MuteWindow(m.ID), true
		}
	}
	return "", false
}

// muteEnds is the end of the named mute, or at when it is gone or over.
func (s *Set) muteEnds(name string, at time.Time) (time.Time, bool) {
	id, ok := strings.CutPrefix(name, mutePrefix)
	if !ok {
		return time.Time{}, false
	}
	i := slices.IndexFunc(s.mutes, func(m Mute) bool { return m.ID == id })
	if i < 0 || !at.Before(s.mutes[i].End) {
		return at, true
	}
	return s.mutes[i].End, true
}
