package router

import (
	"strings"
	"time"

	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// incidentCommander is who the policy's incident_commander rotation pages
// to lead ch's incident, beside step 1, when that step fires for the first
// time: at the opening, or when a hold or maintenance ends (an ack timeout
// or a hand escalation starts a new generation and pages no IC again). The
// first of them becomes the IC while nobody holds the role, in the same
// write. A test page or a drill pages no IC: it is no incident.
func (e *Engine) incidentCommander(set *policies.Set, pol *config.Policy, ch *store.Change, now time.Time, found *stepFound) []string {
	inc := ch.Incident
	if pol.IncidentCommander == nil || inc.Escalation.Generation != 0 || inc.Test != nil || inc.Drill != nil {
		return nil
	}
	rot := pol.IncidentCommander.Rotation
	users := set.Resolve(config.Targets{Rotations: []string{rot}}, now).Users
	ch.Events = append(ch.Events, event(now, "ic_paged", "", "rotation", rot, "users", strings.Join(users, ","),
		"empty", boolString(len(users) == 0)))
	if len(users) == 0 {
		found.icEmpty = rot
		return nil
	}
	if inc.Roles["ic"] == "" {
		rc := roleChange(inc, "ic", users[0], "", "ic_rotation", now)
		inc.Roles = rc.Incident.Roles
		ch.Events = append(ch.Events, rc.Events...)
	}
	return users
}
