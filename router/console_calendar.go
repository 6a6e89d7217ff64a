package router

import (
	"html/template"
	"net/http"
	"time"

	"github.com/hikyaku/hikyaku/catalog"
)

// calendarPage lists a rotation's or schedule's final shifts and the gaps
// between them; a gap and an override are written out, not only coloured.
var calendarPage = template.Must(template.New("calendar").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Heading}} hikyaku</title>
<style>body{font-family:system-ui,"Hiragino Sans","Noto Sans CJK JP",sans-serif;max-width:50em;margin:1em auto;padding:0 1em;line-height:1.5;color:#222}
.rows{list-style:none;padding:0}.rows li{border-left:4px solid #ccc;padding:.2em .6em;margin:.4em 0}
.rows li.gap{border-left-color:#b00020;background:#fdf0f0}.rows li.ovr{border-left-color:#1a5fb4}.muted{color:#555;font-size:.9em}</style></head>
<body><p><a href="{{.Home}}">{{.BackText}}</a></p><h1>{{.Heading}}</h1><p class="muted">{{.TimesIn}}</p>
<ul class="rows">{{range .Rows}}<li{{if .Gap}} class="gap"{{else if .Override}} class="ovr"{{end}}>{{.From}} – {{.To}}: <strong>{{.Who}}</strong>{{if .Override}} [{{$.OverrideLabel}}]{{end}}</li>
{{end}}</ul></body></html>
`))

type calendarRow struct {
	From, To, Who string
	Gap, Override bool
}

type calendarView struct {
	Lang, Home, BackText, Heading, TimesIn, OverrideLabel string
	Rows                                                  []calendarRow
}

// consoleCalendar is GET /console/calendar/{id}: the final shifts of a
// rotation or schedule from now for 4 weeks (policies.Shifts, after
// layers, active windows and overrides), with the gaps between them.
func (s *Server) consoleCalendar(w http.ResponseWriter, r *http.Request) {
	id, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	lang, loc, _ := s.viewer(id)
	t := catalog.For(lang)
	set, err := s.Engine.livePolicies(r.Context())
	if err != nil {
		s.Engine.log.Error("console: reading the stored overrides failed", "user", id.User, "err", err)
		http.Error(w, "the store cannot be read right now; reload in a moment", http.StatusServiceUnavailable)
		return
	}
	src := r.PathValue("id")
	now := s.Engine.now()
	end := now.Add(myHorizon)
	shifts, err := set.Shifts(src, now, end)
	if err != nil {
		http.Error(w, t.T("console.no_such_rotation", src), http.StatusNotFound)
		return
	}
	v := calendarView{Lang: lang, Home: s.Auth.Path("/"), BackText: t.T("console.back_now"), Heading: t.T("console.calendar", src),
		TimesIn: t.T("console.times_in", now.In(loc).Format("MST"), loc.String()), OverrideLabel: t.T("console.override")}
	gap := func(from, to time.Time) {
		if from.Before(to) {
			v.Rows = append(v.Rows, calendarRow{From: viewerTime(from, loc), To: viewerTime(to, loc), Who: t.T("console.gap_label") + ": " + t.T("console.nobody"), Gap: true})
		}
	}
	at := now
	for _, sh := range shifts {
		gap(at, sh.Start)
		v.Rows = append(v.Rows, calendarRow{From: viewerTime(sh.Start, loc), To: viewerTime(sh.End, loc),
			Who: personName(set.Config(), sh.User), Override: sh.Override})
		at = sh.End
	}
	gap(at, end)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := calendarPage.Execute(w, v); err != nil {
		s.Engine.log.Warn("writing the calendar failed", "err", err)
	}
}
