package policies

import (
	"slices"
	"time"

	"github.com/hikyaku/hikyaku/config"
)

// InMaintenance reports the first maintenance window, in file order, that
// covers department or route at at. A window covers an incident when its
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
	return "", false
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
