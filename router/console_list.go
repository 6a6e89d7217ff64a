package router

import (
	"errors"
	"html/template"
	"net/http"
	"strconv"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/store"
)

// consoleListPage is 50 rows: a phone screen's worth of scrolling.
const consoleListPage = 50

// listPage is the filtered incident list; the filters are a GET form with
// the parameters of GET /api/v1/incidents, so a filtered list is a link.
var listPage = template.Must(template.New("list").Parse(refreshSection + `<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>hikyaku</title>
<style>body{font-family:system-ui,"Hiragino Sans","Noto Sans CJK JP",sans-serif;max-width:50em;margin:1em auto;padding:0 1em;line-height:1.5;color:#222}
label{display:inline-block;margin:.2em 1em .2em 0}input,select,button{font-size:1em}li{margin:.4em 0}.muted{color:#555;font-size:.9em}</style>
{{template "refresh-script" .Refresh}}</head>
<body><p><a href="{{.Home}}">{{.BackText}}</a></p><h1>{{.Heading}}</h1>
<form method="get" action="{{.Self}}">
<label>{{.StatusLabel}} <select name="status">{{range .Statuses}}<option value="{{.Value}}"{{if .Selected}} selected{{end}}>{{.Label}}</option>{{end}}</select></label>
<label>{{.DeptLabel}} <input name="department" value="{{.Department}}" size="10"></label>
<label>{{.SevLabel}} <input name="severity" value="{{.Severity}}" size="8"></label>
<label>{{.AfterLabel}} <input name="opened_after" value="{{.After}}" placeholder="2026-11-24T11:27:00+09:00"></label>
<label>{{.BeforeLabel}} <input name="opened_before" value="{{.Before}}" placeholder="2026-11-24T11:27:00+09:00"></label>
<button>{{.FilterText}}</button></form>
{{if .Error}}<p role="alert"><strong>{{.Error}}</strong></p>{{end}}
{{template "refresh-status" .Refresh}}
<main data-refresh="{{.Refresh.Every}}" data-refresh-src="{{.Refresh.Src}}">
{{if .Rows}}<ul>{{range .Rows}}<li><a href="{{.Page}}">#{{.ID}}</a> {{.Summary}} <span>{{.Opened}}</span></li>{{end}}</ul>{{else}}<p>{{.None}}</p>{{end}}
{{if .Next}}<p><a href="{{.Next}}">{{.NextText}}</a></p>{{end}}
</main>
</body></html>
`))

type listOption struct {
	Value, Label string
	Selected     bool
}

type listRow struct {
	ID                    int64
	Page, Summary, Opened string
}

type listView struct {
	Lang, Home, BackText, Heading, Self, StatusLabel, DeptLabel, SevLabel, AfterLabel, BeforeLabel, FilterText string
	Department, Severity, After, Before, Error, None, Next, NextText                                           string
	Statuses                                                                                                   []listOption
	Rows                                                                                                       []listRow
	Refresh                                                                                                    refreshView
}

// consoleList is GET /console/incidents: the store's query, filtered by
// status, department, severity and opening time, 50 at a time.
func (s *Server) consoleList(w http.ResponseWriter, r *http.Request) {
	id, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	lang, loc, _ := s.viewer(id)
	t := catalog.For(lang)
	q := r.URL.Query()
	v := listView{Lang: lang, Home: s.Auth.Path("/"), BackText: t.T("console.back_now"), Heading: t.T("console.incidents"),
		Self: s.Auth.Path("/console/incidents"), StatusLabel: t.T("console.fact_status"), DeptLabel: t.T("console.fact_department"),
		SevLabel: t.T("console.severity"), AfterLabel: t.T("console.opened_after"), BeforeLabel: t.T("console.opened_before"),
		FilterText: t.T("console.filter"), Department: q.Get("department"), Severity: q.Get("severity"),
		After: q.Get("opened_after"), Before: q.Get("opened_before"), None: t.T("console.none_match"), NextText: t.T("console.next_page")}
	v.Refresh = s.refreshOf(t, v.Self)
	if r.URL.RawQuery != "" {
		v.Refresh.Src += "?" + r.URL.RawQuery // the same filter and page
	}
	for _, st := range []string{"", string(store.StatusOpen), string(store.StatusAcked), string(store.StatusResolved)} {
		label := st
		if st == "" {
			label = t.T("console.any")
		}
		v.Statuses = append(v.Statuses, listOption{Value: st, Label: label, Selected: q.Get("status") == st})
	}
	code := http.StatusOK
	opt, err := ParseIncidentQuery(q)
	if err == nil && opt.Limit == 0 {
		opt.Limit = consoleListPage
	}
	var page store.Page
	if err == nil {
		page, err = s.Engine.Store().Query(r.Context(), opt)
		if err == nil {
			if opt.Severity != TestSeverity {
				page.Incidents = withoutTests(page.Incidents, "")
			}
			page.Incidents, err = s.visible(r.Context(), id.User, page.Incidents)
		}
		if err != nil && !errors.Is(err, store.ErrBadCursor) {
			s.Engine.log.Error("console: listing incidents failed", "user", id.User, "err", err)
			http.Error(w, "the store cannot be read right now; reload in a moment", http.StatusServiceUnavailable)
			return
		}
	}
	if err != nil {
		v.Error, code = t.T("console.bad_filter", err.Error()), http.StatusBadRequest
	}
	for _, inc := range page.Incidents {
		v.Rows = append(v.Rows, listRow{ID: inc.ID, Page: s.Auth.Path("/console/incidents/" + strconv.FormatInt(inc.ID, 10)),
			Summary: summary(inc), Opened: viewerTime(inc.CreatedAt, loc)})
	}
	if page.Next != "" {
		nq := r.URL.Query()
		nq.Set("cursor", page.Next)
		v.Next = v.Self + "?" + nq.Encode()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if err := listPage.Execute(w, v); err != nil {
		s.Engine.log.Warn("writing the incident list failed", "err", err)
	}
}
