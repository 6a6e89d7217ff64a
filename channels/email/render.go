package email

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"strings"

	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/channels"
)

// maxListedAlerts keeps a storm of alerts from making a mail nobody reads.
const maxListedAlerts = 20

// body is what both parts of the message show: the router's text, the
// incident's facts, the alerts and the link.
type body struct {
	Text    string
	Facts   [][2]string // label, value
	Alerts  []alertLine
	More    int // alerts not listed
	URL     string
	LinkTag string
}

type alertLine struct {
	Status, Name, Summary string
}

func newBody(m *channels.Message) body {
	t := catalog.For(m.Language)
	inc := m.Incident
	b := body{Text: m.Text, URL: inc.URL, LinkTag: t.T("email.label.link")}
	// Whole keys, never built from parts, so catalog's test sees each one.
	add := func(k catalog.Key, v string) {
		if v != "" {
			b.Facts = append(b.Facts, [2]string{t.T(k), v})
		}
	}
	if inc.ID != 0 {
		add("email.label.incident", fmt.Sprintf("#%d", inc.ID))
	}
	add("email.label.severity", inc.Severity)
	add("email.label.department", inc.Department)
	add("email.label.status", inc.Status)
	if inc.Step > 0 {
		add("email.label.step", fmt.Sprint(inc.Step))
	}
	if inc.FiringAlerts+inc.ResolvedAlerts > 0 {
		add("email.label.alerts", fmt.Sprintf("%d %s, %d %s", inc.FiringAlerts, t.T("email.label.firing"), inc.ResolvedAlerts, t.T("email.label.resolved")))
	}
	if !inc.NextUpdate.IsZero() {
		add("email.label.next", inc.NextUpdate.Format("2006-01-02 15:04 MST"))
	}
	// Data is what Alertmanager sent; a message without it (or with a broken
	// one) still goes out with the router's text: the page matters more.
	var data amtemplate.Data
	if len(m.Data) > 0 && json.Unmarshal(m.Data, &data) == nil {
		for i, a := range data.Alerts {
			if i == maxListedAlerts {
				b.More = len(data.Alerts) - i
				break
			}
			summary := a.Annotations["summary"]
			if summary == "" {
				summary = a.Annotations["description"]
			}
			status := t.T("email.label.firing")
			if a.Status == "resolved" {
				status = t.T("email.label.resolved")
			}
			// The instance tells apart alerts of one group that share a summary.
			name := a.Labels["alertname"]
			if inst := a.Labels["instance"]; inst != "" {
				name += " (" + inst + ")"
			}
			b.Alerts = append(b.Alerts, alertLine{Status: status, Name: name, Summary: summary})
		}
	}
	if b.More > 0 {
		b.Alerts = append(b.Alerts, alertLine{Summary: t.T("email.label.more", b.More)})
	}
	return b
}

// plain renders the text/plain part: the router's text first, so a phone's
// preview shows it, then the facts.
func (b body) plain() string {
	var s strings.Builder
	s.WriteString(strings.TrimRight(b.Text, "\n"))
	s.WriteString("\n")
	if len(b.Facts) > 0 {
		s.WriteString("\n")
		for _, f := range b.Facts {
			fmt.Fprintf(&s, "%s: %s\n", f[0], f[1])
		}
	}
	if len(b.Alerts) > 0 {
		s.WriteString("\n")
		for _, a := range b.Alerts {
			switch {
			case a.Name == "" && a.Status == "":
				fmt.Fprintf(&s, "  %s\n", a.Summary)
			case a.Summary == "":
				fmt.Fprintf(&s, "- [%s] %s\n", a.Status, a.Name)
			default:
				fmt.Fprintf(&s, "- [%s] %s: %s\n", a.Status, a.Name, a.Summary)
			}
		}
	}
	if b.URL != "" {
		fmt.Fprintf(&s, "\n%s: %s\n", b.LinkTag, b.URL)
	}
	return s.String()
}

// htmlTemplate is deliberately plain: inline styles only, no images, so it
// renders the same in every client and never fetches anything.
var htmlTemplate = template.Must(template.New("mail").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"></head>
<body style="font-family: sans-serif; font-size: 14px;">
{{range .Paragraphs}}<p>{{.}}</p>
{{end}}{{if .Facts}}<table style="border-collapse: collapse;">
{{range .Facts}}<tr><th style="text-align: left; padding: 2px 12px 2px 0;">{{index . 0}}</th><td>{{index . 1}}</td></tr>
{{end}}</table>
{{end}}{{if .Alerts}}<ul>
{{range .Alerts}}<li>{{if .Status}}[{{.Status}}] {{end}}{{if .Name}}<b>{{.Name}}</b>{{if .Summary}}: {{end}}{{end}}{{.Summary}}</li>
{{end}}</ul>
{{end}}{{if .URL}}<p><a href="{{.URL}}">{{.LinkTag}}</a></p>
{{end}}</body></html>
`))

// html renders the text/html part; html/template escapes everything that
// came from alerts, so a label cannot inject markup.
func (b body) html() (string, error) {
	var buf bytes.Buffer
	err := htmlTemplate.Execute(&buf, struct {
		body
		Paragraphs []string
	}{b, strings.Split(strings.TrimRight(b.Text, "\n"), "\n")})
	if err != nil {
		return "", fmt.Errorf("render html: %w", err)
	}
	return buf.String(), nil
}
