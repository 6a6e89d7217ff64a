package router

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/store"
)

// Postmortem is an incident's timeline written up for its review: the key
// figures, who held which role, the report fields, the decisions and every
// event in the department's time zone. GET /api/v1/incidents/{id}/timeline
// serves it as JSON, and as Markdown with ?format=markdown.
type Postmortem struct {
	Incident       int64         `json:"incident"`
	Title          string        `json:"title"`
	Status         string        `json:"status"`
	Department     string        `json:"department"`
	DepartmentName string        `json:"department_name"`
	TimeZone       string        `json:"time_zone"`
	Language       string        `json:"language"`
	Severity       SeverityView  `json:"severity"`
	OpenedAt       string        `json:"opened_at"`
	AckedAt        string        `json:"acked_at,omitempty"`
	AckedBy        string        `json:"acked_by,omitempty"`
	ResolvedAt     string        `json:"resolved_at,omitempty"`
	Figures        Figures       `json:"figures"`
	Roles          []RoleView    `json:"roles"`
	Fields         []FieldView   `json:"fields"`
	Events         []ExportEvent `json:"events"`
	Decisions      []ExportEvent `json:"decisions"`
	names          map[string]string
}

// SeverityView is the provisional (routed) and current severity.
type SeverityView struct {
	Provisional string `json:"provisional"`
	Current     string `json:"current"`
	Reason      string `json:"reason,omitempty"`
}

// Figures are the key figures of the review; a duration not reached yet
// (no ack, not resolved) is absent.
type Figures struct {
	TimeToAcknowledge *float64 `json:"time_to_acknowledge_seconds,omitempty"`
	TimeToResolve     *float64 `json:"time_to_resolve_seconds,omitempty"`
	PeoplePaged       int      `json:"people_paged"`
	StepsFired        int      `json:"steps_fired"`
	ReportsSent       int      `json:"reports_sent"`
}

// RoleView is one role and its holder; User is "" while nobody holds it.
type RoleView struct {
	Role  string `json:"role"`
	Title string `json:"title"`
	User  string `json:"user,omitempty"`
	Name  string `json:"name,omitempty"`
}

// FieldView is one report field; Value is "" while unknown.
type FieldView struct {
	Field string `json:"field"`
	Title string `json:"title"`
	Value string `json:"value,omitempty"`
}

// ExportEvent is one timeline event as the review reads it.
type ExportEvent struct {
	At       time.Time         `json:"at"`
	Time     string            `json:"time"` // At in the department's zone, with its abbreviation
	Type     string            `json:"type"`
	Actor    string            `json:"actor,omitempty"`
	Channel  string            `json:"channel,omitempty"`
	Result   string            `json:"result,omitempty"`
	Decision bool              `json:"decision,omitempty"`
	Detail   map[string]string `json:"detail,omitempty"`
}

// zonedLayout is how the export writes a time: the abbreviation says the zone.
const zonedLayout = "2006-01-02 15:04:05 MST"

func zoned(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format(zonedLayout)
}

// reportFields are the fields a review shows, in report order.
var reportFields = []string{"impact", "cause", "action_provisional", "action_permanent", "prevention"}

func fieldValue(r store.ReportFields, name string) string {
	switch name {
	case "impact":
		return r.Impact
	case "cause":
		return r.Cause
	case "action_provisional":
		return r.ActionProvisional
	case "action_permanent":
		return r.ActionPermanent
	case "prevention":
		return r.Prevention
	}
	return ""
}

// NewPostmortem builds the review of inc from its timeline, in lang.
func NewPostmortem(cfg *config.Config, inc *store.Incident, tl []store.Event, lang string) *Postmortem {
	t := catalog.For(lang)
	loc := cfg.Global.Location
	if loc == nil {
		loc = time.UTC
	}
	p := &Postmortem{Incident: inc.ID, Status: string(inc.Status), Department: inc.Department, DepartmentName: inc.Department,
		Language: lang, Roles: []RoleView{}, Fields: []FieldView{},
		Events: []ExportEvent{}, Decisions: []ExportEvent{}, names: map[string]string{}}
	if d := cfg.Department(inc.Department); d != nil {
		p.DepartmentName = d.Name
		if d.Location != nil {
			loc = d.Location
		}
	}
	p.TimeZone = loc.String()
	p.OpenedAt, p.AckedAt, p.AckedBy, p.ResolvedAt = zoned(inc.CreatedAt, loc), zoned(inc.AckedAt, loc), inc.AckedBy, zoned(inc.ResolvedAt, loc)
	if m, err := DecodeMessage(inc.Message); err == nil {
		p.Title = messageTitle(m)
	}
	rep := reportOf(inc)
	p.Severity = SeverityView{Provisional: inc.Severity, Current: CurrentSeverity(inc), Reason: rep.SeverityReason}
	if !inc.AckedAt.IsZero() {
		v := inc.AckedAt.Sub(inc.CreatedAt).Seconds()
		p.Figures.TimeToAcknowledge = &v
	}
	if !inc.ResolvedAt.IsZero() {
		v := inc.ResolvedAt.Sub(inc.CreatedAt).Seconds()
		p.Figures.TimeToResolve = &v
	}
	for _, role := range config.IncidentRoleIDs {
		rv := RoleView{Role: role, Title: roleTitle(cfg, role, lang), User: inc.Roles[role]}
		if rv.User != "" {
			rv.Name = rv.User
			if u := cfg.User(rv.User); u != nil && u.Name != "" {
				rv.Name = u.Name
			}
		}
		p.Roles = append(p.Roles, rv)
		p.names[role] = rv.Title
	}
	for _, f := range reportFields {
		p.Fields = append(p.Fields, FieldView{Field: f, Title: t.T(catalog.Key("incident.field." + f)), Value: fieldValue(rep, f)})
	}
	paged := map[string]bool{}
	evs := slices.Clone(tl)
	// The store keeps append order; a review reads by time, and equal
	// times keep the order they were written in.
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
	for _, ev := range evs {
		d := ev.Detail
		switch ev.Type {
		case "step_fired":
			p.Figures.StepsFired++
		case "notified", "recorded":
			switch d["kind"] {
			case "page":
				if to := d["to"]; to != "" && !strings.HasPrefix(to, "#") {
					paged[to] = true
				}
			case "report", "resolved":
				p.Figures.ReportsSent++
			}
		}
		x := ExportEvent{At: ev.At.UTC(), Time: zoned(ev.At, loc), Type: ev.Type, Actor: ev.Actor, Detail: ev.Detail,
			Channel: d["channel"], Decision: ev.Type == "note" && d["decision"] == "true"}
		if x.Channel == "" {
			x.Channel = d["via"]
		}
		x.Result = p.result(ev, t)
		p.Events = append(p.Events, x)
		if x.Decision {
			p.Decisions = append(p.Decisions, x)
		}
	}
	p.Figures.PeoplePaged = len(paged)
	return p
}

// messageTitle is the line that says what fired, as messages title it.
func messageTitle(m *Message) string {
	if s := m.CommonAnnotations["summary"]; s != "" {
		return s
	}
	for _, a := range m.Alerts {
		if s := a.Annotations["summary"]; s != "" {
			return s
		}
	}
	if s := m.CommonLabels["alertname"]; s != "" {
		return s
	}
	if len(m.Alerts) > 0 {
		return m.Alerts[0].Labels["alertname"]
	}
	return ""
}

// result says in one line what an event did; the detail keys that the
// time, actor and channel columns already show are left out.
func (p *Postmortem) result(ev store.Event, t catalog.For) string {
	d := ev.Detail
	switch ev.Type {
	case "note":
		parts := []string{d["text"]}
		for _, f := range reportFields {
			if v := d[f]; v != "" {
				parts = append(parts, t.T(catalog.Key("incident.field."+f))+": "+v)
			}
		}
		return strings.Join(parts, "; ")
	case "role_assigned":
		return p.roleName(d["role"]) + ": " + d["user"]
	case "role_unassigned":
		return t.T("timeline.role_released", p.roleName(d["role"]), d["previous"])
	case "severity_changed":
		return d["from"] + " → " + d["to"] + ": " + d["reason"]
	case "notified", "recorded", "notify_failed":
		s := d["to"] + " (" + d["kind"] + ")"
		if ev.Type == "notify_failed" {
			s += ": " + d["error"]
		}
		return s
	}
	keys := make([]string, 0, len(d))
	for k := range d {
		if k != "channel" && k != "via" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + d[k]
	}
	return strings.Join(parts, " ")
}

func (p *Postmortem) roleName(role string) string {
	if n := p.names[role]; n != "" {
		return n
	}
	return role
}

// Markdown writes the review as a Markdown document in its language.
func (p *Postmortem) Markdown() []byte {
	t := catalog.For(p.Language)
	unknown := t.T("incident.unknown")
	or := func(s string) string {
		if s == "" {
			return unknown
		}
		return mdText(s)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", t.T("timeline.title", p.Incident, or(p.Title)))
	item := func(name, value string) { fmt.Fprintf(&b, "- %s: %s\n", name, value) }
	item(t.T("timeline.department"), mdText(p.DepartmentName))
	item(t.T("timeline.status"), mdText(p.Status))
	item(t.T("incident.field.severity"), or(p.Severity.Provisional))
	cur := or(p.Severity.Current)
	if p.Severity.Reason != "" {
		cur += " (" + mdText(p.Severity.Reason) + ")"
	}
	item(t.T("incident.field.current_severity"), cur)
	item(t.T("timeline.opened"), p.OpenedAt)
	acked := t.T("timeline.not_yet")
	if p.AckedAt != "" {
		acked = p.AckedAt
		if p.AckedBy != "" {
			acked += " (" + mdText(p.AckedBy) + ")"
		}
	}
	item(t.T("timeline.acked"), acked)
	item(t.T("timeline.resolved"), orNotYet(p.ResolvedAt, t))
	fmt.Fprintf(&b, "\n## %s\n\n", t.T("timeline.figures"))
	item(t.T("timeline.time_to_ack"), seconds(p.Figures.TimeToAcknowledge, t))
	item(t.T("timeline.time_to_resolve"), seconds(p.Figures.TimeToResolve, t))
	item(t.T("timeline.people_paged"), fmt.Sprint(p.Figures.PeoplePaged))
	item(t.T("timeline.steps_fired"), fmt.Sprint(p.Figures.StepsFired))
	item(t.T("timeline.reports_sent"), fmt.Sprint(p.Figures.ReportsSent))
	fmt.Fprintf(&b, "\n## %s\n\n", t.T("timeline.roles"))
	for _, r := range p.Roles {
		holder := unknown
		if r.User != "" {
			holder = mdText(r.Name)
			if r.Name != r.User {
				holder += " (" + mdText(r.User) + ")"
			}
		}
		item(mdText(r.Title), holder)
	}
	fmt.Fprintf(&b, "\n## %s\n\n", t.T("timeline.fields"))
	for _, f := range p.Fields {
		item(f.Title, or(f.Value))
	}
	fmt.Fprintf(&b, "\n## %s\n\n", t.T("timeline.decisions"))
	if len(p.Decisions) == 0 {
		fmt.Fprintf(&b, "%s\n", t.T("timeline.no_decisions"))
	}
	for _, d := range p.Decisions {
		fmt.Fprintf(&b, "- %s, %s: **%s**\n", d.Time, mdText(d.Actor), mdText(d.Result))
	}
	fmt.Fprintf(&b, "\n## %s\n\n", t.T("timeline.events", p.TimeZone))
	fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n|---|---|---|---|---|\n", t.T("timeline.col.time"), t.T("timeline.col.event"),
		t.T("timeline.col.actor"), t.T("timeline.col.channel"), t.T("timeline.col.result"))
	for _, ev := range p.Events {
		res := mdText(ev.Result)
		if ev.Decision {
			res = "**" + t.T("timeline.decision") + ":** " + res
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", ev.Time, mdText(ev.Type), mdText(ev.Actor), mdText(ev.Channel), res)
	}
	return []byte(b.String())
}

func orNotYet(s string, t catalog.For) string {
	if s == "" {
		return t.T("timeline.not_yet")
	}
	return s
}

func seconds(v *float64, t catalog.For) string {
	if v == nil {
		return t.T("timeline.not_yet")
	}
	return (time.Duration(*v * float64(time.Second))).Round(time.Second).String()
}

// mdText makes s safe in one Markdown line and table cell: HTML is escaped
// (a note is anyone's text), the characters Markdown gives meaning are
// backslashed, and line breaks become <br>.
func mdText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\\', '|', '*', '_', '`', '[', ']', '#', '~':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\r':
		case '\n':
			b.WriteString("<br>")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// getTimeline serves the review: ?format=json (the default) or markdown,
// ?lang=en or ja (default global.language).
func (s *Server) getTimeline(_ http.ResponseWriter, r *http.Request) (any, error) {
	id, err := incidentID(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	format := q.Get("format")
	if format != "" && format != "json" && format != "markdown" {
		return nil, &httpError{http.StatusBadRequest, fmt.Sprintf("format %q: want json or markdown", format)}
	}
	cfg := s.Engine.Policies().Config()
	lang := q.Get("lang")
	switch lang {
	case "":
		lang = cfg.Global.Language
	default:
		if !catalog.Has(lang) {
			return nil, &httpError{http.StatusBadRequest, fmt.Sprintf("lang %q: want one of %s", lang, strings.Join(catalog.Languages(), ", "))}
		}
	}
	inc, err := s.Engine.Store().Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	tl, err := s.Engine.Store().Timeline(r.Context(), id)
	if err != nil {
		return nil, err
	}
	p := NewPostmortem(cfg, inc, tl, lang)
	if format == "markdown" {
		return document{contentType: "text/markdown; charset=utf-8", body: p.Markdown()}, nil
	}
	return p, nil
}
