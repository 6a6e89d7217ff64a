package access

import (
	"slices"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/config"
)

// Role is what a department lets a person do with its incidents.
type Role string

// The roles, weakest first: each includes what the one before allows.
const (
	NoRole    Role = ""
	Viewer    Role = "viewer"
	Responder Role = "responder"
	Admin     Role = "admin"
)

// Action is what a person asks of hikyaku.
type Action string

// The actions. Ack, Resolve and Escalate act on one incident; View reads
// one (the console's incident page); Reload changes the whole daemon.
const (
	Ack      Action = "ack"
	Resolve  Action = "resolve"
	Escalate Action = "escalate"
	View     Action = "view"
	Reload   Action = "reload"
	// StakeholderReport sends an incident's stakeholder report now, edits
	// the next one's draft or changes its period: the Comm holder's or an admin's.
	StakeholderReport Action = "stakeholder_report"
	// Report reads a department's on-call health report (Department).
	Report Action = "report"
	// Cover makes or removes a stored override of Request.For's shifts;
	// Mute starts or ends a mute of Request.Department.
	Cover Action = "cover"
	Mute  Action = "mute"
	// TestPage sends Request.Target a test page (a contact check).
	TestPage Action = "test_page"
	// Drill runs a drill of Request.Department now (docs/drills.md).
	Drill Action = "drill"
	// Run gives or takes an incident role, or adds a note to its decision
	// log: running the incident is the work of the people who act on it,
	// so it follows Ack's rule.
	Run Action = "run"
)

// OnIncident says whether a concerns one incident.
func (a Action) OnIncident() bool {
	return a == Ack || a == Resolve || a == Escalate || a == View || a == Run
}

// ServiceActor is the identity of the shared global.api_token: a script
// of the deployment, not a person.
const ServiceActor = "api"

// Request is one person's action as the rule sees it.
type Request struct {
	User   string // a user id, ServiceActor, or anything an inbound side read
	Action Action
	// Incident and Department name the incident acted on (incident actions).
	Incident   int64
	Department string
	// Paged says the incident paged User; the caller reads it only when
	// Decision.PagedWouldAllow asks, since it costs a timeline read.
	Paged bool
	// Comm is who holds the incident's Comm role ("" for nobody), for StakeholderReport.
	Comm string
	// For is whose shifts a Cover changes.
	For string
	// Target is the person a TestPage pages.
	Target string
}

// Decision is the rule's answer. A refusal carries its Reason.
type Decision struct {
	Allowed bool
	Reason  Reason
	// PagedWouldAllow says the refusal would turn into a yes if the
	// incident paged the user: ask again with Request.Paged set.
	PagedWouldAllow bool
}

// Reason is why an action was refused, as a catalog text, so each person
// reads it in their language.
type Reason struct {
	Key  catalog.Key
	Args []any
}

// Text is the reason in lang.
func (r Reason) Text(lang string) string { return catalog.Text(lang, r.Key, r.Args...) }

// RoleIn is the role department dept gives user, NoRole for none.
func RoleIn(cfg *config.Config, dept, user string) Role {
	d := cfg.Department(dept)
	if d == nil {
		return NoRole
	}
	switch {
	case slices.Contains(d.Roles.Admins, user):
		return Admin
	case slices.Contains(d.Roles.Responders, user):
		return Responder
	case slices.Contains(d.Roles.Viewers, user):
		return Viewer
	}
	return NoRole
}

// responds says whether user is a responder or admin anywhere: the
// people a page of any department may ask to act.
func responds(cfg *config.Config, user string) bool {
	for _, d := range cfg.Departments {
		if r := RoleIn(cfg, d.ID, user); r == Responder || r == Admin {
			return true
		}
	}
	return false
}

// Decide is the one rule every channel's actions go through (SMS, keypad,
// email, Slack, links, the console, the API):
//   - someone who is not a configured user acts on nothing;
//   - the shared api_token acts on any incident and administers nothing;
//   - under global.authorization any_user, every configured user acts on
//     every incident;
//   - otherwise admins and responders act on their departments' incidents
//     (ack, resolve, escalate, and run them: roles and notes),
//     a responder (or admin) of any department on an incident that paged
//     them, and viewers on none;
//   - reload is an admin's, of any department;
//   - a test page is for oneself, or by an admin of a department the
//     person belongs to (has a role in, or is in a rotation of);
//   - a stakeholder report action is the incident's Comm holder's or its department's
//     admins', whatever global.authorization says, and never the shared
//     api_token's: what stakeholders read is a person's to say.
//   - viewing an incident (View) is for anyone with a role in its
//     department, viewers included, and anyone it paged: the viewer role
//     is what lets a person read a department's incidents without acting;
//   - a department's health report (Report) is for anyone with a role in
//     it, and for the shared api_token, which reads as the incident list does;
//   - a cover of one's own shifts is any responder's or admin's, of
//     anyone's an admin's, of any department (shifts cross departments);
//   - a mute is an admin's of the department muted, and so is running a
//     drill of a department;
//   - under any_user, where nobody has a role, every configured user
//     covers anyone's shifts, mutes anything and runs any drill.
func Decide(cfg *config.Config, req Request) Decision {
	if req.Action == StakeholderReport {
		return decideReport(cfg, req)
	}
	if req.User == ServiceActor {
		if req.Action.OnIncident() || req.Action == Report {
			return Decision{Allowed: true}
		}
		return refuse("access.service_admin", string(req.Action))
	}
	if cfg.User(req.User) == nil {
		return refuse("access.unknown", req.User)
	}
	if req.Action == Report {
		if cfg.Global.Authorization == config.AuthorizationAnyUser || RoleIn(cfg, req.Department, req.User) != NoRole {
			return Decision{Allowed: true}
		}
		return refuse("access.no_report", req.Department)
	}
	switch {
	case req.Action == TestPage:
		return decideTestPage(cfg, req)
	case (req.Action == Cover || req.Action == Mute || req.Action == Drill) && cfg.Global.Authorization == config.AuthorizationAnyUser:
		return Decision{Allowed: true}
	case req.Action == Cover:
		if req.For == req.User && responds(cfg, req.User) {
			return Decision{Allowed: true}
		}
		if adminAnywhere(cfg, req.User) {
			return Decision{Allowed: true}
		}
		return refuse("access.cover_own", req.For)
	case req.Action == Mute:
		if RoleIn(cfg, req.Department, req.User) == Admin {
			return Decision{Allowed: true}
		}
		return refuse("access.mute_admin", req.Department)
	case req.Action == Drill:
		if RoleIn(cfg, req.Department, req.User) == Admin {
			return Decision{Allowed: true}
		}
		return refuse("access.drill_admin", req.Department)
	}
	if !req.Action.OnIncident() {
		if adminAnywhere(cfg, req.User) {
			return Decision{Allowed: true}
		}
		return refuse("access.admin_only", string(req.Action))
	}
	if cfg.Global.Authorization == config.AuthorizationAnyUser {
		return Decision{Allowed: true}
	}
	role := RoleIn(cfg, req.Department, req.User)
	if req.Action == View {
		if role != NoRole || req.Paged {
			return Decision{Allowed: true}
		}
		d := refuse("access.no_view", req.Incident, req.Department)
		d.PagedWouldAllow = true
		return d
	}
	switch {
	case role == Admin || role == Responder:
		return Decision{Allowed: true}
	case req.Paged && responds(cfg, req.User):
		return Decision{Allowed: true}
	}
	d := refuse("access.no_role", req.Incident, req.Department)
	if role == Viewer {
		d = refuse("access.viewer", req.Department)
	}
	d.PagedWouldAllow = !req.Paged && responds(cfg, req.User)
	return d
}

func adminAnywhere(cfg *config.Config, user string) bool {
	for _, d := range cfg.Departments {
		if RoleIn(cfg, d.ID, user) == Admin {
			return true
		}
	}
	return false
}

func refuse(key catalog.Key, args ...any) Decision {
	return Decision{Reason: Reason{Key: key, Args: args}}
}

// decideTestPage: everyone may test their own contact methods; an admin
// may test anyone of their department, so a drill can be checked by hand.
// The shared api_token may not (it is refused before): paging a person is
// a person's decision.
func decideTestPage(cfg *config.Config, req Request) Decision {
	if req.Target == req.User {
		return Decision{Allowed: true}
	}
	for _, d := range cfg.Departments {
		if RoleIn(cfg, d.ID, req.User) == Admin && BelongsTo(cfg, d, req.Target) {
			return Decision{Allowed: true}
		}
	}
	return refuse("access.test_page", req.Target)
}

// BelongsTo says whether user is one of department d's people: a role in
// it, or a member of one of its rotations.
func BelongsTo(cfg *config.Config, d *config.Department, user string) bool {
	if RoleIn(cfg, d.ID, user) != NoRole {
		return true
	}
	for _, r := range d.Rotations {
		if slices.Contains(r.Members, user) {
			return true
		}
		for _, c := range r.Changes {
			if slices.Contains(c.Members, user) {
				return true
			}
		}
	}
	return false
}

func decideReport(cfg *config.Config, req Request) Decision {
	if req.User != ServiceActor && cfg.User(req.User) == nil {
		return refuse("access.unknown", req.User)
	}
	if req.User != ServiceActor && (req.User == req.Comm || RoleIn(cfg, req.Department, req.User) == Admin) {
		return Decision{Allowed: true}
	}
	comm := req.Comm
	if comm == "" {
		comm = "-"
	}
	return refuse("access.comm_only", req.Incident, comm, req.Department)
}
