package router

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/config"
)

// My on-call's "cover me" form (a stored override of the viewer's own
// shifts) and, for admins, the mute form: both go through the engine's
// AddOverride / StartMute as the API does, so the roles, the audit line and
// every replica see them alike. Every POST is CSRF-checked.

const coverSection = `{{define "cover"}}<h2>{{.Heading}}</h2>
{{if .Notice}}<p role="status"><strong>{{.Notice}}</strong></p>{{end}}
{{if .Rows}}<ul>{{range .Rows}}<li>{{.Text}}{{if .Action}} <form method="post" action="{{.Action}}" style="display:inline"><input type="hidden" name="csrf_token" value="{{$.CSRF}}"><button>{{$.RemoveText}}</button></form>{{end}}</li>{{end}}</ul>{{end}}
<p class="muted">{{.Explain}}</p>
<form method="post" action="{{.Action}}"><input type="hidden" name="csrf_token" value="{{.CSRF}}">
{{if .ForUsers}}<label>{{.ForLabel}} <select name="for">{{range .ForUsers}}<option value="{{.Value}}">{{.Text}}</option>{{end}}</select></label>{{end}}
<label>{{.ByLabel}} <select name="by" required>{{range .Users}}<option value="{{.Value}}">{{.Text}}</option>{{end}}</select></label>
<label>{{.StartLabel}} <input type="datetime-local" name="start" value="{{.Start}}" required></label>
<label>{{.EndLabel}} <input type="datetime-local" name="end" value="{{.End}}" required></label>
<label>{{.ReasonLabel}} <input name="reason" maxlength="200"></label>
<button>{{.Submit}}</button></form>
{{end}}`

const muteSection = `{{define "mute"}}<h2>{{.Heading}}</h2>
{{if .Notice}}<p role="status"><strong>{{.Notice}}</strong></p>{{end}}
{{if .Rows}}<ul>{{range .Rows}}<li>{{.Text}} <form method="post" action="{{.Action}}" style="display:inline"><input type="hidden" name="csrf_token" value="{{$.CSRF}}"><button>{{$.EndText}}</button></form></li>{{end}}</ul>{{end}}
<p class="muted">{{.Explain}}</p>
<form method="post" action="{{.Action}}"><input type="hidden" name="csrf_token" value="{{.CSRF}}">
<label>{{.TargetLabel}} <select name="target" required>{{range .Targets}}<option value="{{.Value}}">{{.Text}}</option>{{end}}</select></label>
<label>{{.ForLabel}} <select name="for">{{range .Durations}}<option value="{{.Value}}">{{.Text}}</option>{{end}}</select></label>
<label>{{.ReasonLabel}} <input name="reason" maxlength="200" required></label>
<button>{{.Submit}}</button></form>
{{end}}`

type formOption struct{ Value, Text string }

type formRow struct{ Text, Action string }

type myCoverView struct {
	Heading, Notice, Explain, Action, CSRF, ByLabel, StartLabel, EndLabel, ReasonLabel, Submit, RemoveText, Start, End string
	ForLabel                                                                                                           string
	Users                                                                                                              []formOption
	// ForUsers, offered to whom the roles let cover others (an admin),
	// picks whose shifts are covered; the viewer comes first, the default.
	ForUsers []formOption
	Rows     []formRow
}

type myMuteView struct {
	Show                                                                                        bool
	Heading, Notice, Explain, Action, CSRF, TargetLabel, ForLabel, ReasonLabel, Submit, EndText string
	Targets, Durations                                                                          []formOption
	Rows                                                                                        []formRow
}

// muteDurations are the mute form's choices: a deploy, a migration, an
// evening's work; longer belongs in maintenance_windows.
var muteDurations = []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour}

// formTime is the datetime-local form of t in loc.
const formTime = "2006-01-02T15:04"

func (s *Server) coverSections(r *http.Request, id access.Identity, t catalog.For, loc *time.Location, notes meNotes) (myCoverView, myMuteView, error) {
	cfg := s.Engine.Policies().Config()
	now := s.Engine.now()
	csrf := s.Auth.CSRFToken(id.Session)
	// The form offers from now, for an hour: the common "cover me now".
	start := now.In(loc).Truncate(time.Minute)
	cv := myCoverView{Heading: t.T("console.cover_heading"), Notice: notes.Cover, Explain: t.T("console.cover_explain"),
		Action: s.Auth.Path("/console/me/cover"), CSRF: csrf, ByLabel: t.T("console.cover_by"), StartLabel: t.T("console.cover_start"),
		EndLabel: t.T("console.cover_end"), ReasonLabel: t.T("console.reason"), Submit: t.T("console.cover_submit"),
		RemoveText: t.T("console.cover_remove"), Start: start.Format(formTime), End: start.Add(time.Hour).Format(formTime)}
	for _, u := range cfg.Users {
		if u.ID != id.User {
			cv.Users = append(cv.Users, formOption{u.ID, displayName(u)})
		}
	}
	if me := cfg.User(id.User); me != nil {
		for _, u := range cfg.Users {
			if u.ID != id.User && access.Decide(cfg, access.Request{User: id.User, Action: access.Cover, For: u.ID}).Allowed {
				cv.ForUsers = append(cv.ForUsers, formOption{u.ID, displayName(u)})
			}
		}
		if len(cv.ForUsers) > 0 {
			cv.ForLabel = t.T("console.cover_for")
			cv.ForUsers = append([]formOption{{me.ID, displayName(me)}}, cv.ForUsers...)
		}
	}
	os, err := s.Engine.Store().ListOverrides(r.Context())
	if err != nil {
		return cv, myMuteView{}, err
	}
	for _, o := range os {
		if !o.End.After(now) || (o.For != id.User && o.By != id.User && o.CreatedBy != id.User) {
			continue
		}
		row := formRow{Text: t.T("console.cover_row", o.By, o.For, viewerTime(o.Start, loc), viewerTime(o.End, loc))}
		if access.Decide(cfg, access.Request{User: id.User, Action: access.Cover, For: o.For}).Allowed {
			row.Action = s.Auth.Path("/console/me/cover/" + o.ID + "/remove")
		}
		cv.Rows = append(cv.Rows, row)
	}

	mv := myMuteView{Heading: t.T("console.mute_heading"), Notice: notes.Mute, Explain: t.T("console.mute_explain"),
		Action: s.Auth.Path("/console/mute"), CSRF: csrf, TargetLabel: t.T("console.mute_target"), ForLabel: t.T("console.mute_for"),
		ReasonLabel: t.T("console.reason"), Submit: t.T("console.mute_submit"), EndText: t.T("console.mute_end")}
	for _, d := range cfg.Departments {
		if access.Decide(cfg, access.Request{User: id.User, Action: access.Mute, Department: d.ID}).Allowed {
			mv.Targets = append(mv.Targets, formOption{"department:" + d.ID, t.T("console.mute_department", d.ID)})
		}
	}
	for _, rt := range cfg.Routes {
		if access.Decide(cfg, access.Request{User: id.User, Action: access.Mute, Department: rt.Department}).Allowed {
			mv.Targets = append(mv.Targets, formOption{"route:" + rt.Name, t.T("console.mute_route", rt.Name)})
		}
	}
	mv.Show = len(mv.Targets) > 0 || notes.Mute != ""
	for _, d := range muteDurations {
		mv.Durations = append(mv.Durations, formOption{d.String(), t.T("console.minutes", int(d.Minutes()))})
	}
	if !mv.Show {
		return cv, mv, nil
	}
	ms, err := s.Engine.Store().ListMutes(r.Context())
	if err != nil {
		return cv, mv, err
	}
	for _, m := range ms {
		if !m.End.After(now) {
			continue
		}
		scope := t.T("console.mute_department", m.Department)
		if m.Route != "" {
			scope = t.T("console.mute_route", m.Route)
		}
		mv.Rows = append(mv.Rows, formRow{Text: t.T("console.mute_row", scope, viewerTime(m.End, loc), m.CreatedBy, m.Reason),
			Action: s.Auth.Path("/console/mute/" + m.ID + "/end")})
	}
	return cv, mv, nil
}

func displayName(u *config.User) string {
	if u.Name != "" && u.Name != u.ID {
		return u.Name + " (" + u.ID + ")"
	}
	return u.ID
}

// formError is what a refused form says, in the viewer's language where
// the reason is the roles' (else the engine's own words).
func (s *Server) formError(err error, user string) (string, int) {
	cfg := s.Engine.Policies().Config()
	if reason := ForbiddenReason(cfg, err, user); reason != "" {
		return reason, http.StatusForbidden
	}
	if oe := (*overrideError)(nil); errors.As(err, &oe) {
		return oe.Text(userLanguage(cfg, user)), apiStatus(err)
	}
	return err.Error(), apiStatus(err)
}

// consoleCover is POST /console/me/cover: the viewer's shifts (or, for
// whom the roles let, those of "for") covered by the chosen person over the
// times given in the viewer's zone.
func (s *Server) consoleCover(w http.ResponseWriter, r *http.Request) {
	id, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	lang, loc, _ := s.viewer(id)
	t := catalog.For(lang)
	start, err1 := time.ParseInLocation(formTime, r.PostFormValue("start"), loc)
	end, err2 := time.ParseInLocation(formTime, r.PostFormValue("end"), loc)
	if err1 != nil || err2 != nil {
		s.renderMePage(w, r, id, meNotes{Cover: t.T("console.cover_failed", t.T("console.bad_times"))}, http.StatusBadRequest)
		return
	}
	ctx := WithAuditSource(r.Context(), AuditSource{Addr: r.RemoteAddr, User: id.User})
	who := r.PostFormValue("for")
	if who == "" {
		who = id.User
	}
	o, err := s.Engine.AddOverride(ctx, id.User, CoverRequest{For: who, By: r.PostFormValue("by"), Start: start, End: end,
		Reason: strings.TrimSpace(r.PostFormValue("reason"))})
	if err != nil {
		why, code := s.formError(err, id.User)
		s.renderMePage(w, r, id, meNotes{Cover: t.T("console.cover_failed", why)}, code)
		return
	}
	done := t.T("console.cover_added", o.By, viewerTime(o.Start, loc), viewerTime(o.End, loc))
	if o.For != id.User {
		done = t.T("console.cover_row", o.By, o.For, viewerTime(o.Start, loc), viewerTime(o.End, loc))
	}
	s.renderMePage(w, r, id, meNotes{Cover: done}, http.StatusOK)
}

// consoleUncover is POST /console/me/cover/{id}/remove.
func (s *Server) consoleUncover(w http.ResponseWriter, r *http.Request) {
	id, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	lang, _, _ := s.viewer(id)
	t := catalog.For(lang)
	ctx := WithAuditSource(r.Context(), AuditSource{Addr: r.RemoteAddr, User: id.User})
	if _, err := s.Engine.RemoveOverride(ctx, id.User, r.PathValue("id")); err != nil {
		why, code := s.formError(err, id.User)
		if errors.Is(err, ErrStoredNotFound) {
			why = t.T("console.cover_gone")
		}
		s.renderMePage(w, r, id, meNotes{Cover: t.T("console.cover_failed", why)}, code)
		return
	}
	s.renderMePage(w, r, id, meNotes{Cover: t.T("console.cover_removed")}, http.StatusOK)
}

// consoleMute is POST /console/mute: target is "route:NAME" or
// "department:ID", for one of the form's durations.
func (s *Server) consoleMute(w http.ResponseWriter, r *http.Request) {
	id, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	lang, loc, _ := s.viewer(id)
	t := catalog.For(lang)
	var q MuteRequest
	kind, name, _ := strings.Cut(r.PostFormValue("target"), ":")
	switch kind {
	case "route":
		q.Route = name
	case "department":
		q.Department = name
	}
	d, err := time.ParseDuration(r.PostFormValue("for"))
	if err != nil || !slices.Contains(muteDurations, d) || (q.Route == "" && q.Department == "") {
		s.renderMePage(w, r, id, meNotes{Mute: t.T("console.mute_failed", t.T("console.bad_mute"))}, http.StatusBadRequest)
		return
	}
	q.For, q.Reason = d, strings.TrimSpace(r.PostFormValue("reason"))
	ctx := WithAuditSource(r.Context(), AuditSource{Addr: r.RemoteAddr, User: id.User})
	m, err := s.Engine.StartMute(ctx, id.User, q)
	if err != nil {
		why, code := s.formError(err, id.User)
		s.renderMePage(w, r, id, meNotes{Mute: t.T("console.mute_failed", why)}, code)
		return
	}
	s.renderMePage(w, r, id, meNotes{Mute: t.T("console.mute_started", viewerTime(m.End, loc))}, http.StatusOK)
}

// consoleUnmute is POST /console/mute/{id}/end.
func (s *Server) consoleUnmute(w http.ResponseWriter, r *http.Request) {
	id, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	lang, _, _ := s.viewer(id)
	t := catalog.For(lang)
	ctx := WithAuditSource(r.Context(), AuditSource{Addr: r.RemoteAddr, User: id.User})
	if _, err := s.Engine.EndMute(ctx, id.User, r.PathValue("id")); err != nil {
		why, code := s.formError(err, id.User)
		s.renderMePage(w, r, id, meNotes{Mute: t.T("console.mute_failed", why)}, code)
		return
	}
	s.renderMePage(w, r, id, meNotes{Mute: t.T("console.mute_ended")}, http.StatusOK)
}
