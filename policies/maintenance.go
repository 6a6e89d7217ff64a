package policies

import (
	"slices"
	"time"

	"github.com/hikyaku/hikyaku/config"
)

// InMaintenance reports the first maintenance window, in file order, that
// covers department or route at at, else the first stored mute that does
// (WithStored; its name is MuteWindow of its id). A window covers an incident when its
// department is listed or its route is listed; a window listing neither
// covers everything, because "maintenance for the whole company" is the
// common case and should not need every department spelled out.
func (s *Set) InMaintenance(department, route string, at time.Time) (string, bool) {
	for _, m := range s.cfg.Maintenance {
		if !covers(m, department, route) {
			continue
		}
		if s.maintenanceActive(m, at) {
			return m.Name, true
		}
	}
	return s.inMute(department, route, at)
}

// maintenanceActive tells whether m is open at at. One-off windows are
// half-open, [start, end), so back-to-back windows never overlap by an instant.
func (s *Set) maintenanceActive(m *config.Maintenance, at time.Time) bool {
	if len(m.TimeIntervals) > 0 {
		return s.active(m.TimeIntervals, at)
	}
	return !at.Before(m.StartTime) && at.Before(m.EndTime)
}

// covers is the scope rule: listed department, listed route, or nothing listed.
func covers(m *config.Maintenance, department, route string) bool {
	if len(m.Departments) == 0 && len(m.Routes) == 0 {
		return true
	}
	return (department != "" && slices.Contains(m.Departments, department)) ||
		(route != "" && slices.Contains(m.Routes, route))
}

// MutedUntil is the instant at which a decision that pages nobody yet
// (maintenance, hold, stakeholders only) may decide otherwise, and false for
// a decision that is final (page, drop). The router re-routes the incident
// then, as Alertmanager's mute_time_intervals notify once an interval ends:
//
//   - maintenance: the end of the window that muted it (for a recurring
//     window, the end of its current active range). Another window may still
//     cover the incident then; routing again at that instant finds it.
//   - hold: HoldUntil, the start of the route's next active interval.
//   - stakeholders: the start of the route's next active interval; when none
//     starts within HoldSearch, HoldSearch later, to look again.
//
// A window or route that no longer exists (d from an older configuration)
// gives at itself: decide again now.
func (s *Set) MutedUntil(d Decision, at time.Time) (time.Time, bool) {
	switch d.Action {
	case ActionMaintenance:
		return s.maintenanceEnds(d.Maintenance, at), true
	case ActionHold:
		return d.HoldUntil, true
	case ActionStakeholders:
		r := s.cfg.Route(d.Route)
		if r == nil || len(r.ActiveTimeIntervals) == 0 {
			return at, true
		}
		if next, ok := s.nextActive(r.ActiveTimeIntervals, at, HoldSearch); ok {
			return next, true
		}
		return at.Add(HoldSearch), true
	}
	return time.Time{}, false
}

// maintenanceEnds is the first instant after at outside the named window.
// A recurring window active for longer than HoldSearch gives HoldSearch
// later: the router looks again then rather than computing further ahead.
func (s *Set) maintenanceEnds(name string, at time.Time) time.Time {
	for _, m := range s.cfg.Maintenance {
		if m.Name != name {
			continue
		}
		if len(m.TimeIntervals) == 0 {
			if at.Before(m.EndTime) {
				return m.EndTime
			}
			return at
		}
		for _, sp := range compileWindows(s.cfg, m.TimeIntervals).spans(at, at.Add(HoldSearch)) {
			if !sp.start.After(at) && sp.end.After(at) {
				return sp.end.In(s.cfg.Global.Location)
			}
		}
		return at
	}
	if end, ok := s.muteEnds(name, at); ok {
		return end
	}
	return at
}
