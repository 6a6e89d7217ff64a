package router

import (
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/store"
)

// consoleVerbs are the actions the incident page's forms post; each goes
// through Engine.Act, the one action path every channel uses.
var consoleVerbs = []string{"ack", "resolve", "escalate"}

// incidentPage is one incident: what it is, its forms and its timeline.
var incidentPage = template.Must(template.New("incident").Parse(refreshSection + alertsSection + `<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>#{{.ID}} hikyaku</title>
<style>body{font-family:system-ui,"Hiragino Sans","Noto Sans CJK JP",sans-serif;max-width:50em;margin:1em auto;padding:0 1em;line-height:1.5;color:#222}
form{display:inline}button{font-size:1em;padding:.4em .9em;margin:.2em .2em .2em 0}table{border-collapse:collapse;width:100%}
td,th{text-align:left;vertical-align:top;padding:.3em;border-bottom:1px solid #ddd}td:first-child,td:nth-child(2){white-space:nowrap}td:last-child{overflow-wrap:anywhere}.muted{color:#555;font-size:.9em}
@media (min-width:70em){body{max-width:80em}.cols{display:grid;grid-template-columns:1fr 2fr;gap:2em}}</style>
{{template "refresh-script" .Refresh}}</head>
<body><p><a href="{{.Home}}">{{.BackText}}</a></p>
{{if .Notice}}<p role="status"><strong>{{.Notice}}</strong></p>{{end}}
{{template "refresh-status" .Refresh}}
<main data-refresh="{{.Refresh.Every}}" data-refresh-src="{{.Refresh.Src}}">
<h1>#{{.ID}} {{.Summary}}</h1>
<dl>{{range .Facts}}<dt>{{index . 0}}</dt><dd>{{index . 1}}</dd>{{end}}</dl>
{{if .ReadOnly}}<p class="muted">{{.ReadOnly}}</p>{{end}}
{{range .Forms}}<form method="post" action="{{.Action}}"><input type="hidden" name="csrf_token" value="{{$.CSRF}}"><input type="hidden" name="from" value="incident"><button>{{.Label}}</button></form>
{{end}}
<p class="muted">{{.TimesIn}}</p>
{{template "alerts" .Alerts}}
<div class="cols"><section><h2>{{.PlanHeading}}</h2><p class="muted">{{.PlanNote}}</p>
{{if .Plan}}<table><tr>{{range .PlanColumns}}<th>{{.}}</th>{{end}}</tr>
{{range .Plan}}<tr><td>{{.At}}</td><td>{{.Step}}</td><td>{{.Who}}</td><td>{{.Channel}}</td></tr>
{{end}}</table>{{else}}<p>{{.NoPlan}}</p>{{end}}</section>
<section><h2>{{.TimelineHeading}}</h2>
<table><tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr>
{{range .Events}}<tr><td>{{.At}}</td><td>{{.Type}}</td><td>{{.Actor}}</td><td>{{.Detail}}</td></tr>
{{end}}</table></section></div>
</main>
</body></html>
`))

type consoleForm struct{ Action, Label string }

type consoleEvent struct{ At, Type, Actor, Detail string }

type planRow struct{ At, Step, Who, Channel string }

// planHorizon is how much of the escalation plan the incident page shows.
const planHorizon = 24 * time.Hour

type incidentView struct {
	Lang, Home, BackText, Notice, Summary, CSRF, TimelineHeading, TimesIn, ReadOnly string
	ID                                                                              int64
	Facts                                                                           [][2]string
	Forms                                                                           []consoleForm
	Columns                                                                         []string
	Events                                                                          []consoleEvent
	PlanHeading, PlanNote, NoPlan                                                   string
	PlanColumns                                                                     []string
	Plan                                                                            []planRow
	Refresh                                                                         refreshView
	Alerts                                                                          alertsView
}

// viewer is the signed-in person's language, zone and name.
func (s *Server) viewer(id access.Identity) (lang string, loc *time.Location, name string) {
	cfg := s.Engine.Policies().Config()
	if u := cfg.User(id.User); u != nil {
		return u.Language, u.Location, u.Name
	}
	return cfg.Global.Language, cfg.Global.Location, id.User
}

func (s *Server) consoleIncident(w http.ResponseWriter, r *http.Request) {
	id, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	n, err := incidentID(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.renderIncident(w, r, id, n, "", http.StatusOK)
}

func (s *Server) renderIncident(w http.ResponseWriter, r *http.Request, id access.Identity, n int64, notice string, code int) {
	lang, loc, _ := s.viewer(id)
	t := catalog.For(lang)
	inc, err := s.Engine.Store().Get(r.Context(), n)
	if errors.Is(err, store.ErrNotFound) {
		http.Error(w, t.T("console.no_such_incident", n), http.StatusNotFound)
		return
	}
	var tl []store.Event
	if err == nil {
		tl, err = s.Engine.Store().Timeline(r.Context(), n)
	}
	if err != nil {
		s.Engine.log.Error("console: reading an incident failed", "incident", n, "user", id.User, "err", err)
		http.Error(w, "the store cannot be read right now; reload in a moment", http.StatusServiceUnavailable)
		return
	}
	if d := s.decideOn(id.User, access.View, inc, tl); !d.Allowed {
		s.Engine.log.Info("console: incident page refused by the roles", "incident", n, "user", id.User, "department", inc.Department)
		http.Error(w, d.Reason.Text(lang), http.StatusForbidden)
		return
	}
	v := incidentView{Lang: lang, Home: s.Auth.Path("/"), BackText: t.T("console.back"), Notice: notice, ID: inc.ID,
		Summary: summary(inc), CSRF: s.Auth.CSRFToken(id.Session), TimelineHeading: t.T("console.timeline"),
		TimesIn: t.T("console.times_in", s.Engine.now().In(loc).Format("MST"), loc.String()),
		Columns: []string{t.T("console.col_time"), t.T("console.col_event"), t.T("console.col_actor"), t.T("console.col_detail")},
		Refresh: s.refreshOf(t, s.Auth.Path("/console/incidents/"+strconv.FormatInt(n, 10)))}
	v.Facts = [][2]string{
		{t.T("console.fact_status"), string(inc.Status)},
		{t.T("console.fact_opened"), viewerTime(inc.CreatedAt, loc)},
		{t.T("console.fact_department"), inc.Department},
		{t.T("console.fact_route"), inc.Route},
		{t.T("console.fact_policy"), inc.Policy},
	}
	if inc.AckedBy != "" {
		v.Facts = append(v.Facts, [2]string{t.T("console.fact_acked"), inc.AckedBy + ", " + viewerTime(inc.AckedAt, loc)})
	}
	// Ack, resolve and escalate follow one rule: a person it refuses sees
	// no buttons to press, only why (the posts are refused all the same).
	mayAct := s.decideOn(id.User, access.Ack, inc, tl).Allowed
	if !mayAct {
		v.ReadOnly = t.T("console.read_only")
	}
	if inc.Status != store.StatusResolved && mayAct {
		for _, verb := range consoleVerbs {
			if verb == "ack" && inc.Status != store.StatusOpen {
				continue
			}
			v.Forms = append(v.Forms, consoleForm{Action: s.Auth.Path("/console/incidents/" + strconv.FormatInt(n, 10) + "/" + verb),
				Label: t.T(catalog.Key("console." + verb))})
		}
	}
	v.Alerts = alertsOf(inc, t, loc)
	v.PlanHeading, v.PlanNote, v.NoPlan = t.T("console.plan"), t.T("console.plan_note"), t.T("console.no_plan")
	v.PlanColumns = []string{t.T("console.col_time"), t.T("console.col_step"), t.T("console.col_actor"), t.T("console.col_channel")}
	if plan, err := s.Engine.Policies().Plan(inc.Policy, inc.CreatedAt, planHorizon); err == nil {
		for _, pg := range plan.Pages {
			who, ch := pg.User, string(pg.Channel)
			if pg.ChatChannel != "" {
				who, ch = pg.ChatChannel, "chat"
			}
			v.Plan = append(v.Plan, planRow{At: viewerTime(pg.At, loc), Step: t.T("console.step", pg.Step+1, pg.Round+1), Who: who, Channel: ch})
		}
	} else {
		v.NoPlan = t.T("console.plan_failed", err.Error())
	}
	for _, ev := range tl {
		v.Events = append(v.Events, consoleEvent{At: viewerTime(ev.At, loc), Type: ev.Type, Actor: ev.Actor, Detail: eventDetail(ev.Detail)})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if err := incidentPage.Execute(w, v); err != nil {
		s.Engine.log.Warn("writing the incident page failed", "err", err)
	}
}

// eventDetail is a timeline entry's details as "key=value", sorted, so
// who was notified on which channel with what result reads in one line.
func eventDetail(d map[string]string) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + d[k]
	}
	return strings.Join(parts, " ")
}

// consoleAct acts as the signed-in user through Engine.Act and shows the
// incident again with what happened; an ack from the Now page (no
// from=incident) answers with the Now page instead.
func (s *Server) consoleAct(w http.ResponseWriter, r *http.Request) {
	id, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	verb := r.PathValue("verb")
	if verb == "ack" && r.PostFormValue("from") != "incident" {
		s.consoleAck(w, r) // the Now page's button: the answer is the Now page
		return
	}
	if !slices.Contains(consoleVerbs, verb) {
		http.NotFound(w, r)
		return
	}
	n, err := incidentID(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	lang, _, _ := s.viewer(id)
	ctx := WithAuditSource(r.Context(), AuditSource{Addr: r.RemoteAddr, User: id.User})
	inc, _, err := s.Engine.Act(ctx, Action{Incident: n, Verb: verb, User: id.User, Via: "console"})
	if err != nil {
		code := apiStatus(err)
		if errors.Is(err, ErrForbidden) {
			code = http.StatusForbidden
		}
		why := err.Error()
		if reason := ForbiddenReason(s.Engine.Policies().Config(), err, id.User); reason != "" {
			why = reason // the roles' reason, in the person's language
		}
		s.renderIncident(w, r, id, n, catalog.Text(lang, "console.act_failed", n, verb, why), code)
		return
	}
	notice := catalog.Text(lang, "console.acted", n, verb, id.User)
	if verb == "ack" {
		notice = catalog.Text(lang, "console.acked", inc.ID, inc.AckedBy)
	}
	s.renderIncident(w, r, id, n, notice, http.StatusOK)
}
