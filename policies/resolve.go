package policies

import (
	"time"

	"github.com/hikyaku/hikyaku/config"
)

// Resolved is who one escalation step reaches at a given time.
type Resolved struct {
	// Users are paged, in target order, each once.
	Users []string
	// ChatChannels are posted to, each once.
	ChatChannels []string
	// Empty are the rotations and schedules that had nobody on call, so the
	// caller can record why a step paged fewer people (or nobody).
	Empty []string
}

// Resolve is who a step's targets page at t: rotations, then schedules,
// then every rotation and schedule of each department, then named users.
// A step's fallback is the caller's business: it depends on the whole step.
func (s *Set) Resolve(t config.Targets, at time.Time) Resolved {
	var res Resolved
	seenUser := map[string]bool{}
	seenID := map[string]bool{}
	addUser := func(u string) {
		if !seenUser[u] {
			seenUser[u] = true
			res.Users = append(res.Users, u)
		}
	}
	addID := func(id string) {
		if seenID[id] {
			return
		}
		seenID[id] = true
		if sh, ok := s.OnCall(id, at); ok {
			addUser(sh.User)
			return
		}
		res.Empty = append(res.Empty, id)
	}
	for _, id := range t.Rotations {
		addID(id)
	}
	for _, id := range t.Schedules {
		addID(id)
	}
	for _, id := range t.Departments {
		for _, id := range s.departmentSources(id) {
			addID(id)
		}
	}
	for _, u := range t.Users {
		addUser(u)
	}
	seenChat := map[string]bool{}
	for _, ch := range t.ChatChannels {
		if !seenChat[ch] {
			seenChat[ch] = true
			res.ChatChannels = append(res.ChatChannels, ch)
		}
	}
	return res
}

// departmentSources are the ids of a department's rotations, then schedules.
func (s *Set) departmentSources(id string) []string {
	d := s.cfg.Department(id)
	if d == nil {
		return nil
	}
	ids := make([]string, 0, len(d.Rotations)+len(d.Schedules))
	for _, r := range d.Rotations {
		ids = append(ids, r.ID)
	}
	for _, sc := range d.Schedules {
		ids = append(ids, sc.ID)
	}
	return ids
}
