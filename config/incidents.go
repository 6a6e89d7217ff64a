package config

import (
	"fmt"
	"slices"
	"strings"
)

// IncidentRoleIDs are the incident roles, in the order they are shown: the incident
// commander (decides, does not operate), operations (restores),
// communications (writes the reports) and the recorder (keeps the timeline).
var IncidentRoleIDs = []string{"ic", "ops", "comm", "rec"}

// IncidentRoles are global.incident_roles: a display name per role, used in
// every language instead of the built-in one (catalog "incident.role.*").
type IncidentRoles struct {
	IC   string `yaml:"ic"`
	Ops  string `yaml:"ops"`
	Comm string `yaml:"comm"`
	Rec  string `yaml:"rec"`
}

// Name is role's configured display name, "" when the file names none.
func (r IncidentRoles) Name(role string) string {
	switch role {
	case "ic":
		return r.IC
	case "ops":
		return r.Ops
	case "comm":
		return r.Comm
	case "rec":
		return r.Rec
	}
	return ""
}

// IsRole says whether role is one of IncidentRoleIDs.
func IsRole(role string) bool { return slices.Contains(IncidentRoleIDs, role) }

// AckerIsIC says whether acknowledging an incident of this policy makes the
// acknowledger its IC (the default).
func (p *Policy) AckerIsIC() bool { return p == nil || p.AckerBecomesIC == nil || *p.AckerBecomesIC }

// IncidentCommander is a policy's incident_commander: whoever is on call in
// Rotation when the incident opens is paged to lead it, beside the first
// step, and becomes its IC unless someone holds the role.
type IncidentCommander struct {
	Rotation string `yaml:"rotation"`
}

// validateIncidentCommander checks a policy's incident_commander at path p.
func (l *loader) validateIncidentCommander(c *Config, ic *IncidentCommander, p string) {
	switch {
	case ic == nil || l.undecoded(p):
	case ic.Rotation == "":
		l.errAt(p, "incident_commander needs a rotation: {rotation: ID}")
	case c.rotationsByID[ic.Rotation] == nil:
		l.unknownRef("departments", p+".rotation", fmt.Sprintf("unknown rotation %q", ic.Rotation))
	}
}

// maxRoleName bounds a display name: it is printed in SMS reports.
const maxRoleName = 40

func (l *loader) validateIncidentRoles(r *IncidentRoles) {
	for _, role := range IncidentRoleIDs {
		name := r.Name(role)
		switch {
		case name == "":
		case strings.TrimSpace(name) != name || strings.ContainsAny(name, "\n\r\t"):
			l.errAt("global.incident_roles."+role, fmt.Sprintf("role name %q: no leading or trailing space, tab or line break", name))
		case len([]rune(name)) > maxRoleName:
			l.errAt("global.incident_roles."+role, fmt.Sprintf("role name %q is longer than %d characters", name, maxRoleName))
		}
	}
}
