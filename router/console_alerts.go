package router

import (
	"slices"
	"strings"
	"time"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/store"
)

// The incident page's alerts: what Alertmanager last said of the group,
// each alert with its state, since when, its summary and labels.

// maxAlertRows bounds the alerts the page lists; a group of thousands is
// said in a line, not a page nobody scrolls through at 3 a.m.
const maxAlertRows = 50

const alertsSection = `{{define "alerts"}}<section><h2>{{.Heading}}</h2>
{{if .Rows}}<table><tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr><td>{{.Status}}</td><td>{{.Since}}</td><td>{{if .Link}}<a href="{{.Link}}" rel="noreferrer">{{.Name}}</a>{{else}}{{.Name}}{{end}}</td><td>{{.Summary}}{{if .Labels}}<br><span class="muted">{{.Labels}}</span>{{end}}</td></tr>
{{end}}</table>{{if .More}}<p>{{.More}}</p>{{end}}{{else}}<p>{{.None}}</p>{{end}}</section>{{end}}`

type alertsView struct {
	Heading, None, More string
	Columns             []string
	Rows                []alertRow
}

type alertRow struct{ Status, Since, Name, Link, Summary, Labels string }

// alertsOf is the alerts section of inc's page, in the viewer's words and zone.
func alertsOf(inc *store.Incident, t catalog.For, loc *time.Location) alertsView {
	v := alertsView{Heading: t.T("console.alerts"), None: t.T("console.no_alerts"),
		Columns: []string{t.T("console.fact_status"), t.T("console.alert_since"), t.T("console.alert_name"), t.T("console.alert_summary")}}
	m, err := DecodeMessage(inc.Message)
	if err != nil {
		return v // an incident of hikyaku's own (a test page, a heartbeat) or from before messages were kept
	}
	for i, a := range m.Alerts {
		if i == maxAlertRows {
			v.More = t.T("console.more_alerts", len(m.Alerts)-i)
			break
		}
		status := t.T("console.alert_firing")
		if a.Status == "resolved" {
			status = t.T("console.alert_resolved")
		}
		summary := a.Annotations["summary"]
		if summary == "" {
			summary = a.Annotations["description"]
		}
		var labels []string
		for k, val := range a.Labels {
			if k != "alertname" {
				labels = append(labels, k+"="+val)
			}
		}
		slices.Sort(labels)
		row := alertRow{Status: status, Since: viewerTime(a.StartsAt, loc), Name: a.Labels["alertname"], Summary: summary,
			Labels: strings.Join(labels, " ")}
		// Only a web address is a link: a generator URL is whatever the
		// sender put there, and html/template would pass javascript: through
		// as "#ZgotmplZ", which helps nobody.
		if strings.HasPrefix(a.GeneratorURL, "https://") || strings.HasPrefix(a.GeneratorURL, "http://") {
			row.Link = a.GeneratorURL
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}
