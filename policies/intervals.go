package policies

import "time"

// Within is a test of "is t inside any of the named time intervals",
// compiled once for callers that ask it of many instants (a report's
// pages). It reads intervals as routes and rotations do: one without a
// location in UTC, as Alertmanager does. No names: never inside.
func (s *Set) Within(names []string) func(time.Time) bool {
	if len(names) == 0 {
		return func(time.Time) bool { return false }
	}
	w := compileWindows(s.cfg, names)
	return w.contains
}

// DepartmentSources are the ids of department id's rotations, then its
// schedules; nil for an unknown department.
func (s *Set) DepartmentSources(id string) []string { return s.departmentSources(id) }
