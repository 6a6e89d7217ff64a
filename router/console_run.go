package router

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/store"
)

// The incident page's forms that run the incident: give a role (to
// oneself, to a person, to nobody) and add a note. They post to
// /console/incidents/{id}/role and /note and go through SetRole and
// AddNote, the paths the API, Slack and email use, with the same rule.

// nobody is the user form value that frees a role.
const nobody = "-"

type roleOption struct{ Value, Label string }

type noteField struct{ Name, Label string }

// runView is what the incident page shows of how the incident is run.
type runView struct {
	RoleAction, NoteAction                           string
	Heading, RoleLabel, UserLabel, Assign, NoteLabel string
	Decision, AddNote                                string
	Roles, Users                                     []roleOption
	Fields                                           []noteField
}

// runForms are the role and note forms for a person the roles let run inc.
func (s *Server) runForms(cfg *config.Config, t catalog.For, lang, me string, inc *store.Incident) *runView {
	base := s.Auth.Path("/console/incidents/" + strconv.FormatInt(inc.ID, 10))
	v := &runView{RoleAction: base + "/role", NoteAction: base + "/note", Heading: t.T("console.run"),
		RoleLabel: t.T("console.role"), UserLabel: t.T("console.role_user"), Assign: t.T("console.assign"),
		NoteLabel: t.T("console.note"), Decision: t.T("console.note_decision"), AddNote: t.T("console.add_note")}
	for _, role := range config.IncidentRoleIDs {
		v.Roles = append(v.Roles, roleOption{role, roleTitle(cfg, role, lang)})
	}
	v.Users = append(v.Users, roleOption{"", t.T("console.role_me", me)})
	for _, u := range cfg.Users {
		label := u.ID
		if u.Name != "" {
			label = u.Name + " (" + u.ID + ")"
		}
		v.Users = append(v.Users, roleOption{u.ID, label})
	}
	v.Users = append(v.Users, roleOption{nobody, t.T("console.role_nobody")})
	for _, f := range []string{"impact", "cause", "action_provisional", "action_permanent", "prevention"} {
		v.Fields = append(v.Fields, noteField{f, t.T(catalog.Key("incident.field." + f))})
	}
	return v
}

// consoleRun carries out a role or note form as the signed-in user and
// shows the incident again with what happened.
func (s *Server) consoleRun(w http.ResponseWriter, r *http.Request, id access.Identity, n int64, verb string) {
	lang, _, _ := s.viewer(id)
	cfg := s.Engine.Policies().Config()
	ctx := WithAuditSource(r.Context(), AuditSource{Addr: r.RemoteAddr, User: id.User})
	var notice string
	var err error
	switch verb {
	case "role":
		role, user := r.PostFormValue("role"), r.PostFormValue("user")
		switch user {
		case "":
			user = id.User
		case nobody:
			user = ""
		}
		var done bool
		_, done, err = s.Engine.SetRole(ctx, RoleChange{Incident: n, Role: role, User: user, Actor: id.User, Via: "console"})
		title := roleTitle(cfg, role, lang)
		switch {
		case err != nil:
		case !done:
			notice = catalog.Text(lang, "console.role_unchanged", n, title)
		case user == "":
			notice = catalog.Text(lang, "console.role_freed", n, title)
		default:
			notice = catalog.Text(lang, "console.role_given", n, title, user)
		}
	case "note":
		note := Note{Incident: n, Text: r.PostFormValue("text"), Decision: r.PostFormValue("decision") != "", Actor: id.User, Via: "console",
			Fields: NoteFields{Impact: r.PostFormValue("impact"), Cause: r.PostFormValue("cause"),
				ActionProvisional: r.PostFormValue("action_provisional"), ActionPermanent: r.PostFormValue("action_permanent"),
				Prevention: r.PostFormValue("prevention")}}
		_, err = s.Engine.AddNote(ctx, note)
		notice = catalog.Text(lang, "console.noted", n)
		if note.Decision {
			notice = catalog.Text(lang, "console.noted_decision", n)
		}
	}
	if err == nil {
		s.renderIncident(w, r, id, n, notice, http.StatusOK)
		return
	}
	code := apiStatus(err)
	why := err.Error()
	switch {
	case errors.Is(err, ErrForbidden):
		code, why = http.StatusForbidden, ForbiddenReason(cfg, err, id.User)
	case errors.Is(err, ErrBadRole), errors.Is(err, ErrNotUser), errors.Is(err, ErrBadNote):
		code = http.StatusBadRequest
	}
	s.renderIncident(w, r, id, n, catalog.Text(lang, "console.act_failed", n, verb, why), code)
}
