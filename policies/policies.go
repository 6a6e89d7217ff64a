// Package policies answers "who is on call at T" and "who is paged when":
// rotations, schedules, routes and escalation plans as pure logic, with no I/O.
package policies

import (
	"fmt"
	"time"

	"github.com/hikyaku/hikyaku/config"
)

// Shift is User on call from Start up to (not including) End.
type Shift struct {
	User     string    `json:"user"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Rotation string    `json:"rotation"`           // the rotation (layer) that put them there
	Override bool      `json:"override,omitempty"` // an override, not the rotation's order
}

// contains tells whether t falls in [Start, End).
func (s Shift) contains(t time.Time) bool { return !t.Before(s.Start) && t.Before(s.End) }

// Set is the compiled on-call model of one config. It is immutable and safe
// for concurrent use; a reload compiles a new Set.
type Set struct {
	cfg       *config.Config
	rotations map[string]*rotation
	schedules map[string]*schedule
	// covers and mutes are the stored ones (WithStored), nil in a Set
	// compiled from the configuration alone.
	covers []Cover
	mutes  []Mute
}

// Config is the configuration the Set was compiled from.
func (s *Set) Config() *config.Config { return s.cfg }

// Compile compiles every rotation and schedule of c. c must have been
// validated by config.Load or config.Parse: Compile trusts the derived fields.
func Compile(c *config.Config) *Set {
	s := &Set{cfg: c, rotations: map[string]*rotation{}, schedules: map[string]*schedule{}}
	for _, d := range c.Departments {
		for _, r := range d.Rotations {
			s.rotations[r.ID] = compileRotation(c, r)
		}
	}
	for _, d := range c.Departments {
		for _, sc := range d.Schedules {
			s.schedules[sc.ID] = compileSchedule(s, sc)
		}
	}
	return s
}

// Shifts returns the final shifts of rotation or schedule id that overlap
// [from, to), clipped to it, in time order: after active windows, overrides
// and layers. Consecutive shifts of the same user from the same source are merged.
func (s *Set) Shifts(id string, from, to time.Time) ([]Shift, error) {
	src := s.source(id)
	if src == nil {
		return nil, fmt.Errorf("policies: shifts of %q: no rotation or schedule has that id", id)
	}
	if !from.Before(to) {
		return nil, nil
	}
	return src.shifts(from, to), nil
}

// OnCall tells who is on call in rotation or schedule id at t, with their
// whole shift (see docs/oncall.md: bounded by the handoffs around t, the
// active windows and overrides), and false when nobody is or id is unknown.
func (s *Set) OnCall(id string, t time.Time) (Shift, bool) {
	src := s.source(id)
	if src == nil {
		return Shift{}, false
	}
	lo, hi, ok := src.extent(t)
	if !ok {
		return Shift{}, false
	}
	for _, sh := range src.shifts(lo, hi) {
		if sh.contains(t) {
			return sh, true
		}
	}
	return Shift{}, false
}

// source is what Shifts and OnCall share between rotations and schedules.
type source interface {
	shifts(from, to time.Time) []Shift
	// extent is the range whose shifts hold t's whole shift: the turn or
	// override in force at t, so OnCall need not guess a horizon.
	extent(t time.Time) (from, to time.Time, ok bool)
}

func (s *Set) source(id string) source {
	var src source
	if r := s.rotations[id]; r != nil {
		src = r
	} else if sc := s.schedules[id]; sc != nil {
		src = sc
	} else {
		return nil
	}
	if len(s.covers) > 0 {
		return covered{source: src, id: id, covers: s.covers}
	}
	return src
}
