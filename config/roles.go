package config

import (
	"fmt"
	"slices"
)

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

// warnPagedWithoutRole: with authorization roles, someone hikyaku can page
// (a rotation's member or override, a step's user or fallback) who is no
// responder or admin of any department would have every ack, resolve and
// escalate refused during the incident. Said at load and by check, not at
// 3 a.m.; a warning, since the file is valid and the page still goes out.
func (l *loader) warnPagedWithoutRole(c *Config) {
	if c.Global.Authorization != AuthorizationRoles {
		return
	}
	acts := map[string]bool{}
	for _, d := range c.Departments {
		for _, id := range append(slices.Clone(d.Roles.Admins), d.Roles.Responders...) {
			acts[id] = true
		}
	}
	warned := map[string]bool{}
	check := func(path, id string) {
		if id == "" || acts[id] || warned[id] || c.usersByID[id] == nil {
			return
		}
		warned[id] = true // once per person: the first place names the problem
		l.warnAt(path, fmt.Sprintf("user %q can be paged but is no responder or admin of any department (departments[].roles): with authorization roles their ack, resolve and escalate would be refused", id))
	}
	for i, d := range c.Departments {
		for j, r := range d.Rotations {
			p := fmt.Sprintf("departments[%d].rotations[%d]", i, j)
			for k, m := range r.Members {
				check(fmt.Sprintf("%s.members[%d]", p, k), m)
			}
			for k, ch := range r.Changes {
				for n, m := range ch.Members {
					check(fmt.Sprintf("%s.changes[%d].members[%d]", p, k, n), m)
				}
			}
			for k, o := range r.Overrides {
				check(fmt.Sprintf("%s.overrides[%d].user", p, k), o.User)
			}
		}
		for j, s := range d.Schedules {
			for k, o := range s.Overrides {
				check(fmt.Sprintf("departments[%d].schedules[%d].overrides[%d].user", i, j, k), o.User)
			}
		}
	}
	for i, p := range c.Policies {
		for j, st := range p.Steps {
			sp := fmt.Sprintf("escalation_policies[%d].steps[%d]", i, j)
			for k, u := range st.Targets.Users {
				check(fmt.Sprintf("%s.targets.users[%d]", sp, k), u)
			}
			check(sp+".fallback", st.Fallback)
		}
	}
}
