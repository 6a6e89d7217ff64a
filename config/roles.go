package config

import "fmt"

// The values of global.authorization.
const (
	// AuthorizationRoles: what a person may do follows from the roles
	// departments give them (access/roles.go).
	AuthorizationRoles = "roles"
	// AuthorizationAnyUser: any configured user may ack, resolve and
	// escalate any incident, as before roles existed (small teams).
	AuthorizationAnyUser = "any_user"
)

// Roles are what a department lets people do with its incidents: admins
// act and administer, responders act, viewers read. One role per person
// per department; access/roles.go applies them.
type Roles struct {
	Admins     []string `yaml:"admins"`
	Responders []string `yaml:"responders"`
	Viewers    []string `yaml:"viewers"`
}

// Empty says the department gives nobody a role.
func (r Roles) Empty() bool { return len(r.Admins)+len(r.Responders)+len(r.Viewers) == 0 }

// validateRoles checks every department's roles and settles
// global.authorization: a file that gives roles is enforced by default,
// one that gives none keeps "any configured user" (so a file written before
// roles existed works as it did); asking for roles and giving none would
// refuse everyone, and is an error.
func (l *loader) validateRoles(c *Config) {
	for i, u := range c.Users {
		if u.ID == "api" || u.ID == "alertmanager" {
			l.errAt(fmt.Sprintf("users[%d].id", i), fmt.Sprintf("user id %q is reserved: the timeline uses it for the shared api_token's and Alertmanager's actions", u.ID))
		}
	}
	given := false
	for i, d := range c.Departments {
		p := fmt.Sprintf("departments[%d].roles", i)
		seen := map[string]string{}
		for _, list := range []struct {
			key, role string
			ids       []string
		}{{"admins", "admin", d.Roles.Admins}, {"responders", "responder", d.Roles.Responders}, {"viewers", "viewer", d.Roles.Viewers}} {
			for j, id := range list.ids {
				path := fmt.Sprintf("%s.%s[%d]", p, list.key, j)
				given = true
				if c.usersByID[id] == nil {
					l.userRef(c, path, id)
					continue
				}
				if had, dup := seen[id]; dup {
					l.errAt(path, fmt.Sprintf("user %q is already %s of department %q: one role per person per department (admin includes responder, responder includes viewer)", id, had, d.ID))
					continue
				}
				seen[id] = list.role
			}
		}
	}
	g := &c.Global
	switch g.Authorization {
	case "":
		g.Authorization = AuthorizationAnyUser
		if given {
			g.Authorization = AuthorizationRoles
		}
	case AuthorizationRoles:
		if !given && !l.undecoded("departments") {
			l.errAt("global.authorization", "authorization is roles but no department gives anyone a role (departments[].roles): nobody could act on an incident")
		}
	case AuthorizationAnyUser:
	default:
		l.errAt("global.authorization", fmt.Sprintf("authorization %q: want roles or any_user", g.Authorization))
	}
}
