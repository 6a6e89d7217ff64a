package policies

import (
	"slices"
	"time"
)

// Gap is a window in which an escalation policy's first step would page nobody.
type Gap struct {
	Policy string    `json:"policy"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
}

// CoverageGaps reports every window in [from, to) where an escalation
// policy's first step would page nobody: no user on call, no named user,
// no chat channel and no fallback. Gaps are grouped by policy in config
// order, merged, and in time order within a policy. Later steps are not
// considered: an incident that waits for step two is already late.
func (s *Set) CoverageGaps(from, to time.Time) []Gap {
	if !from.Before(to) {
		return nil
	}
	cache := map[string][]Shift{}
	shiftsOf := func(id string) []Shift {
		sh, ok := cache[id]
		if !ok {
			if src := s.source(id); src != nil {
				sh = src.shifts(from, to)
			}
			cache[id] = sh
		}
		return sh
	}
	var gaps []Gap
	for _, p := range s.cfg.Policies {
		if len(p.Steps) == 0 {
			continue
		}
		st := p.Steps[0]
		t := st.Targets
		if st.Fallback != "" || len(t.Users) > 0 || len(t.ChatChannels) > 0 {
			continue
		}
		ids := append(append([]string{}, t.Rotations...), t.Schedules...)
		for _, d := range t.Departments {
			ids = append(ids, s.departmentSources(d)...)
		}
		var covered []Shift
		for _, id := range ids {
			covered = append(covered, shiftsOf(id)...)
		}
		slices.SortFunc(covered, func(a, b Shift) int { return a.Start.Compare(b.Start) })
		cursor := from
		for _, c := range covered {
			if c.Start.After(cursor) {
				gaps = append(gaps, Gap{Policy: p.ID, Start: cursor, End: c.Start})
			}
			cursor = later(cursor, c.End)
		}
		if cursor.Before(to) {
			gaps = append(gaps, Gap{Policy: p.ID, Start: cursor, End: to})
		}
	}
	return gaps
}
