package router

import (
	"net/url"
	"time"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
)

// gapHorizon is how far ahead the Now page looks for coverage gaps.
const gapHorizon = 7 * 24 * time.Hour

// nextSearch are the windows searched, shortest first, for the next shift
// after a given instant, as hikyaku oncall does: most gaps end within a
// night or a weekend, and a short window keeps short rotations cheap.
var nextSearch = []time.Duration{24 * time.Hour, 8 * 24 * time.Hour, 32 * 24 * time.Hour, 366 * 24 * time.Hour}

// nowRow is one rotation or schedule on the Now page, every field already
// in the viewer's language and time zone.
type nowRow struct {
	What, Who, Until, Next, Calendar string
	Nobody, Override                 bool
	id                               string
}

type nowDept struct {
	Title string
	Rows  []nowRow
}

// nowView is what the Now section of the console shows.
type nowView struct {
	OnCallHeading, GapsHeading, NoGaps, GapLabel, TimesIn, OverrideLabel string
	Departments                                                          []nowDept
	Gaps                                                                 []string
}

// viewerTime formats t in the viewer's zone with its abbreviation, so a
// time is never read in the wrong zone at 3 a.m.
func viewerTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// buildNow computes who is on call at now in every department, who is
// next and the first-step coverage gaps of the coming week, through
// policies as hikyaku oncall and check do.
func buildNow(set *policies.Set, now time.Time, tr catalog.For, loc *time.Location, calendarBase string) nowView {
	cfg := set.Config()
	v := nowView{OnCallHeading: tr.T("console.oncall_heading"), GapsHeading: tr.T("console.gaps_heading"),
		NoGaps: tr.T("console.no_gaps"), GapLabel: tr.T("console.gap_label"), OverrideLabel: tr.T("console.override"), TimesIn: tr.T("console.times_in", now.In(loc).Format("MST"), loc.String())}
	for _, d := range cfg.Departments {
		nd := nowDept{Title: d.ID}
		if d.Name != "" && d.Name != d.ID {
			nd.Title += " (" + d.Name + ")"
		}
		for _, r := range d.Rotations {
			nd.Rows = append(nd.Rows, nowRowOf(set, cfg, r.ID, tr.T("console.rotation", r.ID), now, tr, loc))
		}
		for _, s := range d.Schedules {
			nd.Rows = append(nd.Rows, nowRowOf(set, cfg, s.ID, tr.T("console.schedule", s.ID), now, tr, loc))
		}
		v.Departments = append(v.Departments, nd)
	}
	for i := range v.Departments {
		for j := range v.Departments[i].Rows {
			r := &v.Departments[i].Rows[j]
			r.Calendar = calendarBase + url.PathEscape(r.id)
		}
	}
	for _, g := range set.CoverageGaps(now, now.Add(gapHorizon)) {
		v.Gaps = append(v.Gaps, tr.T("console.gap", g.Policy, viewerTime(g.Start, loc), viewerTime(g.End, loc)))
	}
	return v
}

func nowRowOf(set *policies.Set, cfg *config.Config, id, what string, now time.Time, tr catalog.For, loc *time.Location) nowRow {
	row := nowRow{What: what, id: id}
	after := now
	if sh, ok := set.OnCall(id, now); ok {
		row.Who, row.Override = personName(cfg, sh.User), sh.Override
		row.Until = tr.T("console.until", viewerTime(sh.End, loc))
		after = sh.End
	} else {
		row.Nobody = true
		row.Who = tr.T("console.nobody")
	}
	next, ok := nextShift(set, id, after)
	switch {
	case ok && row.Nobody:
		row.Until = tr.T("console.until", viewerTime(next.Start, loc))
		row.Next = tr.T("console.next", personName(cfg, next.User), viewerTime(next.Start, loc))
	case ok:
		row.Next = tr.T("console.next", personName(cfg, next.User), viewerTime(next.Start, loc))
	case row.Nobody:
		row.Until = tr.T("console.nobody_year")
	}
	return row
}

// nextShift is the first shift of id starting at or after t, within a year.
func nextShift(set *policies.Set, id string, t time.Time) (policies.Shift, bool) {
	for _, d := range nextSearch {
		shifts, err := set.Shifts(id, t, t.Add(d))
		if err != nil {
			return policies.Shift{}, false
		}
		for _, sh := range shifts {
			if !sh.Start.Before(t) {
				return sh, true
			}
		}
	}
	return policies.Shift{}, false
}

// personName is a user's display name with the id, as people know both.
func personName(cfg *config.Config, id string) string {
	if u := cfg.User(id); u != nil && u.Name != "" && u.Name != id {
		return u.Name + " (" + id + ")"
	}
	return id
}

// nowSection is the Now part of the console page; gaps carry a written
// label, not only a colour.
const nowSection = `{{define "now"}}
<section><h2>{{.OnCallHeading}}</h2><p class="muted">{{.TimesIn}}</p>
{{range .Departments}}<h3>{{.Title}}</h3><ul class="rows">{{range .Rows}}
<li{{if .Nobody}} class="gap"{{end}}><a class="what" href="{{.Calendar}}">{{.What}}</a> <strong>{{.Who}}</strong>{{if .Override}} <em>[{{$.OverrideLabel}}]</em>{{end}} {{.Until}}{{if .Next}}<br><span class="muted">{{.Next}}</span>{{end}}</li>{{end}}
</ul>{{end}}</section>
<section><h2>{{.GapsHeading}}</h2>{{if .Gaps}}<ul class="rows">{{range .Gaps}}<li class="gap"><strong>{{$.GapLabel}}</strong> {{.}}</li>{{end}}</ul>{{else}}<p>{{.NoGaps}}</p>{{end}}</section>
{{end}}`
